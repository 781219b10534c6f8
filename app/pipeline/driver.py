"""The worker loop: claim due rows, process them in threads, record outcomes, stop cleanly.

Claims and outcomes are written from the driving thread only (short transactions); the slow I/O
runs in worker threads outside any transaction, as DESIGN.md "Work claiming" requires.
"""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.db import session_scope
from app.metrics import observe_attempt
from app.models import ErrorKind, Stage, State
from app.pipeline.attempts import StageFailure, StageOutcome
from app.pipeline.claims import (
    Claim,
    claim_due,
    held_row,
    reap_expired,
    record_failure,
    release,
    renew,
)
from app.pipeline.ledger import RetryPolicy, transition
from app.timeutil import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageDefinition:
    """What a stage does (`process`, slow, no session) and what follows success (`complete`)."""

    stage: Stage
    process: Callable[[Claim], StageOutcome]
    complete: Callable[[Session, Claim, StageOutcome, datetime], None]


@dataclass(frozen=True)
class DrainOptions:
    """How a drain claims and how long it lets in-flight work finish on stop."""

    owner: str
    workers: int
    policy: RetryPolicy
    lease_seconds: float = 600.0
    claim_batch: int = 4
    where: ColumnElement[bool] | None = None
    limit: int | None = None
    poll_seconds: float | None = None
    until: threading.Event | None = None
    shutdown_grace_seconds: float = 30.0


@dataclass
class RunResult:
    """The outcome of one attempt as the drain saw it."""

    run: int
    state: State | None
    message: str
    kind: ErrorKind | None = None


@dataclass
class DrainResult:
    """What one drain did."""

    results: list[RunResult] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    interrupted: bool = False

    @property
    def succeeded(self) -> list[int]:
        """Runs whose attempt finished `done`."""
        return [r.run for r in self.results if r.state == State.DONE]

    @property
    def failed(self) -> list[int]:
        """Runs whose attempt failed (retry, failed or conflict)."""
        return [r.run for r in self.results if r.state not in (State.DONE, None)]


Progress = Callable[[str, Claim, RunResult | None], None]


def _outcome_of(future: Future[StageOutcome]) -> StageOutcome | StageFailure:
    try:
        return future.result()
    except StageFailure as failure:
        return failure
    except Exception as exc:  # an unexpected error fails only this run
        log.exception("internal error while processing a run")
        return StageFailure(ErrorKind.INTERNAL, f"internal error: {type(exc).__name__}: {exc}")


def _record(
    engine: Engine,
    definition: StageDefinition,
    claim: Claim,
    outcome: StageOutcome | StageFailure,
    options: DrainOptions,
    started: float,
) -> RunResult:
    now = utcnow()
    duration_ms = (time.monotonic() - started) * 1000
    with session_scope(engine) as session:
        if isinstance(outcome, StageFailure):
            state = record_failure(
                session,
                claim,
                policy=options.policy,
                kind=outcome.kind,
                message=outcome.message,
                now=now,
                retryable=outcome.retryable,
            )
            result = RunResult(claim.run, state, outcome.message, outcome.kind)
        else:
            row = held_row(session, claim)
            if row is None:
                state = None
            else:
                transition(
                    session,
                    row,
                    State.DONE,
                    actor=claim.owner,
                    message=outcome.message,
                    now=now,
                    last_error=None,
                    error_kind=None,
                    lease_owner=None,
                    lease_until=None,
                    finished_at=now,
                    duration_ms=duration_ms,
                    next_attempt_at=None,
                    **outcome.fields,
                )
                definition.complete(session, claim, outcome, now)
                state = State.DONE
            result = RunResult(claim.run, state, outcome.message)
    observe_attempt(definition.stage, result.state, duration_ms / 1000)
    if result.state is None:
        log.warning(
            "run %s %s: lease lost before the outcome was recorded; the attempt's "
            "result is discarded",
            claim.run,
            claim.stage.value,
        )
    return result


def drain(
    engine: Engine,
    definition: StageDefinition,
    options: DrainOptions,
    *,
    stop: threading.Event,
    progress: Progress | None = None,
) -> DrainResult:
    """Process due rows of one stage until none is due (or `limit` is reached, or `stop`).

    With `poll_seconds`, keep waiting for new due rows until `stop` instead of returning; with
    `until` as well, return once it is set and a claim made after that found nothing due (the
    stage feeding this one has finished).
    """
    result = DrainResult()
    inflight: dict[Future[StageOutcome], tuple[Claim, float]] = {}
    claimed = 0
    renew_every = max(1.0, options.lease_seconds / 3)
    last_renew = time.monotonic()
    deadline: float | None = None
    pool = ThreadPoolExecutor(
        max_workers=options.workers, thread_name_prefix=f"rra-{definition.stage.value}"
    )
    try:
        while True:
            upstream_done = options.until is not None and options.until.is_set()
            room = options.workers - len(inflight)
            if options.limit is not None:
                room = min(room, options.limit - claimed)
            if not stop.is_set() and room > 0:
                with session_scope(engine) as session:
                    now = utcnow()
                    reap_expired(session, policy=options.policy, now=now, actor=options.owner)
                    claims = claim_due(
                        session,
                        definition.stage,
                        owner=options.owner,
                        limit=min(room, options.claim_batch),
                        lease_seconds=options.lease_seconds,
                        now=now,
                        where=options.where,
                    )
                for claim in claims:
                    inflight[pool.submit(definition.process, claim)] = (claim, time.monotonic())
                    if progress:
                        progress("started", claim, None)
                claimed += len(claims)
            if not inflight:
                limit_reached = options.limit is not None and claimed >= options.limit
                if stop.is_set():
                    result.interrupted = True
                    break
                if options.poll_seconds is None or limit_reached or upstream_done:
                    break
                stop.wait(options.poll_seconds)
                continue
            done, _ = wait(list(inflight), timeout=1.0, return_when=FIRST_COMPLETED)
            for future in done:
                claim, started = inflight.pop(future)
                run_result = _record(
                    engine, definition, claim, _outcome_of(future), options, started
                )
                result.results.append(run_result)
                if progress:
                    progress("finished", claim, run_result)
            if stop.is_set():
                result.interrupted = True
                deadline = deadline or time.monotonic() + options.shutdown_grace_seconds
                if time.monotonic() >= deadline and inflight:
                    _release_all(engine, inflight, result)
                    break
            if inflight and time.monotonic() - last_renew >= renew_every:
                with session_scope(engine) as session:
                    renew(
                        session,
                        [c for c, _ in inflight.values()],
                        lease_seconds=options.lease_seconds,
                        now=utcnow(),
                    )
                last_renew = time.monotonic()
    finally:
        pool.shutdown(wait=not result.released, cancel_futures=True)
    return result


def _release_all(
    engine: Engine, inflight: dict[Future[StageOutcome], tuple[Claim, float]], result: DrainResult
) -> None:
    with session_scope(engine) as session:
        for claim, _ in inflight.values():
            if release(
                session, claim, message="released at shutdown (deadline passed)", now=utcnow()
            ):
                result.released.append(claim.run)
    inflight.clear()
