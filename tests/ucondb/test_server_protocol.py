"""The UconDB stand-in reproduces the real server's observable behaviour (ucondb.md §8.1-8.5)."""

import json
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from app.ucondb_server import RunningServer, make_state, serve_in_background

DATA = "/data/run_records/configuration"
META_KEYS = [
    "object", "folder", "tv", "tr", "tags", "adler32", "uadler32",
    "data_size", "data_key", "id", "key",
]  # fmt: skip


def _upload(
    http: httpx.Client, auth: httpx.DigestAuth, body: bytes, path: str = DATA, **params: object
) -> httpx.Response:
    return http.post(path, params={"full_meta": "yes", **params}, content=body, auth=auth)


def _json_seq(response: httpx.Response) -> list[dict]:
    assert response.content.startswith(b"\x1e") or response.content == b""
    return [json.loads(p) for p in response.content.split(b"\x1e") if p.strip()]


def _h3(response: httpx.Response) -> str:
    text = response.text
    return text[text.index("<h3>") + 4 : text.index("</h3>")]


# ------------------------------------------------------------------------ routing and encoding


def test_version_and_probe(http: httpx.Client) -> None:
    version = http.get("/version")
    assert (version.status_code, version.text, version.headers["content-type"]) == (
        200, "3.9.7", "text/html",
    )  # fmt: skip
    assert http.get("/probe").text == "OK"


def test_served_under_the_prefix_only(ucon: RunningServer) -> None:
    root = ucon.base_url.rsplit("/run_archive/app", 1)[0]
    assert httpx.get(f"{root}/version").status_code == 404
    assert httpx.get(f"{ucon.base_url}/nonsense").status_code == 404
    assert httpx.post(f"{ucon.base_url}/data_for_versions").status_code == 404


def test_parameters_as_path_segments_or_query(http: httpx.Client, auth: httpx.DigestAuth) -> None:
    assert _upload(http, auth, b"one", f"{DATA}/key=1/tag=t").status_code == 200

    for url, params in [
        (f"{DATA}/key=1", {}),
        (DATA, {"key": "1"}),
        ("/data", {"folder": "run_records", "object": "configuration", "key": "1"}),
        ("/get", {"folder": "run_records", "object": "configuration", "tag": "t"}),
        ("/data/run_records", {"object": "configuration", "key": "1"}),
    ]:
        response = http.get(url, params=params)
        assert (response.status_code, response.content) == (200, b"one"), url


def test_same_parameter_twice_is_500_and_bad_characters_are_rejected(http: httpx.Client) -> None:
    twice = http.get(f"{DATA}/key=1", params={"key": "1"})
    assert twice.status_code == 500
    assert _h3(twice) == "Value for key specified twice in the URL"

    for bad in "<'>\\|":
        assert http.get(DATA, params={"key": f"a{bad}b"}).status_code == 400, bad
    semicolon = http.get(DATA, params={"key": "a;b"})
    assert (semicolon.status_code, _h3(semicolon)) == (500, "Invalid argument value")


def test_500_is_an_html_page_with_h3_message_and_traceback(http: httpx.Client) -> None:
    response = http.get("/data/missing_folder/configuration/key=1")

    assert response.status_code == 500
    assert response.headers["content-type"] == "text/html"
    assert "<h3>" in response.text
    assert "Traceback (most recent call last)" in response.text


def test_blob_download_is_streamed_without_content_length(
    http: httpx.Client, auth: httpx.DigestAuth
) -> None:
    body = bytes(range(256)) * 9000
    assert _upload(http, auth, body, key="5").status_code == 200

    with http.stream("GET", f"{DATA}/key=5") as response:
        assert "content-length" not in response.headers
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.read() == body


# --------------------------------------------------------------------------------- data model


def test_metadata_fields_ids_and_blob_deduplication(
    http: httpx.Client, auth: httpx.DigestAuth, credentials: tuple[str, str]
) -> None:
    first = _upload(http, auth, b"same", key="1", tag=["a", "b"])
    other_auth = httpx.DigestAuth(*credentials)
    other = _upload(http, other_auth, b"same", "/data/other_folder/configuration", key="1")
    second = _upload(http, auth, b"same", key="2")
    third = _upload(http, auth, b"different", key="3")

    assert first.headers["content-type"] == "text/json"
    meta = first.json()
    assert list(meta) == META_KEYS
    assert meta["folder"] == "ucon_test.run_records"
    assert (meta["tv"], meta["tags"], meta["key"]) == (0.0, ["a", "b"], "1")
    assert isinstance(meta["tr"], float) and abs(meta["tr"] - time.time()) < 60
    assert meta["adler32"] == meta["uadler32"] == zlib.adler32(b"same")
    assert meta["data_size"] == 4
    assert [first.json()["id"], second.json()["id"], third.json()["id"]] == [1, 2, 3]
    assert other.json()["id"] == 1
    assert second.json()["data_key"] == meta["data_key"] == "1"
    assert third.json()["data_key"] == "2"


