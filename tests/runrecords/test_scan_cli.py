"""`rra sample-records` and `rra scan` from the command line."""

from pathlib import Path

from typer.testing import CliRunner

from app.cli.application import cli

PASSWORD = "never-print-this"


def write_config(tmp_path: Path, records: Path) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""
app:
  work_dir: {tmp_path / "work"}
source_files:
  run_records_dir: {records}
artdaq_db:
  database_uri: filesystemdb://{tmp_path / "adb"}
  fcl_conf_dir: {tmp_path / "fcl"}
ucon_db:
  server_url: http://127.0.0.1:9/
  folder_name: f
  object_name: o
  writer_user: u
  writer_password: {PASSWORD}
scanner:
  settle_seconds: 0
"""
    )
    return config


def test_sample_records_then_scan(tmp_path: Path) -> None:
    runner = CliRunner()
    records = tmp_path / "records"
    made = runner.invoke(
        cli,
        [
            "sample-records",
            str(records),
            "--runs",
            "5",
            "--running",
            "2",
            "--defects",
            "--seed",
            "4",
            "--first-run",
            "200",
        ],
    )
    assert made.exit_code == 0, made.output
    assert "200-204" in made.stdout and "(2 still running)" in made.stdout
    assert "never_stopped" in made.stdout and "symlink_outside" in made.stdout

    config = write_config(tmp_path, records)
    first = runner.invoke(cli, ["scan", "--config", str(config)])
    assert first.exit_code == 0, first.output
    assert f"scanned {records}:" in first.stdout
    assert "newly ready: 200-202," in first.stdout
    assert "flagged 215: never_started" in first.stdout
    assert "anomaly 0215: non_canonical_name" in first.stdout
    assert PASSWORD not in first.output

    second = runner.invoke(cli, ["scan", "--config", str(config)])
    assert second.exit_code == 0
    assert " 0 new, 0 ready," in second.stdout
    assert "newly ready" not in second.stdout


def test_scan_of_a_missing_directory_exits_1(tmp_path: Path) -> None:
    config = write_config(tmp_path, tmp_path / "absent")
    result = CliRunner().invoke(cli, ["scan", "--config", str(config)])
    assert result.exit_code == 1
    assert f"run-records directory {tmp_path / 'absent'} cannot be listed" in result.stderr
    assert PASSWORD not in result.output


def test_sample_records_refuses_bad_arguments(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["sample-records", str(tmp_path), "--runs", "1", "--running", "2"])
    assert result.exit_code == 1
    assert "running <= runs" in result.stderr
    result = runner.invoke(cli, ["sample-records", str(tmp_path), "--runs", "-1"])
    assert result.exit_code == 2
