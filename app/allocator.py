"""glibc's malloc raises its mmap threshold to the largest block freed so far (up to 32 MiB);
after one large record or blob, later multi-megabyte buffers come from the heap, and their
pages stay with the process once freed. A fixed threshold keeps such buffers in their own
mappings, which go back to the system when freed, so a long-running service does not keep the
peak of its largest run."""

import ctypes
import platform

M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>
LARGE_BUFFER_BYTES = 1 << 20


def return_large_buffers() -> bool:
    """Fix glibc's mmap threshold at 1 MiB; False (nothing changed) on another C library."""
    if platform.libc_ver()[0] != "glibc":
        return False
    # The process's own symbols include glibc's; `ctypes.util.find_library` would run ldconfig
    # at every start of `rra` and of each import worker.
    return bool(ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, LARGE_BUFFER_BYTES))