def test_empty_body_has_size_0_and_adler32_1(http: httpx.Client, auth: httpx.DigestAuth) -> None:
    meta = _upload(http, auth, b"", key="e").json()

    assert (meta["data_size"], meta["adler32"]) == (0, 1)
    assert http.get(f"{DATA}/key=e").content == b""


def test_upload_without_full_meta_answers_the_id_as_text(
    http: httpx.Client, auth: httpx.DigestAuth
) -> None:
    response = http.put(DATA, params={"key": "9"}, content=b"x", auth=auth)

    assert (response.status_code, response.text) == (200, "1")
    assert response.headers["content-type"] == "text/html"


def test_override_moves_the_key_and_leaves_null(http: httpx.Client, auth: httpx.DigestAuth) -> None:
    _upload(http, auth, b"old", key="7")
    _upload(http, auth, b"new", key="7", override="yes")

    versions = http.get("/versions", params={"folder": "run_records", "object": "configuration"})
    assert [(v["id"], v["key"]) for v in versions.json()] == [(2, "7"), (1, None)]
    assert http.get(f"{DATA}/key=7").content == b"new"


# ------------------------------------------------------------------------------------ uploads


def test_upload_checks_in_the_real_order(ucon: RunningServer, http: httpx.Client) -> None:
    no_folder = http.post("/data/nope/configuration", content=b"x")
    assert (no_folder.status_code, no_folder.text) == (404, "Folder not found")
    assert "www-authenticate" not in no_folder.headers

    no_object = http.post("/data/run_records", content=b"x")
    assert (no_object.status_code, no_object.text) == (400, "")

    challenge = http.post(DATA, content=b"x")
    assert challenge.status_code == 401

    ucon.state.read_only = True
    read_only = http.post("/data/nope/configuration", content=b"x")
    assert (read_only.status_code, read_only.text) == (405, "Read-only instance")


def test_non_numeric_tv_is_500_after_authentication(
    ucon: RunningServer, http: httpx.Client, auth: httpx.DigestAuth
) -> None:
    assert _upload(http, auth, b"x", key="1", tv="soon").status_code == 500
    assert ucon.state.requests("data")[-1].authenticated


def test_duplicate_key_is_500_already_exists_and_writes_nothing(
    http: httpx.Client, auth: httpx.DigestAuth
) -> None:
    _upload(http, auth, b"first", key="12500")

    again = _upload(http, auth, b"second", key="12500")

    assert again.status_code == 500
    assert _h3(again) == "Version of object configuration with key 12500 already exists"
    versions = http.get("/versions", params={"folder": "run_records", "object": "configuration"})
    assert len(versions.json()) == 1


def test_concurrent_uploads_of_one_key_one_wins(
    ucon: RunningServer, credentials: tuple[str, str]
) -> None:
    def attempt(i: int) -> int:
        with httpx.Client(base_url=ucon.base_url, timeout=10) as c:
            auth = httpx.DigestAuth(*credentials)
            return c.post(
                DATA, params={"key": "42"}, content=f"v{i}".encode(), auth=auth
            ).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(attempt, range(8)))

    assert statuses == [200] + [500] * 7


def test_body_over_the_limit_is_500_and_writes_nothing(
    ucon: RunningServer, http: httpx.Client, auth: httpx.DigestAuth
) -> None:
    ucon.state.max_body_bytes = 1000

    response = _upload(http, auth, b"x" * 1001, key="big")

    assert response.status_code == 500
    assert _h3(response).startswith("invalid memory alloc request size ")
    assert http.get(f"{DATA}/key=big").status_code == 500


# ---------------------------------------------------------------------------------- downloads


