"""The reachability checks of the running service's three sources, one set per application."""

from fastapi import Request

from app.reports.redaction import configured_secrets
from app.reports.sources import Source
from app.state import ServiceState
from app.web.reachability import Check, Reachability, directory_check
from app.web.shared import per_app

PROBE_TIMEOUT_SECONDS = 3.0


def _checks(state: ServiceState) -> dict[str, Check]:
    ctx = state.runner.ctx

    def artdaqdb() -> str:
        return f"answered: {len(ctx.store.list_runs().runs)} runs indexed"

    def ucondb() -> str:
        return f"answered: server version {ctx.ucondb.version(PROBE_TIMEOUT_SECONDS)}"

    return {
        Source.FILESYSTEM.value: directory_check(state.settings.source_files.run_records_dir),
        Source.ARTDAQDB.value: artdaqdb,
        Source.UCONDB.value: ucondb,
    }


def reachability(request: Request, state: ServiceState) -> Reachability:
    """The application's probes of its sources (created on first use, shared afterwards)."""
    return per_app(
        request,
        "web_reachability",
        lambda: Reachability(
            _checks(state),
            timeout_seconds=PROBE_TIMEOUT_SECONDS,
            secrets=configured_secrets(state.settings),
        ),
    )
