"""Unpacking blobs (blob.md §4), reading legacy blobs (§7.6), and conflict comparison."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.pipeline.blob import BlobError, compare, pack, unpack

STAMP = "Oct 01 20:52 UTC"


def _legacy_blob(run: int, stamp: str, files: list[tuple[str, bytes]], footer_stamp: str) -> bytes:
    """A blob assembled the way the legacy tool wrote it, independently of `pack`."""
    body = b"".join(b"\n#####\n" + n.encode() + b":\n#####\n" + c for n, c in files)
    return (
        f"Start of Record\nRun Number: {run}\nPacked on {stamp}\n".encode()
        + body
        + f"\nEnd of Record\nRun Number: {run}\nPacked on {footer_stamp}\n".encode()
    )


def test_vector_unpacks_to_the_eight_files(vector_files: list[tuple[str, bytes]]) -> None:
    blob = unpack(pack(17512, vector_files, STAMP).data)
    files = dict(blob.files)

    assert blob.run == 17512
    assert blob.stamp == STAMP
    assert blob.warnings == ()
    assert {name: files[name] for name in files} == {
        path.rsplit("/", 1)[-1]: content for path, content in vector_files
    }
    assert files["RunHistory.fcl"].endswith(b"]\n\n")
    assert files["RunHistory2.fcl"].endswith(b'"')


def test_legacy_blob_with_other_stamp_latin1_text_and_lowercase_names() -> None:
    files = [("tpc01.fcl", "détecteur: 1\n".encode("latin-1")), ("metadata.fcl", b"x: 2\n")]
    data = _legacy_blob(812, "Sep 30 23:59 UTC", files, "Sep 30 23:59 UTC")

    blob = unpack(data)

    assert blob.run == 812
    assert blob.stamp == "Sep 30 23:59 UTC"
    assert list(blob.files) == files


def test_footer_stamp_differing_is_tolerated_with_a_warning() -> None:
    data = _legacy_blob(5, "Oct 01 20:52 UTC", [("a.fcl", b"x")], "Oct 01 20:53 UTC")

    blob = unpack(data)

    assert blob.files == (("a.fcl", b"x"),)
    assert [w.code for w in blob.warnings] == ["footer_stamp_differs"]


def test_non_utf8_name_is_kept_losslessly_with_a_warning() -> None:
    raw = (
        b"Start of Record\nRun Number: 5\nPacked on Oct 01 20:52 UTC\n"
        b"\n#####\nd\xe9.fcl:\n#####\nx"
        b"\nEnd of Record\nRun Number: 5\nPacked on Oct 01 20:52 UTC\n"
    )

    blob = unpack(raw)

    assert blob.files[0][0].encode("utf-8", "surrogateescape") == b"d\xe9.fcl"
    assert [w.code for w in blob.warnings] == ["name_not_utf8"]


def test_content_lines_starting_with_hashes_stay_in_their_file() -> None:
    files = [("a.fcl", b"#####\n# banner\n#####\nx: 1\n"), ("b.fcl", b"y")]

    assert list(unpack(pack(1, files, STAMP).data).files) == files


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "bad_header"),
        (b"hello", "bad_header"),
        (b"Start of Record\nRun Number: 5\nPacked on X\n\n#####\na:\n#####\nx", "bad_footer"),
        (
            b"Start of Record\nRun Number: 5\nPacked on X\n\n#####\na:\n#####\nx"
            b"\nEnd of Record\nRun Number: 6\nPacked on X\n",
            "bad_footer",
        ),
        (
            b"Start of Record\nRun Number: 5\nPacked on X\n"
            b"\nEnd of Record\nRun Number: 5\nPacked on X\n",
            "no_files",
        ),
        (
            b"Start of Record\nRun Number: 5\nPacked on X\n\n#####\nno colon\n#####\nx"
            b"\nEnd of Record\nRun Number: 5\nPacked on X\n",
            "bad_section",
        ),
    ],
)
def test_malformed_blobs_are_refused(data: bytes, code: str) -> None:
    with pytest.raises(BlobError) as error:
        unpack(data)

    assert error.value.code == code


def test_compare_identical_stamp_only_and_file_differences() -> None:
    files = [("a.fcl", b"1\n"), ("b.fcl", b"2\n"), ("c.fcl", b"3\n")]
    ours = pack(9, files, STAMP).data

    assert compare(ours, ours).identical
    restamped = compare(ours, pack(9, files, "Oct 02 00:00 UTC").data)
    assert restamped.stamp_only
    assert "only in the 'Packed on' lines" in restamped.summary()

    theirs = pack(9, [("A.fcl", b"1\n"), ("b.fcl", b"two\n"), ("d.fcl", b"4\n")], STAMP).data
    difference = compare(ours, theirs)
    assert (difference.changed, difference.missing, difference.extra) == (
        ("b.fcl",),
        ("c.fcl",),
        ("d.fcl",),
    )
    assert difference.summary() == (
        "stored blob differs in the files (changed: b.fcl; only in ours: c.fcl; "
        "only in stored: d.fcl)"
    )

    unreadable = compare(ours, b"not a blob")
    assert unreadable.unreadable is not None
    assert unreadable.summary().startswith("stored blob is not readable")


_names = st.text(
    alphabet=st.characters(blacklist_characters="/\n", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=12,
)
_contents = st.binary(max_size=200) | st.lists(
    st.sampled_from([b"#####", b"\n", b":", b"x", b"End of Record", b"\r\n", b"\xff"]),
    max_size=30,
).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(files=st.dictionaries(_names, _contents, min_size=1, max_size=6), run=st.integers(0, 10**7))
def test_round_trip_is_exact_or_refused(files: dict[str, bytes], run: int) -> None:
    unique = {name.lower(): (name, content) for name, content in files.items()}
    try:
        packed = pack(run, list(unique.values()), STAMP)
    except BlobError as exc:
        assert exc.code in {"marker_in_content", "end_of_record_in_content"}
        return
    blob = unpack(packed.data)
    assert blob.run == run
    assert sorted(blob.files) == sorted(unique.values())
    assert [name for name, _ in blob.files] == [f.name for f in packed.inputs.files]
