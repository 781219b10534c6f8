"""Liveness and readiness probes for service managers and load balancers."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app import migrate
from app.state import ServiceState, service_state
from app.web.source_probes import PROBE_TIMEOUT_SECONDS, reachability

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
def readyz(
    request: Request, state: Annotated[ServiceState, Depends(service_state)]
) -> JSONResponse:
    """503 unless the ledger is reachable with a current schema; the run records directory,
    artdaq_database and UconDB are probed too (3 s timeouts, answers reused for 30 s) and a
    failing one makes the status "degraded": the service still serves and retries its work."""
    checks: dict[str, dict[str, Any]] = {"database": _database_check(state)}
    for probe in reachability(request, state).snapshot(wait_seconds=PROBE_TIMEOUT_SECONDS):
        checks[probe.name] = {"ok": probe.ok, "detail": probe.detail}
    ready = checks["database"]["ok"]
    degraded = not all(check["ok"] for check in checks.values())
    status = "not ready" if not ready else "degraded" if degraded else "ready"
    return JSONResponse({"status": status, "checks": checks}, status_code=200 if ready else 503)
