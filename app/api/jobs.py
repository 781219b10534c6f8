"""Jobs over REST: trigger a stage (202 + job id), watch its progress, cancel it."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi import Path as PathParam
from pydantic import BaseModel, Field, model_validator
from sqlmodel import col, select

from app.api.deps import (
    READ_ERRORS,
    WRITE_ERRORS,
    LedgerSession,
    Operator,
    Reader,
    Service,
    error_responses,
)
from app.jobs import JobConflictError
from app.models import Job, JobState
from app.pipeline.job_work import request_for
from app.runranges import RangeSyntaxError

router = APIRouter(prefix="/api/jobs", tags=["jobs"])
JobId = Annotated[int, PathParam(ge=1, le=2**31 - 1, description="Job id.")]

JobKind = Literal["scan", "import", "migrate", "run", "reconcile", "retry-failed"]


class JobCreate(BaseModel):
    """What to run; the options mirror the CLI (`rra import --runs … --incremental …`)."""

    kind: JobKind
    mode: Literal["full", "incremental"] = "full"
    runs: str | None = Field(default=None, description="'100-200,205,300+' or 'last 50'")
    stage: Literal["import", "migrate", "both"] | None = Field(
        default=None, description="retry-failed only: which stage's failed runs"
    )
    validate_blobs: bool = Field(
        default=False, alias="validate", description="migrate/run: --validate metadata checks"
    )
    dry_run: bool = False
    limit: int | None = Field(default=None, ge=1, le=1_000_000)

    model_config = {"populate_by_name": True}

    @model_validator(mode="after")
    def _check_runs(self) -> "JobCreate":
        try:
            request_for(self.kind, self.params()) if self.kind not in (
                "scan",
                "reconcile",
            ) else None
        except (RangeSyntaxError, ValueError) as exc:
            raise ValueError(str(exc)) from None
        return self

    def params(self) -> dict[str, Any]:
        """The job's parameters as stored on the job row."""
        values = {
            "mode": self.mode,
            "runs": self.runs,
            "stage": self.stage,
            "validate": self.validate_blobs,
            "dry_run": self.dry_run,
            "limit": self.limit,
        }
        return {key: value for key, value in values.items() if value not in (None, False)}


class JobPublic(BaseModel):
    """A job with its live progress and outcome."""

    id: int
    kind: str
    params: dict[str, Any]
    state: JobState
    requested_by: str
    total: int
    done: int
    failed: int
    current_run: int | None
    cancel_requested: bool
    message: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def _public(job: Job) -> JobPublic:
    return JobPublic.model_validate(job, from_attributes=True)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(*WRITE_ERRORS, 409),
    summary="Start a job",
)
def create_job(body: JobCreate, state: Service, who: Operator, response: Response) -> JobPublic:
    """Queue a job and start it; 409 when a job for the same stage is already active."""
    try:
        job = state.runner.submit_job(body.kind, body.params(), requested_by=who.name)
    except JobConflictError as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail={"message": str(exc), "job_id": exc.job_id}
        ) from None
    response.headers["Location"] = f"/api/jobs/{job.id}"
    return _public(job)


@router.get("", responses=error_responses(*READ_ERRORS), summary="List jobs")
def list_jobs(
    session: LedgerSession,
    _reader: Reader,
    state_filter: Annotated[JobState | None, Query(alias="state")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[JobPublic]:
    """Newest jobs first."""
    query = select(Job).order_by(col(Job.id).desc()).limit(limit)
    if state_filter is not None:
        query = query.where(col(Job.state) == state_filter)
    return [_public(job) for job in session.exec(query)]


@router.get("/{job_id}", responses=error_responses(*READ_ERRORS, 404), summary="One job")
def get_job(job_id: JobId, session: LedgerSession, _reader: Reader) -> JobPublic:
    """A job's progress (total/done/failed, current run) and outcome."""
    job = session.get(Job, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no job {job_id}")
    return _public(job)


@router.post(
    "/{job_id}/cancel", responses=error_responses(*WRITE_ERRORS, 404, 409), summary="Cancel a job"
)
def cancel_job(job_id: JobId, session: LedgerSession, state: Service, _who: Operator) -> JobPublic:
    """Stop claiming new runs; in-flight runs finish. 409 if the job already ended."""
    job = session.get(Job, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no job {job_id}")
    if not state.runner.cancel_job(session, job):
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"job {job_id} already {job.state.value}"
        )
    return _public(job)
