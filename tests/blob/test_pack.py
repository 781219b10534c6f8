"""Packing a run blob: blob.md §1-§3 grammar and order, §7 determinism and refusals."""

import hashlib
import json
import re
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from app.pipeline.blob import (
    BlobError,
    PackingInputs,
    format_stamp,
    pack,
    rebuild,
    unpack,
)

STAMP = "Oct 01 20:52 UTC"


def _spec_block(spec: str, heading: str, index: int) -> bytes:
    """The `index`-th fenced block after `heading` in a spec file, as the bytes it shows."""
    section = spec[spec.index(heading) :]
    return section.split("```")[2 * index + 1].lstrip("\n").encode()


def test_vector_of_blob_md_section_3_checksums(vector_files: list[tuple[str, bytes]]) -> None:
    packed = pack(17512, vector_files, STAMP)

    assert packed.checksums.size == 1044
    assert packed.checksums.adler32 == 3301847140
    assert packed.checksums.adler32_hex == "c4ce3064"
    assert packed.checksums.md5 == "d8afe351e92c9c789931b83c76d9d047"
    assert packed.warnings == ()


def test_vector_matches_the_spec_text_byte_for_byte(
    vector_files: list[tuple[str, bytes]], shared_dir: Path
) -> None:
    expected = _spec_block((shared_dir / "spec" / "blob.md").read_text(), "## 3. Example", 1)

    assert pack(17512, vector_files, STAMP).data == expected


def test_ucondb_md_upload_example_body(shared_dir: Path) -> None:
    spec = (shared_dir / "spec" / "ucondb.md").read_text()
    expected = _spec_block(spec, "### 4.3 Upload", 0)
    history = expected.split(b"RunHistory2.fcl:\n#####\n")[1].split(b"\nEnd of Record")[0]

    packed = pack(12500, [("RunHistory2.fcl", history)], "Oct 01 20:10 UTC")

    assert packed.data == expected
    sums = re.search(r"size is (\d+), its `adler32` is (\d+), and its MD5 is `(\w+)`", spec)
    assert sums is not None
    assert packed.checksums.size == int(sums[1])
    assert packed.checksums.adler32 == int(sums[2])
    assert packed.checksums.md5 == sums[3]


def test_file_order_sorted_part_then_tail_list() -> None:
    names = [
        "RunHistory2.fcl", "tpc10.fcl", "ranks.fcl", "crt_standard.fcl", "EventBuilder1.fcl",
        "boot.fcl", "tpc1.fcl", "dispatcher1.fcl", "hashes.fcl", "settings.fcl", "crt01.fcl",
        "DataLogger1.fcl", "known_boardreaders_list.fcl", "environment.fcl", "schema.fcl",
        "RunHistory.fcl", "setup.fcl", "metadata.fcl",
    ]  # fmt: skip
    packed = pack(7, [(f"cfg/{n}", n.encode()) for n in names], STAMP)

    assert [f.name for f in packed.inputs.files] == [
        "crt01.fcl", "crt_standard.fcl", "DataLogger1.fcl", "dispatcher1.fcl",
        "EventBuilder1.fcl", "hashes.fcl", "schema.fcl", "tpc1.fcl", "tpc10.fcl",
        "boot.fcl", "known_boardreaders_list.fcl", "setup.fcl", "environment.fcl",
        "metadata.fcl", "settings.fcl", "ranks.fcl", "RunHistory.fcl", "RunHistory2.fcl",
    ]  # fmt: skip


def test_tail_list_matches_case_insensitively_and_keeps_original_case() -> None:
    packed = pack(7, [("BOOT.FCL", b"b"), ("zeta.fcl", b"z"), ("runhistory2.FCL", b"r")], STAMP)

    assert [name for name, _ in unpack(packed.data).files] == [
        "zeta.fcl", "BOOT.FCL", "runhistory2.FCL",
    ]  # fmt: skip


def test_header_and_footer_carry_canonical_run_and_same_stamp() -> None:
    data = pack(120, [("a.fcl", b"x")], "Jan 05 03:07 UTC").data

    assert data.startswith(b"Start of Record\nRun Number: 120\nPacked on Jan 05 03:07 UTC\n")
    assert data.endswith(b"\nEnd of Record\nRun Number: 120\nPacked on Jan 05 03:07 UTC\n")


