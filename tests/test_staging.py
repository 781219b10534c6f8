"""The staging area: private directories under the work directory, and the removal of those
whose creator died."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app.staging import StagingError, remove_orphans, staging_directory


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_a_staging_directory_is_private_named_for_its_creator_and_removed_after_use(
    tmp_path: Path,
) -> None:
    with staging_directory(tmp_path / "staging", "bulkloader") as name:
        directory = Path(name)
        assert directory.parent == tmp_path / "staging" / socket.gethostname()
        assert directory.name.startswith(f"bulkloader-{os.getpid()}-")
        assert directory.stat().st_mode & 0o777 == 0o700
        (directory / "boot.fcl").write_text("a: 1\n")
    assert not directory.exists()


def test_only_this_hosts_directories_of_dead_processes_are_removed(tmp_path: Path) -> None:
    root = tmp_path / "staging"
    area = root / socket.gethostname()
    area.mkdir(parents=True)
    dead, alive = _dead_pid(), os.getpid()
    orphan = area / f"bulkdownloader-{dead}-x1"
    (orphan / "sub").mkdir(parents=True)
    kept = [
        area / f"conversions-{alive}-x2",
        area / "notes",
        area / f"conversions-{dead}",
        root / "other-host.example" / f"conversions-{dead}-x3",
    ]
    for directory in kept:
        directory.mkdir(parents=True)
    assert remove_orphans(root) == [orphan]
    assert not orphan.exists()
    assert all(directory.is_dir() for directory in kept)


def test_an_unusable_staging_area_names_its_setting(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    root = tmp_path / "a-file" / "staging"
    with pytest.raises(StagingError, match=r"pipeline\.staging_dir .*a-file/staging.*Not a dir"):
        remove_orphans(root)
