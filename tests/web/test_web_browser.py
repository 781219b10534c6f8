"""The dashboard in Debian's Chromium (Playwright) against the app served on loopback.

Screenshots of every page go to tests/artifacts/ (git-ignored). Without /usr/bin/chromium the
tests skip, except under CI (env CI set), where they fail.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from live_server import serve
from sqlalchemy.engine import Engine
from web_support import ArchiveSetup, seed_every_state, token, web_settings

from app.db import session_scope
from app.main import create_app
from app.models import Stage, StageStatus, State, TokenScope

playwright_api = pytest.importorskip("playwright.sync_api")
Browser = playwright_api.Browser
Page = playwright_api.Page
expect = playwright_api.expect

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WAIT_MS = 15_000
JOB_WAIT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Live:
    base: str
    engine: Engine


@pytest.fixture
def live(tmp_path: Path, db_url: str) -> Iterator[Live]:
    """The dashboard on the ledger with every state, served by uvicorn on a free port."""
    (tmp_path / "records").mkdir()
    app = create_app(web_settings(tmp_path, db_url), background=False)
    with serve(app) as base:
        engine = app.state.service.engine
        seed_every_state(engine)
        yield Live(base, engine)


def open_page(browser: Browser, base: str, *, width: int = 1280, height: int = 800) -> Page:
    """A fresh browser context whose every request must stay on this server."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    foreign: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(base) else foreign.append(r.url))
    page.foreign_requests = foreign  # type: ignore[attr-defined]
    return page


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, base: str, secret: str, then: str) -> None:
    page.goto(f"{base}/login?next={then}")
    page.fill("#token", secret)
    page.click('form[action="/login"] button[type="submit"]')
    page.wait_for_url(f"{base}{then}")


def state_of(engine: Engine, run: int, stage: Stage) -> State:
    with session_scope(engine) as session:
        row = session.get(StageStatus, (run, stage))
        assert row is not None
        return row.state


def test_overview_counts_and_every_page_renders(browser: Browser, live: Live) -> None:
    page = open_page(browser, live.base)
    page.goto(f"{live.base}/")
    assert page.evaluate("htmx.version") == "2.0.11"
    records = page.locator('[data-source="filesystem"]')
    expect(records.locator('[data-figure="total"]')).to_have_text("11")
    imports = page.locator('tr[data-stage="import"]')
    expect(imports.locator('[data-figure="backlog"]')).to_have_text("3")
    expect(page.locator('tr[data-stage="migrate"] [data-state="failed"]')).to_have_text("2")
    expect(page.locator('[data-figure="newest-import"]')).to_have_text("105")
    expect(page.get_by_test_id("read-only")).to_be_visible()
    shoot(page, "overview")
    for name, path in [
        ("gapmap", "/gapmap"),
        ("failures-read-only", "/failures"),
        ("runs", "/runs?stage=import"),
        ("run", "/runs/105"),
        ("jobs-read-only", "/jobs"),
        ("login", "/login"),
    ]:
        response = page.goto(f"{live.base}{path}")
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        shoot(page, name)
    wide = open_page(browser, live.base, width=2560, height=1440)
    wide.goto(f"{live.base}/")
    shoot(wide, "overview-control-room")
    assert page.foreign_requests == [] and wide.foreign_requests == []  # type: ignore[attr-defined]


def test_gap_map_click_zooms_then_opens_the_run(browser: Browser, live: Live) -> None:
    with session_scope(live.engine) as session:
        session.add(StageStatus(run_number=2000, stage=Stage.IMPORT, state=State.DONE))
    page = open_page(browser, live.base)
    page.goto(f"{live.base}/gapmap")
    bucket = page.locator('svg.gapmap a[href="/gapmap?lo=105&hi=109"]').first
    expect(bucket.locator("title")).to_have_text(
        "runs 105–109 · import: 1 retry, 1 running, 1 pending, 1 waiting, 1 done"
    )
    bucket.click()
    page.wait_for_url(f"{live.base}/gapmap?lo=105&hi=109")
    page.locator('svg.gapmap a[href="/runs/106"]').first.click()
    page.wait_for_url(f"{live.base}/runs/106")
    expect(page.locator("h1")).to_contain_text("Run 106")
    expect(page.locator('[data-stage="import"]').first).to_contain_text("run 106: <b>bad</b>")