def test_download_selection_headers_and_meta_only(
    http: httpx.Client, auth: httpx.DigestAuth
) -> None:
    _upload(http, auth, b"v1", key="1", tag="t")
    _upload(http, auth, b"v2", key="2", tag="t")
    _upload(http, auth, b"future", key="3", tv=str(time.time() + 3600))

    by_tag = http.get(DATA, params={"tag": "t"})
    latest = http.get(DATA)
    by_key = http.get(f"{DATA}/key=1")
    meta = http.get(f"{DATA}/key=1", params={"meta_only": "yes"})

    assert by_tag.content == b"v2"
    assert latest.content == b"v2"
    assert by_key.content == b"v1"
    headers = by_key.headers
    assert headers["X-UConDB-version-key"] == "1"
    assert headers["X-UConDB-version-id"] == "1"
    assert headers["X-UConDB-data-key"] == "1"
    assert headers["X-UConDB-data-size"] == "2"
    assert headers["X-UConDB-adler32"] == str(zlib.adler32(b"v1"))
    assert headers["X-UConDB-product-version"] == "3.9.7"
    assert headers["X-UConDB-metadata-format"] == "text/json"
    assert json.loads(headers["X-UConDB-metadata"]) == meta.json()
    assert float(headers["X-UConDB-tv"]) == 0.0
    assert meta.headers["content-type"] == "text/json"
    assert http.get(f"{DATA}/key=3").content == b"future"


def test_download_by_version_id_has_no_ucondb_headers(
    http: httpx.Client, auth: httpx.DigestAuth
) -> None:
    _upload(http, auth, b"abc", key="1")

    response = http.get(DATA, params={"id": "1"})

    assert (response.content, response.headers["content-type"]) == (b"abc", "text/html")
    assert not [h for h in response.headers if h.lower().startswith("x-ucondb")]
    assert http.get(DATA, params={"id": "99"}).status_code == 500


def test_download_null_key_header(ucon: RunningServer, http: httpx.Client) -> None:
    ucon.state.seed_version("run_records", "configuration", b"anon", key=None)

    assert http.get(DATA).headers["X-UConDB-version-key"] == "null"


def test_download_failure_statuses(http: httpx.Client, auth: httpx.DigestAuth) -> None:
    assert http.get(f"{DATA}/key=1").status_code == 500
    _upload(http, auth, b"x", key="1")
    missing = http.get(f"{DATA}/key=2")
    assert (missing.status_code, missing.text) == (404, "Version not found")
    assert http.get(DATA, params={"tag": "nope"}).status_code == 404
    assert http.get("/data/nope/configuration/key=1").status_code == 500
    assert http.get("/data/bad-name/configuration/key=1").status_code == 500


def test_get_blob_addresses_blob_rows_not_run_keys(ucon: RunningServer, http: httpx.Client) -> None:
    seed = ucon.state.seed_version
    seed("run_records", "configuration", b"run 5 blob", key="5")
    seed("run_records", "configuration", b"run 6 blob", key="6")

    wrong = http.get("/get_blob", params={"folder": "run_records", "data_key": "1"})
    by_version = http.get("/get_blob", params={"folder": "run_records", "version_id": "2"})

    assert wrong.content == b"run 5 blob"
    assert by_version.content == b"run 6 blob"
    statuses = {
        "neither": http.get("/get_blob", params={"folder": "run_records"}),
        "both": http.get(
            "/get_blob", params={"folder": "run_records", "data_key": "1", "version_id": "1"}
        ),
        "folder": http.get("/get_blob", params={"folder": "nope", "data_key": "1"}),
        "data": http.get("/get_blob", params={"folder": "run_records", "data_key": "5"}),
        "version": http.get("/get_blob", params={"folder": "run_records", "version_id": "9"}),
        "integer": http.get("/get_blob", params={"folder": "run_records", "data_key": "x"}),
    }
    assert {k: r.status_code for k, r in statuses.items()} == {
        "neither": 400, "both": 400, "folder": 404, "data": 404, "version": 404, "integer": 500,
    }  # fmt: skip
    assert statuses["data"].text == "Data not found"
    assert statuses["version"].text == "Version not found"


# ------------------------------------------------------------------------- listings and lookups


def test_versions_listing(ucon: RunningServer, http: httpx.Client) -> None:
    params = {"folder": "run_records", "object": "configuration"}
    never = http.get("/versions", params=params)
    assert (never.status_code, never.text) == (404, "Object configuration not found")
    folder = http.get("/versions", params={**params, "folder": "nope"})
    assert (folder.status_code, folder.text) == (404, "Folder nope not found")

    ucon.state.seed_version("run_records", "configuration", b"1", key="1")
    ucon.state.seed_version("run_records", "configuration", b"2", key=None)

    listing = http.get("/versions", params=params)
    assert listing.headers["content-type"] == "text/json"
    assert [v["key"] for v in listing.json()] == [None, "1"]


def test_objects_and_tags(ucon: RunningServer, http: httpx.Client) -> None:
    ucon.state.seed_version("run_records", "configuration", b"1", key="1", tags=["x", "y"])

    assert http.get("/objects", params={"folder": "run_records"}).json() == ["configuration"]
    assert http.get("/objects", params={"folder": "other_folder"}).json() == []
    assert http.get("/tags", params={"folder": "run_records"}).json() == ["x", "y"]
    assert http.get("/objects", params={"folder": "nope"}).status_code == 500
    assert http.get("/tags", params={"folder": "nope"}).status_code == 500
    assert http.get("/folders").json() == ["other_folder", "run_records"]


