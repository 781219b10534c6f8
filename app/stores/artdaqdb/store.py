"""Choose and open an artdaq_database backend from the configured URI and options."""

import tempfile
from collections.abc import Mapping
from pathlib import Path

from app.config import ArtdaqDbSection
from app.fhicl.dbjson import document_to_fhicl
from app.redact import redact_url
from app.stores.artdaqdb.backend import ArtdaqStore
from app.stores.artdaqdb.conversion import Converter, Regenerator
from app.stores.artdaqdb.convert import convert_source
from app.stores.artdaqdb.filesystem import FilesystemStore
from app.stores.artdaqdb.toolrunner import ToolRunner
from app.stores.artdaqdb.tools import ToolsStore
from app.stores.artdaqdb.uri import UriError, is_mongo


def open_store(
    uri: str,
    *,
    use_tools: bool = False,
    remote_host: str | None = None,
    tools_timeout: float = 300.0,
    strict_host_key_checking: bool = True,
    tools_environment: Mapping[str, str] | None = None,
    tools_threads: int | None = None,
    staging: Path | None = None,
    converter: Converter = convert_source,
    regenerator: Regenerator = document_to_fhicl,
) -> ArtdaqStore:
    """The project's filesystemdb writer, or the site's C++ tools when `use_tools` is set.

    MongoDB has no Python writer here (no driver dependency): it needs the tools backend.
    The tools read and write files in `staging` (the service passes `pipeline.staging_dir`;
    one-off callers get a directory in the system's temporary directory).
    """
    if use_tools:
        runner = ToolRunner(
            uri=uri,
            timeout=tools_timeout,
            remote_host=remote_host,
            strict_host_key_checking=strict_host_key_checking,
            environment=dict(tools_environment or {}),
        )
        return ToolsStore(
            runner,
            converter=converter,
            staging=staging or Path(tempfile.gettempdir()) / "rra-staging",
            threads=tools_threads,
        )
    if is_mongo(uri):
        raise UriError(
            f"{redact_url(uri)!r}: MongoDB databases are reached through the site's tools;"
            " set artdaq_db.use_tools: true"
        )
    return FilesystemStore(uri, converter=converter, regenerator=regenerator)


def open_configured_store(
    section: ArtdaqDbSection, *, staging: Path, converter: Converter = convert_source
) -> ArtdaqStore:
    """The backend the `artdaq_db` section of the configuration asks for."""
    return open_store(
        section.database_uri,
        use_tools=section.use_tools,
        remote_host=section.remote_host,
        tools_timeout=section.tools_timeout_seconds,
        strict_host_key_checking=section.ssh_strict_host_key_checking,
        staging=staging,
        converter=converter,
    )
