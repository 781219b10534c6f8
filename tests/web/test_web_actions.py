"""Signing in, CSRF, and the operator actions: retry and exclude from the failures table."""

from fastapi.testclient import TestClient
from sqlmodel import col, select
from web_support import MakeClient, csrf_of, ledger, section, sign_in, texts, token

from app.db import session_scope
from app.models import Run, RunEvent, Stage, StageStatus, State, TokenScope
from app.web.session import COOKIE_NAME


def state_of(client: TestClient, run: int, stage: Stage) -> State:
    with session_scope(ledger(client)) as session:
        row = session.get(StageStatus, (run, stage))
        assert row is not None
        return row.state


def test_anonymous_pages_are_read_only_and_start_a_strict_session(seeded: TestClient) -> None:
    response = seeded.get("/failures")
    html = response.text
    assert "Read-only view" in section(html, data_testid="read-only")
    assert "Retry" not in section(html, data_testid="failures")
    assert 'name="item"' not in html and "Start job" not in seeded.get("/jobs").text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie


def test_anonymous_post_with_a_valid_csrf_token_is_refused(seeded: TestClient) -> None:
    csrf = csrf_of(seeded.get("/failures").text)
    response = seeded.post(
        "/failures/action", data={"csrf": csrf, "row_action": "retry 105:migrate"}
    )
    assert response.status_code == 403
    assert "read-only" in response.text
    assert state_of(seeded, 105, Stage.MIGRATE) is State.FAILED


def test_signed_in_post_without_or_with_a_forged_csrf_token_is_refused(
    seeded: TestClient,
) -> None:
    sign_in(seeded, token(ledger(seeded), "alice", TokenScope.OPERATE))
    for data in (
        {"row_action": "retry 105:migrate"},
        {"row_action": "retry 105:migrate", "csrf": "forged-token"},
    ):
        response = seeded.post("/failures/action", data=data)
        assert response.status_code == 403
        assert "security token is missing or stale" in response.text
    wrong_header = seeded.post(
        "/failures/action",
        data={"row_action": "retry 105:migrate"},
        headers={"X-CSRF-Token": "forged-token", "HX-Request": "true"},
    )
    assert wrong_header.status_code == 403 and wrong_header.headers["HX-Retarget"] == "#flash"
    assert state_of(seeded, 105, Stage.MIGRATE) is State.FAILED


def test_a_forged_session_cookie_is_an_anonymous_session(seeded: TestClient) -> None:
    csrf = sign_in(seeded, token(ledger(seeded), "alice", TokenScope.OPERATE))
    value = seeded.cookies[COOKIE_NAME]
    payload, signature = value.split(".")
    seeded.cookies.set(COOKIE_NAME, f"{payload}.{signature[:-2]}AA")
    response = seeded.post(
        "/failures/action", data={"csrf": csrf, "item": "105:migrate", "action": "retry"}
    )
    assert response.status_code == 403
    assert state_of(seeded, 105, Stage.MIGRATE) is State.FAILED


