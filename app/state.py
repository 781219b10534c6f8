"""What the running service shares between requests: settings, ledger engine, the runner."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request
from sqlalchemy.engine import Engine

from app.config import Settings

if TYPE_CHECKING:
    from app.service import Service


@dataclass
class ServiceState:
    """Held on `app.state.service` for the life of the process."""

    settings: Settings
    engine: Engine
    runner: "Service"


def service_state(request: Request) -> ServiceState:
    """FastAPI dependency: the service state of the running application."""
    return request.app.state.service
