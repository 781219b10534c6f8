"""UconDB store: the httpx client, its errors, and the records it returns (spec/ucondb.md)."""

from app.stores.ucondb.checksums import BlobChecksums, checksums_of
from app.stores.ucondb.client import UconDBClient, UploadResult, VerifiedVersion
from app.stores.ucondb.errors import ConflictError, UconDBError, VerifyError
from app.stores.ucondb.records import RunListing, StoredVersion

__all__ = [
    "BlobChecksums",
    "ConflictError",
    "RunListing",
    "StoredVersion",
    "UconDBClient",
    "UconDBError",
    "UploadResult",
    "VerifiedVersion",
    "VerifyError",
    "checksums_of",
]
