"""Jobs as the dashboard lists them: the newest first, and one by id."""

from sqlmodel import Session, col, select

from app.models import Job


def recent_jobs(session: Session, *, limit: int = 20) -> list[Job]:
    """The newest `limit` jobs, newest first."""
    return list(session.exec(select(Job).order_by(col(Job.id).desc()).limit(limit)))


def progress_percent(job: Job) -> int | None:
    """How far a job is (done and failed runs of its estimate), None while nothing is known."""
    if job.total <= 0:
        return None
    return min(100, round(100 * (job.done + job.failed) / job.total))