def test_logged_out_user_has_no_actions_and_forged_posts_fail(browser: Browser, live: Live) -> None:
    page = open_page(browser, live.base)
    page.goto(f"{live.base}/failures")
    expect(page.locator('tr[data-row="105:migrate"]')).to_be_visible()
    assert page.locator("button", has_text="Retry").count() == 0
    assert page.locator('input[name="item"]').count() == 0
    anonymous = page.request.post(
        f"{live.base}/failures/action", form={"row_action": "retry 105:migrate"}
    )
    assert anonymous.status == 403

    sign_in(page, live.base, token(live.engine, "alice", TokenScope.OPERATE), "/failures")
    expect(page.locator("button", has_text="Retry").first).to_be_visible()
    for form in (
        {"row_action": "retry 105:migrate"},
        {"row_action": "retry 105:migrate", "csrf": "not-the-token"},
    ):
        forged = page.request.post(f"{live.base}/failures/action", form=form)
        assert forged.status == 403 and "security token" in forged.text()
    assert state_of(live.engine, 105, Stage.MIGRATE) is State.FAILED


def test_retry_from_the_failures_table_changes_the_row(browser: Browser, live: Live) -> None:
    page = open_page(browser, live.base)
    sign_in(page, live.base, token(live.engine, "alice", TokenScope.OPERATE), "/failures")
    row = page.locator('tr[data-row="105:migrate"]')
    expect(row.locator('[data-field="state"]')).to_have_text("failed")
    row.locator("button", has_text="Retry").click()
    expect(row.locator('[data-field="state"]')).to_have_text("pending")
    expect(row).to_have_class("changed")
    expect(page.get_by_test_id("action-messages")).to_contain_text(
        "run 105 migrate: queued for a new attempt"
    )
    assert page.url == f"{live.base}/failures", "htmx swapped the table in place"
    assert state_of(live.engine, 105, Stage.MIGRATE) is State.PENDING
    shoot(page, "failures-after-retry")


def test_job_progress_and_run_files_over_real_stores(
    browser: Browser, archive_setup: ArchiveSetup
) -> None:
    app = create_app(archive_setup.settings, background=False)
    with serve(app) as base:
        engine = app.state.service.engine
        page = open_page(browser, base)
        sign_in(page, base, token(engine, "alice", TokenScope.OPERATE), "/jobs")
        page.select_option('select[name="kind"]', "run")
        page.fill('input[name="runs"]', "1000-1003")
        page.click("text=Start job")
        expect(page.get_by_test_id("job-messages")).to_contain_text("started")
        job = page.locator("tr[data-job]").first
        expect(job).to_have_attribute("data-state", "succeeded", timeout=JOB_WAIT_MS)
        expect(job.locator("progress")).to_have_attribute("value", "8")
        shoot(page, "jobs")

        run = archive_setup.runs[0]
        page.goto(f"{base}/runs/{run}")
        expect(page.get_by_test_id("artdaqdb-files")).to_contain_text(".fcl")
        expect(page.get_by_test_id("ucondb-files")).to_contain_text(".fcl")
        page.click("text=Compare the two stores")
        expect(page.get_by_test_id("diff-outcome")).to_contain_text("Identical")
        shoot(page, "run-archived")
        page.get_by_test_id("ucondb-files").locator("a").first.click()
        expect(page.get_by_test_id("file-text")).not_to_be_empty()
        shoot(page, "file")
        assert page.foreign_requests == []  # type: ignore[attr-defined]
