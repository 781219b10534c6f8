"""Database URIs (artdaqdb.md §1.1): `filesystemdb:///abs/root` or `mongodb://…/db_archive`."""

import os
import re
from pathlib import PurePosixPath

from app.redact import redact_url

FILESYSTEM_SCHEME = "filesystemdb://"
_DB_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/]*/([^?]*)")


class UriError(ValueError):
    """A database URI the store cannot use; the message carries the redacted URI."""


def is_mongo(uri: str) -> bool:
    """The C++ code picks the MongoDB provider for any URI starting with `mongo`."""
    return uri.startswith("mongo")


def filesystem_root(uri: str) -> PurePosixPath:
    """The root directory of a filesystemdb URI, with `${VAR}` expanded as the C++ code does."""
    if not uri.startswith(FILESYSTEM_SCHEME):
        raise UriError(f"{redact_url(uri)!r} is not a filesystemdb:// URI")
    path = os.path.expandvars(uri[len(FILESYSTEM_SCHEME) :])
    if path.endswith("/") and len(path) > 1:
        path = path[:-1]
    if not path.startswith("/") or "${" in path:
        raise UriError(
            f"{redact_url(uri)!r}: the root must be an absolute path (filesystemdb:///abs/path)"
        )
    return PurePosixPath(path)


def database_name(uri: str) -> str:
    """The database name: the root's last component, or the MongoDB URI path."""
    if uri.startswith(FILESYSTEM_SCHEME):
        return filesystem_root(uri).name
    match = _DB_NAME.match(uri)
    if not match or not match.group(1):
        raise UriError(f"{redact_url(uri)!r} names no database")
    return match.group(1)


def archive_name_warning(uri: str) -> str | None:
    """The §1.2 start-up warning when the database name does not end in `_archive`."""
    name = database_name(uri)
    if name.endswith("_archive"):
        return None
    return (
        f"artdaq_database {redact_url(uri)!r}: database name {name!r} does not end in _archive;"
        " the URI is used verbatim, so it must name the archive database"
    )