def test_retry_one_row_changes_its_state_and_names_the_operator(seeded: TestClient) -> None:
    csrf = sign_in(seeded, token(ledger(seeded), "alice", TokenScope.OPERATE))
    page = seeded.get("/failures").text
    assert '<button type="submit" name="row_action" value="retry 105:migrate">' in page
    response = seeded.post(
        "/failures/action",
        data={"csrf": csrf, "row_action": "retry 105:migrate", "reason": "server is back"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    fragment = response.text
    assert fragment.lstrip().startswith('<div id="failures">')
    assert "run 105 migrate: queued for a new attempt" in fragment
    changed = section(fragment, data_row="105:migrate")
    assert "pending" in changed and "failed" not in changed
    assert state_of(seeded, 105, Stage.MIGRATE) is State.PENDING
    with session_scope(ledger(seeded)) as session:
        event = session.exec(
            select(RunEvent)
            .where(col(RunEvent.run_number) == 105)
            .order_by(col(RunEvent.id).desc())
        ).first()
        assert event is not None and (event.actor, event.to_state) == ("alice", "pending")
        assert event.message == "server is back"
    assert "105:migrate" not in seeded.get("/failures").text


def test_retry_a_selection_reports_each_row(seeded: TestClient) -> None:
    csrf = sign_in(seeded, token(ledger(seeded), "alice", TokenScope.OPERATE))
    response = seeded.post(
        "/failures/action",
        data={"csrf": csrf, "action": "retry", "item": ["103:migrate", "110:import", "100:import"]},
    )
    assert response.status_code == 200 and "<html" in response.text
    messages = texts(response.text, data_testid="action-messages")[0]
    assert "run 103 migrate: queued" in messages and "run 110 import: queued" in messages
    assert "run 100 has nothing to retry" in messages
    assert state_of(seeded, 103, Stage.MIGRATE) is State.PENDING
    assert state_of(seeded, 110, Stage.IMPORT) is State.PENDING
    assert state_of(seeded, 100, Stage.IMPORT) is State.DONE


def test_exclude_needs_a_reason_then_excludes_the_run(seeded: TestClient) -> None:
    csrf = sign_in(seeded, token(ledger(seeded), "alice", TokenScope.OPERATE))
    refused = seeded.post(
        "/failures/action", data={"csrf": csrf, "row_action": "exclude 106:import"}
    )
    assert "exclude needs a reason" in refused.text
    assert state_of(seeded, 106, Stage.IMPORT) is State.RETRY
    done = seeded.post(
        "/failures/action",
        data={"csrf": csrf, "row_action": "exclude 106:import", "reason": "laser test, no data"},
    )
    assert "run 106: excluded (import, migrate stage rows changed)" in done.text
    assert state_of(seeded, 106, Stage.IMPORT) is State.EXCLUDED
    with session_scope(ledger(seeded)) as session:
        run = session.get(Run, 106)
        assert run is not None and run.excluded_reason == "laser test, no data"


def test_bad_row_reference_is_explained(seeded: TestClient) -> None:
    csrf = sign_in(seeded, token(ledger(seeded), "alice", TokenScope.OPERATE))
    response = seeded.post(
        "/failures/action", data={"csrf": csrf, "action": "retry", "item": "105:upload"}
    )
    assert "&#39;105:upload&#39; is not a row reference" in response.text
    nothing = seeded.post("/failures/action", data={"csrf": csrf, "action": "retry"})
    assert "nothing selected" in nothing.text


def test_read_scope_signs_in_but_stays_read_only(seeded: TestClient) -> None:
    csrf = sign_in(seeded, token(ledger(seeded), "viewer", TokenScope.READ))
    html = seeded.get("/failures").text
    assert "viewer has scope “read”" in section(html, data_testid="read-only")
    assert "Retry" not in section(html, data_testid="failures")
    response = seeded.post(
        "/failures/action", data={"csrf": csrf, "row_action": "retry 105:migrate"}
    )
    assert response.status_code == 403 and "this needs &#39;operate&#39;" in response.text


def test_unknown_token_is_refused_and_not_echoed(seeded: TestClient) -> None:
    page = seeded.get("/login")
    guess = "rra_1_" + "x" * 43
    response = seeded.post("/login", data={"csrf": csrf_of(page.text), "token": guess})
    assert response.status_code == 401
    assert "unknown or revoked" in response.text and guess not in response.text
    assert "signed-in" not in seeded.get("/").text


def test_login_redirects_only_within_the_site(seeded: TestClient) -> None:
    secret = token(ledger(seeded), "alice", TokenScope.OPERATE)
    page = seeded.get("/login")
    response = seeded.post(
        "/login",
        data={"csrf": csrf_of(page.text), "token": secret, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert secret not in response.headers["set-cookie"]


def test_revoking_the_token_signs_the_browser_out(seeded: TestClient) -> None:
    from app.auth.tokens import revoke_token

    sign_in(seeded, token(ledger(seeded), "alice", TokenScope.OPERATE))
    assert "alice" in section(seeded.get("/").text, data_testid="signed-in")
    with session_scope(ledger(seeded)) as session:
        revoke_token(session, "alice")
    assert 'data-testid="signed-in"' not in seeded.get("/").text


def test_sign_out_needs_the_csrf_token_and_ends_the_session(seeded: TestClient) -> None:
    csrf = sign_in(seeded, token(ledger(seeded), "alice", TokenScope.OPERATE))
    assert seeded.post("/logout", data={}).status_code == 403
    assert 'data-testid="signed-in"' in seeded.get("/").text
    response = seeded.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert 'data-testid="signed-in"' not in seeded.get("/").text


def test_read_requires_token_sends_readers_to_sign_in(make_client: MakeClient) -> None:
    client = make_client(read_requires_token=True)
    response = client.get("/runs?state=failed", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/runs%3Fstate%3Dfailed"
    secret = token(ledger(client), "viewer", TokenScope.READ)
    assert client.get("/runs", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    page = client.get("/login")
    signed = client.post(
        "/login", data={"csrf": csrf_of(page.text), "token": secret, "next": "/runs?state=failed"}
    )
    assert signed.status_code == 200 and signed.url.path == "/runs"
    assert "No run matches" in section(signed.text, data_testid="runs")
