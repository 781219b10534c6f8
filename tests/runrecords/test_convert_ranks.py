"""ranks.txt → ranks.fcl: the padded DAQInterface table and the short-row rule."""

from app.runrecords.convert import convert_ranks

ROWS = [
    ("sbnd-crt01-daq", "11100", "crt01", "1", "0"),
    ("sbnd-pds01-daq", "11101", "pmt01", "1", "1"),
    ("sbnd-ptb01-daq", "11102", "ptb01", "1", "2"),
    ("sbnd-tpc01-daq", "11103", "tpc01", "1", "3"),
    ("sbnd-tpc02-daq", "11104", "tpc02", "1", "4"),
    ("sbnd-evb01-daq", "11105", "EventBuilder1", "1", "5"),
    ("sbnd-evb01-daq", "6027", "Dispatcher1", "1", "6"),
]

# run-records.md §9.7 legacy output (= project output).
SPEC_OUTPUT = """\
ranks: {
  header: ["host", "port", "label", "subsystem", "rank"]
  rank0: ["sbnd-crt01-daq", "11100", "crt01", "1", "0"]
  rank1: ["sbnd-pds01-daq", "11101", "pmt01", "1", "1"]
  rank2: ["sbnd-ptb01-daq", "11102", "ptb01", "1", "2"]
  rank3: ["sbnd-tpc01-daq", "11103", "tpc01", "1", "3"]
  rank4: ["sbnd-tpc02-daq", "11104", "tpc02", "1", "4"]
  rank5: ["sbnd-evb01-daq", "11105", "EventBuilder1", "1", "5"]
  rank6: ["sbnd-evb01-daq", "6027", "Dispatcher1", "1", "6"]
}
"""


def ranks_txt(rows: list[tuple[str, ...]]) -> str:
    """The file as DAQInterface writes it: padded header, an empty line, padded rows (§2.7)."""
    header = "".join(
        f"{name:<{width}}"
        for name, width in zip(
            ("host", "port", "label", "subsystem", "rank"), (30, 10, 20, 15, 10), strict=True
        )
    )
    body = [
        " ".join(f"{field:<{width}}" for field, width in zip(row, (29, 9, 19, 14, 9), strict=True))
        for row in rows
    ]
    return "\n".join([header, "", *body]) + "\n"


def codes(warnings: list[str]) -> list[str]:
    return [warning.split(": ")[1] for warning in warnings]


def test_daqinterface_table() -> None:
    text = ranks_txt(ROWS)
    assert text.splitlines()[2].endswith(" ")
    assert convert_ranks(text.encode()) == (SPEC_OUTPUT.encode(), [])


def test_short_row_is_dropped_and_reported() -> None:
    result = convert_ranks(b"host port label subsystem rank\nh1 100 tpc01  0\n")
    assert result.data == b'ranks: {\n  header: ["host", "port", "label", "subsystem", "rank"]\n}\n'
    assert codes(result.warnings) == ["line_dropped"]
    assert result.warnings[0].startswith("ranks.txt:2: ")


def test_invalid_rank_key_and_tokens_are_repaired() -> None:
    result = convert_ranks(b'h p l s r\nh"1 1 t\\x 1 -1\n')
    assert result.data.decode().splitlines()[2] == r'  rank_1: ["h\"1", "1", "t\\x", "1", "-1"]'
    assert codes(result.warnings) == ["key_repaired", "value_repaired", "value_repaired"]


def test_no_header_gives_empty_file() -> None:
    assert convert_ranks(b"# nothing\n\n") == (b"", [])
