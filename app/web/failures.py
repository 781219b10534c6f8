"""The failures-and-conflicts table: one row per (run, stage) needing attention, built from the
run listing (so filters, keyset paging and redaction are the API's), and the operator actions
on a selection of rows."""

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session

from app.models import ErrorKind, Stage, State
from app.pipeline.run_actions import ActionRefusedError, RunNotFoundError, exclude_run, retry_run
from app.reports.run_listing import RunFilter, RunSummaryPublic, runs_page
from app.runranges import RunSelection

PROBLEM_STATES = (State.FAILED, State.RETRY, State.CONFLICT)


@dataclass(frozen=True)
class FailureRow:
    """A stage row needing attention; `changed` marks a row the operator just acted on."""

    run: int
    stage: Stage
    state: State
    error_kind: ErrorKind | None
    message: str | None
    attempts: int
    next_attempt_at: datetime | None
    config_name: str | None
    changed: bool = False

    @property
    def key(self) -> str:
        """The value of the row's selection checkbox."""
        return f"{self.run}:{self.stage.value}"


@dataclass(frozen=True)
class FailurePage:
    """Rows of up to `limit` runs, and the run to continue after (None at the end)."""

    rows: list[FailureRow]
    next_after: int | None


def _flatten(summaries: list[RunSummaryPublic]) -> list[FailureRow]:
    """Every stage row of the listed runs."""
    return [
        FailureRow(
            run=summary.run_number,
            stage=stage,
            state=brief.state,
            error_kind=brief.error_kind,
            message=brief.last_error,
            attempts=brief.attempts,
            next_attempt_at=brief.next_attempt_at,
            config_name=summary.config_name,
        )
        for summary in summaries
        for stage, brief in sorted(summary.stages.items())
    ]


def failure_page(
    session: Session,
    *,
    stage: Stage | None,
    states: tuple[State, ...],
    kinds: tuple[ErrorKind, ...],
    after: int | None,
    limit: int,
    secrets: list[str | None],
) -> FailurePage:
    """Failed, retrying and conflicting rows (narrowed by stage/state/kind), by run number."""
    wanted = states or PROBLEM_STATES
    filt = RunFilter(stage=stage, states=wanted, error_kinds=kinds)
    summaries, more = runs_page(session, filt, after=after, limit=limit, secrets=secrets)
    rows = [
        row
        for row in _flatten(summaries)
        if row.state in wanted
        and (stage is None or row.stage == stage)
        and (not kinds or row.error_kind in kinds)
    ]
    return FailurePage(rows, summaries[-1].run_number if more and summaries else None)


def rows_now(
    session: Session, keys: list[tuple[int, Stage]], *, secrets: list[str | None]
) -> list[FailureRow]:
    """The current state of specific (run, stage) rows, marked as just changed."""
    if not keys:
        return []
    runs = RunSelection(intervals=tuple((run, run) for run, _ in keys))
    summaries, _ = runs_page(
        session, RunFilter(runs=runs), after=None, limit=len(keys), secrets=secrets
    )
    wanted = set(keys)
    return [
        replace(row, changed=True) for row in _flatten(summaries) if (row.run, row.stage) in wanted
    ]


def merged(page: FailurePage, changed: list[FailureRow]) -> list[FailureRow]:
    """The page's rows with the just-changed rows in place (or added), by run and stage."""
    by_key = {row.key: row for row in page.rows}
    by_key.update({row.key: row for row in changed})
    return sorted(by_key.values(), key=lambda row: (row.run, row.stage.value))


ACTIONS = ("retry", "exclude")


def parse_keys(values: list[str]) -> list[tuple[int, Stage]]:
    """Checkbox values `run:stage` (or a bare run: every stage) as keys; bad ones raise
    ValueError naming the value."""
    keys = []
    for value in values:
        run_text, _, stage_text = value.partition(":")
        try:
            run = int(run_text)
            stages = [Stage(stage_text)] if stage_text else list(Stage)
        except ValueError:
            raise ValueError(f"{value!r} is not a row reference like '1234:import'") from None
        keys.extend((run, stage) for stage in stages)
    return list(dict.fromkeys(keys))


def chosen_action(
    action: str, row_action: str, selected: list[str]
) -> tuple[str, list[tuple[int, Stage]]]:
    """What the form asks: a row's own button (`retry 1234:import`) wins over the selection
    buttons (`action` applied to the ticked rows). ValueError says what is wrong."""
    if row_action:
        action, _, item = row_action.partition(" ")
        selected = [item]
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; expected retry or exclude")
    keys = parse_keys(selected)
    if not keys:
        raise ValueError("nothing selected: tick the rows to act on")
    return action, keys


def apply_action(
    session: Session,
    keys: list[tuple[int, Stage]],
    *,
    action: str,
    reason: str | None,
    actor: str,
    now: datetime,
) -> list[str]:
    """Retry each (run, stage), or exclude each run; one line per run or row saying what
    happened (refusals explain themselves and do not stop the others)."""
    outcome = []
    if action == "exclude":
        if not reason:
            return ["exclude needs a reason (it is kept in the run's history)"]
        for run in dict.fromkeys(run for run, _ in keys):
            try:
                result = exclude_run(session, run, reason=reason, actor=actor, now=now)
                outcome.append(
                    f"run {run}: excluded ({', '.join(s.value for s in result.changed) or 'no'}"
                    " stage rows changed)"
                )
            except ActionRefusedError as exc:
                outcome.append(str(exc))
        return outcome
    for run, stage in keys:
        try:
            retry_run(session, run, stage=stage, actor=actor, now=now, reason=reason or None)
            outcome.append(f"run {run} {stage.value}: queued for a new attempt")
        except (RunNotFoundError, ActionRefusedError) as exc:
            outcome.append(str(exc))
    return outcome
