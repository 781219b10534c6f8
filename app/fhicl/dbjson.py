"""FHiCL <-> the `document`/`comments` parts of an artdaq_database record ("snippet mode").

Reading follows `fhicl_reader.cpp` + `convertfhicl2jsondb.cpp` of artdaq_database (artdaqdb.md
§3.2, §3.3): atoms stay strings as written, references and overrides stay unresolved, a repeated
name keeps its first position and takes the last value (the C++ table is an insertion-ordered
map), and a main-part name replaces a prolog binding of the same name. Protections are enforced
as the C++ parser does (a `@protect_ignore` binding is kept, redefining `@protect_error` fails).

Comment attribution reproduces the C++ rule: a node's `comment` is the comment on the line above
the line its value starts on (unless that comment starts with `/` or contains `#include `),
its `annotation` the comment on that line itself; tables get no annotation.

Where the C++ reader cannot read the construct at all, the project's choices are:
`@table::x` becomes the key `fhicl_table_splice_<n>` with value `x` (written back as
`@table::x`); `@sequence::x` and `@id::...` become the unquoted string as written; `name: @erase`
becomes the unquoted string `@erase` (as in the C++ reader); an index override `a[1]: v` stays a
flat key, like dotted overrides.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from app.fhicl import ast
from app.fhicl.comments import scan_comments
from app.fhicl.errors import FhiclError
from app.fhicl.pairs import Pairs
from app.fhicl.parser import parse
from app.fhicl.regenerate import TABLE_SPLICE_PREFIX, document_to_fhicl

__all__ = ["ConvertedDocument", "document_to_fhicl", "fhicl_to_document"]

INCLUDE_PREFIX = "fhicl_pound_include_"
# artdaq_database numbers includes by every match of this in the raw text, comments included.
_INCLUDE_MARK = re.compile(r"#include\s")
_PROTECTION_RANK = {"": 0, "@protect_ignore": 1, "@protect_error": 2}
_PROTECTION_NAME = {rank: name for name, rank in _PROTECTION_RANK.items()}
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


@dataclass(slots=True)
class _Node:
    """A converted value before serialisation: protections may still be inherited."""

    type: str
    line: int
    data: str | None = None
    items: list["_Node"] | None = None
    entries: dict[str, "_Node"] | None = None
    rank: int = 0


@dataclass(slots=True)
class _Slot:
    key: str
    node: _Node
    in_prolog: bool


@dataclass
class _Context:
    """What the conversion of one file needs besides the tree."""

    name: str
    comments: dict[int, str]
    include_numbers: dict[tuple[int, int], int]
    splices: int = 0
    top: list[_Slot] = field(default_factory=list)


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


def _inherit(node: _Node, rank: int, context: _Context, where: ast.Binding) -> None:
    """fhicl-cpp's check_element_protections: nested values take the enclosing protection."""
    if node.rank == 0:
        node.rank = rank
    elif node.rank < rank:
        raise FhiclError(
            context.name,
            where.line,
            where.column,
            f"a value nested in {where.name!r} has a weaker protection than {where.protection}",
        )
    children = node.items if node.items is not None else (node.entries or {}).values()
    for child in children:
        _inherit(child, max(rank, node.rank), context, where)


def _convert(value: ast.Value | ast.SequenceSplice, context: _Context) -> _Node:
    if isinstance(value, ast.Atom):
        kind = _STRING_TYPES[value.quote] if value.kind == "string" else _ATOM_TYPES[value.kind]
        return _Node(kind, value.line, data=value.text)
    if isinstance(value, ast.Sequence):
        items = [_convert(item, context) for item in value.items]
        return _Node("sequence", value.line, items=items)
    if isinstance(value, ast.Table):
        entries: dict[str, _Node] = {}
        for statement in value.entries:
            key, node, where = _entry(statement, context)
            _insert_in_table(entries, key, node, where, context)
        return _Node("table", value.line, entries=entries)
    return _Node("string_unquoted", value.line, data=f"@sequence::{value.name}")


def _entry(statement: ast.Statement, context: _Context) -> tuple[str, _Node, ast.Statement]:
    """The key and converted value one statement binds, protection applied to nested values."""
    if isinstance(statement, ast.Binding):
        node = _convert(statement.value, context)
        if statement.protection:
            node.rank = _PROTECTION_RANK[statement.protection]
            _inherit(node, node.rank, context, statement)
        return statement.name, node, statement
    if isinstance(statement, ast.Erase):
        return statement.name, _Node("string_unquoted", statement.line, data="@erase"), statement
    if isinstance(statement, ast.Include):
        number = context.include_numbers[(statement.line, statement.column)]
        node = _Node("string_doublequoted", 0, data=statement.path)
        return f"{INCLUDE_PREFIX}{number}", node, statement
    key = f"{TABLE_SPLICE_PREFIX}{context.splices}"
    context.splices += 1
    return key, _Node("string_unquoted", statement.line, data=statement.name), statement


