"""Reading a run directory: exact bytes, streaming, limits, warnings, symlinks, content hash."""

import os
from pathlib import Path

import pytest

from app.models import ErrorKind
from app.runrecords import reader
from app.runrecords.reader import RecordError, hash_record, read_record

BIG = 1 << 30


def make_run(path: Path, files: dict[str, bytes]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(data)
    return path


def test_files_are_exact_bytes_in_name_order(tmp_path: Path) -> None:
    files = {
        "tpc01.fcl": b"daq: {\r\n   x: 1\r\n}\r\n",
        "boot.txt": b"DAQ setup script: /x\n\x00\x01\x7f",
        "metadata.txt": b"Config name: a\n",
        "rc_info_stop.txt": b"k: v\n",
        "notes.log": b"",
    }
    record = read_record(make_run(tmp_path / "1", files), max_file_bytes=BIG, max_run_bytes=BIG)
    assert list(record.files) == sorted(files)
    assert record.files == files
    assert record.total_bytes == sum(len(v) for v in files.values())
    assert record.warnings == ()


def test_hidden_entries_are_ignored(tmp_path: Path) -> None:
    run = make_run(tmp_path / "1", {"a.fcl": b"x: 1\n", ".a.fcl.swp": b"\xff", ".nfs01": b"y"})
    record = read_record(run, max_file_bytes=BIG, max_run_bytes=BIG)
    assert list(record.files) == ["a.fcl"]
    assert record.content_hash == hash_record(make_run(tmp_path / "2", {"a.fcl": b"x: 1\n"}))


def test_non_utf8_bytes_are_kept_and_reported(tmp_path: Path) -> None:
    data = b"# op\xe9rateur \xff\xfe\nx: 1\n"
    run = make_run(tmp_path / "1", {"boot.txt": data, "ok.fcl": "é ü\n".encode()})
    record = read_record(run, max_file_bytes=BIG, max_run_bytes=BIG)
    assert record.files["boot.txt"] == data
    [warning] = record.warnings
    assert (warning.code, warning.file) == ("non_utf8", "boot.txt")
    assert warning.detail.startswith("3 byte(s)")


def test_utf8_split_across_chunks_is_not_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "CHUNK_BYTES", 3)
    data = "aéb€c😀\n".encode() * 5
    record = read_record(
        make_run(tmp_path / "1", {"m.txt": data}), max_file_bytes=BIG, max_run_bytes=BIG
    )
    assert record.files["m.txt"] == data
    assert record.warnings == ()


def test_truncated_sequence_at_end_of_file_is_reported(tmp_path: Path) -> None:
    record = read_record(
        make_run(tmp_path / "1", {"m.txt": b"abc\xc3"}), max_file_bytes=BIG, max_run_bytes=BIG
    )
    assert record.warnings[0].detail.startswith("1 byte(s)")


def test_per_file_limit_names_the_file_and_the_limit(tmp_path: Path) -> None:
    run = make_run(tmp_path / "17512", {"a.fcl": b"x" * 10, "big.fcl": b"x" * 101})
    with pytest.raises(RecordError) as caught:
        read_record(run, max_file_bytes=100, max_run_bytes=BIG)
    error = caught.value
    assert error.kind is ErrorKind.SOURCE
    assert error.kind == "source"
    assert error.file == "big.fcl"
    assert str(run / "big.fcl") in str(error)
    assert "per-file limit of 100 bytes" in str(error)


def test_file_exactly_at_the_limit_is_accepted(tmp_path: Path) -> None:
    run = make_run(tmp_path / "1", {"a.fcl": b"x" * 100})
    assert read_record(run, max_file_bytes=100, max_run_bytes=100).total_bytes == 100


def test_per_run_limit_names_the_run_and_the_limit(tmp_path: Path) -> None:
    run = make_run(tmp_path / "17512", {"a.fcl": b"x" * 60, "b.fcl": b"x" * 60})
    with pytest.raises(RecordError) as caught:
        read_record(run, max_file_bytes=100, max_run_bytes=100)
    assert "per-run limit of 100 bytes" in str(caught.value)
    assert str(run) in str(caught.value)
    assert caught.value.file == "b.fcl"


