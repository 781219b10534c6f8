"""Preparing a run for import: where concurrent runs start converting, and which failure a run
with several bad files reports."""

from dataclasses import replace

import pytest

from app.pipeline.attempts import StageFailure
from app.pipeline.import_work import prepare
from app.runrecords.convert.selection import parse_fhiclize_generate
from app.runrecords.reader import RunRecord, read_record
from app.runrecords.sample import write_sample_records
from app.stores.artdaqdb.conversion import Conversion
from app.stores.artdaqdb.convert import convert_source

GENERATE = parse_fhiclize_generate(None)


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> RunRecord:
    records = tmp_path_factory.mktemp("records")
    (run,) = write_sample_records(records, runs=1, running=0)
    return read_record(records / str(run), max_file_bytes=1 << 24, max_run_bytes=1 << 26)


def _order(record: RunRecord, run: int, lanes: int) -> list[str]:
    seen: list[str] = []

    def convert(source: bytes, name: str) -> Conversion:
        seen.append(name.split("/", 1)[1])
        return convert_source(source, name)

    prepare(record, run, GENERATE, convert, lanes)
    return seen


def test_consecutive_runs_start_converting_at_different_files(record: RunRecord) -> None:
    even, odd = _order(record, 1000, 2), _order(record, 1001, 2)
    assert sorted(even) == sorted(odd) == even
    half = len(even) // 2
    assert odd == even[half:] + even[:half]
    assert _order(record, 1001, 1) == even


def test_of_several_bad_files_the_first_by_name_is_reported_wherever_converting_began(
    record: RunRecord,
) -> None:
    names = sorted(name for name in record.files if name.endswith(".fcl"))
    first, last = names[0], names[-1]
    broken = replace(record, files={**record.files, first: b"a: {\n", last: b"b: [\n"})
    for run in (1000, 1001):
        with pytest.raises(StageFailure) as failed:
            prepare(broken, run, GENERATE, convert_source, 2)
        assert failed.value.message.startswith(f"run {run}: {run}/{first}:"), failed.value.message