def _protected(key: str, old: _Node, new: _Node, where: ast.Statement, context: _Context) -> bool:
    """Whether `old` must stay (fhicl-cpp's rules for redefining a name); raise if forbidden."""
    if old.rank == 2:
        message = f"{key!r} is bound with @protect_error and cannot be redefined"
    elif new.rank > old.rank and old.type != "nil":
        message = f"{key!r} cannot be redefined with a stronger protection"
    else:
        return old.rank == 1
    raise FhiclError(context.name, where.line, where.column, message)


def _insert_in_table(
    entries: dict[str, _Node], key: str, node: _Node, where: ast.Statement, context: _Context
) -> None:
    old = entries.get(key)
    if old is None or not _protected(key, old, node, where, context):
        entries[key] = node


def _insert_top(key: str, node: _Node, in_prolog: bool, context: _Context) -> None:
    """The C++ top level keeps every binding in order; a main binding only drops a prolog one."""
    if not in_prolog:
        for index, slot in enumerate(context.top):
            if slot.key == key:
                if slot.in_prolog:
                    del context.top[index]
                break
    context.top.append(_Slot(key, node, in_prolog))


def _comment(comments: dict[int, str], line: int) -> str:
    text = comments.get(line - 1, "") if line > 1 else ""
    if not text or text.startswith("/") or "#include " in text:
        return ""
    return text


def _emit(key: str, node: _Node, comments: dict[int, str]) -> tuple[Any, Pairs]:
    """The `data` value and `metadata` node of one converted value."""
    if key.startswith(INCLUDE_PREFIX):
        meta = Pairs([("type", node.type), ("comment", ""), ("annotation", "")])
    else:
        meta = Pairs([("type", node.type), ("comment", _comment(comments, node.line))])
        if node.type != "table":
            meta.append(("annotation", comments.get(node.line, "")))
    if node.rank:
        meta.append(("protection", _PROTECTION_NAME[node.rank]))
    if node.items is not None:
        data_list = []
        children = Pairs()
        for index, item in enumerate(node.items):
            item_data, item_meta = _emit(str(index), item, comments)
            data_list.append(item_data)
            children.append((str(index), item_meta))
        meta.append(("children", children))
        return data_list, meta
    if node.entries is not None:
        data_table, children = _emit_table(node.entries.items(), comments)
        meta.append(("children", children))
        return data_table, meta
    return node.data, meta


def _emit_table(entries: Any, comments: dict[int, str]) -> tuple[Pairs, Pairs]:
    data = Pairs()
    children = Pairs()
    for key, node in entries:
        value, meta = _emit(key, node, comments)
        data.append((key, value))
        children.append((key, meta))
    return data, children


def _section(label: str, children: Pairs) -> Pairs:
    return Pairs([("type", "table"), ("comment", f"#{label}"), ("children", children)])


def fhicl_to_document(text: str, *, name: str) -> ConvertedDocument:
    """Convert one FHiCL file as artdaq_database stores it; FhiclError if it cannot be parsed."""
    tree = parse(text, filename=name)
    context = _Context(name, scan_comments(text), _include_numbers(text))
    for in_prolog, statements in ((True, tree.prolog), (False, tree.main)):
        for statement in statements:
            key, node, _ = _entry(statement, context)
            _insert_top(key, node, in_prolog, context)
    prolog = [(slot.key, slot.node) for slot in context.top if slot.in_prolog]
    main = [(slot.key, slot.node) for slot in context.top if not slot.in_prolog]
    prolog_data, prolog_meta = _emit_table(prolog, context.comments)
    main_data, main_meta = _emit_table(main, context.comments)
    document = Pairs(
        [
            ("data", Pairs([("prolog", prolog_data), ("main", main_data)])),
            (
                "metadata",
                Pairs([("prolog", _section("prolog", prolog_meta)), ("main", _section("main", main_meta))]),
            ),
            ("search", []),
        ]
    )
    comments = [Pairs([("linenum", line), ("value", value)]) for line, value in context.comments.items()]
    return ConvertedDocument(document, comments or [Pairs([("linenum", 0), ("value", "No comments")])])