def test_limit_is_enforced_on_bytes_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that grows after fstat is still cut off while streaming."""
    run = make_run(tmp_path / "1", {"a.fcl": b"x" * 50})
    real_fstat = os.fstat

    def lying_fstat(fd: int) -> os.stat_result:
        result = real_fstat(fd)
        return os.stat_result((result.st_mode, *[0] * 5, 1, *result[7:]))

    monkeypatch.setattr(reader.os, "fstat", lying_fstat)
    monkeypatch.setattr(reader, "CHUNK_BYTES", 8)
    with pytest.raises(RecordError, match="per-file limit of 20 bytes"):
        read_record(run, max_file_bytes=20, max_run_bytes=BIG)


def test_subdirectories_are_not_read_but_named_in_a_warning(tmp_path: Path) -> None:
    run = make_run(tmp_path / "1", {"a.fcl": b"x: 1\n", "old/a.fcl": b"x: 2\n"})
    record = read_record(run, max_file_bytes=BIG, max_run_bytes=BIG)
    assert list(record.files) == ["a.fcl"]
    [warning] = record.warnings
    assert (warning.code, warning.file) == ("subdirectory", "old")


def test_special_files_are_reported_not_opened(tmp_path: Path) -> None:
    run = make_run(tmp_path / "1", {"a.fcl": b"x: 1\n"})
    os.mkfifo(run / "pipe")
    record = read_record(run, max_file_bytes=BIG, max_run_bytes=BIG)
    assert [(w.code, w.file) for w in record.warnings] == [("special_file", "pipe")]


def test_symlink_inside_the_run_is_read_under_its_own_name(tmp_path: Path) -> None:
    run = make_run(tmp_path / "1", {"a.fcl": b"x: 1\n"})
    (run / "b.fcl").symlink_to("a.fcl")
    record = read_record(run, max_file_bytes=BIG, max_run_bytes=BIG)
    assert record.files == {"a.fcl": b"x: 1\n", "b.fcl": b"x: 1\n"}


@pytest.mark.parametrize("target", ["../outside.fcl", "/etc/hostname", "."])
def test_symlink_escaping_the_run_is_refused(tmp_path: Path, target: str) -> None:
    (tmp_path / "outside.fcl").write_bytes(b"secret: 1\n")
    run = make_run(tmp_path / "1", {"a.fcl": b"x: 1\n"})
    (run / "b.fcl").symlink_to(target)
    with pytest.raises(RecordError, match="outside the run directory") as caught:
        read_record(run, max_file_bytes=BIG, max_run_bytes=BIG)
    assert caught.value.file == "b.fcl"
    with pytest.raises(RecordError):
        hash_record(run)


def test_dangling_symlink_is_an_error_naming_it(tmp_path: Path) -> None:
    run = make_run(tmp_path / "1", {"a.fcl": b"x: 1\n"})
    (run / "b.fcl").symlink_to("missing.fcl")
    with pytest.raises(RecordError, match=r"b\.fcl: cannot be read"):
        read_record(run, max_file_bytes=BIG, max_run_bytes=BIG)


def test_missing_run_directory(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="cannot be listed"):
        read_record(tmp_path / "nope", max_file_bytes=BIG, max_run_bytes=BIG)


def test_record_reached_through_a_symlinked_directory(tmp_path: Path) -> None:
    run = make_run(tmp_path / "1", {"a.fcl": b"x: 1\n"})
    (tmp_path / "2").symlink_to(run)
    record = read_record(tmp_path / "2", max_file_bytes=BIG, max_run_bytes=BIG)
    assert record.files == {"a.fcl": b"x: 1\n"}


def test_content_hash_matches_hash_record_and_ignores_chunking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"a.fcl": os.urandom(5000), "metadata.txt": b"Config name: a\n"}
    run = make_run(tmp_path / "1", files)
    first = read_record(run, max_file_bytes=BIG, max_run_bytes=BIG).content_hash
    monkeypatch.setattr(reader, "CHUNK_BYTES", 7)
    assert read_record(run, max_file_bytes=BIG, max_run_bytes=BIG).content_hash == first
    assert hash_record(run) == first
    assert len(first) == 64


@pytest.mark.parametrize(
    "other",
    [
        {"a.fcl": b"x: 2\n", "b.txt": b"y\n"},
        {"b.fcl": b"x: 1\n", "b.txt": b"y\n"},
        {"a.fcl": b"x: 1\n", "b.txt": b"y\n", "c.txt": b""},
        {"a.fcl": b"x: 1\nb.txt", "b.txt": b"y\n"},
        {"a.fcl": b"x: 1\n"},
    ],
)
def test_content_hash_changes_with_any_name_or_byte(tmp_path: Path, other: dict) -> None:
    base = make_run(tmp_path / "1", {"a.fcl": b"x: 1\n", "b.txt": b"y\n"})
    assert hash_record(make_run(tmp_path / "2", other)) != hash_record(base)


def test_hash_record_has_no_size_limit(tmp_path: Path) -> None:
    run = make_run(tmp_path / "1", {"a.fcl": b"x" * 3000})
    with pytest.raises(RecordError):
        read_record(run, max_file_bytes=1000, max_run_bytes=BIG)
    assert hash_record(run) == read_record(run, max_file_bytes=BIG, max_run_bytes=BIG).content_hash
