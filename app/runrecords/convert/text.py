"""Reading converter input as the legacy tool did, without its failures (run-records.md §7)."""

import re

from app.runrecords.convert.notes import Notes

_UNDECODABLE = re.compile("[\udc80-\udcff]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def decode(data: bytes, notes: Notes) -> str:
    """UTF-8 with undecodable bytes kept as placeholders (reported), universal newlines."""
    text = data.decode("utf-8", "surrogateescape")
    undecodable = len(_UNDECODABLE.findall(text))
    if undecodable:
        notes.add(
            None,
            "undecodable_bytes",
            f"{undecodable} byte(s) are not valid UTF-8; each is read as one non-ASCII character",
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def dots(text: str) -> str:
    """The legacy non-ASCII mapping: every character at or above U+0080 becomes `.`."""
    return _NON_ASCII.sub(".", text)


def has_non_ascii(text: str) -> bool:
    """Whether `dots` would change `text`."""
    return _NON_ASCII.search(text) is not None


def without_placeholders(text: str) -> str:
    """`text` with undecodable-byte placeholders as `.`, so that it encodes as UTF-8."""
    return _UNDECODABLE.sub(".", text)


def join_lines(lines: list[str], *, final_newline: bool = True) -> bytes:
    """The legacy output convention: lines joined by LF, a final LF unless empty (§8.4)."""
    if not lines:
        return b""
    text = "\n".join(lines) + ("\n" if final_newline else "")
    return text.encode("utf-8")
