"""The dashboard's pages, gathered into the one router `app.main` mounts."""

from fastapi import APIRouter

from app.web import (
    failure_pages,
    gapmap_pages,
    job_pages,
    login_pages,
    overview_pages,
    run_pages,
)

router = APIRouter(include_in_schema=False)
for module in (overview_pages, gapmap_pages, failure_pages, job_pages, run_pages, login_pages):
    router.include_router(module.router)
