"""FHiCL <-> the `document`/`comments` parts of an artdaq_database record ("snippet mode").

Reading follows `fhicl_reader.cpp` + `convertfhicl2jsondb.cpp` of artdaq_database with
fhicl-cpp in snippet mode (artdaqdb.md §3.2, §3.3): atoms stay strings as written, references
and overrides stay unresolved, every top-level binding is kept in order (a repeated name too;
a main-part binding only drops a prolog binding of the same name), while inside a table a
repeated name overwrites the first one in place, subject to fhicl-cpp's protection rules.
A binding's protection is inherited by the values nested in it.

Comment attribution reproduces the C++ rule: a node's `comment` is the comment on the line
above the line its value starts on (unless that comment starts with `/` or contains
`#include `), its `annotation` the comment on that line itself; tables get no annotation.

Where the C++ reader cannot read the construct at all, the project's choices are:
`@table::x` becomes the key `fhicl_table_splice_<n>` with value `x` (written back as
`@table::x`); `@sequence::x` and `@id::...` become the unquoted string as written; `name: @erase`
becomes the unquoted string `@erase` (as in the C++ reader); an index override `a[1]: v` stays a
flat key, like dotted overrides.
"""

import re
from dataclasses import dataclass
from typing import Any

from app.fhicl import ast
from app.fhicl.comments import scan_comments
from app.fhicl.errors import FhiclError
from app.fhicl.pairs import Pairs
from app.fhicl.parser import parse
from app.fhicl.regenerate import INCLUDE_KEY, TABLE_SPLICE_PREFIX, document_to_fhicl

__all__ = ["ConvertedDocument", "document_to_fhicl", "fhicl_to_document"]

# artdaq_database numbers includes by every match of this in the raw text, comments included.
_INCLUDE_MARK = re.compile(r"#include\s")
_RANK = {"": 0, "@protect_ignore": 1, "@protect_error": 2}
_PROTECTION_NAMES = {rank: name for name, rank in _RANK.items()}
_STRING_TYPES = {"": "string_unquoted", "'": "string_singlequoted", '"': "string_doublequoted"}
_ATOM_TYPES = {
    "nil": "nil",
    "bool": "bool",
    "number": "number",
    "complex": "complex",
    "reference": "string_unquoted",
    "id": "string_unquoted",
}


@dataclass(frozen=True)
class ConvertedDocument:
    """`document` ({"data", "metadata", "search"}) and `comments` of the stored record."""

    document: Pairs
    comments: list[Pairs]


