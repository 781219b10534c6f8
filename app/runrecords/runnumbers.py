"""Run-number rules (run-records.md §5): which directory names are runs, and why others are not.

The legacy tool accepted anything `str.isdigit()` liked, so Unicode digits, leading zeros and
huge numbers broke it; here every name gets either a run number or a recorded reason.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

MAX_RUN_NUMBER = 2_147_483_647

_CANONICAL = re.compile(r"[1-9][0-9]*")
_ZERO_PADDED = re.compile(r"0[0-9]+")
_LEGACY_CONFIG = re.compile(r"\s*([0-9]+)/")
_ASCII_DIGITS = re.compile(r"[0-9]+")


class AnomalyReason(StrEnum):
    """Why an entry of the run-records directory is not a usable run (stored in the ledger)."""

    NON_CANONICAL_NAME = "non_canonical_name"
    OUT_OF_RANGE = "out_of_range"
    NOT_A_RUN_NUMBER = "not_a_run_number"
    NOT_A_DIRECTORY = "not_a_directory"
    SYMLINK_OUTSIDE = "symlink_outside"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class LegacyRunNumber:
    """A run number read from a legacy store, and whether it was written canonically."""

    number: int
    canonical: bool


def run_number_from_name(name: str) -> int | AnomalyReason:
    """The run number a directory name denotes, or the reason it denotes none."""
    if _CANONICAL.fullmatch(name):
        number = int(name)
        return number if number <= MAX_RUN_NUMBER else AnomalyReason.OUT_OF_RANGE
    if name == "0":
        return AnomalyReason.OUT_OF_RANGE
    if _ZERO_PADDED.fullmatch(name):
        return AnomalyReason.NON_CANONICAL_NAME
    return AnomalyReason.NOT_A_RUN_NUMBER


def is_hidden(name: str) -> bool:
    """Hidden entries (`.record_directory_info`, editor and NFS files) are ignored everywhere."""
    return name.startswith(".")


def run_number_from_config_name(name: str) -> LegacyRunNumber | None:
    """Run of an artdaq_database configuration name `<run>/<anything>` (legacy forms included)."""
    match = _LEGACY_CONFIG.match(name)
    return _legacy(match.group(1)) if match else None


def run_number_from_key(key: str) -> LegacyRunNumber | None:
    """Run of a UconDB key: only ASCII digits count; leading zeros are reported, not rewritten."""
    return _legacy(key) if _ASCII_DIGITS.fullmatch(key) else None


def _legacy(digits: str) -> LegacyRunNumber:
    number = int(digits)
    return LegacyRunNumber(number=number, canonical=digits == str(number))
