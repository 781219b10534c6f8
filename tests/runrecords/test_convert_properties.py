"""Property tests: whatever the input bytes, every converted or generated document is valid FHiCL
for the project's parser, is UTF-8, and every warning names the input file."""

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from app.fhicl.parser import check
from app.runrecords.convert import (
    ALL_OUTPUTS,
    Converted,
    convert_boot,
    convert_environment,
    convert_known_boardreaders_list,
    convert_metadata,
    convert_ranks,
    convert_record,
    convert_settings,
    convert_setup,
    generate_run_history,
    generate_run_history2,
)

# Characters that break naive FHiCL writers: quotes, escapes, brackets, comment starts, line
# separators other than LF, control characters, non-ASCII and lone surrogate-escape material.
TRICKY = "\"'\\[]{}#:,.-/@()$* \t\x1b\x0b\x0c\x7f\x85\u2028é–"
WORDS = [
    "Config name",
    "Component #0",
    "Component #12",
    "DAQInterface start time",
    "DAQInterface stop time",
    "Total events",
    "sbndaq commit/version",
    "pmt logfile",
    "process management method",
    "boardreader logfiles",
    "dispatcher logfiles",
    "routingmanager logfiles",
    "EventBuilder host",
    "EventBuilder label",
    "EventBuilder port",
    "Dispatcher label",
    "DataLogger subsystem",
    "Subsystem id",
    "Subsystem source",
    "Subsystem destination",
    "export DAQINTERFACE_X=",
    "package_hashes_to_save: [",
    "#include",
    "BEGIN_PROLOG",
    "true",
    "-1",
    "0-15",
    "1.5",
    ".",
    "@local::x",
    '"',
    "]",
]
RAW_BYTES = [b"\xff", b"\xc3", b"\xe2\x80", b"\r\n", b"\r", b"\n\n", b"\x00"]

text_piece = st.one_of(
    st.sampled_from(WORDS),
    st.text(alphabet=st.sampled_from(TRICKY + "abcXYZ019_ "), max_size=12),
    st.text(max_size=6),
)
line = st.lists(st.one_of(text_piece, st.sampled_from([": ", " ", ":", "\t"])), max_size=7).map(
    "".join
)
# Lines shaped like the real files ("Key: value" with mildly odd values) reach the paths where
# the legacy rendering is kept; fully random lines reach the repairs.
mild_value = st.text(alphabet=st.sampled_from("abcXY019_-./:\"'[],* #\\\té"), max_size=10)
shaped_line = st.tuples(
    st.sampled_from([*WORDS, "", "Note", "a b"]), st.sampled_from([": ", ":", " "]), mild_value
).map("".join)
chunk = st.one_of(
    line.map(lambda text: text.encode("utf-8", "surrogatepass")),
    shaped_line.map(str.encode),
    st.sampled_from(RAW_BYTES),
)
document = st.lists(st.one_of(chunk, chunk.map(lambda data: data + b"\n")), max_size=14).map(
    b"".join
)

CONVERTERS: dict[str, Callable[[bytes], Converted]] = {
    "boot.txt": convert_boot,
    "metadata.txt": convert_metadata,
    "known_boardreaders_list.txt": convert_known_boardreaders_list,
    "settings.txt": convert_settings,
    "setup.txt": convert_setup,
    "environment.txt": convert_environment,
    "ranks.txt": convert_ranks,
}


def assert_valid(result: Converted, source: str) -> None:
    text = result.data.decode("utf-8")
    check(text, filename=source.replace(".txt", ".fcl"))
    assert all(warning.startswith(source) for warning in result.warnings)


@settings(max_examples=150, deadline=None)
@given(data=document, name=st.sampled_from(sorted(CONVERTERS)))
def test_every_converter_writes_valid_fhicl(data: bytes, name: str) -> None:
    assert_valid(CONVERTERS[name](data), name)


@settings(max_examples=100, deadline=None)
@given(data=document, run_number=st.integers(min_value=1, max_value=2_147_483_647))
def test_run_history_generators_write_valid_fhicl(data: bytes, run_number: int) -> None:
    assert_valid(generate_run_history(data, run_number), "metadata.txt")
    times = generate_run_history2(data)
    if times is not None:
        assert_valid(times, "metadata.txt")
        assert not times.data.endswith(b"\n")


@settings(max_examples=40, deadline=None)
@given(contents=st.lists(document, min_size=len(CONVERTERS), max_size=len(CONVERTERS)))
def test_whole_record_outputs_are_valid_fhicl(contents: list[bytes]) -> None:
    files = dict(zip(sorted(CONVERTERS), contents, strict=True))
    result = convert_record(files, generate=ALL_OUTPUTS, run_number=17512)
    assert {"boot.fcl", "metadata.fcl", "RunHistory.fcl"} <= set(result.outputs)
    for name, data in result.outputs.items():
        check(data.decode("utf-8"), filename=name)
    assert len(result.warnings) == len(set(result.warnings))