class _Converter:
    """One file's conversion: its comments, include numbering and `@table::` counter."""

    def __init__(self, text: str, name: str) -> None:
        self.name = name
        self.comments = scan_comments(text)
        self.include_numbers = _include_numbers(text)
        self.splices = 0

    def comment(self, line: int) -> str:
        text = self.comments.get(line - 1, "")
        if not text or text[0] == "/" or "#include " in text:
            return ""
        return text

    def value(self, value: ast.Value | ast.SequenceSplice) -> tuple[Any, Pairs]:
        """The `data` value and `metadata` node of one value."""
        line = value.line
        if type(value) is ast.Atom:
            kind = _STRING_TYPES[value.quote] if value.kind == "string" else _ATOM_TYPES[value.kind]
            meta = Pairs(
                (
                    ("type", kind),
                    ("comment", self.comment(line)),
                    ("annotation", self.comments.get(line, "")),
                )
            )
            return value.text, meta
        if type(value) is ast.Sequence:
            data = []
            children = Pairs()
            for index, item in enumerate(value.items):
                item_data, item_meta = self.value(item)
                data.append(item_data)
                children.append((str(index), item_meta))
            meta = Pairs(
                (
                    ("type", "sequence"),
                    ("comment", self.comment(line)),
                    ("annotation", self.comments.get(line, "")),
                    ("children", children),
                )
            )
            return data, meta
        if type(value) is ast.Table:
            entries: dict[str, tuple[Any, Pairs]] = {}
            for statement in value.entries:
                key, data_and_meta = self.statement(statement)
                old = entries.get(key)
                if old is None or not self.keeps(key, old[1], data_and_meta[1], statement):
                    entries[key] = data_and_meta
            table_data, children = _split(entries.items())
            meta = Pairs(
                (("type", "table"), ("comment", self.comment(line)), ("children", children))
            )
            return table_data, meta
        assert isinstance(value, ast.SequenceSplice)
        return self.value(ast.Atom("string", f"@sequence::{value.name}", "", line, value.column))

    def statement(self, statement: ast.Statement) -> tuple[str, tuple[Any, Pairs]]:
        """The key one statement binds, with its `data` value and `metadata` node."""
        if isinstance(statement, ast.Binding):
            data, meta = self.value(statement.value)
            if statement.protection:
                self.protect(meta, _RANK[statement.protection], statement)
            return statement.name, (data, meta)
        if isinstance(statement, ast.Include):
            number = self.include_numbers[(statement.line, statement.column)]
            meta = Pairs((("type", "string_doublequoted"), ("comment", ""), ("annotation", "")))
            return f"{INCLUDE_KEY}_{number}", (statement.path, meta)
        if isinstance(statement, ast.Erase):
            atom = ast.Atom("string", "@erase", "", statement.line, statement.column)
            return statement.name, self.value(atom)
        key = f"{TABLE_SPLICE_PREFIX}{self.splices}"
        self.splices += 1
        return key, self.value(
            ast.Atom("string", statement.name, "", statement.line, statement.column)
        )

    def protect(self, meta: Pairs, rank: int, where: ast.Binding) -> None:
        """fhicl-cpp's set_protection: nested values take the enclosing binding's protection."""
        own = _RANK[meta.get("protection", "")]
        if own == 0:
            position = len(meta) - 1 if meta[-1][0] == "children" else len(meta)
            meta.insert(position, ("protection", _PROTECTION_NAMES[rank]))
            own = rank
        elif own < rank:
            raise FhiclError(
                self.name,
                where.line,
                where.column,
                f"a value nested in {where.name!r} is less protected than {where.protection}",
            )
        children = meta.get("children")
        for _, child in children or ():
            self.protect(child, max(rank, own), where)

    def keeps(self, key: str, old: Pairs, new: Pairs, where: ast.Statement) -> bool:
        """Whether a table keeps `old` when `key` is bound again (fhicl-cpp's map_insert)."""
        old_rank = _RANK[old.get("protection", "")]
        if _RANK[new.get("protection", "")] > old_rank:
            message = f"{key!r} cannot be bound again with a stronger protection"
        elif old_rank == 2:
            message = f"{key!r} is bound with @protect_error and cannot be bound again"
        else:
            return old_rank == 1
        raise FhiclError(self.name, where.line, where.column, message)


def _split(entries: Any) -> tuple[Pairs, Pairs]:
    """(key, (data, meta)) pairs -> the `data` table and the `metadata` children."""
    data = Pairs()
    children = Pairs()
    for key, (value, meta) in entries:
        data.append((key, value))
        children.append((key, meta))
    return data, children


def _include_numbers(text: str) -> dict[tuple[int, int], int]:
    """(line, column) of each `#include` mark -> its index, as the C++ regex pass numbers them."""
    numbers: dict[tuple[int, int], int] = {}
    line, counted_to, line_start = 1, 0, 0
    for index, match in enumerate(_INCLUDE_MARK.finditer(text)):
        start = match.start()
        newlines = text.count("\n", counted_to, start)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", 0, start) + 1
        counted_to = start
        numbers[(line, start - line_start + 1)] = index
    return numbers


def _section(label: str, children: Pairs) -> Pairs:
    return Pairs((("type", "table"), ("comment", f"#{label}"), ("children", children)))


def fhicl_to_document(text: str, *, name: str) -> ConvertedDocument:
    """Convert one FHiCL file as artdaq_database stores it; FhiclError if it cannot be parsed."""
    tree = parse(text, filename=name)
    converter = _Converter(text, name)
    prolog = [converter.statement(statement) for statement in tree.prolog]
    prolog_keys = {key for key, _ in prolog}
    main = []
    for statement in tree.main:
        key, data_and_meta = converter.statement(statement)
        if key in prolog_keys:
            # fhicl-cpp drops the first binding of a name when the main part binds it again.
            del prolog[next(i for i, (k, _) in enumerate(prolog) if k == key)]
            prolog_keys = {k for k, _ in prolog}
        main.append((key, data_and_meta))
    prolog_data, prolog_meta = _split(prolog)
    main_data, main_meta = _split(main)
    document = Pairs(
        (
            ("data", Pairs((("prolog", prolog_data), ("main", main_data)))),
            (
                "metadata",
                Pairs(
                    (
                        ("prolog", _section("prolog", prolog_meta)),
                        ("main", _section("main", main_meta)),
                    )
                ),
            ),
            ("search", []),
        )
    )
    comments = [
        Pairs((("linenum", line), ("value", value))) for line, value in converter.comments.items()
    ]
    return ConvertedDocument(
        document, comments or [Pairs((("linenum", 0), ("value", "No comments")))]
    )
