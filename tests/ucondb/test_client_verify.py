"""Byte-exact verification of what the stand-in stores (spec/ucondb.md §7.4 C, blob.md §7.5)."""

import os

import pytest

from app.stores.ucondb import (
    ConflictError,
    UconDBClient,
    UconDBError,
    VerifyError,
    checksums_of,
)
from app.ucondb_server import Fault, RunningServer

OBJECT = ("run_records", "configuration")


def _downloads(ucon: RunningServer) -> list[int | None]:
    return [r.status for r in ucon.state.requests("data") if r.method == "GET"]


def test_binary_blob_of_several_chunks_verifies(ucon: RunningServer, client: UconDBClient) -> None:
    data = os.urandom(2 * 1024 * 1024 + 17) + "é\r\n".encode("latin-1")
    client.upload(17512, data)

    verified = client.verify(17512, checksums_of(data))

    assert (verified.size, verified.md5) == (len(data), checksums_of(data).md5)
    assert verified.version_id == 1
    assert verified.data_key == "1"
    assert _downloads(ucon) == [200]


def test_truncated_download_fails_verification_after_bounded_retries(
    ucon: RunningServer, client: UconDBClient
) -> None:
    data = b"x" * 5000
    client.upload(1, data)
    ucon.state.add_fault(Fault("truncate", endpoint="data", method="GET"))

    with pytest.raises(VerifyError) as error:
        client.verify(1, checksums_of(data))

    exc = error.value
    assert (exc.kind, exc.reason, exc.retryable) == ("verify", "transfer", True)
    assert "downloaded 2500 bytes" in str(exc)
    assert _downloads(ucon) == [200, 200, 200]


def test_one_truncated_download_is_retried_and_verifies(
    ucon: RunningServer, client: UconDBClient
) -> None:
    data = b"y" * 5000
    client.upload(1, data)
    ucon.state.add_fault(Fault("truncate", endpoint="data", method="GET", times=1))

    assert client.verify(1, checksums_of(data)).size == 5000
    assert _downloads(ucon) == [200, 200]


def test_corrupted_stored_blob_fails_verification(
    ucon: RunningServer, client: UconDBClient
) -> None:
    data = b"good bytes"
    client.upload(3, data)
    ucon.state.corrupt(*OBJECT, "3", b"bad! bytes")

    with pytest.raises(VerifyError, match="damaged"):
        client.verify(3, checksums_of(data))


def test_headers_describing_other_content_are_a_conflict(
    ucon: RunningServer, client: UconDBClient
) -> None:
    ucon.state.seed_version(*OBJECT, b"someone else's blob", key="4")

    with pytest.raises(ConflictError) as error:
        client.verify(4, checksums_of(b"our blob"))

    assert error.value.stored is not None
    assert error.value.stored.size == len(b"someone else's blob")
    assert _downloads(ucon) == [200]


def test_absent_key_is_a_verify_error_after_retries(
    ucon: RunningServer, client: UconDBClient
) -> None:
    ucon.state.seed_version(*OBJECT, b"other run", key="1")

    with pytest.raises(VerifyError) as error:
        client.verify(2, checksums_of(b"x"))

    assert (error.value.reason, error.value.status) == ("absent", 404)
    assert _downloads(ucon) == [404, 404, 404]


def test_slow_download_times_out_as_a_retryable_store_error(
    ucon: RunningServer, client: UconDBClient
) -> None:
    client.upload(1, b"z")
    ucon.state.add_fault(Fault("delay", endpoint="data", method="GET", seconds=1.0))

    with pytest.raises(UconDBError) as error:
        client.verify(1, checksums_of(b"z"))

    assert (error.value.kind, error.value.reason, error.value.retryable) == (
        "ucondb",
        "timeout",
        True,
    )


def test_download_before_the_first_upload_is_none(
    ucon: RunningServer, client: UconDBClient
) -> None:
    assert client.download(8) is None
    assert _downloads(ucon) == [500]


def test_a_server_error_on_download_is_not_absence(
    ucon: RunningServer, client: UconDBClient
) -> None:
    client.upload(8, b"stored")
    ucon.state.add_fault(Fault("error", endpoint="data", method="GET", times=1))

    with pytest.raises(UconDBError) as error:
        client.download(8)

    assert (error.value.reason, error.value.retryable) == ("server", True)
    assert client.download(8) == b"stored"


def test_download_returns_exact_bytes_or_none(ucon: RunningServer, client: UconDBClient) -> None:
    data = bytes(range(256)) * 3
    ucon.state.seed_version(*OBJECT, data, key="8")

    assert client.download(8) == data
    assert client.download(9) is None
