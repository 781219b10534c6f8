"""`rra report` and `/api/report[.txt]`: the same report through the command and the API."""

import json
from pathlib import Path

from fastapi.testclient import TestClient
from report_seed import (
    MIXED_LOCATIONS,
    SPEC_LOCATIONS,
    config_yaml,
    mixed_example,
    report_settings,
    seed,
    spec_example,
)
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli.application import cli
from app.main import create_app
from app.reports.sources import Source, record_listing

EXPECTED = Path(__file__).parent / "expected"


def expected(name: str) -> str:
    return (EXPECTED / name).read_text(encoding="utf-8")


def test_cli_prints_the_legacy_text(session: Session, db_url: str, tmp_path: Path) -> None:
    seed(session, spec_example())
    config = str(config_yaml(tmp_path / "config.yaml", db_url, SPEC_LOCATIONS))
    runner = CliRunner()
    full = runner.invoke(cli, ["report", "--compare-state", "--config", config])
    assert full.exit_code == 0, full.output
    assert full.stdout == expected("spec_example.txt")
    plain = runner.invoke(cli, ["report", "--config", config])
    assert plain.stdout == expected("spec_example_status_only.txt")


def test_cli_json_and_exit_status_of_a_failed_source(
    session: Session, db_url: str, tmp_path: Path
) -> None:
    seed(session, mixed_example())
    record_listing(session, Source.UCONDB, error="ConnectError: https://writer:s3cret-ucon@ucon")
    session.commit()
    config = str(config_yaml(tmp_path / "config.yaml", db_url, MIXED_LOCATIONS))
    runner = CliRunner()
    text = runner.invoke(cli, ["report", "--config", config])
    assert text.exit_code == 1
    assert (
        text.stdout.splitlines()[-1]
        == "✗ UconDB query failed: ConnectError: https://writer:***@ucon"
    )
    as_json = runner.invoke(cli, ["report", "--json", "--config", config])
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert [s["error"] is not None for s in report["sources"]] == [False, False, True]
    assert "s3cret" not in as_json.stdout


def test_api_report_text_and_json(session: Session, db_url: str) -> None:
    seed(session, mixed_example())
    settings = report_settings(db_url, MIXED_LOCATIONS)
    with TestClient(create_app(settings, background=False)) as client:
        text = client.get("/api/report.txt?compare_state=true")
        assert text.status_code == 200
        assert text.headers["content-type"].startswith("text/plain")
        assert text.text == expected("mixed.txt")
        report = client.get("/api/report").json()
    assert report["ok"] is True
    filesystem, artdaqdb, ucondb = report["sources"]
    assert filesystem["source"] == "filesystem" and filesystem["total"] == 18
    assert filesystem["islands_total"] == 11 and len(filesystem["islands"]) == 10
    assert filesystem["excluded"] == [1005, 1013, 1026]
    assert artdaqdb["location"] == "mongodb://archiver:***@db.example:27017/runs_archive"
    assert artdaqdb["gaps_total"] == 23 and len(artdaqdb["gaps"]) == 20
    assert ucondb["last"] == 99999999 and ucondb["gaps_total"] == 99998994
    assert [r["kind"] for r in report["recommendations"]] == [
        "import",
        "migrate",
        "not_on_filesystem",
        "not_in_artdaqdb",
    ]
    assert report["recommendations"][0] | {"message": ""} == {
        "kind": "import",
        "count": 10,
        "first": 1001,
        "last": 1025,
        "message": "",
    }
    imports, migrations = report["state_comparison"]
    assert imports["last_contiguous_run"] == 1025 and imports["failed"]["total"] == 13
    assert imports["missing"]["total"] == 10 and imports["new_runs"]["count"] == 1
    assert migrations["last_contiguous_run"] == 0 and migrations["missing"] is None
    assert migrations["failed"] == {"numbers": [1000, 1004], "total": 2}
