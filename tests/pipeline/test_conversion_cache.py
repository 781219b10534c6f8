"""Conversions kept by content: one parse per distinct file, bounded, failures never kept."""

import sqlite3
from pathlib import Path

import diskcache
import pytest

from app.pipeline import conversion_cache
from app.pipeline.conversion_cache import ConversionCache
from app.stores.artdaqdb.conversion import Conversion

GOOD = b"a: 1\nb: [1, 2, 3]  # three\nt: { x: y }\n"
OTHER = b"c: 2\n"
BAD = b"a: {\n"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the files actually converted."""
    seen: list[str] = []
    real = conversion_cache.convert_source

    def counting(source: bytes, name: str) -> Conversion:
        seen.append(name)
        return real(source, name)

    monkeypatch.setattr(conversion_cache, "convert_source", counting)
    return seen


def test_identical_bytes_are_converted_once(parses: list[str]) -> None:
    cache = ConversionCache(1_000_000)
    first = cache(GOOD, "1/a.fcl")
    again = cache(bytes(GOOD), "2/b.fcl")
    assert again is first
    assert cache(OTHER, "2/c.fcl").document != first.document
    assert parses == ["1/a.fcl", "2/c.fcl"]


def test_a_failed_parse_is_not_kept_so_each_run_is_named(parses: list[str]) -> None:
    cache = ConversionCache(1_000_000)
    assert cache(BAD, "1/a.fcl").parse_error.startswith("1/a.fcl:")  # type: ignore[union-attr]
    assert cache(BAD, "2/a.fcl").parse_error.startswith("2/a.fcl:")  # type: ignore[union-attr]
    assert parses == ["1/a.fcl", "2/a.fcl"]


def test_the_least_recently_used_go_once_the_texts_exceed_the_bound(parses: list[str]) -> None:
    size = ConversionCache(0)(GOOD, "x").packed_size
    parses.clear()
    cache = ConversionCache(size + size // 2)  # room for one of GOOD's size
    cache(GOOD, "1/a.fcl")
    cache(GOOD, "2/a.fcl")
    cache(GOOD.replace(b"1", b"7"), "3/a.fcl")  # about the same size: GOOD goes
    cache(GOOD, "4/a.fcl")
    assert parses == ["1/a.fcl", "3/a.fcl", "4/a.fcl"]


def test_zero_keeps_nothing(parses: list[str]) -> None:
    cache = ConversionCache(0)
    cache(GOOD, "1/a.fcl")
    cache(GOOD, "2/a.fcl")
    assert parses == ["1/a.fcl", "2/a.fcl"]


def test_caches_sharing_a_directory_convert_each_file_once(
    parses: list[str], tmp_path: Path
) -> None:
    first = ConversionCache(1_000_000, tmp_path)
    second = ConversionCache(1_000_000, tmp_path)  # as in another worker process
    converted = first(GOOD, "1/a.fcl")
    assert second(GOOD, "2/a.fcl") == converted
    assert second(GOOD, "3/a.fcl") == converted
    assert parses == ["1/a.fcl"]


def test_failures_are_not_shared_either(parses: list[str], tmp_path: Path) -> None:
    ConversionCache(1_000_000, tmp_path)(BAD, "1/a.fcl")
    failed = ConversionCache(1_000_000, tmp_path)(BAD, "2/a.fcl")
    assert failed.parse_error.startswith("2/a.fcl:")  # type: ignore[union-attr]
    assert parses == ["1/a.fcl", "2/a.fcl"]


def test_a_failing_shared_cache_only_costs_a_parse(
    parses: list[str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(diskcache.Cache, "get", fail)
    monkeypatch.setattr(diskcache.Cache, "set", fail)
    assert ConversionCache(1_000_000, tmp_path)(GOOD, "1/a.fcl").parse_error is None
    assert ConversionCache(1_000_000, tmp_path)(GOOD, "2/a.fcl").parse_error is None
    assert parses == ["1/a.fcl", "2/a.fcl"]
    assert "shared conversion cache unreadable, converting instead: disk I/O error" in caplog.text
    assert "shared conversion cache not written: disk I/O error" in caplog.text
