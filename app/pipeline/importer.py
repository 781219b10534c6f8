"""The import stage in the pipeline: what follows a verified import (`complete_import`) and
where attempts run (`import_stage`); the attempt itself is `import_work.import_run`."""

from datetime import datetime

from sqlmodel import Session

from app.models import Run, Stage
from app.pipeline.claims import Claim
from app.pipeline.context import PipelineContext
from app.pipeline.driver import StageDefinition, StageOutcome
from app.pipeline.import_work import import_run
from app.pipeline.ledger import make_pending


def complete_import(session: Session, claim: Claim, outcome: StageOutcome, now: datetime) -> None:
    """After a verified import: remember what was archived and queue the migration."""
    run = session.get(Run, claim.run)
    if run is not None:
        run.archived_hash = run.content_hash = outcome.fields.get("content_hash")
        run.config_name = outcome.fields.get("details", {}).get("config_name", run.config_name)
        session.add(run)
    make_pending(
        session,
        claim.run,
        Stage.MIGRATE,
        actor=claim.owner,
        message="import verified; queued for migration",
        now=now,
    )


def import_stage(ctx: PipelineContext) -> StageDefinition:
    """The import stage bound to a context (in its worker processes, if it has them)."""
    processes = ctx.import_processes

    def process(claim: Claim) -> StageOutcome:
        return processes.run(import_run, claim) if processes else import_run(ctx, claim)

    return StageDefinition(Stage.IMPORT, process, complete_import)
