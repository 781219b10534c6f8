"""The JSON dialect of the artdaq_database C++ reader (artdaqdb.md §4) and its timestamps."""

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.fhicl.pairs import Pairs
from app.stores.artdaqdb import dialect
from app.stores.artdaqdb.dialect import (
    DialectError,
    ascii_only,
    check_text,
    dumps,
    loads,
    loads_first_object,
)
from app.stores.artdaqdb.timestamps import format_timestamp, is_timestamp

ALLOWED = re.compile(r"[\t\n\r\x20-\x7e]*")


def _fixture_jsons(testdata: Path) -> list[Path]:
    files = sorted((testdata / "artdaq_database" / "test").rglob("*.json"))
    assert len(files) > 40
    return files


def test_every_fixture_json_round_trips_through_the_validator(testdata: Path) -> None:
    tolerated = 0
    for path in _fixture_jsons(testdata):
        text = path.read_text(encoding="ascii")
        try:
            parsed = loads(text)
        except DialectError as exc:
            assert "Extra data" in str(exc), f"{path}: {exc}"
            parsed, trailing = loads_first_object(text)
            assert trailing, path
            tolerated += 1
        written = dumps(parsed)
        assert ALLOWED.fullmatch(written)
        assert loads(written) == parsed, path
    assert tolerated == 10


def test_duplicate_keys_and_order_survive() -> None:
    text = '{"b":"1","a":{"x":"1","x":"2"},"b":"3"}'
    parsed = loads(text)
    assert list(parsed.keys()) == ["b", "a", "b"]
    assert parsed[1][1] == Pairs([("x", "1"), ("x", "2")])
    assert dumps(parsed) == text


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"a":null}', "null"),
        ('{"a":[1,null]}', "null"),
        ('{"a":"\\u00e9"}', "escape"),
        ('{"a":"caf\u00e9"}', "ASCII"),
        ('{"a":"a\\/b"}', "escape"),
        ('{"a":"bell\x07"}', "ASCII"),
        ('{"a":NaN}', "NaN"),
        ('{"a":Infinity}', "Infinity"),
        ('["a"]', "top level"),
        ('{"a":"1",}', "line 1"),
    ],
)
def test_off_dialect_text_is_rejected(text: str, why: str) -> None:
    with pytest.raises(DialectError, match=why):
        loads(text)


def test_an_escaped_backslash_before_u_is_not_an_escape() -> None:
    check_text('{"path":"C:\\\\user"}')
    assert loads('{"path":"C:\\\\user"}').get("path") == "C:\\user"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (Pairs([("a", None)]), "null"),
        ({"a": float("nan")}, "representation"),
        ({"a": "esc\x1b"}, "ASCII|escape"),
        ({"a": "\u00e9"}, "ASCII"),
        ({"a": b"bytes"}, "bytes"),
        ({1: "a"}, "key"),
    ],
)
def test_writer_refuses_values_the_reader_would_alter(value: object, why: str) -> None:
    with pytest.raises(DialectError, match=why):
        dumps(value)  # type: ignore[arg-type]


def test_writer_output_is_compact_and_uses_only_known_escapes() -> None:
    value = Pairs([("s", 'q"\\\t\n\r\b\f'), ("n", 3), ("t", True), ("l", [1, "x", Pairs()])])
    text = dumps(value)
    assert text == '{"s":"q\\"\\\\\\t\\n\\r\\b\\f","n":3,"t":true,"l":[1,"x",{}]}'
    assert loads(text) == value


@given(st.text())
def test_ascii_only_always_yields_writable_strings(text: str) -> None:
    cleaned, changed = ascii_only(text)
    assert len(cleaned) == len(text)
    assert changed == (cleaned != text)
    assert loads(dumps({"v": cleaned})).get("v") == cleaned


def test_ascii_only_reaches_keys_and_nested_values() -> None:
    value = Pairs([("cl\u00e9", ["\u00fc", Pairs([("k", "ok")])])])
    cleaned, changed = ascii_only(value)
    assert changed
    assert cleaned == Pairs([("cl.", [".", Pairs([("k", "ok")])])])


def test_timestamps_have_the_cxx_shape_in_local_time() -> None:
    moment = datetime(2024, 10, 1, 19, 3, 20, 117999, tzinfo=timezone(timedelta(hours=-5)))
    stamp = format_timestamp(moment)
    assert len(stamp) == 28 and is_timestamp(stamp)
    local = moment.astimezone()
    assert stamp.startswith(local.strftime("%Y-%m-%dT%H:%M:%S.117"))
    assert is_timestamp(format_timestamp())
    assert not is_timestamp("Fri Jan 13 18:28:16 2017")
    assert not is_timestamp("2024-10-01T14:03:20.117Z")


def test_first_object_reader_reports_trailing_text() -> None:
    record, trailing = loads_first_object('{"a":"1"}\nexpected:\n{"b":"2"}\n')
    assert record == Pairs([("a", "1")]) and trailing.startswith("expected:")
    with pytest.raises(DialectError):
        loads_first_object("not json")
    assert json.loads(dumps(record)) == {"a": "1"}


@given(st.text(alphabet=st.characters(max_codepoint=0x1FF)))
def test_the_fast_byte_check_agrees_with_the_character_class(text: str) -> None:
    assert dialect._only_allowed_bytes(text) == (dialect._DISALLOWED_BYTE.search(text) is None)


def test_delete_and_carriage_returns_are_judged_like_the_cxx_reader() -> None:
    check_text('{"a":"tab\\there"}\r\n\t')
    with pytest.raises(DialectError, match="line 2: character '\\\\x7f'"):
        check_text('{"a":\n"del\x7f"}')
