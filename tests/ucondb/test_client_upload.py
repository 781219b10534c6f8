"""Idempotent uploads against the stand-in, with every fault mode (spec/ucondb.md §7.4 A-B)."""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from app.stores.ucondb import ConflictError, UconDBClient, UconDBError, checksums_of
from app.ucondb_server import Fault, RunningServer

BLOB = b"Start of Record\nRun Number: 12500\n\xff\x00 not text \r\n"
OBJECT = ("run_records", "configuration")


def _versions(ucon: RunningServer) -> list[dict]:
    with httpx.Client(base_url=ucon.base_url) as http:
        response = http.get(
            "/versions", params={"folder": "run_records", "object": "configuration"}
        )
    return response.json() if response.status_code == 200 else []


def _body_posts(ucon: RunningServer) -> list[int | None]:
    """Statuses of every upload request that carried a body, in order."""
    return [r.status for r in ucon.state.requests("data") if r.method == "POST" and r.body_received]


def _client(ucon: RunningServer, **overrides: object) -> UconDBClient:
    options: dict = {
        "user": "archiver",
        "password": "pw-Zq9-never-shown",
        "timeout_seconds": 0.5,
        "attempts": 3,
        "backoff_seconds": 0.01,
    }
    return UconDBClient(ucon.base_url, "run_records", **(options | overrides))


def test_upload_stores_once_with_key_and_tag(ucon: RunningServer, client: UconDBClient) -> None:
    result = client.upload(12500, BLOB)

    ours = checksums_of(BLOB)
    assert (result.size, result.adler32, result.md5) == (ours.size, ours.adler32, ours.md5)
    assert not result.already_present
    [version] = _versions(ucon)
    assert (version["id"], version["key"], version["tags"]) == (
        result.version_id,
        "12500",
        ["12500"],
    )
    assert version["data_key"] == result.data_key


def test_second_upload_of_identical_bytes_sends_no_body(
    ucon: RunningServer, client: UconDBClient
) -> None:
    client.upload(12500, BLOB)
    posts_before = len(_body_posts(ucon))

    again = client.upload(12500, BLOB)

    assert again.already_present
    assert len(_body_posts(ucon)) == posts_before
    assert len(_versions(ucon)) == 1


def test_only_the_first_upload_pays_the_digest_round_trip(
    ucon: RunningServer, client: UconDBClient
) -> None:
    client.upload(1, b"first")
    client.upload(2, b"second")
    client.upload(3, b"third")

    assert _body_posts(ucon) == [401, 200, 200, 200]
    authenticated = [r for r in ucon.state.requests("data") if r.authenticated]
    assert len(authenticated) == 3
    assert all(r.digest_uri == r.target for r in authenticated)


def test_stored_but_answer_lost_counts_as_archived_without_a_second_body(
    ucon: RunningServer, client: UconDBClient
) -> None:
    client.upload(1, b"warm up the digest state")
    ucon.state.add_fault(Fault("drop_after_store", endpoint="data", method="POST", times=1))

    result = client.upload(12500, BLOB)

    assert result.already_present
    dropped, lookup = ucon.state.requests()[-2:]
    assert (dropped.endpoint, dropped.authenticated, dropped.status) == ("data", True, None)
    assert (lookup.endpoint, lookup.status) == ("lookup_versions", 200)
    assert [v["key"] for v in _versions(ucon)].count("12500") == 1
    client.verify(12500, checksums_of(BLOB))


def test_server_error_before_store_is_looked_up_then_retried(
    ucon: RunningServer, client: UconDBClient
) -> None:
    ucon.state.add_fault(Fault("error", endpoint="data", method="POST", status=503, times=1))

    result = client.upload(12500, BLOB)

    assert not result.already_present
    assert _body_posts(ucon) == [401, 503, 200]
    endpoints = [r.endpoint for r in ucon.state.requests()]
    assert endpoints == ["lookup_versions", "data", "data", "lookup_versions", "data"]
    assert len(_versions(ucon)) == 1


