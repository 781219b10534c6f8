"""The FastAPI application: lifespan (ledger, migrations), routers and static files."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import __version__, migrate
from app.api import health, jobs, metrics, report, runs, schedule
from app.config import Settings
from app.db import describe_url, make_engine
from app.service import Service
from app.state import ServiceState
from app.web import pages

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def create_app(settings: Settings, *, background: bool = True) -> FastAPI:
    """Build the service for `settings`; the lifespan opens and migrates the ledger and, with
    `background`, starts the stage workers, the scheduler and the job runner."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        assert settings.database.url is not None
        engine = make_engine(
            settings.database.url, busy_timeout_ms=settings.database.busy_timeout_ms
        )
        migrate.upgrade(engine)
        log.info("ledger %s ready", describe_url(settings.database.url))
        runner = Service(settings, engine)
        app.state.service = ServiceState(settings=settings, engine=engine, runner=runner)
        if background:
            await asyncio.to_thread(runner.start)
        try:
            yield
        finally:
            if background:
                await asyncio.to_thread(runner.stop)
            engine.dispose()
            log.info("service stopped")

    app = FastAPI(
        title="Run Record Archiver",
        version=__version__,
        summary="Archives artdaq run records into artdaq_database and UconDB, verified.",
        lifespan=lifespan,
    )
    app.include_router(health.router)
    app.include_router(runs.router)
    app.include_router(report.router)
    app.include_router(jobs.router)
    app.include_router(schedule.router)
    app.include_router(schedule.status_router)
    app.include_router(metrics.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
