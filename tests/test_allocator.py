"""Large buffers go back to the system when freed, after `return_large_buffers`."""

import platform
import subprocess
import sys

import pytest

# In a fresh interpreter, in a worker thread (its own malloc arena, as the pipeline's): free a
# 24 MB buffer, which raises glibc's dynamic threshold, then allocate, touch and free four
# 6 MB buffers; print by how many MB the resident set stays above where it started.
SCRIPT = """
import sys, threading
from app.allocator import return_large_buffers

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024

if sys.argv[1] == "tuned":
    assert return_large_buffers()
before = rss_mb()

def work():
    first = b"x" * (24 << 20)
    del first
    second = [b"y" * (6 << 20) for _ in range(4)]
    del second

thread = threading.Thread(target=work)
thread.start()
thread.join()
print(rss_mb() - before)
"""


def _kept_mb(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc setting")
def test_freed_large_buffers_leave_the_process_once_tuned() -> None:
    assert _kept_mb("default") >= 20  # glibc's own behaviour: the 6 MB buffers' pages stay
    assert _kept_mb("tuned") < 8
