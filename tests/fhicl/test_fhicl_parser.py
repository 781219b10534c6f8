"""The FHiCL parser against fhicl-cpp's conformance files, real DAQ configurations and unit cases.

Fail files the parser accepts, because they are only invalid once includes and references are
resolved (which needs the included files; the archiver stores includes unresolved):

* `adv_ref_fail.fcl`: `tab1.a: 7` in the main part replaces the prolog table `tab1` by a new
  table holding only `a`, so the later `@local::tab1.b` finds nothing. Syntactically valid.
* `include4_fail.fcl`: `#include "helloworld"` is well formed; the file just does not exist.
"""

import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.fhicl import ast
from app.fhicl.errors import FhiclError
from app.fhicl.parser import check, parse

CONFORMANCE = "fhicl-cpp/fhiclcpp/test/testFiles"
PASS_FILES = [
    "adv_num_pass.fcl", "adv_ref2_pass.fcl", "adv_ref3_pass.fcl", "adv_ref4_pass.fcl",
    "adv_ref5_pass.fcl", "adv_string_pass.fcl", "adv_test_pass.fcl", "assoc_pass.fcl",
    "bool_pass.fcl", "combo_exist_pass.fcl", "combo_new_pass.fcl", "comments_pass.fcl",
    "hname2_pass.fcl", "hname_pass.fcl", "hname_pro_pass.fcl", "include_pass.fcl",
    "leading_zero_pass.fcl", "names_pass.fcl", "override2_pass.fcl", "override_pass.fcl",
    "prolog_pass.fcl", "recursion_pass.fcl", "ref_pass.fcl", "seq_pass.fcl", "string_pass.fcl",
    "table_pass.fcl", "test1.fcl", "test2.fcl", "test3.fcl", "test4.fcl", "test5.fcl",
]  # fmt: skip
DB_FILES = ["db_0.fcl", "db_1.fcl", "db_2.fcl"]
# fail file -> the line fhicl-cpp (and the parser) reports it at
FAIL_FILES = {
    "adv_string_fail.fcl": 1,  # `abcd_ %678`: '%' cannot follow a value
    "assoc2_fail.fcl": 5,  # `y = 5`
    "assoc_fail.fcl": 5,  # `x : #include ...` has no value (mid-line #include is a comment)
    "hname_fail.fcl": 5,  # `.a : 5`
    "include2_fail.fcl": 6,  # `#include filename.ext`
    "include3_fail.fcl": 6,  # no closing quote
    "include_fail.fcl": 6,  # `#include"filename.ext"`
    "name2_fail.fcl": 6,  # `1 : a`
    "name_fail.fcl": 6,  # `1ab : 5`
    "prolog2_fail.fcl": 2,  # prolog after a statement
    "prolog3_fail.fcl": 3,  # nested prolog
    "prolog4_fail.fcl": 5,  # second prolog after a statement
    "prolog_fail.fcl": 2,
    "ref_fail.fcl": 7,  # `@local:x`
    "seq_fail.fcl": 6,  # the comment swallows the rest of the sequence
    "table_fail.fcl": 6,  # commas between table entries
}
ACCEPTED_FAIL_FILES = ["adv_ref_fail.fcl", "include4_fail.fcl"]  # see the module docstring
# Real configurations fhicl-cpp rejects too, with the reason.
INVALID_CONFIGURATIONS = {
    **{
        f"sbndaq/sbn-nd/DAQInterface/configs/standard/CRTnorthwall/feb{n}.fcl": (
            1,
            'a stray "<" after `#include "../crt_feb_standard.fcl"`',
        )
        for n in (149, 150, 151, 152, 156, 157, 158, 181, 182)
    },
    "sbndaq/sbn-nd/DAQInterface/configs/standard/crt_standard_old.fcl": (
        1259,
        "one closing brace too many",
    ),
}


def _error(text: str) -> FhiclError:
    with pytest.raises(FhiclError) as caught:
        parse(text, filename="t.fcl")
    return caught.value


@pytest.mark.parametrize("name", [f"pass/{name}" for name in PASS_FILES] + DB_FILES)
def test_conformance_pass_files_parse(testdata: Path, name: str) -> None:
    path = testdata / CONFORMANCE / name
    document = parse(path.read_text(), filename=str(path))
    assert document.prolog or document.main or name.endswith("comments_pass.fcl")


@pytest.mark.parametrize(("name", "line"), sorted(FAIL_FILES.items()))
def test_conformance_fail_files_are_rejected_at_the_right_line(
    testdata: Path, name: str, line: int
) -> None:
    path = testdata / CONFORMANCE / "fail" / name
    with pytest.raises(FhiclError) as caught:
        check(path.read_text(), filename=str(path))
    assert caught.value.file == str(path)
    assert caught.value.line == line


@pytest.mark.parametrize("name", ACCEPTED_FAIL_FILES)
def test_fail_files_that_need_evaluation_are_accepted(testdata: Path, name: str) -> None:
    path = testdata / CONFORMANCE / "fail" / name
    check(path.read_text(), filename=str(path))


