"""Listing archived runs with key lookups; keys compare as strings (spec/ucondb.md §7.5)."""

import pytest

from app.stores.ucondb import UconDBClient, UconDBError
from app.ucondb_server import Fault, RunningServer

OBJECT = ("run_records", "configuration")


def _seed(ucon: RunningServer, *keys: str | None) -> None:
    for key in keys:
        ucon.state.seed_version(*OBJECT, f"blob {key}".encode(), key=key)


def test_never_written_object_means_no_runs(ucon: RunningServer, client: UconDBClient) -> None:
    assert client.check_folder() == []
    assert client.lookup(1) is None
    assert client.lookup_runs([1, 2, 3]) == {}
    assert client.archived_runs(1, 100).runs == {}
    assert client.all_runs().runs == {}


def test_range_lookup_crosses_decimal_lengths_exactly(
    ucon: RunningServer, client: UconDBClient
) -> None:
    _seed(ucon, "9989", "9990", "9999", "10000", "10010", "10011", "999", "99900", "100000")
    _seed(ucon, "100100", "1000", "0123", "abc", None)

    listing = client.archived_runs(9990, 10010)

    assert sorted(listing.runs) == [9990, 9999, 10000, 10010]
    assert listing.runs[10010].key == "10010"
    assert len(ucon.state.requests("lookup_versions")) == 2


def test_range_including_run_zero(ucon: RunningServer, client: UconDBClient) -> None:
    _seed(ucon, "0", "7", "10", "11", "100")

    assert sorted(client.archived_runs(0, 10).runs) == [0, 7, 10]


def test_membership_is_batched_by_at_most_1000_keys(
    ucon: RunningServer, client: UconDBClient
) -> None:
    _seed(ucon, "5", "1500", "2400", "9999")

    found = client.lookup_runs(range(2500))

    assert sorted(found) == [5, 1500, 2400]
    assert len(ucon.state.requests("lookup_versions")) == 3


def test_empty_membership_query_sends_nothing(ucon: RunningServer, client: UconDBClient) -> None:
    assert client.lookup_runs([]) == {}
    assert ucon.state.requests() == []


def test_full_listing_reports_null_and_non_run_keys_as_anomalies(
    ucon: RunningServer, client: UconDBClient
) -> None:
    _seed(ucon, "12", None, "abc", "0123", "13")

    listing = client.all_runs()

    assert sorted(listing.runs) == [12, 13]
    assert sorted(listing.anomalies) == [
        "version 2 has key None",
        "version 3 has key 'abc'",
        "version 4 has key '0123'",
    ]


def test_missing_folder_is_a_configuration_error_everywhere(ucon: RunningServer) -> None:
    with UconDBClient(ucon.base_url, "no_such_folder") as client:
        for call in (
            client.check_folder,
            lambda: client.lookup_runs([1]),
            lambda: client.archived_runs(1, 2),
            client.all_runs,
        ):
            with pytest.raises(UconDBError) as error:
                call()
            assert (error.value.reason, error.value.retryable) == ("config", False)


def test_version_is_a_short_reachability_check(ucon: RunningServer, client: UconDBClient) -> None:
    assert client.version() == "3.9.7"


def test_hanging_server_fails_the_reachability_check_quickly(
    ucon: RunningServer, client: UconDBClient
) -> None:
    ucon.state.add_fault(Fault("stall", endpoint="version"))

    with pytest.raises(UconDBError) as error:
        client.version(timeout_seconds=0.2)

    assert (error.value.reason, error.value.retryable) == ("timeout", True)
