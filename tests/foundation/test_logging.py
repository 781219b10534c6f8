"""Logging: legacy line format, JSON option, rotation by size and by age, no secrets."""

import json
import logging
from pathlib import Path

import pytest

from app.config import Settings
from app.logsetup import LEGACY_FORMAT, JsonFormatter, SizeAndAgeRotatingHandler, configure_logging


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("app.test", logging.INFO, __file__, 1, message, None, None)


def test_rotates_by_size_keeping_the_configured_backups(tmp_path: Path) -> None:
    path = tmp_path / "archiver.log"
    handler = SizeAndAgeRotatingHandler(path, max_bytes=200, backup_count=2, max_age_s=10**6)
    handler.setFormatter(logging.Formatter(LEGACY_FORMAT))
    for number in range(40):
        handler.emit(record(f"line {number:03d} " + "x" * 40))
    handler.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "archiver.log",
        "archiver.log.1",
        "archiver.log.2",
    ]
    assert all(p.stat().st_size <= 200 + 120 for p in tmp_path.iterdir())
    assert "line 039" in path.read_text()


def test_rotates_an_active_log_by_age(tmp_path: Path) -> None:
    path = tmp_path / "archiver.log"
    now = [1_000_000.0]
    handler = SizeAndAgeRotatingHandler(
        path, max_bytes=10**9, backup_count=5, max_age_s=3600, clock=lambda: now[0]
    )
    handler.setFormatter(logging.Formatter(LEGACY_FORMAT))
    for _ in range(20):  # an active log: written every few minutes, never idle
        handler.emit(record("still busy"))
        now[0] += 300
    handler.close()
    assert (tmp_path / "archiver.log.1").exists()
    assert path.read_text().count("still busy") < 20


def test_age_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "archiver.log"
    path.write_text("2020-01-01 00:00:00,000 - app - INFO - from an earlier process\n")
    handler = SizeAndAgeRotatingHandler(path, max_bytes=10**9, backup_count=5, max_age_s=86400)
    handler.emit(record("new process"))
    handler.close()
    assert "from an earlier process" in (tmp_path / "archiver.log.1").read_text()


def settings_for(tmp_path: Path, **service: object) -> Settings:
    return Settings(
        app={"work_dir": str(tmp_path), "log_file": str(tmp_path / "rra.log")},
        source_files={"run_records_dir": str(tmp_path)},
        artdaq_db={"database_uri": f"filesystemdb://{tmp_path}/db", "fcl_conf_dir": str(tmp_path)},
        ucon_db={
            "server_url": "https://h/app",
            "folder_name": "f",
            "object_name": "o",
            "writer_user": "u",
            "writer_password": "pw-secret",
        },
        service=service,
    )


@pytest.mark.parametrize("fmt", ["legacy", "json"])
def test_configured_format_reaches_the_file(tmp_path: Path, fmt: str) -> None:
    configure_logging(settings_for(tmp_path, log_format=fmt))
    try:
        logging.getLogger("app.importer").info("✓ Run 12500 imported successfully")
        for handler in logging.getLogger().handlers:
            handler.flush()
        line = (tmp_path / "rra.log").read_text(encoding="utf-8").splitlines()[-1]
    finally:
        for handler in list(logging.getLogger().handlers):
            logging.getLogger().removeHandler(handler)
            handler.close()
    if fmt == "json":
        payload = json.loads(line)
        assert payload["logger"] == "app.importer" and payload["level"] == "INFO"
        assert payload["message"] == "✓ Run 12500 imported successfully"
    else:
        assert line.endswith(" - app.importer - INFO - ✓ Run 12500 imported successfully")
    assert isinstance(JsonFormatter().format(record("x")), str)
