"""FHiCL <-> artdaq_database `document`/`comments` (snippet mode) against the C++ fixtures.

For every fixture pair `data` is compared exactly (ordered, duplicates kept), and so is the
whole metadata (types, comments, annotations, protections) and the `comments` list. Fixture
quirks, not deviations:

* `fcl2dbjson/test002/*.json` and `test007/test008.json` are byte copies of the JSON of the
  original files (`test001/*.fcl`, `test006/test008.fcl`), while the `.fcl` beside them is the
  C++ writer's regeneration of those originals: same data and metadata, other line numbers, so
  the `comments` list is compared against the original file's conversion instead.
* `fcl2dbjson/test004/*.json` have no `.fcl`: they are the conversions of `test002/*.fcl`.
* `fcl2dbjson/test006/test008a.fcl` is the output of an older C++ writer (two spaces after
  atoms), so it is not a golden for `document_to_fhicl`.

Deliberate deviations from the C++ tools (documented in `app.fhicl.comments`, `dbjson`,
`regenerate`): comments after a non-ASCII character are still found; `@table::x` is stored as
`fhicl_table_splice_<n>: x` and written back as `@table::x` (the C++ reader rejects it);
metadata missing for a data node is guessed on export instead of dropping the node.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from app.fhicl.dbjson import ConvertedDocument, document_to_fhicl, fhicl_to_document
from app.fhicl.errors import FhiclError
from app.fhicl.pairs import Pairs

FCL2DBJSON = "artdaq_database/test/DataFormats/Fhicl/fcl2dbjson"
READWRITE = "artdaq_database/test/ConfigurationDB/ReadWrite"
# (source .fcl, expected .json, .fcl whose conversion has the expected `comments`)
FIXTURES = [
    ("test001/test001.fcl", "test001/test001.json", "test001/test001.fcl"),
    ("test001/test002.fcl", "test001/test002.json", "test001/test002.fcl"),
    ("test001/test003.fcl", "test001/test003.json", "test001/test003.fcl"),
    ("test001/test004.fcl", "test001/test004.json", "test001/test004.fcl"),
    ("test001/test005.fcl", "test001/test005.json", "test001/test005.fcl"),
    ("test002/test001.fcl", "test002/test001.json", "test001/test001.fcl"),
    ("test002/test002.fcl", "test002/test002.json", "test001/test002.fcl"),
    ("test002/test001.fcl", "test004/test001.json", "test002/test001.fcl"),
    ("test002/test002.fcl", "test004/test002.json", "test002/test002.fcl"),
    ("test005/test006.fcl", "test005/test006.json", "test005/test006.fcl"),
    ("test006/test007.fcl", "test006/test007.json", "test006/test007.fcl"),
    ("test006/test008.fcl", "test006/test008.json", "test006/test008.fcl"),
    ("test007/test008.fcl", "test007/test008.json", "test006/test008.fcl"),
]
# (stored source, what the C++ export of it returns)
WRITER_GOLDENS = [
    (f"{READWRITE}/test002/test001.src.fcl", f"{READWRITE}/test004/test001.cmp.fcl"),
    (f"{READWRITE}/test012/test011.src.fcl", f"{READWRITE}/test014/test011.cmp.fcl"),
    (f"{FCL2DBJSON}/test001/test001.fcl", f"{FCL2DBJSON}/test002/test001.fcl"),
    (f"{FCL2DBJSON}/test001/test002.fcl", f"{FCL2DBJSON}/test002/test002.fcl"),
    (f"{FCL2DBJSON}/test006/test008.fcl", f"{FCL2DBJSON}/test007/test008.fcl"),
]
# Files already in the C++ writer's layout: regeneration gives them back byte for byte.
FIXED_POINTS = [f"{FCL2DBJSON}/test003/test{n:03}.fcl" for n in range(1, 11)] + [
    f"{READWRITE}/test004/test001.cmp.fcl",
    f"{READWRITE}/test012/test011.src.fcl",
    f"{FCL2DBJSON}/test002/test001.fcl",
    f"{FCL2DBJSON}/test002/test002.fcl",
]


def _convert(text: str) -> ConvertedDocument:
    return fhicl_to_document(text, name="t.fcl")


def _plain(value: Any) -> Any:
    """Pairs -> lists of pairs, so that comparisons are ordered and keep duplicates."""
    if isinstance(value, Pairs):
        return [(key, _plain(item)) for key, item in value]
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _data(text: str, section: str = "main") -> Any:
    return _plain(_convert(text).document.get("data").get(section))


def _meta(text: str, section: str = "main") -> Any:
    return _plain(_convert(text).document.get("metadata").get(section).get("children"))


@pytest.mark.parametrize(("source", "expected", "comments_of"), FIXTURES)
def test_conversion_matches_the_cpp_fixtures(
    testdata: Path, source: str, expected: str, comments_of: str
) -> None:
    base = testdata / FCL2DBJSON
    fixture = json.loads((base / expected).read_text(), object_pairs_hook=Pairs)
    converted = _convert((base / source).read_text())
    assert _plain(converted.document.get("data")) == _plain(fixture.get("document").get("data"))
    assert _plain(converted.document.get("metadata")) == _plain(
        fixture.get("document").get("metadata")
    )
    assert converted.document.get("search") == []
    reference = _convert((base / comments_of).read_text())
    assert _plain(reference.comments) == _plain(fixture.get("comments"))


@pytest.mark.parametrize(("source", "expected"), WRITER_GOLDENS)
def test_regeneration_matches_the_cpp_export(testdata: Path, source: str, expected: str) -> None:
    document = _convert((testdata / source).read_text()).document
    assert document_to_fhicl(document) == (testdata / expected).read_text()


@pytest.mark.parametrize("path", FIXED_POINTS)
def test_files_in_the_writer_layout_are_fixed_points(testdata: Path, path: str) -> None:
    text = (testdata / path).read_text()
    assert document_to_fhicl(_convert(text).document) == text


def test_regenerated_real_configurations_convert_back_to_the_same_data(testdata: Path) -> None:
    """Export then re-import keeps every value (include keys renumber: the C++ numbering also
    counts commented-out `##include` lines, which regeneration drops)."""

    def without_include_numbers(value: Any) -> Any:
        return [
            ("include" if key.startswith("fhicl_pound_include_") else key, item)
            for key, item in _plain(value)
        ]

    checked = 0
    for path in sorted((testdata / "sbndaq").rglob("*.fcl")):
        try:
            original = _convert(path.read_bytes().decode("utf-8", "surrogateescape"))
        except FhiclError:
            continue
        again = _convert(document_to_fhicl(original.document))
        for section in ("prolog", "main"):
            before = without_include_numbers(original.document.get("data").get(section))
            after = without_include_numbers(again.document.get("data").get(section))
            assert before == after, path
        checked += 1
    assert checked > 100


def test_atoms_are_strings_as_written_with_their_types() -> None:
    text = "a: 0x2097152\nb: -0.45600E+3\nc: 'x'\nd: \"y\"\ne: z\nf: @nil\ng: (1, 2)\nh: true\n"
    assert _data(text) == [
        ("a", "0x2097152"),
        ("b", "-0.45600E+3"),
        ("c", "x"),
        ("d", "y"),
        ("e", "z"),
        ("f", "@nil"),
        ("g", "(1,2)"),
        ("h", "true"),
    ]
    types = [meta[0][1] for _, meta in _meta(text)]
    assert types == [
        "number",
        "number",
        "string_singlequoted",
        "string_doublequoted",
        "string_unquoted",
        "nil",
        "complex",
        "bool",
    ]


def test_references_and_overrides_stay_unresolved() -> None:
    text = "t: { a: 1 }\nu: @local::t\nu.a: 2\nv[1]: 3\n"
    assert _data(text) == [("t", [("a", "1")]), ("u", "@local::t"), ("u.a", "2"), ("v[1]", "3")]
    assert _meta(text)[1][1][0] == ("type", "string_unquoted")


def test_top_level_duplicates_are_kept_but_table_duplicates_overwrite_in_place() -> None:
    text = "a: 1\nb: { x: 1 y: 2 x: 3 }\na: 4\n"
    assert _data(text) == [("a", "1"), ("b", [("x", "3"), ("y", "2")]), ("a", "4")]


def test_a_main_binding_replaces_the_prolog_binding_of_the_same_name() -> None:
    text = "BEGIN_PROLOG\na: 1\nb: 2\nEND_PROLOG\na: 3\n"
    assert _data(text, "prolog") == [("b", "2")]
    assert _data(text) == [("a", "3")]


def test_includes_are_numbered_like_the_cpp_regex_pass() -> None:
    text = (
        'BEGIN_PROLOG\n#include "a.fcl"\nEND_PROLOG\n##include "off.fcl"\n'
        'x: {\n   #include "b.fcl"\n}\n#include "c.fcl"\n'
    )
    assert _data(text, "prolog") == [("fhicl_pound_include_0", "a.fcl")]
    assert _data(text) == [
        ("x", [("fhicl_pound_include_2", "b.fcl")]),
        ("fhicl_pound_include_3", "c.fcl"),
    ]
    meta = dict(_meta(text, "prolog"))["fhicl_pound_include_0"]
    assert meta == [("type", "string_doublequoted"), ("comment", ""), ("annotation", "")]


def test_comment_above_and_annotation_beside_the_value_line() -> None:
    text = (
        "# above a\n"
        "a: 1 # beside a\n"
        "b: 2\n"  # the line above holds a's annotation: the C++ takes it as b's comment
        "// slash comments are never `comment`s\n"
        "c: 3\n"
        "t:\n"
        "{ # tables have no annotation\n"
        "  d: [1,\n"
        "      2] # beside d's element 1 only\n"
        "}\n"
    )
    meta = dict(_meta(text))
    assert meta["a"] == [("type", "number"), ("comment", "# above a"), ("annotation", "# beside a")]
    assert meta["b"] == [("type", "number"), ("comment", "# beside a"), ("annotation", "")]
    assert meta["c"] == [("type", "number"), ("comment", ""), ("annotation", "")]
    table = meta["t"]
    assert table[:2] == [("type", "table"), ("comment", "")]
    sequence = dict(dict(table)["children"])["d"]
    elements = dict(dict(sequence)["children"])
    assert dict(elements["0"])["comment"] == "# tables have no annotation"
    assert dict(elements["1"])["annotation"] == "# beside d's element 1 only"


def test_comments_list_follows_the_cpp_scan() -> None:
    text = 'a: "#in a string" # real\nb: \'x#y\'\nc: "" # after an empty string\n'
    comments = _plain(_convert(text).comments)
    assert comments == [
        [("linenum", 1), ("value", "# real")],
        [("linenum", 2), ("value", "#y'")],  # single quotes are not strings to the scan
        [("linenum", 3), ("value", "# after an empty string")],
    ]
    assert _plain(_convert("a: 1").comments) == [[("linenum", 0), ("value", "No comments")]]


def test_protections_are_recorded_and_inherited() -> None:
    text = "p @protect_ignore: { x: 1 y: [2] }\nq @protect_error: 3\n"
    meta = dict(_meta(text))
    assert dict(meta["p"])["protection"] == "@protect_ignore"
    children = dict(dict(meta["p"])["children"])
    assert dict(children["x"])["protection"] == "@protect_ignore"
    element = dict(dict(children["y"])["children"])["0"]
    assert dict(element)["protection"] == "@protect_ignore"
    assert meta["q"] == [
        ("type", "number"),
        ("comment", ""),
        ("annotation", ""),
        ("protection", "@protect_error"),
    ]


def test_protection_rules_inside_tables() -> None:
    assert _data("t: { a @protect_ignore: 1 a: 2 }") == [("t", [("a", "1")])]
    with pytest.raises(FhiclError, match="@protect_error"):
        _convert("t: {\n a @protect_error: 1\n a: 2\n}")
    with pytest.raises(FhiclError) as caught:
        _convert("t: {\n a: 1\n a @protect_ignore: 2\n}")
    assert (caught.value.line, caught.value.column) == (3, 2)
    with pytest.raises(FhiclError, match="less protected"):
        _convert("t @protect_error: { a @protect_ignore: 1 }")


def test_project_choices_for_what_the_cpp_reader_cannot_read() -> None:
    text = "t: { @table::base  s: [@sequence::seq, 1]  e: @erase }\n@table::other\n"
    assert _data(text) == [
        ("t", [("fhicl_table_splice_0", "base"), ("s", ["@sequence::seq", "1"]), ("e", "@erase")]),
        ("fhicl_table_splice_1", "other"),
    ]


def test_unparsable_text_raises_with_the_file_name() -> None:
    with pytest.raises(FhiclError) as caught:
        fhicl_to_document("a: {", name="boot.fcl")
    assert caught.value.file == "boot.fcl"


def test_regeneration_layout() -> None:
    text = (
        'BEGIN_PROLOG\n#include "p.fcl"\nbase: {}\nEND_PROLOG\n'
        "# about a\na @protect_ignore: 'q' # note\n"
        "s: [-1, x, 'a b', [1, 2], {k: v}]\n@table::base\nt: { }\n"
    )
    # `s` and the table inside it start on the line after a's annotation, which the C++ rule
    # makes their comment.
    assert document_to_fhicl(_convert(text).document) == (
        'BEGIN_PROLOG\n \n#include "p.fcl" \n\nbase: {\n\n}\nEND_PROLOG\n'
        "# about a\na @protect_ignore: 'q' # note\n"
        '# note\ns: ["-1", x, "a b", [1, 2] \n, {\n# note\nk: v \n\n}] \n'
        "\n@table::base \n"
        "\nt: {\n\n}"
    )


def test_regeneration_keeps_data_whose_metadata_is_missing() -> None:
    document = _convert("a: 1\nb: [x]\n").document
    document.get("metadata").get("main").get("children").clear()
    document.get("data").get("main").append(("c", Pairs([("d", "two words")])))
    assert document_to_fhicl(document) == '\na: 1 \n\nb: [x] \n\nc: {\n\nd: "two words" \n\n}'
