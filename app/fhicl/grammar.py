"""The FHiCL grammar for lark (LALR, contextual lexer), with fhicl-cpp's token rules.

fhicl-cpp tokenises by "maximal munch": a token only counts if the character after it is
whitespace or one of a few delimiters, so `12ab` is a string, `1-2` is nothing, and `"a"b` is an
error. Each terminal below carries that rule as a lookahead. "Whitespace" there means anything
outside printable ASCII (`[^!-~]`), as C's `isgraph` sees it. Priorities settle the overlaps the
contextual lexer still sees: keywords over names, `true`/`false`/numbers over strings,
`#include` over comments.

For speed (lark's cost is per token), the two most frequent token pairs are also single
tokens: `name:` (NAME_COLON) and a number with the comma after it in a sequence
(NUMBER_COMMA); the general spellings, with comments in between, still parse.
"""

_LOOKAHEADS = {
    # After @nil, true/false and quoted strings: whitespace or , ] }
    "<END_ATOM>": r"(?=[^!-~]|[,\]}]|\Z)",
    # After numbers: whitespace or # / , ] } )
    "<END_NUMBER>": r"(?=[^!-~]|[#\/,\]})]|\Z)",
    # After [+-]infinity: whitespace or ) , ] }
    "<END_INF>": r"(?=[^!-~]|[),\]}]|\Z)",
    # After names (keys and unquoted strings): whitespace or # / , ] } . [ :
    "<END_NAME>": r"(?=[^!-~]|[#\/,\]}.\[:]|\Z)",
    # After digit-starting strings: whitespace or # / , ] }
    "<END_DSS>": r"(?=[^!-~]|[#\/,\]}]|\Z)",
}
# A qualified name `a.b[2].c`, whitespace allowed around `.`, `[` and `]` as fhicl-cpp does.
_NAME = r"[A-Za-z_][A-Za-z0-9_]*<END_NAME>"
_NUMBER = (
    r"(?:[+-]?infinity<END_INF>"
    r"|(?:0[xX][0-9A-Fa-f]+|0[bB][01]+|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)<END_NUMBER>)"
)
_PART = (
    r"(?:[ \t\n\r]*(?:\.[ \t\n\r]*[A-Za-z_][A-Za-z0-9_]*<END_NAME>|\[[ \t\n\r]*\d+[ \t\n\r]*\]))"
)

_TEMPLATE = r"""
// Lists are written out as left recursion with one rule per element kind, and keys as
// alternatives, so that every element costs one reduction (lark's `x*` and `_rule` helpers
// cost an extra tree node each, which shows at this volume).
start: statements?
statements: prolog | assign | assign_protected | erase | table_splice | include
          | statements prolog | statements assign | statements assign_protected
          | statements erase | statements table_splice | statements include
prolog: BEGIN_PROLOG statements? END_PROLOG

assign: NAME_COLON value | QUALNAME_COLON value | NAME _COLON value | QUALNAME _COLON value
assign_protected: NAME PROTECT value | QUALNAME PROTECT value
erase: NAME_COLON ERASE | QUALNAME_COLON ERASE | NAME _COLON ERASE | QUALNAME _COLON ERASE
table_splice: TABLE_SPLICE
include: INCLUDE

?value: NIL | BOOL | NUMBER | DSS | SQSTRING | DQSTRING | TABLE_ID | LOCAL_REF | DB_REF
      | unquoted | complex | sequence | table
unquoted: NAME
complex: LPAR NUMBER _COMMA NUMBER RPAR

sequence: LSQB RSQB
        | LSQB value RSQB
        | LSQB sequence_splice RSQB
        | LSQB items value RSQB
        | LSQB items sequence_splice RSQB
items: NUMBER_COMMA | value _COMMA | sequence_splice _COMMA
     | items NUMBER_COMMA | items value _COMMA | items sequence_splice _COMMA
sequence_splice: SEQUENCE_SPLICE

table: LBRACE RBRACE | LBRACE entries RBRACE
entries: table_assign | table_assign_protected | table_erase | table_splice | include
       | entries table_assign | entries table_assign_protected | entries table_erase
       | entries table_splice | entries include
table_assign: NAME_COLON value | NAME _COLON value
table_assign_protected: NAME PROTECT value
table_erase: NAME_COLON ERASE | NAME _COLON ERASE

BEGIN_PROLOG.9: /BEGIN_PROLOG(?![A-Za-z0-9_])/
END_PROLOG.9: /END_PROLOG(?![A-Za-z0-9_])/
INCLUDE.9: /#include[ \t]"[^\n]*"(?=[ \t\r]*(?:\n|\Z))/
PROTECT.5: /@protect_(?:ignore|error):/
ERASE.5: /@erase(?![A-Za-z0-9_:@])/
TABLE_SPLICE.5: /@table::<NAME><PART>*/
SEQUENCE_SPLICE.5: /@sequence::<NAME><PART>*/
LOCAL_REF.5: /@local::<NAME><PART>*/
DB_REF.5: /@db::<NAME><PART>*/
TABLE_ID.5: /@id::[0-9A-Fa-f]+<END_NUMBER>/
NIL.5: /@nil<END_ATOM>/
BOOL.4: /(?:true|false)<END_ATOM>/
NUMBER.3: /<NUMBER>/
NUMBER_COMMA.4: /<NUMBER>[ \t\r\n]*,[ \t\r\n]*/
DSS.2: /\d+[A-Za-z_][A-Za-z0-9_]*<END_DSS>/
NAME_COLON.3: /<NAME>[ \t\r\n]*:(?!:)[ \t]*/
QUALNAME_COLON.3: /<NAME><PART>+[ \t\r\n]*:(?!:)[ \t]*/
QUALNAME.2: /<NAME><PART>+/
NAME.1: /<NAME>/
SQSTRING: /'[^']*'<END_ATOM>/
DQSTRING: /"(?>(?:\\\\"|[^"])*)"<END_ATOM>/
LBRACE: "{"
RBRACE: "}"
LSQB: "["
RSQB: "]"
LPAR: "("
RPAR: ")"
_COLON: ":"
_COMMA: ","

// Whitespace and comments, except comments that may be #include lines (INCLUDE wins where
// an include may stand; elsewhere, or when malformed, INCLUDE_COMMENT takes them).
IGNORED: /(?:[ \t\n\r\f\v]+|(?:#(?!include)|\/\/)[^\n]*)+/
INCLUDE_COMMENT: /#include[^\n]*/
%ignore IGNORED
%ignore INCLUDE_COMMENT
"""


def fhicl_grammar() -> str:
    """The grammar text with the maximal-munch lookaheads filled in."""
    text = _TEMPLATE.replace("<NAME>", _NAME).replace("<PART>", _PART).replace("<NUMBER>", _NUMBER)
    for name, pattern in _LOOKAHEADS.items():
        text = text.replace(name, pattern)
    return text