def test_every_conformance_file_is_classified(testdata: Path) -> None:
    found = {path.name for path in (testdata / CONFORMANCE / "fail").glob("*.fcl")}
    assert found == set(FAIL_FILES) | set(ACCEPTED_FAIL_FILES)
    assert {path.name for path in (testdata / CONFORMANCE / "pass").glob("*.fcl")} == set(
        PASS_FILES
    )


def test_real_configurations_parse_except_the_invalid_ones(testdata: Path) -> None:
    paths = sorted((testdata / "sbndaq").rglob("*.fcl"))
    paths += sorted((testdata / "artdaq_daqinterface").rglob("*.fcl"))
    assert len(paths) > 1000
    rejected = {}
    for path in paths:
        try:
            check(path.read_bytes().decode("utf-8", "surrogateescape"), filename=str(path))
        except FhiclError as error:
            rejected[str(path.relative_to(testdata))] = error
    assert set(rejected) == set(INVALID_CONFIGURATIONS)
    for name, (line, _) in INVALID_CONFIGURATIONS.items():
        assert rejected[name].line == line


def test_atoms_keep_their_spelling_and_kind() -> None:
    ident = "0123456789abcdef0123456789ABCDEF01234567"
    text = f"""
    a: 5  b: -0.45600E+3  c: 0x1F  d: 0b101  e: infinity  f: -infinity  g: 01.23e2  h: .68
    i: (1.23, -4)  j: true  k: false  l: @nil  m: hello  n: 12ab  o: "dq \\"x\\" #"
    p: 'sq # //'  q: @local::tab.a[0].b  r: @id::{ident}  s: True  t: true#x
    """
    found = {
        statement.name: (statement.value.kind, statement.value.text, statement.value.quote)
        for statement in parse(text).main
        if isinstance(statement, ast.Binding) and isinstance(statement.value, ast.Atom)
    }
    assert found == {
        "a": ("number", "5", ""),
        "b": ("number", "-0.45600E+3", ""),
        "c": ("number", "0x1F", ""),
        "d": ("number", "0b101", ""),
        "e": ("number", "infinity", ""),
        "f": ("number", "-infinity", ""),
        "g": ("number", "01.23e2", ""),
        "h": ("number", ".68", ""),
        "i": ("complex", "(1.23,-4)", ""),
        "j": ("bool", "true", ""),
        "k": ("bool", "false", ""),
        "l": ("nil", "@nil", ""),
        "m": ("string", "hello", ""),
        "n": ("string", "12ab", ""),
        "o": ("string", 'dq \\"x\\" #', '"'),
        "p": ("string", "sq # //", "'"),
        "q": ("reference", "@local::tab.a[0].b", ""),
        "r": ("id", f"@id::{ident}", ""),
        "s": ("string", "True", ""),
        # fhicl-cpp: `true` must be followed by whitespace , ] or }, so this is a name
        "t": ("string", "true", ""),
    }


def test_structure_prolog_tables_sequences_and_directives() -> None:
    text = """// leading comment
BEGIN_PROLOG
base: { x: 1 y @protect_ignore: [1, 2] }
END_PROLOG
BEGIN_PROLOG
other @protect_error: 3
END_PROLOG
#include "standard.fcl"
job: {
  @table::base
  list: [ 0, @sequence::base.y , [ ] , {} , "s" ]
  gone: @erase
     #include "indented.fcl"
}
job . list [ 1 ] : 7   # an override with whitespace
job.gone: @erase
"""
    document = parse(text)
    assert [type(s).__name__ for s in document.prolog] == ["Binding", "Binding"]
    base, other = document.prolog
    assert isinstance(base, ast.Binding) and isinstance(base.value, ast.Table)
    y = base.value.entries[1]
    assert isinstance(y, ast.Binding) and y.protection == "@protect_ignore"
    assert isinstance(other, ast.Binding) and other.protection == "@protect_error"
    include, job, override, erase = document.main
    assert include == ast.Include("standard.fcl", 8, 1)
    assert isinstance(job, ast.Binding) and isinstance(job.value, ast.Table)
    splice, listing, gone, indented = job.value.entries
    assert splice == ast.TableSplice("base", 10, 3)
    assert isinstance(listing, ast.Binding) and isinstance(listing.value, ast.Sequence)
    kinds = [type(item).__name__ for item in listing.value.items]
    assert kinds == ["Atom", "SequenceSplice", "Sequence", "Table", "Atom"]
    assert listing.value.items[1] == ast.SequenceSplice("base.y", 11, 14)
    assert gone == ast.Erase("gone", 12, 9)
    assert indented == ast.Include("indented.fcl", 13, 6)
    assert isinstance(override, ast.Binding) and override.name == "job.list[1]"
    assert override.value == ast.Atom("number", "7", "", 15, 20)
    assert erase == ast.Erase("job.gone", 16, 11)


