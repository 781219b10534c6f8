"""Parse FHiCL text into `app.fhicl.ast` nodes (fhicl-cpp syntax rules); errors give file:line:col.

What is checked is what fhicl-cpp rejects before evaluating anything: the `#include` line
syntax, tokens, structure (PROLOG blocks first and not nested, no commas in tables, ...) and the
content of quoted strings. Evaluation (resolving includes and `@local::` references, applying
overrides and protections) needs the included files and is not done here.
"""

import re
from dataclasses import dataclass
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from app.fhicl import ast
from app.fhicl.errors import FhiclError
from app.fhicl.grammar import fhicl_grammar

# cetlib's includer: a line starting with "#include" must read `#include "file"`, nothing after.
_INCLUDE_LINE = re.compile(r"^#include[^\n]*", re.MULTILINE)
_PARAMETER_SET_ID_LENGTH = 40
_SPACE = re.compile(r"\s+")
_COMMA_AND_SPACE = ", \t\r\n"
# In a quoted string fhicl-cpp accepts printable ASCII, TAB and LF, and in "..." only these escapes.
_UNPRINTABLE = re.compile(r"[^\t\n -~]")
_ESCAPE = re.compile(r"\\(.?)", re.DOTALL)
_KNOWN_ESCAPES = "\\\"'nt"

# How error messages name what the parser expected; any other terminal starts a value.
_DESCRIPTIONS = {
    "$END": "end of file",
    "NAME": "a name",
    "NAME_COLON": "a name",
    "QUALNAME": "a name",
    "QUALNAME_COLON": "a name",
    "_COLON": "':'",
    "_COMMA": "','",
    "PROTECT": "@protect_ignore:/@protect_error:",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "RSQB": "']'",
    "RPAR": "')'",
    "ERASE": "@erase",
    "INCLUDE": "#include",
    "TABLE_SPLICE": "@table::",
    "BEGIN_PROLOG": "BEGIN_PROLOG",
    "END_PROLOG": "END_PROLOG",
}


class _Problem(Exception):
    """A syntax problem found while building the tree; `parse` adds the file name."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message


@dataclass(frozen=True, slots=True)
class _Prolog:
    """A BEGIN_PROLOG ... END_PROLOG block while the tree is being built."""

    begin: Token
    statements: list[ast.Statement]


def _check_string(token: Token, content: str, escapes: bool) -> None:
    """Apply cetlib's canonical_string rules; `escapes` for double-quoted strings."""
    if content.isascii() and content.isprintable() and not (escapes and "\\" in content):
        return
    problems: list[tuple[int, str]] = []
    unprintable = _UNPRINTABLE.search(content)
    if unprintable:
        character = unprintable.group()
        problems.append((unprintable.start(), f"unprintable character {character!r} in a string"))
    if escapes:
        for escape in _ESCAPE.finditer(content):
            if escape.group(1) and escape.group(1) not in _KNOWN_ESCAPES:
                sequence = escape.group()
                problems.append(
                    (escape.start(), f"unknown escape sequence {sequence!r} in a string")
                )
                break
    if problems:
        offset, message = min(problems)
        before = token.value[: offset + 1]
        newlines = before.count("\n")
        line, column = _at(token)
        column = offset + 1 - before.rfind("\n") if newlines else column + offset + 1
        raise _Problem(line + newlines, column, message)


def _name(token: Token) -> str:
    """The (qualified) name a key token holds, without the `:` of NAME_COLON tokens and
    without the whitespace fhicl-cpp allows around `.`, `[` and `]`."""
    text: str = token.value
    if text.isidentifier():
        return text
    if token.type.endswith("_COLON"):
        text = text[: text.index(":")]
    return _SPACE.sub("", text)


def _at(token: Token) -> tuple[int, int]:
    """Where a token starts (lark types the position as optional; the lexer always sets it)."""
    return token.line, token.column  # type: ignore[return-value]


def _atom(kind: ast.AtomKind, text: str, quote: str, token: Token) -> ast.Atom:
    return ast.Atom(kind, text, quote, *_at(token))


