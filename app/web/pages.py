"""Dashboard pages, rendered on the server from templates/."""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app import __version__
from app.db import describe_url
from app.state import ServiceState, service_state

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[2] / "templates")
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def overview(
    request: Request, state: Annotated[ServiceState, Depends(service_state)]
) -> HTMLResponse:
    """The operators' overview page."""
    settings = state.settings
    return TEMPLATES.TemplateResponse(
        request,
        "overview.html",
        {
            "version": __version__,
            "run_records_dir": settings.source_files.run_records_dir,
            "artdaq_uri": describe_url(settings.artdaq_db.database_uri),
            "ucondb_url": describe_url(settings.ucon_db.server_url),
            "ledger": describe_url(str(settings.database.url)),
        },
    )
