"""The FHiCL grammar for lark (LALR, contextual lexer), with fhicl-cpp's token rules.

fhicl-cpp tokenises by "maximal munch": a token only counts if the character after it is
whitespace or one of a few delimiters, so `12ab` is a string, `1-2` is nothing, and `"a"b` is an
error. Each terminal below carries that rule as a lookahead. "Whitespace" there means anything
outside printable ASCII (`[^!-~]`), as C's `isgraph` sees it. Priorities settle the overlaps the
contextual lexer still sees: keywords over names, `true`/`false`/numbers over strings,
`#include` over comments.
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

_TEMPLATE = r"""
start: _entry*
_entry: prolog | _statement
prolog: BEGIN_PROLOG _entry* END_PROLOG

_statement: assign | erase | table_splice | include
assign: qualname _COLON value
      | qualname PROTECT value -> assign_protected
erase: qualname _COLON ERASE
table_splice: TABLE_SPLICE qualname
include: INCLUDE
qualname: NAME (DOT NAME | LSQB INDEX RSQB)*

value: NIL | BOOL | NUMBER | complex | NAME | DSS | SQSTRING | DQSTRING | TABLE_ID
     | reference | sequence | table
complex: LPAR NUMBER _COMMA NUMBER RPAR
reference: LOCAL_REF qualname | DB_REF qualname

sequence: LSQB RSQB
        | LSQB _item (_COMMA _item)* RSQB
_item: value | sequence_splice
sequence_splice: SEQUENCE_SPLICE qualname

table: LBRACE _table_entry* RBRACE
_table_entry: table_assign | table_erase | table_splice | include
table_assign: NAME _COLON value
            | NAME PROTECT value -> table_assign_protected
table_erase: NAME _COLON ERASE

BEGIN_PROLOG.9: /BEGIN_PROLOG(?![A-Za-z0-9_])/
END_PROLOG.9: /END_PROLOG(?![A-Za-z0-9_])/
INCLUDE.9: /#include[ \t]"[^\n]*"(?=[ \t\r]*(?:\n|\Z))/
PROTECT.5: /@protect_(?:ignore|error):/
ERASE.5: /@erase(?![A-Za-z0-9_:@])/
TABLE_SPLICE.5: "@table::"
SEQUENCE_SPLICE.5: "@sequence::"
LOCAL_REF.5: "@local::"
DB_REF.5: "@db::"
TABLE_ID.5: /@id::[0-9A-Fa-f]+<END_NUMBER>/
NIL.5: /@nil<END_ATOM>/
BOOL.4: /(?:true|false)<END_ATOM>/
NUMBER.3: /(?:[+-]?infinity<END_INF>|(?:0[xX][0-9A-Fa-f]+|0[bB][01]+|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)<END_NUMBER>)/
DSS.2: /\d+[A-Za-z_][A-Za-z0-9_]*<END_DSS>/
NAME.1: /[A-Za-z_][A-Za-z0-9_]*<END_NAME>/
INDEX: /\d+<END_NUMBER>/
SQSTRING: /'[^']*'<END_ATOM>/
DQSTRING: /"(?>(?:\\\\"|[^"])*)"<END_ATOM>/
LBRACE: "{"
RBRACE: "}"
LSQB: "["
RSQB: "]"
LPAR: "("
RPAR: ")"
DOT: "."
_COLON: ":"
_COMMA: ","

COMMENT: /(?:#|\/\/)[^\n]*/
WHITESPACE: /[ \t\n\r\f\v]+/
%ignore COMMENT
%ignore WHITESPACE
"""


def fhicl_grammar() -> str:
    """The grammar text with the maximal-munch lookaheads filled in."""
    text = _TEMPLATE
    for name, pattern in _LOOKAHEADS.items():
        text = text.replace(name, pattern)
    return text
