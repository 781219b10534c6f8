"""The parsed form of a FHiCL document, unevaluated: what was written, in order, with positions.

Nothing is resolved here (no includes, references, overrides or erasures), because the stored
artdaq_database form keeps the text as written and full evaluation needs the included files.
Lines and columns are 1-based and point at the first character of the construct.
"""

from dataclasses import dataclass
from typing import Literal

AtomKind = Literal["nil", "bool", "number", "complex", "string", "reference", "id"]
Protection = Literal["", "@protect_ignore", "@protect_error"]


@dataclass(frozen=True, slots=True)
class Atom:
    """A scalar. `text` is the token as written; quoted strings lose only their quotes."""

    kind: AtomKind
    text: str
    quote: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class SequenceSplice:
    """`@sequence::name` inside a sequence: the named sequence's elements go here."""

    name: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Sequence:
    """`[a, b, ...]`."""

    items: "tuple[Value | SequenceSplice, ...]"
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Table:
    """`{ name: value ... }`; entries keep source order and duplicates."""

    entries: "tuple[Statement, ...]"
    line: int
    column: int


Value = Atom | Sequence | Table


@dataclass(frozen=True, slots=True)
class Binding:
    """`name: value` or `name @protect_ignore: value`; `name` may be qualified (`a.b[2].c`)."""

    name: str
    protection: Protection
    value: Value
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Erase:
    """`name: @erase`; the position is that of `@erase`, where the value would start."""

    name: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class TableSplice:
    """`@table::name`: the named table's entries go here."""

    name: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Include:
    """`#include "path"` (not resolved: run records are archived with their includes as written)."""

    path: str
    line: int
    column: int


Statement = Binding | Erase | TableSplice | Include


@dataclass(frozen=True, slots=True)
class Document:
    """A whole file: the statements of all PROLOG blocks, then the main part."""

    prolog: tuple[Statement, ...]
    main: tuple[Statement, ...]
