"""The repair primitives fk/fq, the legacy helpers N/Q, §7 reading, and element validity."""

import pytest

from app.runrecords.convert.notes import Notes, excerpt
from app.runrecords.convert.repair import fk, fq, legacy_numeric, legacy_quote
from app.runrecords.convert.syntax import Context, is_key, is_string, is_value
from app.runrecords.convert.text import decode


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("total_events_(approx)", "total_events__approx_"),
        ("2nd_shifter", "_2nd_shifter"),
        ("crt-east", "crt_east"),
        ("Beam.intensity", "Beam_intensity"),
        ("user's_note", "user_s_note"),
        ("", "_"),
        ("é", "_"),
    ],
)
def test_fk(key: str, expected: str) -> None:
    assert fk(key) == expected
    assert is_key(fk(key))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("\\d+", '"\\\\d+"'),
        ('"Alice" "Bob"', '"\\"Alice\\" \\"Bob\\""'),
        ("C:\\temp\\", '"C:\\\\temp."'),
        ("café", '"caf."'),
        (".", '"."'),
        ("a\tb\x1b\x7f\udcff", '"a\tb..."'),
    ],
)
def test_fq(value: str, expected: str) -> None:
    assert fq(value) == expected
    assert is_string(fq(value))


@pytest.mark.parametrize(
    ("value", "numeric"),
    [
        ("600", True),
        ("1.5", True),
        (".", True),
        ("007", True),
        ("-1", False),
        ("1e3", False),
        ("1.2.3", False),
        ("", False),
        ("٣", False),
    ],
)
def test_legacy_numeric(value: str, numeric: bool) -> None:
    assert legacy_numeric(value) is numeric


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  x  ", '"x"'),
        ('"', '"'),
        ('"a" "b"', '"a" "b"'),
        ("[x y]", "[x y]"),
        ("600", "600"),
        ('say "hi"', '"say \\"hi\\""'),
        ("", '""'),
    ],
)
def test_legacy_quote(value: str, expected: str) -> None:
    assert legacy_quote(value) == expected


@pytest.mark.parametrize(
    ("literal", "valid"),
    [
        ('"plain"', True),
        ('""', True),
        ('"tab\there"', True),
        ('"esc \\" \\\' \\\\ \\n \\t"', True),
        ('"\\d"', False),
        ('"C:\\\\"', False),
        ('"a\\\\"b"', True),
        ('"C:\\"', False),
        ('"caf\u00e9"', False),
        ('"a\x1bb"', False),
        ('"a" "b"', False),
        ('"', False),
    ],
)
def test_is_string(literal: str, valid: bool) -> None:
    assert is_string(literal) is valid


@pytest.mark.parametrize(
    "atom", ["-1", "600", "1.5", "1e3", "0x1F", "infinity", "true", "@nil", "name_1", "0_15", "1ab"]
)
def test_atoms_are_values(atom: str) -> None:
    assert is_value(atom, Context.LINE)


@pytest.mark.parametrize("text", [".", "0-15", "a/b", "a b", "${X}", "", "@local::x", "٣"])
def test_non_values(text: str) -> None:
    assert not is_value(text, Context.LINE)


def test_decode_universal_newlines_and_placeholders() -> None:
    notes = Notes("x.txt")
    assert decode(b"a\r\nb\rc\xff\n", notes) == "a\nb\nc\udcff\n"
    assert notes.warnings == [
        "x.txt: undecodable_bytes: 1 byte(s) are not valid UTF-8; "
        "each is read as one non-ASCII character"
    ]


def test_excerpt_hides_url_credentials_and_shortens() -> None:
    shown = excerpt("uri: mongodb://user:s3cret@host:27017/db " + "x" * 200)
    assert "s3cret" not in shown
    assert "mongodb://***@host" in shown
    assert len(shown) < 120
