"""What each job kind does: the same service functions as the CLI, with live progress."""

import threading
from typing import Any

from app.jobs import JobControl
from app.models import Job, Stage, State
from app.pipeline.claims import Claim
from app.pipeline.context import PipelineContext
from app.pipeline.driver import RunResult
from app.pipeline.reconcile import reconcile
from app.pipeline.runner import STAGE_CHOICES, WorkRequest, estimate_total, run_work, scan
from app.runranges import parse_runs

STAGES = {
    "import": (Stage.IMPORT,),
    "migrate": (Stage.MIGRATE,),
    "run": (Stage.IMPORT, Stage.MIGRATE),
}


def request_for(kind: str, params: dict[str, Any]) -> WorkRequest:
    """The work request of an import/migrate/run/retry-failed job (raises ValueError if bad)."""
    runs = parse_runs(params["runs"]) if params.get("runs") else None
    if kind == "retry-failed":
        stage = params.get("stage") or "both"
        stages = STAGE_CHOICES.get(stage)
        if stages is None:
            raise ValueError(f"stage must be import, migrate or both, not {stage!r}")
        return WorkRequest(
            stages=stages,
            runs=runs,
            retry_failed=True,
            scan=False,
            dry_run=bool(params.get("dry_run")),
        )
    return WorkRequest(
        stages=STAGES[kind],
        incremental=params.get("mode") == "incremental",
        runs=runs,
        limit_per_stage=params.get("limit"),
        validate=bool(params.get("validate")),
        dry_run=bool(params.get("dry_run")),
        scan=kind != "migrate",
    )


def execute_job(ctx: PipelineContext, job: Job, control: JobControl) -> tuple[bool, str]:
    """Run one job; returns (succeeded, outcome message)."""
    if job.kind == "scan":
        found = scan(ctx)
        return True, (
            f"{len(found.new)} new, {len(found.ready)} ready, "
            f"{len(found.waiting)} waiting, {len(found.anomalies)} odd entries"
        )
    if job.kind == "reconcile":
        drift = reconcile(ctx)
        message = "; ".join(
            f"{stage.value}: {len(d.vanished)} vanished, {len(d.requeued)} queued"
            for stage, d in drift.drift.items()
        )
        errors = "; ".join(f"{name}: {err}" for name, err in drift.errors.items())
        return not drift.errors, "; ".join(filter(None, [message, errors]))
    request = request_for(job.kind, job.params)
    counts = {"started": 0, "done": 0, "failed": 0}
    estimate = estimate_total(ctx, request)
    control.progress(total=estimate, done=0, failed=0)

    counting = threading.Lock()  # the import and migrate drains report from their own threads

    def progress(event: str, claim: Claim, result: RunResult | None) -> None:
        with counting:
            if result is None:
                counts["started"] += 1
            else:
                counts["done" if result.state == State.DONE else "failed"] += 1
            control.progress(
                done=counts["done"],
                failed=counts["failed"],
                total=max(estimate, counts["started"]),
                current_run=claim.run,
            )

    report = run_work(ctx, request, stop=control.stop, progress=progress)
    if request.dry_run:
        listing = "; ".join(
            f"{stage.value}: {len(runs)} run(s)" for stage, runs in report.candidates.items()
        )
        return True, f"dry run: would process {listing}"
    failed = report.failed_runs
    summary = "; ".join(
        f"{stage.value}: {len(r.succeeded)} done, {len(set(r.failed))} failed"
        for stage, r in report.stages.items()
    )
    if report.retried:
        summary += "; reset " + ", ".join(
            f"{len(runs)} failed {stage.value} row(s)" for stage, runs in report.retried.items()
        )
    return not failed, summary or "nothing to do"
