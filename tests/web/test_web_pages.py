"""Every dashboard page rendered by the server, on the ledger with every state."""

import re

import pytest
from fastapi.testclient import TestClient
from web_support import UCON_PASSWORD, ledger, listed, section, texts

from app.db import session_scope
from app.models import Stage, StageStatus, State

PAGES = [
    "/",
    "/overview/live",
    "/gapmap",
    "/gapmap?lo=100&hi=110",
    "/failures",
    "/failures?stage=import&state=conflict",
    "/runs",
    "/runs?state=failed&stage=migrate",
    "/runs/105",
    "/runs/105/artdaqdb",
    "/runs/105/ucondb",
    "/runs/105/diff",
    "/jobs",
    "/login",
]


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_escaped_redacted_and_self_contained(seeded: TestClient, path: str) -> None:
    response = seeded.get(path)
    assert response.status_code == 200, response.text
    html = response.text
    assert UCON_PASSWORD not in html
    assert "<b>bad</b>" not in html
    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert all(s.startswith(("/", "#", "data:")) and not s.startswith("//") for s in sources)
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert response.headers["cache-control"] == "no-store"


def test_pages_escape_stored_text(seeded: TestClient) -> None:
    html = seeded.get("/failures").text
    assert "run 103: &lt;b&gt;bad&lt;/b&gt; thing" in html
    assert "https://writer:***@ucon.example/app" in html


def test_overview_sources_figures(seeded: TestClient) -> None:
    html = seeded.get("/").text
    records = html.split('data-source="filesystem"')[1].split("</article>")[0]
    assert section(records, data_figure="total") == "11"
    assert section(records, data_figure="range") == "100–120"
    assert section(records, data_figure="gaps").startswith("10 missing in 2 ranges: 104, 111–119")
    assert section(records, data_figure="excluded") == "1: 120"
    artdaq = html.split('data-source="artdaqdb"')[1].split("</article>")[0]
    assert section(artdaq, data_figure="total") == "5"
    assert section(artdaq, data_figure="islands") == "2: 100–103, 105"


def test_overview_liveness_backlog_and_recommendations(seeded: TestClient) -> None:
    html = seeded.get("/").text
    assert section(html, data_figure="newest-seen") == "120"
    assert section(html, data_figure="newest-import") == "105"
    assert section(html, data_figure="newest-migrate") == "102"
    imports = html.split('<tr data-stage="import">')[1].split("</tr>")[0]
    migrates = html.split('<tr data-stage="migrate">')[1].split("</tr>")[0]
    assert section(imports, data_figure="backlog") == "3"
    assert section(imports, data_figure="needs-operator") == "1"
    assert [section(imports, data_state=s) for s in ("waiting", "retry", "conflict")] == [
        "1",
        "1",
        "1",
    ]
    assert section(migrates, data_figure="needs-operator") == "2"
    assert section(migrates, data_state="failed") == "2"
    assert "Run IMPORTER: 5 run(s) on filesystem not in artdaqDB (range: 106-110)" in html
    assert "/jobs?kind=import&amp;runs=106-110" in html


def test_overview_rate_counts_done_rows_of_the_last_day(seeded: TestClient) -> None:
    html = seeded.get("/").text
    rates = {
        stage: html.split(f'<div class="rate" data-stage="{stage}">')[1]
        for stage in ("import", "migrate")
    }
    assert section(rates["import"], data_figure="last-24h") == "5"
    assert section(rates["migrate"], data_figure="last-7d") == "3"


def test_overview_fragment_keeps_polling_itself(seeded: TestClient) -> None:
    html = seeded.get("/overview/live").text
    assert html.lstrip().startswith('<div id="live" hx-get="/overview/live"')
    assert 'hx-trigger="every 10s"' in html and "<html" not in html


def test_gap_map_cells_link_runs_and_count_states(seeded: TestClient) -> None:
    html = seeded.get("/gapmap").text
    titles = texts(html, data_state="failed")
    assert titles == ["run 103 · migrate: failed", "run 105 · migrate: failed"]
    assert '<a href="/runs/106" class="cell" data-state="retry">' in html
    assert section(html, data_testid="gapmap-scope").startswith("Runs 100–120, 1 run per cell")


