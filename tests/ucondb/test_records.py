"""Run keys as strings: canonical keys, per-length string ranges, json-seq parsing."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.stores.ucondb.records import key_ranges, parse_json_seq, parse_run_key, run_key


def test_run_keys_are_canonical_decimals() -> None:
    assert run_key(12500) == "12500"
    assert run_key(0) == "0"
    for bad in (-1, True, "1"):
        with pytest.raises(ValueError, match="run number"):
            run_key(bad)  # type: ignore[arg-type]
    assert [parse_run_key(k) for k in ("0", "17512", "0123", "+5", "1e3", "", None)] == [
        0, 17512, None, None, None, None, None,
    ]  # fmt: skip


def test_key_ranges_example_of_the_spec() -> None:
    assert [body for _, _, body in key_ranges(9990, 10010)] == [
        {"key_min": "9990", "key_max": "99990"},
        {"key_min": "10000", "key_max": "100100"},
    ]


@given(first=st.integers(0, 200_000), span=st.integers(0, 50_000), key=st.integers(0, 10**7))
def test_string_ranges_select_exactly_the_integer_range(first: int, span: int, key: int) -> None:
    last = first + span
    text = str(key)
    selected = [
        (lo, hi)
        for lo, hi, body in key_ranges(first, last)
        if body["key_min"] <= text < body["key_max"] and len(text) == len(str(lo))
    ]

    assert bool(selected) == (first <= key <= last)


def test_empty_or_negative_range_is_refused() -> None:
    with pytest.raises(ValueError):
        key_ranges(10, 9)
    with pytest.raises(ValueError):
        key_ranges(-1, 9)


def test_json_seq_is_split_on_record_separators() -> None:
    body = b'\x1e{"id": 1, "key": "5"}\n\x1e{"id": 2}\n\x1enull\n'

    assert parse_json_seq(body) == [{"id": 1, "key": "5"}, {"id": 2}]
    assert parse_json_seq(b"") == []