class _Builder(Transformer[Token, ast.Document]):
    """Turns parse-tree nodes into `ast` nodes as the LALR parser reduces them.

    Rule callbacks get the rule's children (tokens or nodes built by earlier callbacks);
    the upper-case methods are terminal callbacks, run as the token is shifted.
    """

    def start(self, children: list[Any]) -> ast.Document:
        prolog: list[ast.Statement] = []
        main: list[ast.Statement] = []
        in_main = False
        for child in children[0] if children else ():
            if isinstance(child, _Prolog):
                if in_main:
                    raise _Problem(
                        *_at(child.begin),
                        "BEGIN_PROLOG after the main part: PROLOG blocks must come first",
                    )
                prolog.extend(child.statements)
            else:
                # An included file may hold only PROLOG blocks, so an #include does not end them.
                in_main = in_main or not isinstance(child, ast.Include)
                main.append(child)
        return ast.Document(tuple(prolog), tuple(main))

    def prolog(self, children: list[Any]) -> _Prolog:
        statements = children[1] if len(children) == 3 else []
        for child in statements:
            if isinstance(child, _Prolog):
                raise _Problem(*_at(child.begin), "PROLOG blocks cannot be nested")
        return _Prolog(children[0], statements)

    def statements(self, children: list[Any]) -> list[Any]:
        """Statements (or table entries) in order, collected as the parser reduces them."""
        head = children[0]
        if type(head) is list:
            head.append(children[1])
            return head
        return [head]

    entries = statements
    items = statements

    def assign(self, children: list[Any]) -> ast.Binding:
        name, value = children
        return ast.Binding(_name(name), "", value, *_at(name))

    def assign_protected(self, children: list[Any]) -> ast.Binding:
        name, protect, value = children
        return ast.Binding(_name(name), protect[:-1], value, *_at(name))

    def erase(self, children: list[Any]) -> ast.Erase:
        name, keyword = children
        return ast.Erase(_name(name), *_at(keyword))

    table_assign = assign
    table_assign_protected = assign_protected
    table_erase = erase

    def table_splice(self, children: list[Any]) -> ast.TableSplice:
        token = children[0]
        return ast.TableSplice(_name(token)[len("@table::") :], *_at(token))

    def sequence_splice(self, children: list[Any]) -> ast.SequenceSplice:
        token = children[0]
        return ast.SequenceSplice(_name(token)[len("@sequence::") :], *_at(token))

    def include(self, children: list[Any]) -> ast.Include:
        token = children[0]
        text: str = token.value
        return ast.Include(text[text.index('"') + 1 : text.rindex('"')], *_at(token))

    def complex(self, children: list[Any]) -> ast.Atom:
        left, real, imaginary, _ = children
        return _atom("complex", f"({real.text},{imaginary.text})", "", left)

    def sequence(self, children: list[Any]) -> ast.Sequence:
        if len(children) == 4:
            elements = children[1]
            elements.append(children[2])
        else:
            elements = children[1:-1]
        return ast.Sequence(tuple(elements), *_at(children[0]))

    def table(self, children: list[Any]) -> ast.Table:
        entries = children[1] if len(children) == 3 else ()
        return ast.Table(tuple(entries), *_at(children[0]))

    def unquoted(self, children: list[Any]) -> ast.Atom:
        token = children[0]
        return _atom("string", token.value, "", token)

    def NUMBER(self, token: Token) -> ast.Atom:
        return _atom("number", token.value, "", token)

    def NUMBER_COMMA(self, token: Token) -> ast.Atom:
        return _atom("number", token.value.rstrip(_COMMA_AND_SPACE), "", token)

    def DSS(self, token: Token) -> ast.Atom:
        return _atom("string", token.value, "", token)

    def DQSTRING(self, token: Token) -> ast.Atom:
        content = token.value[1:-1]
        _check_string(token, content, escapes=True)
        return _atom("string", content, '"', token)

    def SQSTRING(self, token: Token) -> ast.Atom:
        content = token.value[1:-1]
        _check_string(token, content, escapes=False)
        return _atom("string", content, "'", token)

    def BOOL(self, token: Token) -> ast.Atom:
        return _atom("bool", token.value, "", token)

    def NIL(self, token: Token) -> ast.Atom:
        return _atom("nil", token.value, "", token)

    def LOCAL_REF(self, token: Token) -> ast.Atom:
        return _atom("reference", _name(token), "", token)

    def DB_REF(self, token: Token) -> ast.Atom:
        raise _Problem(*_at(token), "@db:: references are not supported")

    def TABLE_ID(self, token: Token) -> ast.Atom:
        if len(token.value) - len("@id::") != _PARAMETER_SET_ID_LENGTH:
            raise _Problem(*_at(token), "@id:: needs a 40-digit parameter-set id")
        return _atom("id", token.value, "", token)