def test_gap_map_buckets_zoom_into_ranges(seeded: TestClient) -> None:
    with session_scope(ledger(seeded)) as session:
        session.add(StageStatus(run_number=2000, stage=Stage.IMPORT, state=State.DONE))
    html = seeded.get("/gapmap").text
    assert "Runs 100–2000, 5 runs per cell" in section(html, data_testid="gapmap-scope")
    assert texts(html, data_state="conflict") == ["runs 110–114 · import: 1 conflict, 4 absent"]
    assert texts(html, data_state="retry") == [
        "runs 105–109 · import: 1 retry, 1 running, 1 pending, 1 waiting, 1 done"
    ]
    assert '<a href="/gapmap?lo=110&amp;hi=114" class="cell" data-state="conflict">' in html
    zoomed = seeded.get("/gapmap?lo=110&hi=114").text
    assert "1 run per cell" in zoomed
    assert 'href="/gapmap?lo=100&amp;hi=137"' in zoomed, "zoom out ×10 around the range"


def test_runs_list_filters_pages_and_exports(seeded: TestClient) -> None:
    html = seeded.get("/runs?state=failed&stage=migrate").text
    assert listed(html) == [103, 105]
    assert 'href="/api/runs?stage=migrate&amp;state=failed&amp;format=csv"' in html
    paged = seeded.get("/runs?limit=4").text
    assert listed(paged) == [100, 101, 102, 103]
    assert 'href="/runs?limit=4&amp;after=103"' in paged
    assert listed(seeded.get("/runs?limit=4&after=103").text) == [105, 106, 107, 108]
    assert listed(seeded.get("/runs?excluded=true&state=").text) == [120]
    assert listed(seeded.get("/runs?runs=105-107,120&q=calib").text) == [106]


def test_runs_list_explains_a_bad_range(seeded: TestClient) -> None:
    response = seeded.get("/runs?runs=12-x")
    assert response.status_code == 200
    assert "runs: &#39;12-x&#39; is not a run" in response.text


def test_bad_query_values_are_explained_on_a_page(seeded: TestClient) -> None:
    response = seeded.get("/runs?state=exploded")
    assert response.status_code == 422
    assert "text/html" in response.headers["content-type"] and "state" in response.text


def test_run_detail_shows_record_stages_and_history(seeded: TestClient) -> None:
    html = seeded.get("/runs/105").text
    assert section(html, data_figure="config") == "physics_std"
    migrate = section(html, data_stage="migrate")
    assert "Attempts 3" in migrate and "ucondb: HTTP 502 from https://writer:***@" in migrate
    assert "running → failed" in section(html, data_testid="events")
    assert 'hx-get="/runs/105/artdaqdb" hx-trigger="load"' in html


def test_unknown_run_is_a_404_page(seeded: TestClient) -> None:
    response = seeded.get("/runs/999")
    assert response.status_code == 404
    assert "run 999 is not in the ledger" in response.text and "<html" in response.text


def test_unreachable_stores_are_reported_not_raised(seeded: TestClient) -> None:
    html = seeded.get("/runs/105/ucondb").text
    assert "ConnectError" in html or "UconDBError" in html
    diff = seeded.get("/runs/105/diff", headers={"HX-Request": "true"}).text
    assert "<html" not in diff and "not been imported" in diff


@pytest.mark.parametrize(
    "path",
    [
        "/runs/99999999999999999999",
        "/jobs/99999999999999999999",
        "/runs?after=99999999999999999999",
        "/failures?after=99999999999999999999",
        "/gapmap?lo=-1",
        "/runs/105/file?source=elsewhere&name=boot.fcl",
        "/runs?limit=0",
        "/runs?excluded=maybe",
        "/failures?state=done",
    ],
)
def test_odd_parameters_get_a_readable_refusal(seeded: TestClient, path: str) -> None:
    response = seeded.get(path)
    assert 400 <= response.status_code < 500, response.text
    assert "text/html" in response.headers["content-type"]