def test_raw_bytes_are_never_reencoded() -> None:
    contents = {
        "crlf.fcl": b"a: 1\r\nb: 2\r\n",
        "cr.fcl": b"a: 1\rb: 2",
        "nul.fcl": b"\x00\x01\x02",
        "latin1.fcl": "café: 1\n".encode("latin-1"),
        "utf8.fcl": 'naïve: "Ω"\n'.encode(),
        "empty.fcl": b"",
    }
    packed = pack(3, list(contents.items()), STAMP)

    assert dict(unpack(packed.data).files) == contents
    assert hashlib.md5(packed.data, usedforsecurity=False).hexdigest() == packed.checksums.md5
    assert zlib.adler32(packed.data) == packed.checksums.adler32


def test_non_utf8_content_is_packed_with_a_warning() -> None:
    packed = pack(3, [("ok.fcl", b"fine\n"), ("bad.fcl", b"x\xe9y\n")], STAMP)

    assert [(w.code, w.name) for w in packed.warnings] == [("blob_not_utf8", "bad.fcl")]
    assert b"x\xe9y\n" in packed.data


def test_marker_like_lines_are_packed_with_a_warning() -> None:
    banner = b"##### FHiCL banner #####\nx: 1\n"
    packed = pack(3, [("a.fcl", b"a: 1\n" + banner), ("b.fcl", banner)], STAMP)

    assert [(w.code, w.name) for w in packed.warnings] == [
        ("marker_like_line", "a.fcl"),
        ("marker_like_line", "b.fcl"),
    ]
    assert "byte 5" in packed.warnings[0].message
    assert "byte 0" in packed.warnings[1].message
    assert dict(unpack(packed.data).files)["a.fcl"] == b"a: 1\n" + banner


def test_a_line_starting_like_the_footer_is_found_after_the_first_line() -> None:
    content = b"a: 1\n# End of Recording\nEnd of Recording: 2\n"
    packed = pack(3, [("a.fcl", content)], STAMP)

    assert [(w.code, w.name) for w in packed.warnings] == [("marker_like_line", "a.fcl")]
    assert "byte 24" in packed.warnings[0].message


def test_packing_is_deterministic_and_inputs_rebuild_identical_bytes(
    vector_files: list[tuple[str, bytes]],
) -> None:
    first = pack(17512, vector_files, STAMP)
    stored = json.loads(json.dumps(first.inputs.to_dict()))

    again = rebuild(PackingInputs.from_dict(stored), list(reversed(vector_files)))

    assert again.data == first.data
    assert again.checksums == first.checksums
    assert stored["stamp"] == STAMP
    assert [f["name"] for f in stored["files"]][:2] == ["crt01.fcl", "EventBuilder1.fcl"]


def test_rebuild_refuses_when_the_files_changed(vector_files: list[tuple[str, bytes]]) -> None:
    inputs = pack(17512, vector_files, STAMP).inputs
    changed = [(p, c + b"# edited\n" if p.endswith("tpc01.fcl") else c) for p, c in vector_files]

    with pytest.raises(BlobError, match=r"run 17512: .*changed: tpc01\.fcl") as error:
        rebuild(inputs, changed)
    assert error.value.code == "inputs_changed"


def test_malformed_packing_inputs_are_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unsupported format"):
        PackingInputs.from_dict({"format": 99})
    with pytest.raises(ValueError, match="malformed"):
        PackingInputs.from_dict({"format": 1, "run": 1})


@pytest.mark.parametrize(
    ("files", "code", "message"),
    [
        (
            [("Physics_General_thr390_Overlays/tpc01.fcl", b"a"), ("TPC01.fcl", b"b")],
            "name_collision",
            'run 17512: "Physics_General_thr390_Overlays/tpc01.fcl" and "TPC01.fcl" both pack as '
            '"tpc01.fcl"; refusing to pack (a blob carries basenames only)',
        ),
        ([("a/x.fcl", b"1"), ("b/x.fcl", b"1")], "name_collision", '"a/x.fcl" and "b/x.fcl"'),
        ([("a\nb.fcl", b"x")], "bad_name", "run 17512: file name 'a\\nb.fcl' cannot be written"),
        ([("dir/", b"x")], "bad_name", "file name 'dir/' cannot be written"),
        ([("bad\udcff.fcl", b"x")], "bad_name", "cannot be written in a blob header"),
        ([], "empty", "run 17512: nothing to pack (export returned no files)"),
    ],
)
def test_refusals(files: list[tuple[str, bytes]], code: str, message: str) -> None:
    with pytest.raises(BlobError) as error:
        pack(17512, files, STAMP)

    assert error.value.code == code
    assert error.value.kind == "source"
    assert message in str(error.value)


