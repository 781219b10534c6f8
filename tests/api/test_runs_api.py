"""`/api/runs`: filters, keyset pages, exports, detail, retry, exclude and include."""

import csv
import io
import json
from typing import Any

import pytest
from api_support import ARTDAQ_PASSWORD, UCON_PASSWORD, bearer, ledger, seed_runs
from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.api import runs as runs_api
from app.db import session_scope
from app.models import Run, RunEvent, Stage, StageStatus, State
from app.reports import run_listing

ALL_RUNS = [*range(100, 112), 120]


@pytest.fixture(params=[run_listing.WINDOW, 1, 3], ids=["window-default", "window-1", "window-3"])
def windowed(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Listings must not depend on how many keys each scanning window covers."""
    monkeypatch.setattr(run_listing, "WINDOW", request.param)
    return int(request.param)


@pytest.fixture
def seeded(client: TestClient) -> TestClient:
    seed_runs(ledger(client))
    return client


def numbers(client: TestClient, query: str = "") -> list[int]:
    response = client.get(f"/api/runs?limit=1000&{query}")
    assert response.status_code == 200, response.text
    return [item["run_number"] for item in response.json()["items"]]


def test_lists_every_known_run_ascending(seeded: TestClient, windowed: int) -> None:
    assert numbers(seeded) == ALL_RUNS
    item = seeded.get("/api/runs?runs=111").json()["items"][0]
    assert item["on_filesystem"] is False and item["readiness"] is None
    assert item["stages"]["migrate"]["state"] == "failed" and "import" not in item["stages"]


FILTERS = [
    ("state=failed", [105, 111]),
    ("state=failed&state=retry", [105, 106, 111]),
    ("stage=import&state=retry", [106]),
    ("stage=import&state=failed", []),
    ("stage=migrate", [*range(100, 106), 111]),
    ("error_kind=fhicl", [106]),
    ("stage=migrate&error_kind=fhicl", []),
    ("q=LASER", [106]),
    ("q=502", [105]),
    ("q=0%25 b", [106]),
    ("q=p_ysics", []),
    ("runs=100-102,110%2B", [100, 101, 102, 110, 111, 120]),
    ("runs=last 3", [110, 111, 120]),
    ("runs=last 3&state=failed", [111]),
    ("runs=last 3&after=110", [111, 120]),
    ("runs=last 500", ALL_RUNS),
    ("runs=104-106,109&after=104", [105, 106, 109]),
    ("runs=1-99,500%2B", []),
    ("readiness=in_progress", [109]),
    ("excluded=true", [120]),
    ("excluded=false&runs=105-200", [*range(105, 112)]),
]


def test_filters(seeded: TestClient, windowed: int) -> None:
    for query, expected in FILTERS:
        assert numbers(seeded, query) == expected, query


def test_keyset_pages_follow_next_links(seeded: TestClient, windowed: int) -> None:
    seen: list[int] = []
    url: str | None = "/api/runs?limit=4&excluded=false"
    pages = 0
    while url is not None:
        page = seeded.get(url).json()
        assert len(page["items"]) <= 4
        seen += [item["run_number"] for item in page["items"]]
        url = page["next"]
        pages += 1
    assert seen == ALL_RUNS[:-1]
    assert pages == 3
    assert seeded.get("/api/runs?after=109").json()["items"][0]["run_number"] == 110


@pytest.mark.parametrize(
    "query",
    ["runs=abc", "runs=5-2", "state=bogus", "stage=export", "limit=0", "limit=1001", "after=-1"],
)
def test_bad_parameters_are_422(seeded: TestClient, query: str) -> None:
    response = seeded.get(f"/api/runs?{query}")
    assert response.status_code == 422
    assert response.json()["detail"]


def test_runs_syntax_error_names_the_bad_part(seeded: TestClient) -> None:
    detail = seeded.get("/api/runs?runs=100-200,x7").json()["detail"]
    assert "'x7'" in detail


@pytest.mark.parametrize("page", [2, 500])
def test_csv_export_streams_every_matching_row(
    seeded: TestClient, monkeypatch: pytest.MonkeyPatch, page: int
) -> None:
    monkeypatch.setattr(runs_api, "EXPORT_PAGE", page)
    response = seeded.get("/api/runs?format=csv&limit=1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(row["run_number"]) for row in rows] == ALL_RUNS
    failed = next(row for row in rows if row["run_number"] == "105")
    assert failed["migrate_state"] == "failed" and failed["import_state"] == "done"
    assert UCON_PASSWORD not in response.text
    filtered = seeded.get("/api/runs?format=csv&state=failed").text
    assert [row["run_number"] for row in csv.DictReader(io.StringIO(filtered))] == ["105", "111"]


def test_json_export_matches_the_pages(seeded: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs_api, "EXPORT_PAGE", 3)
    exported = json.loads(seeded.get("/api/runs?format=json").text)
    assert exported == seeded.get("/api/runs?limit=1000").json()["items"]
    assert json.loads(seeded.get("/api/runs?format=json&runs=999").text) == []


def test_detail_has_stages_files_and_newest_events(seeded: TestClient) -> None:
    detail = seeded.get("/api/runs/105?events=3").json()
    assert detail["record"]["config_name"] == "physics_std"
    migrate = detail["stages"]["migrate"]
    assert migrate["state"] == "failed" and migrate["attempts"] == 3
    assert migrate["details"]["files"] == [{"name": "boot.fcl", "bytes": 812}]
    assert detail["stages"]["import"]["state"] == "done"
    messages = [event["message"] for event in detail["events"]]
    assert len(messages) == 3 and messages[1:] == ["attempt 4", "attempt 3"]
    assert detail["more_events"] is True
    assert detail["in_stores"] == {"artdaqdb": False, "ucondb": False}
    assert UCON_PASSWORD not in json.dumps(detail)
    all_events = seeded.get("/api/runs/105?events=1000").json()
    assert len(all_events["events"]) == 6 and all_events["more_events"] is False


def test_detail_of_a_run_known_only_by_its_stage_row(seeded: TestClient) -> None:
    detail = seeded.get("/api/runs/111").json()
    assert detail["record"] is None and detail["stages"]["migrate"]["state"] == "failed"


def test_detail_errors(seeded: TestClient) -> None:
    missing = seeded.get("/api/runs/999")
    assert missing.status_code == 404 and missing.json() == {
        "detail": "run 999 is not in the ledger"
    }
    assert seeded.get("/api/runs/abc").status_code == 422
    assert seeded.get("/api/runs/105?events=0").status_code == 422


def _stage_states(client: TestClient, run: int) -> dict[Stage, State]:
    with session_scope(ledger(client)) as session:
        rows = session.exec(select(StageStatus).where(col(StageStatus.run_number) == run))
        return {row.stage: row.state for row in rows}


def _events(client: TestClient, run: int) -> list[RunEvent]:
    with session_scope(ledger(client)) as session:
        query = select(RunEvent).where(col(RunEvent.run_number) == run).order_by(col(RunEvent.id))
        return list(session.exec(query))


def post(client: TestClient, path: str, secret: str, body: Any = None) -> Any:
    return client.post(path, json=body, headers=bearer(secret))


def test_retry(seeded: TestClient, tokens: dict[str, str]) -> None:
    operate = tokens["operate"]
    response = post(seeded, "/api/runs/105/retry", operate)
    assert response.status_code == 200
    assert response.json()["changed"] == ["migrate"]
    assert response.json()["stages"] == {"import": "done", "migrate": "pending"}
    last = _events(seeded, 105)[-1]
    assert (last.actor, last.from_state, last.to_state) == ("operate-bot", "failed", "pending")
    both = post(seeded, "/api/runs/106/retry", operate, {"stage": "import", "reason": "fixed"})
    assert both.status_code == 200 and _events(seeded, 106)[-1].message == "fixed"
    assert post(seeded, "/api/runs/110/retry", operate).json()["changed"] == ["import"]
    assert post(seeded, "/api/runs/111/retry", operate).status_code == 200


@pytest.mark.parametrize(
    ("run", "body", "status", "phrase"),
    [
        (100, None, 409, "nothing to retry (import: done, migrate: done)"),
        (105, {"stage": "import"}, 409, "nothing to retry"),
        (109, {"stage": "migrate"}, 409, "has no migrate row"),
        (999, None, 404, "run 999 is not in the ledger"),
        (105, {"stage": "upload"}, 422, ""),
    ],
)
def test_retry_refusals(
    seeded: TestClient,
    tokens: dict[str, str],
    run: int,
    body: Any,
    status: int,
    phrase: str,
) -> None:
    response = post(seeded, f"/api/runs/{run}/retry", tokens["operate"], body)
    assert response.status_code == status
    assert phrase in str(response.json()["detail"])


def test_exclude_and_include_round_trip(seeded: TestClient, tokens: dict[str, str]) -> None:
    admin = tokens["admin"]
    excluded = post(seeded, "/api/runs/108/exclude", admin, {"reason": "  beam test  "})
    assert excluded.status_code == 200
    assert excluded.json() == {
        "run_number": 108,
        "excluded_reason": "beam test",
        "stages": {"import": "excluded", "migrate": "excluded"},
        "changed": ["import", "migrate"],
    }
    assert numbers(seeded, "excluded=true") == [108, 120]
    assert all(e.actor == "admin-bot" for e in _events(seeded, 108))
    done = post(seeded, "/api/runs/105/exclude", admin, {"reason": "bad data"}).json()
    assert done["stages"] == {"import": "done", "migrate": "excluded"}
    included = post(seeded, "/api/runs/108/include", admin, {"reason": "wanted after all"})
    assert included.status_code == 200
    assert included.json()["stages"] == {"import": "pending", "migrate": "waiting"}
    assert _stage_states(seeded, 108) == {Stage.IMPORT: State.PENDING, Stage.MIGRATE: State.WAITING}
    post(seeded, "/api/runs/105/include", admin, {"reason": "ok"})
    assert _stage_states(seeded, 105) == {Stage.IMPORT: State.DONE, Stage.MIGRATE: State.PENDING}
    post(seeded, "/api/runs/109/exclude", admin, {"reason": "x"})
    post(seeded, "/api/runs/109/include", admin, {"reason": "y"})
    assert _stage_states(seeded, 109)[Stage.IMPORT] is State.WAITING


def test_a_never_seen_run_can_be_excluded(seeded: TestClient, tokens: dict[str, str]) -> None:
    response = post(seeded, "/api/runs/115/exclude", tokens["operate"], {"reason": "never taken"})
    assert response.status_code == 200
    item = seeded.get("/api/runs?runs=115").json()["items"][0]
    assert item["on_filesystem"] is False and item["excluded_reason"] == "never taken"
    with session_scope(ledger(seeded)) as session:
        run = session.get(Run, 115)
        assert run is not None and run.present is False
    post(seeded, "/api/runs/115/include", tokens["operate"], {"reason": "mistake"})
    assert _stage_states(seeded, 115) == {Stage.IMPORT: State.WAITING, Stage.MIGRATE: State.WAITING}


@pytest.mark.parametrize(
    ("action", "run", "body", "status", "phrase"),
    [
        ("exclude", 108, None, 422, ""),
        ("exclude", 108, {}, 422, ""),
        ("exclude", 108, {"reason": ""}, 422, ""),
        ("exclude", 108, {"reason": "   "}, 422, ""),
        ("include", 120, {"reason": "\n"}, 422, ""),
        ("exclude", 107, {"reason": "x"}, 409, "being processed: import (lease of worker-1)"),
        ("exclude", 120, {"reason": "x"}, 409, "already excluded ('test run')"),
        ("include", 100, {"reason": "x"}, 409, "run 100 is not excluded"),
        ("include", 999, {"reason": "x"}, 404, "run 999 is not in the ledger"),
        ("exclude", 2_147_483_648, {"reason": "x"}, 422, ""),
    ],
)
def test_exclude_include_refusals(
    seeded: TestClient,
    tokens: dict[str, str],
    action: str,
    run: int,
    body: Any,
    status: int,
    phrase: str,
) -> None:
    before = _stage_states(seeded, run)
    response = post(seeded, f"/api/runs/{run}/{action}", tokens["operate"], body)
    assert response.status_code == status
    assert phrase in str(response.json()["detail"])
    assert _stage_states(seeded, run) == before


def test_no_response_leaks_a_configured_secret(seeded: TestClient, tokens: dict[str, str]) -> None:
    bodies = [
        seeded.get("/api/runs?limit=1000").text,
        seeded.get("/api/runs/105").text,
        seeded.get("/api/runs?format=json").text,
        seeded.get("/api/report").text,
        seeded.get("/api/report.txt").text,
        seeded.get("/openapi.json").text,
    ]
    for body in bodies:
        assert UCON_PASSWORD not in body and ARTDAQ_PASSWORD not in body
        assert tokens["operate"].split("_", 2)[2] not in body
