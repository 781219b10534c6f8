"""Schemathesis over the whole API (every operation of the OpenAPI schema, valid and invalid
inputs), anonymous and with an `operate` token: no request may get a 5xx answer.

The service runs on a real archive (sample records, filesystemdb, the UconDB stand-in) whose
runs are already archived, without background workers; jobs and resumed workers that requests
start are stopped before the end. Generated examples are bounded and derandomized, so the run is
short and the same on every machine; random path values rarely name a real run or schedule
entry, so each action is also sent once on every real one.
"""

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.python.asgi import get_client, shutdown_lifespans
from sqlmodel import Session

from app.auth.tokens import create_token
from app.main import create_app
from app.models import TokenScope
from app.pipeline.runner import WorkRequest, run_work
from tests.pipeline.conftest import ArchiveEnv
from tests.reliability.conftest import MakeArchive

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 25


@pytest.fixture
def served(make_archive: MakeArchive) -> Iterator[tuple[ArchiveEnv, FastAPI]]:
    """The service on an archive whose ended runs are archived and one run is running."""
    env, _ = make_archive(runs=4, running=1)
    ctx = env.context()
    run_work(ctx, WorkRequest())
    ctx.close()
    app = create_app(env.settings, background=False)
    try:
        yield env, app
    finally:
        service = getattr(app.state, "service", None)
        if service is not None:
            for worker in service.runner.workers.values():
                worker.stop()
                worker.join(60)
            service.runner.jobs.shutdown(wait=True)
        shutdown_lifespans()


def operate_token(env: ArchiveEnv) -> dict[str, str]:
    with Session(env.engine) as session:
        issued = create_token(session, name="fuzz", scope=TokenScope.OPERATE)
        session.commit()
    return {"Authorization": f"Bearer {issued.secret}"}


def cases(operation: schemathesis.APIOperation) -> st.SearchStrategy[schemathesis.Case]:
    """Valid and invalid requests for one operation."""
    return st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )


@pytest.mark.parametrize("caller", ["anonymous", "operator"])
def test_no_request_gets_a_server_error(served: tuple[ArchiveEnv, FastAPI], caller: str) -> None:
    env, app = served
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = operate_token(env) if caller == "operator" else {}
    server_errors: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases(operation))
        def no_server_error(case: schemathesis.Case) -> None:
            body = case.body if isinstance(case.body, dict | list | str) else None
            request = f"{case.method} {case.formatted_path} {case.query or ''} body={body!r}"
            try:
                response = case.call(headers=headers)
            except Exception as exc:  # the app raised: what a client sees as a 500
                first_line = str(exc).splitlines()[0][:200]
                server_errors.append(f"{request} -> raised {type(exc).__name__}: {first_line}")
                return
            if response.status_code >= 500:
                server_errors.append(f"{request} -> {response.status_code} {response.text[:200]}")

        no_server_error()
    server_errors += every_action_on_real_targets(app, headers)
    assert server_errors == []


def every_action_on_real_targets(app: FastAPI, headers: dict[str, str]) -> list[str]:
    """Each action once on every real run, schedule entry and job kind, and on the edges
    (ids beyond 64 bits, a NUL in a reason); the 5xx answers found."""
    errors = []
    with get_client(app) as client:
        client.headers.update(headers)
        runs = [item["run_number"] for item in client.get("/api/runs").json()["items"]]
        entries = [entry["id"] for entry in client.get("/api/schedule").json()]
        calls: list[tuple[str, str, dict | None]] = []
        for run in runs:
            calls += [("GET", f"/api/runs/{run}", None), ("POST", f"/api/runs/{run}/retry", {})]
            calls += [("POST", f"/api/runs/{run}/exclude", {"reason": "fuzz"})]
            calls += [("POST", f"/api/runs/{run}/include", {"reason": "fuzz"})]
        for entry in entries:
            calls += [("POST", f"/api/schedule/{entry}/pause", None)]
            calls += [("POST", f"/api/schedule/{entry}/resume", None)]
        for kind in ("scan", "import", "migrate", "run", "reconcile", "retry-failed"):
            calls += [("POST", "/api/jobs", {"kind": kind})]
        calls += [("GET", "/api/report.txt?compare_state=true", None), ("GET", "/api/status", None)]
        calls += [("GET", f"/api/jobs/{2**63}", None), ("POST", f"/api/jobs/{2**31}/cancel", None)]
        calls += [("POST", f"/api/runs/{runs[0]}/exclude", {"reason": "nul \x00 inside"})]
        for method, path, body in calls:
            try:
                response = client.request(method, path, json=body)
            except Exception as exc:  # the app raised: what a client sees as a 500
                first_line = str(exc).splitlines()[0][:200]
                errors.append(
                    f"{method} {path} {body} -> raised {type(exc).__name__}: {first_line}"
                )
                continue
            if response.status_code >= 500:
                errors.append(f"{method} {path} {body} -> {response.status_code} {response.text}")
        for job in client.get("/api/jobs").json():
            client.post(f"/api/jobs/{job['id']}/cancel")
    return errors