_PARSER = Lark(
    fhicl_grammar(),
    parser="lalr",
    lexer="contextual",
    transformer=_Builder(),
    maybe_placeholders=False,
)


def _check_include_lines(text: str, filename: str) -> None:
    """Reject `#include` lines cetlib would refuse (it reads them before the parser does)."""
    if "#include" not in text:
        return
    for match in _INCLUDE_LINE.finditer(text):
        line = match.group().rstrip(" \t\r")
        if len(line) <= 11 or line[8] != " " or line[9] != '"' or line[-1] != '"':
            number = text.count("\n", 0, match.start()) + 1
            raise FhiclError(
                filename,
                number,
                1,
                f'malformed #include directive (expected #include "file"): {line}',
            )


def _expected(names: set[str]) -> str:
    wanted = sorted({_DESCRIPTIONS.get(name, "a value") for name in names})
    return ", ".join(wanted[:-1]) + (" or " if len(wanted) > 1 else "") + wanted[-1]


def _error(exc: UnexpectedInput, text: str, filename: str) -> FhiclError:
    """A readable FhiclError for a lark lexing/parsing failure."""
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        content = text.rstrip()  # point just after the last thing written
        line, column = content.count("\n") + 1, len(content) - content.rfind("\n")
        found, expected = "end of file", exc.expected
    elif isinstance(exc, UnexpectedToken):
        line, column = exc.token.line, exc.token.column
        found, expected = repr(exc.token.value), exc.expected
    elif isinstance(exc, UnexpectedCharacters):
        line, column = exc.line, exc.column
        found = f"character {exc.char!r}"
        expected = exc.allowed
    else:
        return FhiclError(filename, exc.line, exc.column, str(exc).splitlines()[0])
    hint = ""
    if found.endswith("','") and "RBRACE" in expected:
        hint = " (table entries are not separated by commas)"
    message = f"unexpected {found}, expected {_expected(expected)}{hint}"
    return FhiclError(filename, line or exc.line, column or exc.column, message)


def parse(text: str, *, filename: str = "<string>") -> ast.Document:
    """Parse a whole FHiCL document; raise FhiclError (file:line:col: message) if it is invalid."""
    _check_include_lines(text, filename)
    try:
        document: ast.Document = _PARSER.parse(text)
    except _Problem as problem:
        raise FhiclError(filename, problem.line, problem.column, problem.message) from None
    except UnexpectedInput as exc:
        raise _error(exc, text, filename) from None
    _check_nesting(document, filename)
    return document


MAX_NESTING = 100


def _check_nesting(document: ast.Document, filename: str) -> None:
    """Refuse tables/sequences nested deeper than MAX_NESTING (real configurations nest a few
    levels); deeper documents would exhaust Python's recursion in every later step."""
    pending: list[tuple[ast.Value | ast.SequenceSplice, int]] = [
        (statement.value, 1)
        for statement in (*document.prolog, *document.main)
        if isinstance(statement, ast.Binding)
    ]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, ast.Table):
            children = [(s.value, depth + 1) for s in value.entries if isinstance(s, ast.Binding)]
        elif isinstance(value, ast.Sequence):
            children = [(item, depth + 1) for item in value.items]
        else:
            continue
        if depth > MAX_NESTING:
            raise FhiclError(
                filename,
                value.line,
                value.column,
                f"tables and sequences nested more than {MAX_NESTING} levels deep",
            )
        pending += children


def check(text: str, *, filename: str) -> None:
    """Validate a document without keeping the tree (the pipeline's pre-import check)."""
    parse(text, filename=filename)
