"""Bearer tokens: the token service, the `rra token` commands, and 401/403 on the API."""

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from api_support import MakeClient, bearer, ledger
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.auth.tokens import (
    LAST_USED_RESOLUTION,
    TokenError,
    authenticate,
    create_token,
    list_tokens,
    revoke_token,
    scope_allows,
)
from app.cli.application import cli
from app.db import session_scope
from app.models import ApiToken, TokenScope
from app.timeutil import utcnow
from tests.support import write_config


def test_secret_is_shown_once_and_only_its_hash_is_stored(session: Session) -> None:
    issued = create_token(session, "ci", TokenScope.OPERATE)
    session.commit()
    row = session.exec(select(ApiToken)).one()
    random_part = issued.secret.split("_", 2)[2]
    assert row.token_hash == hashlib.sha256(random_part.encode()).hexdigest()
    stored = " ".join(str(value) for value in row.model_dump().values())
    assert random_part not in stored
    assert authenticate(session, issued.secret) is not None


def test_wrong_revoked_and_malformed_secrets_are_refused(session: Session) -> None:
    issued = create_token(session, "ci", TokenScope.READ)
    other = create_token(session, "other", TokenScope.READ)
    session.commit()
    head, token_id, random_part = issued.secret.split("_", 2)
    flipped = random_part[:-1] + ("A" if random_part[-1] != "A" else "B")
    assert authenticate(session, f"{head}_{token_id}_{flipped}") is None
    other_random = other.secret.split("_", 2)[2]
    assert authenticate(session, f"{head}_{token_id}_{other_random}") is None
    for malformed in ("", "rra", "rra_x_abc", "Bearer " + issued.secret, "rra_999_" + "a" * 43):
        assert authenticate(session, malformed) is None
    revoke_token(session, "ci")
    assert authenticate(session, issued.secret) is None


def test_last_used_is_written_at_most_once_per_resolution(session: Session) -> None:
    issued = create_token(session, "ci", TokenScope.READ)
    first = utcnow()
    token = authenticate(session, issued.secret, now=first)
    assert token is not None and token.last_used_at == first
    authenticate(session, issued.secret, now=first + LAST_USED_RESOLUTION / 2)
    assert token.last_used_at == first
    later = first + LAST_USED_RESOLUTION + timedelta(seconds=1)
    authenticate(session, issued.secret, now=later)
    assert token.last_used_at == later


def test_names_must_be_new_and_usable(session: Session) -> None:
    create_token(session, "ci", TokenScope.READ)
    revoke_token(session, "ci")
    with pytest.raises(TokenError, match="already exists"):
        create_token(session, "ci", TokenScope.READ)
    for bad in ("", " ci", "two words", "x" * 129, "-lead"):
        with pytest.raises(TokenError, match="not usable"):
            create_token(session, bad, TokenScope.READ)
    with pytest.raises(TokenError, match="no token named"):
        revoke_token(session, "nobody")
    assert [t.name for t in list_tokens(session)] == ["ci"]


def test_scopes_are_nested() -> None:
    order = [TokenScope.READ, TokenScope.OPERATE, TokenScope.ADMIN]
    for i, granted in enumerate(order):
        for j, needed in enumerate(order):
            assert scope_allows(granted, needed) is (i >= j)


def _assert_401(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert isinstance(response.json()["detail"], str)


def test_writes_need_an_operate_or_admin_token(client: TestClient, tokens: dict[str, str]) -> None:
    url, body = "/api/runs/5/exclude", {"reason": "never taken"}
    _assert_401(client.post(url, json=body))
    _assert_401(client.post(url, json=body, headers={"Authorization": "Basic dXNlcjpwdw=="}))
    _assert_401(client.post(url, json=body, headers=bearer("rra_1_" + "x" * 43)))
    forbidden = client.post(url, json=body, headers=bearer(tokens["read"]))
    assert forbidden.status_code == 403
    assert "'read-bot' has scope 'read'" in forbidden.json()["detail"]
    assert client.post(url, json=body, headers=bearer(tokens["operate"])).status_code == 200
    included = client.post("/api/runs/5/include", json=body, headers=bearer(tokens["admin"]))
    assert included.status_code == 200


def test_revoked_token_stops_working(client: TestClient, tokens: dict[str, str]) -> None:
    with session_scope(ledger(client)) as session:
        revoke_token(session, "operate-bot")
    response = client.post("/api/runs/5/retry", headers=bearer(tokens["operate"]))
    _assert_401(response)
    assert "revoked" in response.json()["detail"]


def test_reads_are_public_by_default(client: TestClient, tokens: dict[str, str]) -> None:
    assert client.get("/api/runs").status_code == 200
    assert client.get("/api/report").status_code == 200
    _assert_401(client.get("/api/runs", headers=bearer("not-a-token")))


def test_reads_can_require_a_token(make_client: MakeClient) -> None:
    client = make_client(read_requires_token=True)
    with session_scope(ledger(client)) as session:
        secret = create_token(session, "viewer", TokenScope.READ).secret
    for path in ("/api/runs", "/api/runs/7", "/api/report", "/api/report.txt"):
        _assert_401(client.get(path))
    assert client.get("/api/runs", headers=bearer(secret)).status_code == 200
    assert client.get("/api/report.txt", headers=bearer(secret)).status_code == 200
    assert client.get("/api/runs/7", headers=bearer(secret)).status_code == 404
    with session_scope(ledger(client)) as session:
        assert list_tokens(session)[0].last_used_at is not None


def test_openapi_documents_security_and_statuses(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["ApiToken"]["scheme"] == "bearer"
    expected = {
        ("/api/runs", "get"): {"200", "401", "403", "422"},
        ("/api/runs/{run}", "get"): {"200", "401", "403", "404", "422"},
        ("/api/runs/{run}/retry", "post"): {"200", "401", "403", "404", "409", "422"},
        ("/api/runs/{run}/exclude", "post"): {"200", "401", "403", "409", "422"},
        ("/api/runs/{run}/include", "post"): {"200", "401", "403", "404", "409", "422"},
        ("/api/report", "get"): {"200", "401", "403"},
        ("/api/report.txt", "get"): {"200", "401", "403", "422"},
    }
    for (path, method), codes in expected.items():
        operation = spec["paths"][path][method]
        assert set(operation["responses"]) == codes, (path, method)
        assert operation["security"] == [{"ApiToken": []}]


def test_token_commands(tmp_path: Path, db_url: str) -> None:
    config = str(write_config(tmp_path, db_url))
    runner = CliRunner()
    created = runner.invoke(
        cli, ["token", "create", "--name", "ops", "--scope", "operate", "--config", config]
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("rra_")
    listed = runner.invoke(cli, ["token", "list", "--config", config])
    assert listed.exit_code == 0
    assert "ops" in listed.stdout and "operate" in listed.stdout
    assert secret.split("_", 2)[2] not in listed.stdout
    again = runner.invoke(
        cli, ["token", "create", "--name", "ops", "--scope", "read", "--config", config]
    )
    assert again.exit_code == 1 and "already exists" in again.stderr
    bad_scope = runner.invoke(
        cli, ["token", "create", "--name", "x", "--scope", "root", "--config", config]
    )
    assert bad_scope.exit_code == 2
    revoked = runner.invoke(cli, ["token", "revoke", "ops", "--config", config])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    unknown = runner.invoke(cli, ["token", "revoke", "nobody", "--config", config])
    assert unknown.exit_code == 1 and "no token named 'nobody'" in unknown.stderr
