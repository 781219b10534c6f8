"""Parse FHiCL text into `app.fhicl.ast` nodes, with fhicl-cpp's syntax rules; errors name file:line:col.

What is checked is what fhicl-cpp rejects before evaluating anything: the `#include` line
syntax, tokens, structure (PROLOG blocks first and not nested, no commas in tables, ...) and the
content of quoted strings. Evaluation (resolving includes and `@local::` references, applying
overrides and protections) needs the included files and is not done here.
"""

import re

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

_DESCRIPTIONS = {
    "$END": "end of file",
    "NAME": "a name",
    "INDEX": "an index",
    "NUMBER": "a number",
    "_COLON": "':'",
    "_COMMA": "','",
    "PROTECT": "'@protect_ignore:' or '@protect_error:'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LSQB": "'['",
    "RSQB": "']'",
    "RPAR": "')'",
    "DOT": "'.'",
    "END_PROLOG": "END_PROLOG",
}


class _Problem(Exception):
    """A syntax problem found while building the tree; `parse` adds the file name."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message


class _Prolog:
    """A BEGIN_PROLOG ... END_PROLOG block while the tree is being built."""

    __slots__ = ("begin", "statements")

    def __init__(self, begin: Token, statements: list[ast.Statement]) -> None:
        self.begin = begin
        self.statements = statements


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
                problems.append((escape.start(), f"unknown escape sequence {sequence!r} in a string"))
                break
    if problems:
        offset, message = min(problems)
        before = token.value[: offset + 1]
        newlines = before.count("\n")
        column = offset + 1 - before.rfind("\n") if newlines else token.column + offset + 1
        raise _Problem(token.line + newlines, column, message)  # type: ignore[operator]


def _name(token: Token) -> str:
    """The (qualified) name a key token holds, without the `:` of NAME_COLON tokens and
    without the whitespace fhicl-cpp allows around `.`, `[` and `]`."""
    text: str = token.value
    if text.isidentifier():
        return text
    if token.type.endswith("_COLON"):
        text = text[: text.index(":")]
    return _SPACE.sub("", text)


class _Builder(Transformer):  # type: ignore[type-arg]
    """Turns parse-tree nodes into `ast` nodes as the LALR parser reduces them."""

    def start(self, items: list[object]) -> ast.Document:
        prolog: list[ast.Statement] = []
        main: list[ast.Statement] = []
        in_main = False
        for item in items:
            if isinstance(item, _Prolog):
                if in_main:
                    raise _Problem(
                        item.begin.line,
                        item.begin.column,
                        "BEGIN_PROLOG after the main part: PROLOG blocks must come first",
                    )
                prolog.extend(item.statements)
            else:
                # An included file may hold only PROLOG blocks, so an #include does not end them.
                in_main = in_main or not isinstance(item, ast.Include)
                main.append(item)  # type: ignore[arg-type]
        return ast.Document(tuple(prolog), tuple(main))

    def prolog(self, items: list[object]) -> _Prolog:
        begin = items[0]
        assert isinstance(begin, Token)
        statements: list[ast.Statement] = []
        for item in items[1:-1]:
            if isinstance(item, _Prolog):
                raise _Problem(item.begin.line, item.begin.column, "PROLOG blocks cannot be nested")
            statements.append(item)  # type: ignore[arg-type]
        return _Prolog(begin, statements)

    def assign(self, items: list[object]) -> ast.Binding:
        name, value = items
        assert isinstance(name, Token)
        return ast.Binding(_name(name), "", value, name.line, name.column)  # type: ignore[arg-type]

    def assign_protected(self, items: list[object]) -> ast.Binding:
        name, protect, value = items
        assert isinstance(name, Token)
        protection = protect[:-1]  # type: ignore[index]
        return ast.Binding(_name(name), protection, value, name.line, name.column)  # type: ignore[arg-type]

    def erase(self, items: list[Token]) -> ast.Erase:
        name, keyword = items
        return ast.Erase(_name(name), keyword.line, keyword.column)  # type: ignore[arg-type]

    def table_assign(self, items: list[object]) -> ast.Binding:
        name, value = items
        assert isinstance(name, Token)
        return ast.Binding(_name(name), "", value, name.line, name.column)  # type: ignore[arg-type]

    def table_assign_protected(self, items: list[object]) -> ast.Binding:
        name, protect, value = items
        protection = protect[:-1]  # type: ignore[index]
        return ast.Binding(str(name), protection, value, name.line, name.column)  # type: ignore[arg-type,attr-defined]

    def table_erase(self, items: list[Token]) -> ast.Erase:
        name, keyword = items
        return ast.Erase(_name(name), keyword.line, keyword.column)  # type: ignore[arg-type]

    def table_splice(self, items: list[Token]) -> ast.TableSplice:
        token = items[0]
        name = _name(token)[len("@table::") :]
        return ast.TableSplice(name, token.line, token.column)  # type: ignore[arg-type]

    def sequence_splice(self, items: list[Token]) -> ast.SequenceSplice:
        token = items[0]
        name = _name(token)[len("@sequence::") :]
        return ast.SequenceSplice(name, token.line, token.column)  # type: ignore[arg-type]

    def include(self, items: list[Token]) -> ast.Include:
        token = items[0]
        path = token.value[token.value.index('"') + 1 : token.value.rindex('"')]
        return ast.Include(path, token.line, token.column)  # type: ignore[arg-type]

    def complex(self, items: list[Token]) -> ast.Atom:
        left, real, imaginary, _ = items
        text = f"({real},{imaginary})"
        return ast.Atom("complex", text, "", left.line, left.column)  # type: ignore[arg-type]

    def items(self, children: list[object]) -> list[object]:
        """All sequence elements but the last, collected as the parser reduces them."""
        head = children[0]
        if type(head) is list:
            head.append(children[1])
            return head
        return [head]

    def sequence(self, children: list[object]) -> ast.Sequence:
        left = children[0]
        if len(children) == 4:
            elements = children[1]
            elements.append(children[2])  # type: ignore[attr-defined]
        else:
            elements = children[1:-1]
        return ast.Sequence(tuple(elements), left.line, left.column)  # type: ignore[arg-type,attr-defined]

    def table(self, items: list[object]) -> ast.Table:
        left = items[0]
        return ast.Table(tuple(items[1:-1]), left.line, left.column)  # type: ignore[arg-type,attr-defined]

    def unquoted(self, items: list[Token]) -> ast.Atom:
        token = items[0]
        return ast.Atom("string", token.value, "", token.line, token.column)  # type: ignore[arg-type]

    # Terminal callbacks: lark calls these as it shifts the token, no rule reduction needed.

    def NUMBER(self, token: Token) -> ast.Atom:
        return ast.Atom("number", token.value, "", token.line, token.column)  # type: ignore[arg-type]

    def NUMBER_COMMA(self, token: Token) -> ast.Atom:
        text = token.value.rstrip(_COMMA_AND_SPACE)
        return ast.Atom("number", text, "", token.line, token.column)  # type: ignore[arg-type]

    def DSS(self, token: Token) -> ast.Atom:
        return ast.Atom("string", token.value, "", token.line, token.column)  # type: ignore[arg-type]

    def DQSTRING(self, token: Token) -> ast.Atom:
        content = token.value[1:-1]
        _check_string(token, content, escapes=True)
        return ast.Atom("string", content, '"', token.line, token.column)  # type: ignore[arg-type]

    def SQSTRING(self, token: Token) -> ast.Atom:
        content = token.value[1:-1]
        _check_string(token, content, escapes=False)
        return ast.Atom("string", content, "'", token.line, token.column)  # type: ignore[arg-type]

    def BOOL(self, token: Token) -> ast.Atom:
        return ast.Atom("bool", token.value, "", token.line, token.column)  # type: ignore[arg-type]

    def NIL(self, token: Token) -> ast.Atom:
        return ast.Atom("nil", token.value, "", token.line, token.column)  # type: ignore[arg-type]

    def LOCAL_REF(self, token: Token) -> ast.Atom:
        return ast.Atom("reference", _name(token), "", token.line, token.column)  # type: ignore[arg-type]

    def DB_REF(self, token: Token) -> ast.Atom:
        raise _Problem(token.line, token.column, "@db:: references are not supported")  # type: ignore[arg-type]

    def TABLE_ID(self, token: Token) -> ast.Atom:
        if len(token.value) - len("@id::") != _PARAMETER_SET_ID_LENGTH:
            raise _Problem(token.line, token.column, "@id:: needs a 40-digit parameter-set id")  # type: ignore[arg-type]
        return ast.Atom("id", token.value, "", token.line, token.column)  # type: ignore[arg-type]


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
                filename, number, 1, f'malformed #include directive (expected #include "file"): {line}'
            )


def _expected(names: set[str]) -> str:
    wanted = sorted({_DESCRIPTIONS.get(name, "a value") for name in names})
    return ", ".join(wanted[:-1]) + (" or " if len(wanted) > 1 else "") + wanted[-1]


def _error(exc: UnexpectedInput, filename: str) -> FhiclError:
    """A readable FhiclError for a lark lexing/parsing failure."""
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        if token.type == "$END":
            return FhiclError(
                filename, exc.line, exc.column, f"unexpected end of file, expected {_expected(exc.expected)}"
            )
        found = f"{token.value!r}"
        return FhiclError(
            filename, token.line, token.column, f"unexpected {found}, expected {_expected(exc.expected)}"
        )
    if isinstance(exc, UnexpectedCharacters):
        found = exc.char
        hint = ""
        if found == "," and "RBRACE" in exc.allowed:
            hint = " (table entries are not separated by commas)"
        return FhiclError(
            filename,
            exc.line,
            exc.column,
            f"unexpected character {found!r}, expected {_expected(exc.allowed)}{hint}",
        )
    return FhiclError(filename, exc.line, exc.column, str(exc).splitlines()[0])


def parse(text: str, *, filename: str = "<string>") -> ast.Document:
    """Parse a whole FHiCL document; raise FhiclError (file:line:col: message) if it is invalid."""
    _check_include_lines(text, filename)
    try:
        document: ast.Document = _PARSER.parse(text)
    except _Problem as problem:
        raise FhiclError(filename, problem.line, problem.column, problem.message) from None
    except UnexpectedInput as exc:
        raise _error(exc, filename) from None
    return document


def check(text: str, *, filename: str) -> None:
    """Validate a document without keeping the tree (the pipeline's pre-import check)."""
    parse(text, filename=filename)
