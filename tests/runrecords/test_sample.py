"""Sample run records: DAQInterface formats, sizes, determinism, running runs and defects."""

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.fhicl.parser import parse
from app.models import Readiness
from app.runrecords.convert import ALL_OUTPUTS, convert_record
from app.runrecords.metadata import format_daq_time, parse_metadata, parse_partition
from app.runrecords.runnumbers import AnomalyReason
from app.runrecords.sample import stop_run, write_sample_records
from app.runrecords.sample_defects import sample_defects
from app.runrecords.sample_fhicl import dump_fhicl

NOW = datetime(2024, 10, 1, 21, 0, 0, tzinfo=UTC)
GENERATED = {
    "boot",
    "metadata",
    "settings",
    "setup",
    "environment",
    "ranks",
    "known_boardreaders_list",
    "RunHistory",
    "RunHistory2",
    "schema",
}


def tree(path: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every non-hidden file below `path`: bytes, mode and mtime."""
    return {
        str(p.relative_to(path)): (p.read_bytes(), p.stat().st_mode, p.stat().st_mtime_ns)
        for p in sorted(path.rglob("*"))
        if p.is_file() and not p.is_symlink() and p.name != ".record_directory_info"
    }


def run_files(run_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("small")
    write_sample_records(dest, runs=12, running=2, seed=7, now=NOW)
    return dest


def test_small_records_sizes_and_process_counts(small: Path) -> None:
    for number in range(1000, 1012):
        files = run_files(small / str(number))
        processes = [name for name in files if name.endswith(".fcl")]
        assert 10 <= len(processes) <= 20, number
        assert 100_000 <= sum(len(data) for data in files.values()) <= 300_000, number


def test_large_record_size_and_process_count(tmp_path: Path) -> None:
    assert write_sample_records(tmp_path, runs=1, large=True, running=0, now=NOW) == [1000]
    files = run_files(tmp_path / "1000")
    assert len([name for name in files if name.endswith(".fcl")]) == 110
    assert 10_000_000 <= sum(len(data) for data in files.values()) <= 14_000_000


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path, small: Path) -> None:
    write_sample_records(tmp_path / "again", runs=12, running=2, seed=7, now=NOW)
    assert tree(tmp_path / "again") == tree(small)
    write_sample_records(tmp_path / "other", runs=12, running=2, seed=8, now=NOW)
    assert tree(tmp_path / "other") != tree(small)


def test_running_runs_are_the_newest_with_a_start_line_only(small: Path) -> None:
    for number in range(1000, 1012):
        info = parse_metadata((small / str(number) / "metadata.txt").read_bytes())
        assert len(info.start_times) == 1
        assert len(info.stop_times) == (0 if number >= 1010 else 1), number
    partitions = {
        n: parse_partition((small / str(n) / "environment.txt").read_bytes())
        for n in range(1000, 1012)
    }
    assert partitions[1011] != partitions[1010]
    assert {partitions[n] for n in range(1000, 1010)} == {partitions[1011]}


def test_timeline_is_ordered_and_in_the_past(small: Path) -> None:
    times = []
    for number in range(1000, 1010):
        info = parse_metadata((small / str(number) / "metadata.txt").read_bytes())
        times += [info.start_times[0], info.stop_times[0]]
    parsed = [datetime.strptime(t, "%a %b %d %H:%M:%S UTC %Y").replace(tzinfo=UTC) for t in times]
    assert parsed == sorted(parsed)
    assert parsed[-1] < NOW


def test_files_are_read_only_with_daqinterface_times(small: Path) -> None:
    run = small / "1003"
    info = parse_metadata((run / "metadata.txt").read_bytes())
    for path in run.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o444
    metadata_mtime = datetime.fromtimestamp((run / "metadata.txt").stat().st_mtime, UTC)
    assert format_daq_time(metadata_mtime) == info.stop_times[0]
    assert (run / "boot.txt").stat().st_mtime < (run / "metadata.txt").stat().st_mtime


def test_stop_run_appends_like_daqinterface(tmp_path: Path) -> None:
    write_sample_records(tmp_path, runs=2, running=1, now=NOW)
    metadata = tmp_path / "1001" / "metadata.txt"
    before = metadata.read_bytes()
    line = stop_run(tmp_path, 1001, now=NOW + timedelta(hours=1))
    assert line == f"DAQInterface stop time: {format_daq_time(NOW + timedelta(hours=1))}"
    assert metadata.read_bytes() == before + f"\n{line}\n".encode()
    assert stat.S_IMODE(metadata.stat().st_mode) == 0o444
    with pytest.raises(ValueError, match="already has a stop line"):
        stop_run(tmp_path, 1001)
    with pytest.raises(ValueError, match="already has a stop line"):
        stop_run(tmp_path, 1000)


def test_text_files_convert_and_every_fcl_parses(small: Path) -> None:
    for number in (1000, 1011):
        files = run_files(small / str(number))
        result = convert_record(files, generate=ALL_OUTPUTS, run_number=number)
        assert {
            "boot.fcl",
            "metadata.fcl",
            "settings.fcl",
            "setup.fcl",
            "environment.fcl",
            "ranks.fcl",
            "known_boardreaders_list.fcl",
            "RunHistory.fcl",
        } <= set(result.outputs)
        assert ("RunHistory2.fcl" in result.outputs) is True
        assert [w for w in result.warnings if "pmtx01" not in w] == []
        for name, data in {**files, **result.outputs}.items():
            if name.endswith(".fcl"):
                parse(data.decode(), filename=name)
        assert not {name.removesuffix(".fcl") for name in files} & GENERATED


def test_metadata_layout_follows_daqinterface(small: Path) -> None:
    text = (small / "1000" / "metadata.txt").read_text()
    lines = text.split("\n")
    assert lines[0].startswith("Config name: ")
    assert [line for line in lines if line.startswith("Component #")] == [
        f"Component #{i}: {label}"
        for i, label in enumerate(parse_metadata(text.encode()).components)
    ]
    assert "repo was available: \n# <git commit hash>" in text
    assert "\n\n\nprocess management method: direct\n\n\nprocess manager logfiles: \n" in text
    assert "\ndatalogger logfiles: \n\ndispatcher logfiles: \n" in text
    _, _, tail = text.partition("routingmanager logfiles: \n")
    assert tail.startswith("\nDAQInterface start time: ")
    assert tail.count("\n\nDAQInterface stop time: ") == 1 and tail.endswith(" UTC 2024\n")
    running = (small / "1011" / "metadata.txt").read_text()
    assert running.endswith(" UTC 2024\n") and "stop time" not in running


def test_ranks_and_environment_layout(small: Path) -> None:
    ranks = (small / "1000" / "ranks.txt").read_text().split("\n")
    assert len(ranks[0]) == 85 and ranks[0].split() == [
        "host",
        "port",
        "label",
        "subsystem",
        "rank",
    ]
    assert ranks[1] == ""
    rows = [row for row in ranks[2:] if row]
    for row in rows:
        host, port, label, subsystem, rank = row.split()
        assert row == f"{host:<29} {port:<9} {label:<19} {subsystem:<14} {rank:<9}"
    assert [int(row.split()[4]) for row in rows] == list(range(len(rows)))
    environment = (small / "1000" / "environment.txt").read_text().splitlines()
    assert environment == sorted(environment)
    assert all(line.startswith("export DAQINTERFACE_") for line in environment)


def test_process_documents_look_like_fhicl_dump(small: Path) -> None:
    text = (small / "1000" / "EventBuilder1.fcl").read_text()
    lines = text.split("\n")
    assert lines[:5] == [
        "# Produced from 'fhicl-dump' using:",
        "#   Input  : ./EventBuilder1.fcl",
        "#   Policy : cet::filepath_maker",
        '#   Path   : "FHICL_FILE_PATH"',
        "",
    ]
    top = [line.split(":")[0] for line in lines[5:] if line and not line.startswith((" ", "}"))]
    assert top == sorted(top)
    assert all((len(line) - len(line.lstrip(" "))) % 3 == 0 for line in lines)


def test_dump_fhicl_rendering() -> None:
    text = dump_fhicl(
        {"b": {"z": [1, "two", True], "a": {}, "n": None}, "a": [], "f": 1e9, "s": [{"k": 0.5}]},
        label="x",
    )
    body = text.split("\n\n", 1)[1]
    assert body == (
        "a: []\n"
        "b: {\n"
        "   a: {}\n"
        "   n: @nil\n"
        "   z: [\n"
        "      1,\n"
        '      "two",\n'
        "      true\n"
        "   ]\n"
        "}\n"
        "f: 1e+09\n"
        "s: [\n"
        "   {\n"
        "      k: 0.5\n"
        "   }\n"
        "]\n"
    )
    parse(text, filename="x.fcl")


def test_defects_are_documented_and_written(tmp_path: Path) -> None:
    numbers = write_sample_records(tmp_path, runs=3, defects=True, now=NOW)
    defects = sample_defects(1000, 3)
    names = [d.name for d in defects]
    assert len(set(names)) == len(names) >= 20
    valid = {r.value for r in Readiness} | {r.value for r in AnomalyReason}
    assert all(d.expected in valid and d.description for d in defects)
    run_names = {d.name for d in defects if d.expected in {r.value for r in Readiness}}
    assert numbers == sorted([1000, 1001, 1002, *map(int, run_names)])
    on_disk = {p.name for p in tmp_path.iterdir()} - {".record_directory_info"}
    assert len(on_disk) == 3 + len(defects)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"runs": 2, "running": 3}, "running <= runs"),
        ({"runs": -1}, "running <= runs"),
        ({"runs": 1, "first_run": 0}, "start at 1"),
    ],
)
def test_invalid_arguments(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_sample_records(tmp_path, **kwargs)


def test_existing_run_directory_is_never_overwritten(tmp_path: Path) -> None:
    write_sample_records(tmp_path, runs=1, running=0, now=NOW)
    with pytest.raises(FileExistsError):
        write_sample_records(tmp_path, runs=1, running=0, now=NOW)