def test_slow_server_beyond_the_read_timeout_is_looked_up_then_retried(
    ucon: RunningServer, client: UconDBClient
) -> None:
    ucon.state.add_fault(Fault("delay", endpoint="data", method="POST", seconds=1.5, times=1))

    result = client.upload(12500, BLOB)

    requests = ucon.state.requests()
    assert [r.endpoint for r in requests] == [
        "lookup_versions", "data", "data", "lookup_versions", "data",
    ]  # fmt: skip
    assert (requests[2].status, requests[4].status) == (None, 200)
    assert result.version_id == 1
    assert [v["key"] for v in _versions(ucon)] == ["12500"]


def test_stored_then_slow_answer_is_found_by_the_lookup(
    ucon: RunningServer, client: UconDBClient
) -> None:
    ucon.state.add_fault(Fault("delay_after_store", endpoint="data", seconds=1.5, times=1))

    result = client.upload(12500, BLOB)

    assert result.already_present
    assert _body_posts(ucon) == [401, None]
    assert ucon.state.requests()[-1].endpoint == "lookup_versions"
    assert len(_versions(ucon)) == 1


def test_wrong_password_is_a_clear_error_without_the_password(
    ucon: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "Wr0ng-S3cret-Value"
    with _client(ucon, password=secret) as client, pytest.raises(UconDBError) as error:
        client.upload(12500, BLOB)

    exc = error.value
    assert (exc.kind, exc.reason, exc.status, exc.retryable) == ("ucondb", "auth", 401, False)
    assert "rejected the credentials of user 'archiver'" in str(exc)
    assert "Authorization required" in str(exc)
    for text in (str(exc), repr(exc), repr(exc.args), caplog.text):
        assert secret not in text
        assert "response=" not in text
        assert "cnonce" not in text
    assert _versions(ucon) == []


def test_upload_without_credentials_is_a_configuration_error(ucon: RunningServer) -> None:
    with _client(ucon, user=None, password=None) as client, pytest.raises(UconDBError) as error:
        client.upload(1, b"x")

    assert error.value.reason == "config"
    assert ucon.state.requests() == []


def test_challenge_less_401_is_retried_once_with_a_fresh_digest_state(
    ucon: RunningServer, client: UconDBClient
) -> None:
    client.upload(1, b"first")
    ucon.state.add_fault(Fault("reject_auth", endpoint="data", times=1))

    assert not client.upload(2, b"second").already_present
    assert _body_posts(ucon)[-3:] == [401, 401, 200]


def test_credentials_rejected_every_time_is_an_auth_failure(
    ucon: RunningServer, client: UconDBClient
) -> None:
    ucon.state.add_fault(Fault("reject_auth", endpoint="data"))

    with pytest.raises(UconDBError) as error:
        client.upload(1, b"x")

    assert error.value.reason == "auth"
    assert len(_body_posts(ucon)) == 2


def test_missing_folder_is_a_configuration_error(ucon: RunningServer) -> None:
    with (
        UconDBClient(ucon.base_url, "no_such_folder", user="archiver", password="x") as client,
        pytest.raises(UconDBError) as error,
    ):
        client.upload(1, b"x")

    assert (error.value.reason, error.value.status, error.value.retryable) == ("config", 404, False)
    assert "no_such_folder" in str(error.value)
    assert _body_posts(ucon) == []


def test_existing_key_with_different_bytes_is_a_conflict_and_nothing_is_sent(
    ucon: RunningServer, client: UconDBClient
) -> None:
    ucon.state.seed_version(*OBJECT, b"legacy blob with another stamp", key="12500")

    with pytest.raises(ConflictError) as error:
        client.upload(12500, BLOB)

    exc = error.value
    assert (exc.kind, exc.retryable, exc.run) == ("conflict", False, 12500)
    assert exc.stored is not None and exc.stored.size == len(b"legacy blob with another stamp")
    assert exc.ours == checksums_of(BLOB)
    assert _body_posts(ucon) == []
    assert len(_versions(ucon)) == 1


def test_existing_key_with_identical_bytes_is_already_archived(
    ucon: RunningServer, client: UconDBClient
) -> None:
    ucon.state.seed_version(*OBJECT, BLOB, key="12500")

    assert client.upload(12500, BLOB).already_present
    assert _body_posts(ucon) == []


def test_operator_override_moves_the_key_to_our_bytes(
    ucon: RunningServer, client: UconDBClient
) -> None:
    ucon.state.seed_version(*OBJECT, b"old", key="12500")

    result = client.upload(12500, BLOB, operator_override=True)

    assert not result.already_present
    assert [(v["key"], v["data_size"]) for v in _versions(ucon)] == [
        ("12500", len(BLOB)),
        (None, 3),
    ]
    assert "override=yes" in ucon.state.requests("data")[-1].query


def test_read_only_server_is_a_retryable_deferral(
    ucon: RunningServer, client: UconDBClient
) -> None:
    ucon.state.read_only = True

    with pytest.raises(UconDBError) as error:
        client.upload(1, b"x")

    assert (error.value.reason, error.value.status, error.value.retryable) == (
        "read_only",
        405,
        True,
    )


def test_persistent_5xx_gives_up_after_the_attempt_budget(
    ucon: RunningServer, client: UconDBClient
) -> None:
    ucon.state.add_fault(Fault("error", endpoint="data", method="POST"))

    with pytest.raises(UconDBError) as error:
        client.upload(1, b"x")

    assert (error.value.reason, error.value.retryable) == ("outcome_unknown", True)
    assert "3 attempts" in str(error.value)
    lookups = ucon.state.requests("lookup_versions")
    assert len(lookups) == 3
    assert _body_posts(ucon) == [401, 500, 500, 500]


def test_stop_event_ends_the_backoff_early(ucon: RunningServer) -> None:
    stop = threading.Event()
    stop.set()
    ucon.state.add_fault(Fault("error", endpoint="data", method="POST"))

    with (
        _client(ucon, backoff_seconds=600, stop=stop) as client,
        pytest.raises(UconDBError) as error,
    ):
        client.upload(1, b"x")

    assert error.value.reason == "shutdown"


def test_blob_over_the_limit_is_refused_before_sending(ucon: RunningServer) -> None:
    with _client(ucon, max_blob_bytes=10) as client, pytest.raises(UconDBError) as error:
        client.upload(1, b"x" * 11)

    assert (error.value.reason, error.value.retryable) == ("too_large", False)
    assert ucon.state.requests() == []


def test_parallel_clients_racing_for_one_key_all_succeed_with_one_version(
    ucon: RunningServer,
) -> None:
    def race(_: int) -> bool:
        with _client(ucon, timeout_seconds=5) as client:
            return client.upload(777, BLOB).already_present

    with ThreadPoolExecutor(4) as pool:
        present = list(pool.map(race, range(4)))

    assert present.count(False) == 1
    assert len(_versions(ucon)) == 1


def test_checksums_recorded_at_packing_are_reused_and_checked(
    ucon: RunningServer, client: UconDBClient
) -> None:
    packed = checksums_of(BLOB)

    assert client.upload(5, BLOB, checksums=packed).md5 == packed.md5
    with pytest.raises(ValueError, match="do not describe these bytes"):
        client.upload(6, BLOB + b"!", checksums=packed)
    assert [v["key"] for v in _versions(ucon)] == ["5"]


def test_a_large_blob_is_sent_whole_after_the_digest_challenge_with_its_length(
    ucon: RunningServer, client: UconDBClient
) -> None:
    """The body goes out in slices (no whole copy in the HTTP layer), yet with a Content-Length
    and again in full when the first, unauthenticated attempt is challenged."""
    blob = bytes(range(256)) * (10 * 1024 + 7)  # 2.5 MiB and a bit: three slices
    sent: list[httpx.Request] = []
    client._http.event_hooks["request"].append(sent.append)
    client.upload(12501, blob)
    posts = [r for r in ucon.state.requests("data") if r.method == "POST"]
    assert [(r.status, r.body_size) for r in posts] == [(401, len(blob)), (200, len(blob))]
    assert client.download(12501) == blob
    framing = {(r.headers.get("content-length"), r.headers.get("transfer-encoding")) for r in sent}
    assert framing >= {(str(len(blob)), None)}
    uploads = [r for r in sent if r.method == "POST"]
    assert all(r.headers.get("transfer-encoding") is None for r in uploads)
    mib = 1024 * 1024
    assert [len(chunk) for chunk in uploads[-1].stream] == [mib, mib, len(blob) - 2 * mib]
