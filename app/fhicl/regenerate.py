"""FHiCL regenerated from a stored record's `data` + `metadata`, as artdaq_database exports it.

This follows `fhicl_writer.{h,cpp}` and `json2fcldb` of artdaq_database (artdaqdb.md §3.5),
layout quirks included, so that an export made by the project matches one made by the C++ tools:
every binding is preceded by its comment line (an empty line when there is none), atoms and
sequences are followed by a space, their annotation and a newline, a table is `{`, newline,
its bindings, newline, `}`. Inside a sequence the metadata types are ignored: a string element
is double-quoted exactly when it contains one of ` .%()/-\\`. Includes come back as
`#include "f"`. Free-standing comments are not stored, so they cannot come back.

One addition of the project: keys `fhicl_table_splice_<n>` (how the project stores `@table::x`,
which the C++ reader cannot read) come back as `@table::x`.
"""

import re
from typing import Any

from app.fhicl.pairs import Pairs

INCLUDE_KEY = "fhicl_pound_include"  # keys fhicl_pound_include_<n> hold `#include` file names
TABLE_SPLICE_PREFIX = "fhicl_table_splice_"
_NEEDS_QUOTES = re.compile(r"[ .%()/\-\\]")
_INCLUDE_BINDING = re.compile(r'#include\s*:[^"]*')


def _scalar(value: Any) -> str:
    """An atom stored as a JSON bool or number (the C++ reader writes strings, others may not)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _guessed_metadata(value: Any) -> Pairs:
    """Metadata for a data node that has none, so that no data is dropped on export."""
    if isinstance(value, Pairs):
        children = Pairs((key, _guessed_metadata(item)) for key, item in value)
        return Pairs([("type", "table"), ("comment", ""), ("children", children)])
    if isinstance(value, list):
        children = Pairs((str(i), _guessed_metadata(item)) for i, item in enumerate(value))
        return Pairs(
            [("type", "sequence"), ("comment", ""), ("annotation", ""), ("children", children)]
        )
    return Pairs([("type", "string"), ("comment", ""), ("annotation", "")])


def _child_metadata(children: Any, key: str, value: Any) -> Pairs:
    found = children.get(key) if isinstance(children, Pairs) else None
    return found if isinstance(found, Pairs) else _guessed_metadata(value)


def _quoted_if_needed(text: str) -> str:
    return f'"{text}"' if _NEEDS_QUOTES.search(text) else text


def _value(value: Any, kind: str, metadata: Pairs) -> str:
    """The value text of one binding, by its metadata type (json2fcldb's atom conversion)."""
    if kind == "sequence" and isinstance(value, list):
        children = metadata.get("children")
        return (
            "["
            + ", ".join(
                _element(item, _child_metadata(children, str(i), item))
                for i, item in enumerate(value)
            )
            + "]"
        )
    if kind == "table" and isinstance(value, Pairs):
        return "{\n" + _bindings(value, metadata.get("children")) + "\n}"
    if not isinstance(value, str):
        return _scalar(value)
    if kind == "string_unquoted":
        return value
    if kind == "string_singlequoted":
        return f"'{value}'"
    if kind == "string_doublequoted":
        return f'"{value}"'
    if kind.startswith("string"):
        return _quoted_if_needed(value)
    return value


def _annotated(value: Any, kind: str, metadata: Pairs) -> str:
    text = _value(value, kind, metadata)
    if kind == "table":
        return text
    return f"{text} {metadata.get('annotation', '')}\n"


def _element(item: Any, metadata: Pairs) -> str:
    """A sequence element: strings lose their type (json2fcldb's value conversion)."""
    if isinstance(item, str):
        return _quoted_if_needed(item)
    if isinstance(item, list | Pairs):
        return _annotated(item, str(metadata.get("type", "")), metadata)
    return _scalar(item)


def _binding(key: str, value: Any, metadata: Pairs) -> str:
    if key.startswith(INCLUDE_KEY):
        return f' \n#include: "{value}" \n'
    comment = str(metadata.get("comment", ""))
    if "#include " in comment:
        comment = ""
    if key.startswith(TABLE_SPLICE_PREFIX) and isinstance(value, str):
        return f"{comment}\n@table::{value} {metadata.get('annotation', '')}\n"
    protection = metadata.get("protection", "@none")
    name = f"{key} {protection}" if protection and protection != "@none" else key
    kind = str(metadata.get("type", "string"))
    if kind == "table" and isinstance(value, str):
        return f"{comment}\n{name}: {_quoted_if_needed(value)}"
    return f"{comment}\n{name}: {_annotated(value, kind, metadata)}"


def _bindings(table: Pairs, children: Any) -> str:
    """All bindings of a table; a repeated key gets the first one's metadata, as in the C++."""
    return "".join(
        _binding(key, value, _child_metadata(children, key, value)) for key, value in table
    )


def _section(document: Pairs, name: str) -> tuple[Pairs, Any]:
    data = document.get("data")
    metadata = document.get("metadata")
    table = data.get(name) if isinstance(data, Pairs) else None
    section = metadata.get(name) if isinstance(metadata, Pairs) else None
    children = section.get("children") if isinstance(section, Pairs) else None
    return (table if isinstance(table, Pairs) else Pairs()), children


def document_to_fhicl(document: Pairs) -> str:
    """Regenerate FHiCL from a record's `document` (`data` + `metadata`) as the C++ export does."""
    prolog, prolog_children = _section(document, "prolog")
    main, main_children = _section(document, "main")
    text = ""
    if prolog:
        text = "BEGIN_PROLOG\n" + _bindings(prolog, prolog_children) + "\nEND_PROLOG\n"
    text += _bindings(main, main_children)
    return _INCLUDE_BINDING.sub("#include ", text)
