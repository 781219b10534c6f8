"""Helpers of the metrics tests."""

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import Settings


def make_settings(tmp_path: Path, db_url: str, **sections: Any) -> Settings:
    """Settings on the given ledger, with extra sections (e.g. `carbon`)."""
    return Settings(
        app={"work_dir": str(tmp_path / "work")},
        source_files={"run_records_dir": str(tmp_path / "records")},
        artdaq_db={"database_uri": f"filesystemdb://{tmp_path}/db", "fcl_conf_dir": "/nonexistent"},
        ucon_db={
            "server_url": "http://127.0.0.1:9/app",
            "folder_name": "f",
            "object_name": "configuration",
            "writer_user": "w",
            "writer_password": "p",
        },
        database={"url": db_url},
        **sections,
    )


@dataclass
class CarbonListener:
    port: int
    connections: list[str] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def received(self, text: str) -> None:
        with self.changed:
            self.connections.append(text)
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[str]:
        """The first `count` connections' texts, once that many have arrived."""
        with self.changed:
            self.changed.wait_for(lambda: len(self.connections) >= count, timeout)
            return list(self.connections)