def test_content_with_a_section_marker_is_refused_with_its_offset() -> None:
    content = b"x: 1\n" * 462 + b"y: 2\n#####\nevil.fcl:\n#####\nz: 3\n"

    with pytest.raises(BlobError) as error:
        pack(17512, [("a.fcl", b"ok\n"), ("tpc01.fcl", content)], STAMP)

    assert error.value.code == "marker_in_content"
    assert str(error.value) == (
        'run 17512: "tpc01.fcl" contains a blob section marker at byte 2314; '
        "readers would split it; refusing to pack"
    )
    assert content.index(b"\n#####\nevil") == 2314


def test_marker_across_the_boundary_with_the_next_marker_is_refused() -> None:
    with pytest.raises(BlobError, match=r'"a\.fcl" contains a blob section marker at byte 2;'):
        pack(1, [("a.fcl", b"x:\n#####\nfoo:"), ("b.fcl", b"y")], STAMP)


@pytest.mark.parametrize(
    ("content", "offset"),
    [
        (b"a\nEnd of Record\nb\n", 2),
        (b"End of Record\nb\n", 0),
        (b"a\nEnd of Record", 2),
    ],
)
def test_end_of_record_line_in_content_is_refused(content: bytes, offset: int) -> None:
    with pytest.raises(BlobError) as error:
        pack(5, [("RunHistory2.fcl", content)], STAMP)

    assert error.value.code == "end_of_record_in_content"
    assert f'"RunHistory2.fcl" contains an "End of Record" line at byte {offset}' in str(
        error.value
    )


def test_end_of_record_in_a_middle_file_is_refused_too() -> None:
    with pytest.raises(BlobError, match=r'"a\.fcl" contains an "End of Record" line'):
        pack(5, [("a.fcl", b"x\nEnd of Record\n"), ("b.fcl", b"y")], STAMP)


def test_blob_over_the_limit_is_refused_before_building() -> None:
    big = b"x" * (3 * 1024 * 1024)
    with pytest.raises(BlobError, match=r"^run 9: blob is 3 MiB, limit 2 MiB$"):
        pack(9, [("a.fcl", big)], STAMP, max_bytes=2 * 1024 * 1024)
    with pytest.raises(BlobError, match=r"blob is 1\d\d bytes, limit 100 bytes"):
        pack(9, [("a.fcl", b"x")], STAMP, max_bytes=100)


@pytest.mark.parametrize("stamp", ["Oct 1 20:52 UTC", "oct 01 20:52 UTC", "Oct 01 24:00 UTC", ""])
def test_bad_stamp_is_refused(stamp: str) -> None:
    with pytest.raises(BlobError, match="stamp"):
        pack(1, [("a.fcl", b"x")], stamp)


@pytest.mark.parametrize("run", [-1, True, "17512"])
def test_bad_run_number_is_refused(run: object) -> None:
    with pytest.raises(BlobError, match="run number"):
        pack(run, [("a.fcl", b"x")], STAMP)  # type: ignore[arg-type]


def test_text_content_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="must be bytes"):
        pack(1, [("a.fcl", "text")], STAMP)  # type: ignore[list-item]


def test_format_stamp_is_utc_zero_padded_and_locale_free() -> None:
    assert format_stamp(datetime(2024, 10, 1, 20, 52, 59)) == "Oct 01 20:52 UTC"
    assert format_stamp(datetime(2024, 1, 5, 3, 7, tzinfo=UTC)) == "Jan 05 03:07 UTC"
    chicago = timezone(timedelta(hours=-5))
    assert format_stamp(datetime(2024, 12, 31, 22, 30, tzinfo=chicago)) == "Jan 01 03:30 UTC"