def test_comments_are_whitespace_anywhere_outside_strings() -> None:
    text = 'a: [1, # one\n 2 // two\n, 3]\nb: { c: "#not a comment" // real\n}\n# end'
    first, second = parse(text).main
    assert isinstance(first, ast.Binding) and isinstance(first.value, ast.Sequence)
    assert [item.text for item in first.value.items] == ["1", "2", "3"]  # type: ignore[union-attr]
    assert isinstance(second, ast.Binding) and isinstance(second.value, ast.Table)
    entry = second.value.entries[0]
    assert isinstance(entry, ast.Binding) and entry.value.text == "#not a comment"  # type: ignore[union-attr]


def test_strings_may_span_lines_and_use_fhicl_escapes() -> None:
    text = "a: \"x\n\\ty\\n\\\\ \\\" \\'\"\nb: 'c:\\\\temp\\q\n'\n"
    first, second = parse(text).main
    assert first.value.text == "x\n\\ty\\n\\\\ \\\" \\'"  # type: ignore[union-attr]
    assert second.value.text == "c:\\\\temp\\q\n"  # type: ignore[union-attr]


def test_include_may_precede_a_prolog_block() -> None:
    document = parse('#include "prolog_only.fcl"\nBEGIN_PROLOG\na: 1\nEND_PROLOG\nb: @local::a\n')
    assert [type(s).__name__ for s in document.main] == ["Include", "Binding"]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('a: "a" "b"', 1, 8),  # two values
        ('a: "a"b', 1, 4),  # a quoted string must end at whitespace , ] or }
        ('a: "C:\\\\"', 1, 4),  # fhicl-cpp reads \" before the closing quote
        ('a: "bad \\d"', 1, 9),  # unknown escape
        ('a: "caf\u00e9"', 1, 8),  # not printable ASCII
        ("a: 'cr\rx'", 1, 7),
        ("a: 1-2", 1, 4),
        ("a: @local:x", 1, 4),
        ("a: @local:: x", 1, 4),
        ("a: @db::x", 1, 4),
        ("a: @id::abc", 1, 4),
        ("a: [1, 2,]", 1, 10),
        ("a: {b: 1, c: 2}", 1, 9),
        ("a = 1", 1, 3),
        (".a: 1", 1, 1),
        ("1a: 1", 1, 1),
        ("a: {\nb: 1\n", 2, 5),
        ("a: }", 1, 4),
        ("a:", 1, 3),
        ("a: b: c", 1, 5),
        ("a @protect_ignore : 1", 1, 3),
        ("a: b.c", 1, 5),
        ("a: (1 2)", 1, 7),
        ("a: { b.c: 1 }", 1, 7),
        ('#include"x.fcl"', 1, 1),
        ('x: 1\n#include "x.fcl" # trailing comment', 2, 1),
        ("x: 1\nBEGIN_PROLOG\ny: 2\nEND_PROLOG\n", 2, 1),
        ("BEGIN_PROLOG\nBEGIN_PROLOG\ny: 2\nEND_PROLOG\nEND_PROLOG\n", 2, 1),
        ("a: 1\n\u00e9: 2", 2, 1),
        ("a: 1 \x00", 1, 6),
    ],
)
def test_invalid_snippets_are_located(text: str, line: int, column: int) -> None:
    error = _error(text)
    assert (error.file, error.line, error.column) == ("t.fcl", line, column)
    assert str(error) == f"t.fcl:{line}:{column}: {error.message}"


def test_error_messages_say_what_was_expected() -> None:
    assert "table entries are not separated by commas" in _error("a: {b: 1, c: 2}").message
    assert "expected ':'" in _error("a = 1").message
    assert _error("a:").message.startswith("unexpected end of file")
    assert "malformed #include" in _error('#include "x"<').message


def test_indented_include_with_trailing_text_is_only_a_comment() -> None:
    document = parse('a: {\n  #include "x.fcl" <- not a directive\n}\n')
    binding = document.main[0]
    assert isinstance(binding, ast.Binding) and binding.value == ast.Table((), 1, 4)


def test_empty_and_comment_only_documents() -> None:
    assert parse("") == ast.Document((), ())
    assert parse("# nothing\n// at all\n") == ast.Document((), ())


def test_check_returns_none_for_valid_text() -> None:
    assert check("a: 1", filename="ok.fcl") is None


_FHICL_BITS = st.sampled_from(
    [
        *"ab_1:{}[](),.\"'#/@ \n\t\\-+e",
        *("@local::", "@table::", "@nil", "true", "BEGIN_PROLOG", "END_PROLOG", '#include "'),
        "\udcff",  # an undecodable byte, as surrogateescape decoding leaves it
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_FHICL_BITS | st.characters(), max_size=40).map("".join))
def test_any_text_is_either_parsed_or_rejected_with_a_location(text: str) -> None:
    try:
        parse(text, filename="fuzz.fcl")
    except FhiclError as error:
        assert error.file == "fuzz.fcl"
        assert 1 <= error.line <= text.count("\n") + 1
        assert error.column >= 1


def test_errors_survive_pickling_with_their_fields() -> None:
    error = _error("a: {")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (copy.file, copy.line, copy.column, copy.message) == (
        error.file,
        error.line,
        error.column,
        error.message,
    )
    assert str(copy) == str(error)