@pytest.fixture
def keyed(ucon: RunningServer) -> RunningServer:
    for key in ["2", "1000", "10000", "1999", "999", "abc"]:
        ucon.state.seed_version("run_records", "configuration", key.encode(), key=key)
    ucon.state.seed_version("run_records", "configuration", b"null", key=None)
    return ucon


def _lookup(http: httpx.Client, body: object, **params: str) -> httpx.Response:
    query = {"folder": "run_records", "object": "configuration", **params}
    return http.post("/lookup_versions", params=query, json=body)


def test_lookup_by_keys_skips_missing_keys(keyed: RunningServer, http: httpx.Client) -> None:
    response = _lookup(http, {"keys": ["2", "3", "abc"]})

    assert response.headers["content-type"] == "text/json-seq"
    assert sorted(r["key"] for r in _json_seq(response)) == ["2", "abc"]


def test_lookup_key_range_compares_strings(keyed: RunningServer, http: httpx.Client) -> None:
    response = _lookup(http, {"key_min": "1000", "key_max": "1999"})
    open_ended = _lookup(http, {"key_min": "999"})

    assert sorted(r["key"] for r in _json_seq(response)) == ["1000", "10000"]
    assert sorted(r["key"] for r in _json_seq(open_ended)) == ["999", "abc"]


def test_lookup_by_ids_and_path_form(keyed: RunningServer, http: httpx.Client) -> None:
    response = http.post("/lookup_versions/run_records/configuration", json={"ids": [1, 7, 99]})

    assert sorted(r["id"] for r in _json_seq(response)) == [1, 7]


def test_lookup_order_is_shuffled(ucon: RunningServer, http: httpx.Client) -> None:
    keys = [str(k) for k in range(100, 130)]
    for key in keys:
        ucon.state.seed_version("run_records", "configuration", key.encode(), key=key)

    orders = {tuple(r["key"] for r in _json_seq(_lookup(http, {"keys": keys}))) for _ in range(3)}

    assert tuple(keys) not in orders
    assert all(sorted(order) == keys for order in orders)


def test_lookup_failures(keyed: RunningServer, http: httpx.Client) -> None:
    cases = {
        "get": http.get("/lookup_versions", params={"folder": "run_records"}),
        "no object": http.post(
            "/lookup_versions", params={"folder": "run_records"}, json={"keys": ["1"]}
        ),
        "empty keys": _lookup(http, {"keys": []}),
        "nothing": _lookup(http, {}),
        "folder": _lookup(http, {"keys": ["1"]}, folder="nope"),
        "object": _lookup(http, {"keys": ["1"]}, object="never"),
    }

    assert {k: r.status_code for k, r in cases.items()} == {
        "get": 500, "no object": 500, "empty keys": 500, "nothing": 500, "folder": 404,
        "object": 404,
    }  # fmt: skip
    assert cases["folder"].text == "Folder nope not found"
    assert cases["object"].text == "Object never not found"


def test_control_endpoints_script_faults_and_expose_the_log() -> None:
    with serve_in_background(make_state(), control=True) as server:
        root = server.base_url.rsplit("/run_archive/app", 1)[0]
        added = httpx.post(f"{root}/_control/faults", json={"action": "error", "status": 503})
        assert added.status_code == 200
        assert httpx.get(f"{server.base_url}/version").status_code == 503
        assert httpx.post(f"{root}/_control/faults", json={"action": "explode"}).status_code == 400
        httpx.delete(f"{root}/_control/faults")
        assert httpx.get(f"{server.base_url}/version").status_code == 200
        log = httpx.get(f"{root}/_control/requests").json()
        assert [(r["endpoint"], r["status"]) for r in log] == [("version", 503), ("version", 200)]
        assert httpx.put(f"{root}/_control/read_only", content=b"yes").json() == {"read_only": True}
        assert server.state.read_only


def test_control_endpoints_are_off_by_default(ucon: RunningServer) -> None:
    root = ucon.base_url.rsplit("/run_archive/app", 1)[0]
    assert httpx.get(f"{root}/_control/requests").status_code == 404


def test_sqlite_file_keeps_versions_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "ucondb.sqlite"
    first = make_state(data_path=path)
    first.seed_version("run_records", "configuration", b"kept", key="1")
    first.store.close()

    with serve_in_background(make_state(data_path=path)) as server:
        response = httpx.get(f"{server.base_url}{DATA}/key=1")

    assert response.content == b"kept"
