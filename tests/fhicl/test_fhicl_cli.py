"""`rra fhicl check` and `rra fhicl to-json`."""

import json
from pathlib import Path

from typer.testing import CliRunner

from app.cli.application import cli


def _tree(root: Path) -> None:
    (root / "sub").mkdir(parents=True)
    (root / "good.fcl").write_text("a: 1\n")
    (root / "sub" / "bad.fcl").write_text("a: 1\nb = 2\n")
    (root / "sub" / "also_good.fcl").write_text("BEGIN_PROLOG\nx: {}\nEND_PROLOG\ny: @local::x\n")
    (root / "notes.txt").write_text("b = 2\n")


def test_check_walks_directories_and_reports_each_invalid_file(tmp_path: Path) -> None:
    _tree(tmp_path)
    result = CliRunner().invoke(cli, ["fhicl", "check", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    bad = tmp_path / "sub" / "bad.fcl"
    assert lines[0].startswith(f"{bad}:2:3: unexpected character '='")
    assert lines[-1] == "3 files checked, 1 invalid"
    assert len(lines) == 2


def test_check_succeeds_when_every_file_is_valid(tmp_path: Path) -> None:
    _tree(tmp_path)
    good = tmp_path / "good.fcl"
    result = CliRunner().invoke(
        cli, ["fhicl", "check", str(good), str(tmp_path / "sub" / "also_good.fcl")]
    )
    assert result.exit_code == 0
    assert result.output == "2 files checked, 0 invalid\n"


def test_check_counts_an_unreadable_path_as_invalid(tmp_path: Path) -> None:
    missing = tmp_path / "missing.fcl"
    result = CliRunner().invoke(cli, ["fhicl", "check", str(missing)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{missing}: cannot read: No such file or directory",
        "1 file checked, 1 invalid",
    ]


def test_to_json_prints_the_record_the_store_would_write(tmp_path: Path) -> None:
    source = tmp_path / "boot.fcl"
    source.write_text('# the boot file\nDAQ_setup_script: "/home/x/setup.sh"\n')
    result = CliRunner().invoke(cli, ["fhicl", "to-json", str(source), "--run", "12500"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["document"]["data"]["main"] == {"DAQ_setup_script": "/home/x/setup.sh"}
    assert record["comments"] == [{"linenum": 1, "value": "# the boot file"}]
    assert record["configurations"][0]["name"] == "12500/standard"
    assert record["entities"][0]["name"] == "boot"
    assert record["collection"] == "RunHistory"
    assert result.stdout.isascii()


def test_to_json_of_invalid_fhicl_prints_the_placeholder_and_fails(tmp_path: Path) -> None:
    source = tmp_path / "broken.fcl"
    source.write_text("a: {\n")
    result = CliRunner().invoke(cli, ["fhicl", "to-json", str(source)])
    assert result.exit_code == 1
    record = json.loads(result.stdout)
    assert "archiver_parse_error" in record["document"]["data"]["main"]
    assert "not valid FHiCL" in result.stderr
