"""`--validate`: the legacy metadata checks on the blob actually packed (legacy.md §9).

Unlike the legacy tool, a failed check fails the run.
"""

from app.fhicl.dbjson import fhicl_to_document
from app.fhicl.errors import FhiclError
from app.pipeline.blob import BlobError, unpack


def validate_metadata(blob: bytes, package_key: str) -> list[str]:
    """Problems with `metadata.fcl` in `blob`: each key must occur exactly once, with a value."""
    keys = ("components", "config_name", f"{package_key}_commit_or_version")
    try:
        files = dict(unpack(blob).files)
    except BlobError as error:
        return [f"the packed blob cannot be read back: {error}"]
    text = files.get("metadata.fcl")
    if text is None:
        return [f"metadata.fcl is missing, so {key} cannot be checked" for key in keys]
    try:
        converted = fhicl_to_document(text.decode("utf-8", "surrogateescape"), name="metadata.fcl")
    except FhiclError as error:
        return [f"metadata.fcl does not parse: {error}"]
    main = converted.document.get("data").get("main")
    problems = []
    for key in keys:
        values = [value for name, value in main if name == key]
        if len(values) != 1:
            problems.append(f"metadata.fcl has {len(values)} '{key}' entries (expected 1)")
        elif values[0] in ("", [], None):
            problems.append(f"metadata.fcl has an empty '{key}'")
    return problems
