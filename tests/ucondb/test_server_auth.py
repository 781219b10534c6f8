"""Digest authentication of the UconDB stand-in, quirks included (spec/ucondb.md §3, §8.4)."""

import base64
import hashlib
import re
import time

import httpx
import pytest

from app.ucondb_server import RunningServer, make_state, serve_in_background

DATA = "/data/run_records/configuration"
REALM = "ucon_test.run_records"
URI = "/run_archive/app/data/run_records/configuration?key=1"
CHALLENGE = re.compile(
    r'Digest realm="(?P<realm>[^"]+)", nonce="b\'(?P<nonce>[A-Za-z0-9+/=]+)\'", '
    r'algorithm=MD5, qop="auth"'
)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _header(user: str, password: str, uri: str, *, realm: str = REALM, drop: str = "") -> str:
    """A Digest header computed by hand, optionally without one field."""
    nonce, nc, cnonce = "b'MTcyNzgxMjk5NQ=='", "00000001", "0a4f113b"
    ha1 = _md5(f"{user}:{realm}:{password}")
    ha2 = _md5(f"POST:{uri}")
    fields = {
        "username": f'"{user}"',
        "realm": f'"{realm}"',
        "nonce": f'"{nonce}"',
        "uri": f'"{uri}"',
        "response": f'"{_md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")}"',
        "algorithm": "MD5",
        "qop": "auth",
        "nc": nc,
        "cnonce": f'"{cnonce}"',
    }
    return "Digest " + ", ".join(f"{k}={v}" for k, v in fields.items() if k != drop)


def _post(http: httpx.Client, key: str, header: str | None) -> httpx.Response:
    headers = {"Authorization": header} if header else {}
    return http.post(DATA, params={"key": key}, content=b"body", headers=headers)


def test_challenge_has_the_fully_qualified_realm_and_bytes_literal_nonce(
    http: httpx.Client,
) -> None:
    before = int(time.time())
    response = _post(http, "1", None)

    assert (response.status_code, response.text) == (401, "Authorization required")
    found = CHALLENGE.fullmatch(response.headers["www-authenticate"])
    assert found is not None
    assert found["realm"] == REALM
    assert before <= int(base64.b64decode(found["nonce"])) <= int(time.time())


def test_basic_credentials_get_a_challenge(http: httpx.Client) -> None:
    response = http.post(DATA, params={"key": "1"}, content=b"x", auth=("archiver", "x"))

    assert response.status_code == 401
    assert "www-authenticate" in response.headers


@pytest.mark.parametrize(
    ("user", "password", "realm"),
    [("stranger", "pw-Zq9-never-shown", REALM), ("archiver", "wrong", REALM),
     ("archiver", "pw-Zq9-never-shown", "ucon_test.other_folder")],
)  # fmt: skip
def test_bad_credentials_get_401_without_a_new_challenge(
    http: httpx.Client, user: str, password: str, realm: str
) -> None:
    response = _post(http, "1", _header(user, password, URI, realm=realm))

    assert (response.status_code, response.text) == (401, "Authorization required")
    assert "www-authenticate" not in response.headers


def test_a_hand_made_header_is_accepted(http: httpx.Client, credentials: tuple[str, str]) -> None:
    assert _post(http, "1", _header(*credentials, URI)).status_code == 200


@pytest.mark.parametrize("field", ["nc", "cnonce", "qop"])
def test_missing_digest_field_is_a_500(
    http: httpx.Client, credentials: tuple[str, str], field: str
) -> None:
    response = _post(http, "1", _header(*credentials, URI, drop=field))

    assert response.status_code == 500
    assert "<h3>" in response.text


def test_replayed_header_is_accepted_for_another_key_like_the_real_server(
    http: httpx.Client, credentials: tuple[str, str]
) -> None:
    captured = _header(*credentials, URI)

    assert _post(http, "1", captured).status_code == 200
    assert _post(http, "2", captured).status_code == 200


def test_reads_need_no_authentication(ucon: RunningServer, http: httpx.Client) -> None:
    ucon.state.seed_version("run_records", "configuration", b"x", key="1")

    assert http.get(f"{DATA}/key=1").status_code == 200
    assert http.get("/versions", params={"folder": "run_records", "object": "configuration"}).json()
    assert not any(r.authenticated for r in ucon.state.requests())


def test_folder_table_wildcard_user_and_star_fallback() -> None:
    state = make_state(
        folders=("run_records", "other_folder"),
        credentials={
            "ucon_test.run_records": {"*": "folder-secret"},
            "*": {"archiver": "global-secret"},
        },
    )
    with serve_in_background(state) as server, httpx.Client(base_url=server.base_url) as http:

        def upload(folder: str, user: str, password: str) -> int:
            return http.post(
                f"/data/{folder}/configuration", content=b"x", auth=httpx.DigestAuth(user, password)
            ).status_code

        assert upload("run_records", "anyone", "folder-secret") == 200
        assert upload("run_records", "archiver", "global-secret") == 401
        assert upload("other_folder", "archiver", "global-secret") == 200
        assert upload("other_folder", "anyone", "folder-secret") == 401


def test_httpx_digest_uri_equals_the_request_target(
    ucon: RunningServer, http: httpx.Client, auth: httpx.DigestAuth
) -> None:
    http.post(DATA, params={"key": "1", "tag": "1", "full_meta": "yes"}, content=b"x", auth=auth)
    http.post(f"{DATA}/key=2", content=b"y", auth=auth)

    authenticated = [r for r in ucon.state.requests("data") if r.authenticated]
    assert len(authenticated) == 2
    assert all(r.digest_uri == r.target for r in authenticated)
