"""Everything converted and generated for one run record, as the import stage stores it (§9)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from app.runrecords.convert.boot import convert_boot
from app.runrecords.convert.environment import convert_environment
from app.runrecords.convert.known_boardreaders_list import convert_known_boardreaders_list
from app.runrecords.convert.metadata import convert_metadata
from app.runrecords.convert.notes import Converted
from app.runrecords.convert.ranks import convert_ranks
from app.runrecords.convert.run_history import generate_run_history, generate_run_history2
from app.runrecords.convert.settings import convert_settings
from app.runrecords.convert.setup import convert_setup

CONVERTERS: dict[str, Callable[[bytes], Converted]] = {
    "boot": convert_boot,
    "metadata": convert_metadata,
    "known_boardreaders_list": convert_known_boardreaders_list,
    "settings": convert_settings,
    "setup": convert_setup,
    "environment": convert_environment,
    "ranks": convert_ranks,
}


@dataclass
class ConversionResult:
    """The `.fcl` documents keyed by output file name, and every warning (each names its file)."""

    outputs: dict[str, bytes] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def convert_record(
    files: Mapping[str, bytes], *, generate: frozenset[str], run_number: int
) -> ConversionResult:
    """Convert the enabled `<stem>.txt` files present and generate the enabled RunHistory files.

    `files` maps a run directory's top-level file names to their bytes. A warning read twice
    from the same input (metadata.txt feeds three outputs) is reported once.
    """
    result = ConversionResult()
    warnings: list[str] = []
    for stem, converter in CONVERTERS.items():
        data = files.get(f"{stem}.txt")
        if stem in generate and data is not None:
            converted = converter(data)
            result.outputs[f"{stem}.fcl"] = converted.data
            warnings += converted.warnings
    metadata = files.get("metadata.txt")
    wanted = [name for name in ("RunHistory", "RunHistory2") if name in generate]
    if metadata is None:
        warnings += [f"metadata.txt: missing; {name}.fcl not generated" for name in wanted]
    else:
        if "RunHistory" in generate:
            history = generate_run_history(metadata, run_number)
            result.outputs["RunHistory.fcl"] = history.data
            warnings += history.warnings
        if "RunHistory2" in generate and (times := generate_run_history2(metadata)) is not None:
            result.outputs["RunHistory2.fcl"] = times.data
            warnings += times.warnings
    result.warnings = list(dict.fromkeys(warnings))
    return result
