"""Names in the archive database: configurations `R/C`, versions `R/Cvk`, entities, collections.

artdaqdb.md §2: a run's archive is configuration `R/C`; update k is version `R/Cvk`. Readers
accept the historical shapes too (`R/Cv1v1` from conftool.py, updates stored under `R/C`).
"""

import re
from collections.abc import Iterable, Mapping

RUN_HISTORY = "RunHistory"
SYSTEM_LAYOUT = "SystemLayout"
SYSTEM_METADATA = "SystemMetadata"
SCHEMA_ENTITY = "schema"
UPDATE_ENTITY = "RunHistory2"
MAX_RUN = 2_147_483_647

_CONFIG_NAME = re.compile(r"[\x21-\x7e]{1,256}")
_CONFIG_FORBIDDEN = set('/\\"*')
_ENTITY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+\-]{0,127}")
_CANONICAL_RUN = re.compile(r"[1-9][0-9]*")
_RUN_PREFIX = re.compile(r"(\d+)/(.*)", re.DOTALL)
_WHITESPACE = re.compile(r"\s+")


class InvalidNameError(ValueError):
    """A run number, configuration or entity name the store refuses to write."""


def check_run(run: int) -> str:
    """The canonical decimal run number, or InvalidNameError when outside 1..2147483647."""
    if isinstance(run, bool) or not isinstance(run, int) or not 1 <= run <= MAX_RUN:
        raise InvalidNameError(f"run number {run!r} is not an integer between 1 and {MAX_RUN}")
    return str(run)


def check_config_name(name: str) -> str:
    """Validate the configuration part C (no run, no spaces, no `/`, no filter wildcard)."""
    if not isinstance(name, str) or not _CONFIG_NAME.fullmatch(name):
        raise InvalidNameError(
            f"configuration name {name!r} must be 1-256 printable ASCII characters without spaces"
        )
    bad = sorted(_CONFIG_FORBIDDEN.intersection(name))
    if bad:
        raise InvalidNameError(f"configuration name {name!r} contains forbidden characters {bad}")
    return name


def check_stored_config_name(name: str) -> str:
    """Validate C for an operation on an existing archive: a legacy spaced name is accepted
    (it resolves to the stored name), anything else follows `check_config_name`."""
    check_config_name(normalise_configuration(name) if isinstance(name, str) else name)
    return name


def check_entity(entity: str) -> str:
    """Validate an entity name (a file stem): it becomes a file name on export."""
    if not isinstance(entity, str) or not _ENTITY_NAME.fullmatch(entity):
        raise InvalidNameError(
            f"entity name {entity!r} must be a file stem of letters, digits and _ . + -"
        )
    return entity


def check_archive_files(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The archive file set (§11.3): valid names and bytes, `schema` in, `RunHistory2` out."""
    for entity, data in files.items():
        check_entity(entity)
        if not isinstance(data, bytes):
            raise TypeError(f"file {entity!r}: content must be bytes")
    if SCHEMA_ENTITY not in files:
        raise ValueError("the file set has no 'schema' entity (the archived marker)")
    if UPDATE_ENTITY in files:
        raise ValueError(f"{UPDATE_ENTITY!r} belongs to the stop update, not to the archive")
    return dict(files)


def collection_for(entity: str) -> str:
    """`schema` lives in SystemLayout, every other archived file in RunHistory."""
    return SYSTEM_LAYOUT if entity == SCHEMA_ENTITY else RUN_HISTORY


def configuration_name(run: int, config_name: str) -> str:
    """`R/C` for run R and configuration part C."""
    return f"{check_run(run)}/{config_name}"


def normalise_configuration(name: str) -> str:
    """Compare names with every whitespace run replaced by `_` (run-records.md §6)."""
    return _WHITESPACE.sub("_", name.strip())


def split_configuration(name: str) -> tuple[str, str] | None:
    """(run digits, rest) for a name `^(\\d+)/(.*)$`, else None."""
    match = _RUN_PREFIX.fullmatch(name)
    return (match.group(1), match.group(2)) if match else None


def is_canonical_run(text: str) -> bool:
    """True for `^[1-9][0-9]*$` within the run range (the form the project writes)."""
    return bool(_CANONICAL_RUN.fullmatch(text)) and int(text) <= MAX_RUN


def resolve_configuration(wanted: str, stored: Iterable[str]) -> str | None:
    """The stored name equal to `wanted`, else the one equal after whitespace normalisation.

    A run archived by the legacy tool keeps its spaced name; later operations use it verbatim.
    """
    stored = list(stored)
    if wanted in stored:
        return wanted
    target = normalise_configuration(wanted)
    matches = [name for name in stored if normalise_configuration(name) == target]
    return matches[0] if len(matches) == 1 else None


def update_rank(version: str, configuration: str) -> tuple[int, ...] | None:
    """Order key of a version of `configuration`: () for the base, (k,) for `Cvk`, (1, 1) for
    conftool.py's nested `Cv1v1`; None when the version does not belong to the configuration."""
    if version == configuration:
        return ()
    if not version.startswith(configuration):
        return None
    tail = version[len(configuration) :]
    if not re.fullmatch(r"(v\d+)+", tail):
        return None
    return tuple(int(number) for number in re.findall(r"v(\d+)", tail))


def next_update_version(configuration: str, versions: Iterable[str]) -> str:
    """`R/Cvk` with k = 1 + the largest n of an existing exact `R/Cvn` (numeric, never `v1v1`)."""
    prefix = re.escape(configuration)
    numbers = [
        int(match.group(1))
        for version in versions
        if (match := re.fullmatch(prefix + r"v(\d+)", version))
    ]
    return f"{configuration}v{max(numbers, default=0) + 1}"
