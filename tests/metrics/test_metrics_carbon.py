"""Carbon plaintext metrics with the legacy names, checked on a local TCP listener."""

import logging
import socket
from pathlib import Path

import pytest
from metrics_support import CarbonListener, make_settings

from app.config import CarbonSection
from app.metrics.carbon import flush, format_line, send_batch_metrics
from app.metrics.prometheus import REGISTRY
from app.metrics.timing import timed
from app.models import Stage

PREFIX = "demo.run_archiver.dev"
WHEN = 1_700_000_000.7


def carbon(port: int, **extra: object) -> CarbonSection:
    options = {"enabled": True, "host": "127.0.0.1", "port": port, "metric_prefix": PREFIX}
    return CarbonSection(**{**options, **extra})


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_line_format() -> None:
    assert (
        format_line("p.q", "migrate.runs_failed", 2, WHEN)
        == "p.q.migrate.runs_failed 2 1700000000\n"
    )
    assert format_line("p", "X.duration_ms", 12.5, 5.0) == "p.X.duration_ms 12.5 5\n"


def test_migration_batch_sends_the_legacy_metrics_one_connection_each(
    tmp_path: Path, carbon_listener: CarbonListener
) -> None:
    settings = make_settings(
        tmp_path, "sqlite://", carbon={"enabled": True, "host": "127.0.0.1",
                                       "port": carbon_listener.port, "metric_prefix": PREFIX},
    )  # fmt: skip
    lines = send_batch_metrics(settings, Stage.MIGRATE, 5, 3, 12503, when=WHEN)
    assert flush()
    expected = [
        f"{PREFIX}.migrate.runs_processed 5 1700000000\n",
        f"{PREFIX}.migrate.runs_successful 3 1700000000\n",
        f"{PREFIX}.migrate.runs_failed 2 1700000000\n",
        f"{PREFIX}.migrate.last_successful_run 12503 1700000000\n",
    ]
    assert lines == expected
    assert sorted(carbon_listener.wait_for(4)) == sorted(expected)


def test_import_batch_without_success_has_no_last_successful_run(
    carbon_listener: CarbonListener,
) -> None:
    send_batch_metrics(carbon(carbon_listener.port), Stage.IMPORT, 2, 0, None, when=WHEN)
    assert flush()
    assert sorted(carbon_listener.wait_for(3)) == [
        f"{PREFIX}.import.runs_failed 2 1700000000\n",
        f"{PREFIX}.import.runs_processed 2 1700000000\n",
        f"{PREFIX}.import.runs_successful 0 1700000000\n",
    ]


def test_disabled_carbon_sends_nothing(carbon_listener: CarbonListener) -> None:
    assert send_batch_metrics(carbon(carbon_listener.port, enabled=False), "migrate", 1, 1, 7) == []
    assert send_batch_metrics(None, Stage.MIGRATE, 1, 1, 7) == []
    with timed(carbon(carbon_listener.port, enabled=False), "UconDBClient.get_data"):
        pass
    send_batch_metrics(carbon(carbon_listener.port), Stage.IMPORT, 1, 1, 9, when=WHEN)
    assert flush()
    received = carbon_listener.wait_for(4)
    assert len(received) == 4
    assert all(text.startswith(f"{PREFIX}.import.") for text in received)


def test_an_unreachable_carbon_is_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    port = closed_port()
    with caplog.at_level(logging.WARNING, logger="app.metrics.carbon"):
        send_batch_metrics(carbon(port), Stage.MIGRATE, 1, 1, 3, when=WHEN)
        assert flush()
    assert (
        f"carbon 127.0.0.1:{port}: metric {PREFIX}.migrate.runs_processed not sent" in caplog.text
    )
    assert caplog.text.count("not sent") == 4


def operation_count(name: str) -> float:
    value = REGISTRY.get_sample_value(
        "rra_store_operation_duration_seconds_count", {"operation": name}
    )
    return value or 0.0


def test_timed_feeds_carbon_and_the_latency_histogram(carbon_listener: CarbonListener) -> None:
    name = "UconDBClient.upload_blob"
    before = operation_count(name)
    with timed(carbon(carbon_listener.port), name):
        pass
    assert flush()
    [text] = carbon_listener.wait_for(1)
    path, value, stamp = text.split(" ")
    assert path == f"{PREFIX}.{name}.duration_ms"
    assert float(value) >= 0
    assert stamp.endswith("\n") and stamp.strip().isdigit()
    assert operation_count(name) == before + 1


def test_timed_records_failed_calls_and_works_as_a_decorator() -> None:
    name = "ArtdaqDBClient.archive_run"
    before = operation_count(name)

    @timed(None, name)
    def archive() -> None:
        raise RuntimeError("store down")

    with pytest.raises(RuntimeError, match="store down"):
        archive()
    with pytest.raises(RuntimeError, match="store down"):
        archive()
    assert operation_count(name) == before + 2
