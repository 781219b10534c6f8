"""Run-number rules of run-records.md §5: which names are runs, and the reason for the others."""

import pytest

from app.runrecords.runnumbers import (
    MAX_RUN_NUMBER,
    AnomalyReason,
    LegacyRunNumber,
    is_hidden,
    run_number_from_config_name,
    run_number_from_key,
    run_number_from_name,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("1", 1),
        ("17512", 17512),
        (str(MAX_RUN_NUMBER), MAX_RUN_NUMBER),
        (str(MAX_RUN_NUMBER + 1), AnomalyReason.OUT_OF_RANGE),
        ("9" * 40, AnomalyReason.OUT_OF_RANGE),
        ("0", AnomalyReason.OUT_OF_RANGE),
        ("00", AnomalyReason.NON_CANONICAL_NAME),
        ("017512", AnomalyReason.NON_CANONICAL_NAME),
        ("17512.bak", AnomalyReason.NOT_A_RUN_NUMBER),
        ("tmp", AnomalyReason.NOT_A_RUN_NUMBER),
        ("²", AnomalyReason.NOT_A_RUN_NUMBER),
        ("١٢٣", AnomalyReason.NOT_A_RUN_NUMBER),
        ("１２３", AnomalyReason.NOT_A_RUN_NUMBER),
        ("+5", AnomalyReason.NOT_A_RUN_NUMBER),
        ("-5", AnomalyReason.NOT_A_RUN_NUMBER),
        (" 12", AnomalyReason.NOT_A_RUN_NUMBER),
        ("12\n", AnomalyReason.NOT_A_RUN_NUMBER),
        ("1_000", AnomalyReason.NOT_A_RUN_NUMBER),
        ("", AnomalyReason.NOT_A_RUN_NUMBER),
    ],
)
def test_run_number_from_name(name: str, expected: int | AnomalyReason) -> None:
    assert run_number_from_name(name) == expected


def test_unicode_digits_pass_isdigit_but_are_not_runs() -> None:
    """The legacy test was str.isdigit(); these names crashed it or were misread."""
    for name in ("²", "١٢٣", "१२"):
        assert name.isdigit()
        assert run_number_from_name(name) is AnomalyReason.NOT_A_RUN_NUMBER


def test_hidden_entries() -> None:
    assert is_hidden(".record_directory_info")
    assert is_hidden(".nfs0000000001")
    assert not is_hidden("17512")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("17512/Physics_General", LegacyRunNumber(17512, True)),
        ("  17512/BootDAQ standard_CRTnorthwall", LegacyRunNumber(17512, True)),
        ("017512/x", LegacyRunNumber(17512, False)),
        ("17512/", LegacyRunNumber(17512, True)),
        ("17512", None),
        ("x17512/y", None),
        ("١٢٣/x", None),
    ],
)
def test_run_number_from_config_name(name: str, expected: LegacyRunNumber | None) -> None:
    assert run_number_from_config_name(name) == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("17512", LegacyRunNumber(17512, True)),
        ("0017512", LegacyRunNumber(17512, False)),
        ("17512a", None),
        ("²", None),
        ("", None),
    ],
)
def test_run_number_from_key(key: str, expected: LegacyRunNumber | None) -> None:
    assert run_number_from_key(key) == expected
