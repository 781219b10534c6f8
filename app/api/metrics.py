"""`GET /metrics`: the Prometheus text exposition, ledger gauges computed at scrape time."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from app.metrics.exposition import CONTENT_TYPE, render
from app.state import ServiceState, service_state

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response)
def metrics(state: Annotated[ServiceState, Depends(service_state)]) -> Response:
    """Counters and histograms of this process, plus backlog and progress from the ledger."""
    return Response(render(state.engine), media_type=CONTENT_TYPE)
