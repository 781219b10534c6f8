"""What the running service shares between requests: settings, the ledger engine."""

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.engine import Engine

from app.config import Settings


@dataclass
class ServiceState:
    """Held on `app.state.service` for the life of the process."""

    settings: Settings
    engine: Engine


def service_state(request: Request) -> ServiceState:
    """FastAPI dependency: the service state of the running application."""
    return request.app.state.service
