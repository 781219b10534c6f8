"""Which files are converted or generated: the legacy `fhiclize_generate` setting (legacy §2.1)."""

from collections.abc import Mapping

CONVERTED = (
    "boot",
    "metadata",
    "known_boardreaders_list",
    "settings",
    "setup",
    "environment",
    "ranks",
)
GENERATED = ("RunHistory", "RunHistory2")
ALL_OUTPUTS = frozenset(CONVERTED + GENERATED)
_KNOWN = ", ".join(CONVERTED + GENERATED)


def parse_fhiclize_generate(value: object) -> frozenset[str]:
    """Stems to produce: None = all nine; a list or `{files: [...]}`; `.txt`/`.fcl` ignored.

    Raises ValueError naming the bad entry: the legacy tool failed on unknown names too.
    """
    if value is None:
        return ALL_OUTPUTS
    where = "fhiclize_generate"
    entries = value
    if isinstance(value, Mapping):
        extra = sorted(str(key) for key in value if key != "files")
        if extra:
            raise ValueError(
                f"{where}: unknown key(s) {', '.join(extra)}; write a list of names, or "
                f"'files:' followed by a list of names ({_KNOWN})"
            )
        where, entries = f"{where}.files", value.get("files", [])
    if not isinstance(entries, list | tuple):
        raise ValueError(
            f"{where} must be a list of names ({_KNOWN}), not {type(entries).__name__}"
        )
    names = set()
    for entry in entries:
        if not isinstance(entry, str):
            raise ValueError(f"{where}: entry {entry!r} is not a name; known names: {_KNOWN}")
        name = entry[:-4] if entry.endswith((".txt", ".fcl")) else entry
        if name not in ALL_OUTPUTS:
            raise ValueError(f"{where}: unknown entry {entry!r}; known names: {_KNOWN}")
        names.add(name)
    return frozenset(names)
