"""Checksums of a blob's exact bytes: UconDB keeps size and Adler-32; we add MD5 and SHA-256."""

import hashlib
import zlib
from dataclasses import dataclass


@dataclass(frozen=True)
class BlobChecksums:
    """Size, unsigned Adler-32, MD5 and SHA-256 of one byte string."""

    size: int
    adler32: int
    md5: str
    sha256: str

    @property
    def adler32_hex(self) -> str:
        """Adler-32 as 8 lower-case hex digits (the ledger's `blob_adler32` column)."""
        return f"{self.adler32:08x}"


def checksums_of(data: bytes) -> BlobChecksums:
    """Hash the bytes as given; nothing is decoded, so the figures match what the server stores."""
    return BlobChecksums(
        size=len(data),
        adler32=zlib.adler32(data) & 0xFFFFFFFF,
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
    )
