"""Liveness and readiness probes for service managers and load balancers."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app import migrate
from app.state import ServiceState, service_state

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive and serving requests."""
    return {"status": "ok"}


def _database_check(state: ServiceState) -> dict[str, Any]:
    try:
        with state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return {"ok": False, "error": f"database unreachable: {type(exc).__name__}"}
    current, head = migrate.current_revision(state.engine), migrate.head_revision(state.engine)
    if current != head:
        return {"ok": False, "error": f"schema at {current}, newest is {head}"}
    return {"ok": True, "revision": current}


@router.get("/readyz")
def readyz(state: Annotated[ServiceState, Depends(service_state)]) -> JSONResponse:
    """Ready to work: the ledger is reachable and its schema is current."""
    checks = {"database": _database_check(state)}
    ready = all(check["ok"] for check in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )
