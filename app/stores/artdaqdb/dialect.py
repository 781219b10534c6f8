"""The JSON dialect the artdaq_database C++ reader accepts (artdaqdb.md §4).

The C++ reader is a Boost.Spirit grammar, not a general JSON parser: no `null`, no NaN, only
the escapes `\\ \" \b \f \n \r \t`, ASCII only. Everything the project writes into a database
goes through `dumps`, and `loads` rejects what the C++ tools could not read back unchanged.
"""

import json
import math
import re
from collections.abc import Callable, Iterator
from json.encoder import encode_basestring
from typing import Any

from app.fhicl.pairs import Pairs

_DISALLOWED_BYTE = re.compile(r"[^\t\n\r\x20-\x7e]")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_KNOWN_ESCAPES = frozenset('\\"bfnrt')
_OFF_DIALECT = re.compile(r"[^\t\n\r\x08\x0c\x20-\x7e]")


class DialectError(ValueError):
    """Text or a value that the artdaq_database C++ reader would reject or silently alter."""


_ALLOWED_BYTES = b"\t\n\r" + bytes(range(0x20, 0x7F))


def _only_allowed_bytes(text: str) -> bool:
    """The common case in C loops (bytes.translate deletes the allowed bytes) several times
    faster than the regex, which then only locates a character already known to be there."""
    return text.isascii() and not text.encode("ascii").translate(None, _ALLOWED_BYTES)


def check_text(text: str) -> None:
    """Raise DialectError unless `text` uses only the bytes and escapes of §4.

    Backslashes occur only inside strings in valid JSON, so scanning escape pairs from the left
    finds exactly the escapes the C++ reader would see.
    """
    bad = None if _only_allowed_bytes(text) else _DISALLOWED_BYTE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        raise DialectError(
            f"line {line}: character {bad.group()!r} is outside the ASCII set the C++ reader"
            " accepts"
        )
    for match in _ESCAPE.finditer(text):
        if match.group(1) not in _KNOWN_ESCAPES:
            line = text.count("\n", 0, match.start()) + 1
            raise DialectError(
                f"line {line}: escape {match.group()!r} is not decoded by the C++ reader"
                ' (only \\\\ \\" \\b \\f \\n \\r \\t are)'
            )


def _encode(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        yield encode_basestring(value)
    elif isinstance(value, bool):
        yield "true" if value else "false"
    elif isinstance(value, int):
        yield str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise DialectError(f"{path}: {value!r} has no representation in the dialect")
        yield repr(value)
    elif isinstance(value, Pairs | dict):
        items = value if isinstance(value, Pairs) else value.items()
        yield "{"
        for number, (key, item) in enumerate(items):
            if not isinstance(key, str):
                raise DialectError(f"{path}: object key {key!r} is not a string")
            yield ("," if number else "") + encode_basestring(key) + ":"
            yield from _encode(item, f"{path}.{key}")
        yield "}"
    elif isinstance(value, list | tuple):
        if all(type(item) is str for item in value):
            yield "[" + ",".join(map(encode_basestring, value)) + "]"
            return
        yield "["
        for number, item in enumerate(value):
            if number:
                yield ","
            yield from _encode(item, f"{path}[{number}]")
        yield "]"
    elif value is None:
        raise DialectError(f"{path}: null is not part of the dialect (the C++ reader rejects it)")
    else:
        raise DialectError(f"{path}: cannot serialise a {type(value).__name__}")


class _Object(dict):  # type: ignore[type-arg]
    """Hands an ordered list of pairs, duplicate keys included, to the C JSON encoder.

    The encoder asks a dict subclass for `items()`; the one placeholder entry only keeps it from
    taking the empty-object shortcut.
    """

    __slots__ = ("_pairs",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__({"": None} if pairs else {})
        self._pairs = pairs

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        return self._pairs


def _key(key: Any) -> str:
    if type(key) is not str:
        raise TypeError(f"object key {key!r} is not a string")
    return key


def _shadow(value: Any) -> Any:
    """The encoder's view of `value`; None is refused here (the dialect has no null)."""
    if isinstance(value, Pairs):
        return _Object(
            [(_key(key), item if type(item) is str else _shadow(item)) for key, item in value]
        )
    if isinstance(value, dict):
        return _Object([(_key(key), _shadow(item)) for key, item in value.items()])
    if isinstance(value, list | tuple):
        return [item if type(item) is str else _shadow(item) for item in value]
    if value is None:
        raise TypeError("null")
    return value


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NULL = re.compile(r"\bnull\b")
_NULL_VALUE = re.compile(r"[\[:,]\s*null\b")
_NEEDS_CLEANING = re.compile(r"[^\t\n\r\x20-\x7e]|\\u")


def _fast_text(obj: Any) -> str:
    """Compact JSON of `obj` by the C encoder; non-ASCII is left as is for the checks."""
    return json.dumps(
        _shadow(obj),
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
        check_circular=False,
    )


def dumps(obj: Pairs | dict[str, Any]) -> str:
    """Serialise a top-level object compactly; raise DialectError if any rule of §4 is broken.

    The C encoder writes the text; only a document that breaks a rule (null, a non-string key,
    NaN, an unsupported type) is walked again in Python, to name the offending path.
    """
    if not isinstance(obj, Pairs | dict):
        raise DialectError("the top level of a document must be an object")
    return dumps_part(obj)


def dumps_part(value: Pairs | dict[str, Any] | list[Any]) -> str:
    """`dumps` for a part of a document (an object or an array), spliced in by the writer."""
    try:
        text = _fast_text(value)
    except (TypeError, ValueError):
        text = "".join(_encode(value, "$"))  # raises DialectError naming the offending path
    check_text(text)
    return text


def _reject_constant(name: str) -> Any:
    raise DialectError(f"{name} is not part of the dialect")


def _find_null(value: Any, path: str) -> str | None:
    if value is None:
        return path
    if isinstance(value, Pairs | dict):
        for key, item in value if isinstance(value, Pairs) else value.items():
            found = _find_null(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for number, item in enumerate(value):
            found = _find_null(item, f"{path}[{number}]")
            if found:
                return found
    return None


def _may_hold_null(text: str) -> bool:
    """Whether a null value may occur outside strings; the cheap searches rule out most texts."""
    return (
        "null" in text
        and _NULL_VALUE.search(text) is not None
        and _NULL.search(_STRING.sub("", text)) is not None
    )


def _checked(text: str, hook: Callable[[list[tuple[str, Any]]], Any] | None) -> Any:
    check_text(text)
    try:
        obj = json.loads(text, object_pairs_hook=hook, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise DialectError(f"line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if not isinstance(obj, Pairs | dict):
        raise DialectError("the top level is not an object")
    null_at = _find_null(obj, "$") if _may_hold_null(text) else None
    if null_at:
        raise DialectError(f"{null_at}: null is not part of the dialect")
    return obj


def loads(text: str) -> Pairs:
    """Parse dialect text into ordered `Pairs` (duplicate keys kept); reject off-dialect text."""
    result: Pairs = _checked(text, Pairs)
    return result


def loads_for_lookup(text: str) -> dict[str, Any]:
    """`loads` into dicts, twice as fast, for readers that only look keys up (a duplicate key
    keeps its last value)."""
    result: dict[str, Any] = _checked(text, None)
    return result


def loads_first_object(text: str) -> tuple[Pairs, str]:
    """Parse the leading object of `text` and return it with whatever follows it.

    Old C++ test records (JSONDocumentBuilder fixtures) carry trailing text after the record;
    readers that must tolerate such files use this, the writer never produces them.
    """
    try:
        obj, end = json.JSONDecoder(object_pairs_hook=Pairs).raw_decode(text.lstrip())
    except json.JSONDecodeError as exc:
        raise DialectError(f"line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if not isinstance(obj, Pairs):
        raise DialectError("the top level is not an object")
    return obj, text.lstrip()[end:].strip()


def ascii_only(value: Any) -> tuple[Any, bool]:
    """Replace every character the dialect cannot carry with `.` (§4 rule 4), in keys too.

    Most documents are plain ASCII: one pass of the C encoder tells, and they are returned as is.
    """
    if isinstance(value, Pairs | list) and not _needs_cleaning(value):
        return value, False
    return _ascii_only(value)


def _needs_cleaning(value: Any) -> bool:
    try:
        return bool(_NEEDS_CLEANING.search(_fast_text(value)))
    except (TypeError, ValueError):
        return True


def _ascii_only(value: Any) -> tuple[Any, bool]:
    if isinstance(value, str):
        cleaned = _OFF_DIALECT.sub(".", value)
        return cleaned, cleaned != value
    if isinstance(value, Pairs):
        changed = False
        out = Pairs()
        for key, item in value:
            new_key, key_changed = _ascii_only(key)
            new_item, item_changed = _ascii_only(item)
            changed = changed or key_changed or item_changed
            out.append((new_key, new_item))
        return out, changed
    if isinstance(value, list):
        items = [_ascii_only(item) for item in value]
        return [item for item, _ in items], any(flag for _, flag in items)
    return value, False
