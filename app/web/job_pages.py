"""`/jobs`: start a job from a form, watch its progress (htmx polls the row), see its outcome."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Request, status
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from app.api.deps import LedgerSession, Service
from app.api.jobs import JobCreate
from app.jobs import ACTIVE, JobConflictError
from app.models import Job
from app.web.auth import Operator, Reader, Viewer
from app.web.errors import HtmlErrorRoute
from app.web.job_list import progress_percent, recent_jobs
from app.web.templating import is_htmx, render

router = APIRouter(route_class=HtmlErrorRoute, include_in_schema=False)
KINDS = ("import", "migrate", "run", "scan", "reconcile", "retry-failed")
POLL_SECONDS = 1
MAX_JOB_ID = 2**31 - 1


def _jobs_view(
    request: Request,
    session: LedgerSession,
    seen: Viewer,
    *,
    form: dict[str, Any],
    messages: list[str],
    fragment: bool,
) -> HTMLResponse:
    context = {
        "jobs": recent_jobs(session),
        "active": ACTIVE,
        "kinds": KINDS,
        "form": form,
        "messages": messages,
        "percent": progress_percent,
        "poll_seconds": POLL_SECONDS,
    }
    return render(request, seen, "_jobs_panel.html" if fragment else "jobs.html", context)


def _errors(exc: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in error['loc']) or 'job'}: {error['msg']}"
        for error in exc.errors()
    ]


@router.get("/jobs", response_class=HTMLResponse)
def jobs(
    request: Request,
    session: LedgerSession,
    seen: Reader,
    kind: str = "import",
    runs: str = "",
) -> HTMLResponse:
    """The form (pre-filled from the URL, e.g. a recommendation's range) and recent jobs."""
    form = {"kind": kind if kind in KINDS else "import", "runs": runs, "mode": "full"}
    return _jobs_view(request, session, seen, form=form, messages=[], fragment=False)


@router.post("/jobs", response_class=HTMLResponse)
def start_job(
    request: Request,
    state: Service,
    session: LedgerSession,
    seen: Operator,
    kind: Annotated[str, Form()],
    mode: Annotated[str, Form()] = "full",
    runs: Annotated[str, Form(max_length=2000)] = "",
    stage: Annotated[str, Form()] = "",
    limit: Annotated[str, Form()] = "",
    dry_run: Annotated[bool, Form()] = False,
    validate_blobs: Annotated[bool, Form(alias="validate")] = False,
) -> HTMLResponse:
    """Queue the job (the API's validation and conflict rules) and show it with its progress."""
    assert seen.principal is not None
    form = {"kind": kind, "mode": mode, "runs": runs, "stage": stage, "limit": limit}
    try:
        body = JobCreate.model_validate(
            {
                "kind": kind,
                "mode": mode,
                "runs": runs.strip() or None,
                "stage": stage or None,
                "limit": limit.strip() or None,
                "dry_run": dry_run,
                "validate": validate_blobs,
            }
        )
        job = state.runner.submit_job(body.kind, body.params(), requested_by=seen.principal.name)
        messages = [f"job {job.id} ({job.kind}) started"]
    except ValidationError as exc:
        messages = _errors(exc)
    except JobConflictError as exc:
        messages = [f"not started: {exc}; wait for it or cancel it"]
    return _jobs_view(
        request, session, seen, form=form, messages=messages, fragment=is_htmx(request)
    )


def _job(session: LedgerSession, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"there is no job {job_id}")
    return job


JobId = Annotated[int, Path(ge=1, le=MAX_JOB_ID)]


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_row(request: Request, session: LedgerSession, seen: Reader, job_id: JobId) -> HTMLResponse:
    """One job's row: progress while it runs (htmx keeps polling it), then its outcome."""
    context = {
        "job": _job(session, job_id),
        "active": ACTIVE,
        "percent": progress_percent,
        "poll_seconds": POLL_SECONDS,
    }
    return render(request, seen, "_job_row.html" if is_htmx(request) else "job.html", context)


@router.post("/jobs/{job_id}/cancel", response_class=HTMLResponse)
def cancel_job(
    request: Request, state: Service, session: LedgerSession, seen: Operator, job_id: JobId
) -> HTMLResponse:
    """Ask the job to stop claiming runs (in-flight runs finish)."""
    job = _job(session, job_id)
    cancelled = state.runner.cancel_job(session, job)
    messages = [f"job {job_id}: cancel requested" if cancelled else f"job {job_id} already ended"]
    session.flush()
    return _jobs_view(
        request,
        session,
        seen,
        form={"kind": "import"},
        messages=messages,
        fragment=is_htmx(request),
    )
