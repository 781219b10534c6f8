"""The comments of a FHiCL file as artdaq_database's converter finds them (line -> comment text).

artdaq_database does not take comments from the FHiCL parser: it scans the raw text separately
(`fhicl_comments_parser_grammar` in `DataFormats/Fhicl/fhicl_reader.h`), and its metadata
attribution depends on that scan's quirks, so they are reproduced here: a comment is `#` or
`//` up to the end of the line; text inside "double quotes" is skipped, but only when the
quoted part is not empty (`""` is not recognised as a string); 'single quotes' are not
recognised at all, so a `#` inside them starts a comment. One deliberate difference: the C++
scan stops at the first non-ASCII character, dropping every later comment; this one does not.
"""

import re

_QUOTE_OR_COMMENT = re.compile(r'"|#|//')
_COMMENT = re.compile(r"#|//")
_LINE_END = re.compile(r"[\r\n]")


def scan_comments(text: str) -> dict[int, str]:
    """Every comment of `text`, keyed by its 1-based line number, in line order."""
    comments: dict[int, str] = {}
    length = len(text)
    position = 0
    counted_to = 0
    line = 1
    while position < length:
        cursor = position
        while True:
            found = _QUOTE_OR_COMMENT.search(text, cursor)
            if found is None or found.group() != '"':
                break
            closing = text.find('"', found.start() + 1)
            if closing <= found.start() + 1:
                cursor = found.start()
                break
            cursor = closing + 1
        found = _COMMENT.search(text, cursor)
        if found is None:
            break
        start = found.start()
        end_match = _LINE_END.search(text, start)
        end = end_match.start() if end_match else length
        line += text.count("\n", counted_to, start)
        counted_to = start
        comments[line] = text[start:end]
        position = end + (2 if text.startswith("\r\n", end) else 1)
    return comments
