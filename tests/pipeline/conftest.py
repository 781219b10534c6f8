"""An archive environment for end-to-end tests: sample records, a real filesystemdb, the
UconDB stand-in over loopback HTTP (a test double: the real UconDB server cannot run here),
and a ledger on the backend selected for this test run."""

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy.engine import Engine

from app import migrate
from app.config import Settings
from app.db import make_engine
from app.demo import DEMO_SCHEMA
from app.pipeline.context import PipelineContext
from app.runrecords.sample import write_sample_records
from app.ucondb_server.runner import RunningServer, serve_in_background
from app.ucondb_server.state import make_state

USER, PASSWORD, FOLDER = "writer", "writer-secret", "run_records"


@dataclass
class ArchiveEnv:
    root: Path
    records: Path
    settings: Settings
    engine: Engine
    ucondb: RunningServer

    def context(self, owner: str = "test") -> PipelineContext:
        return PipelineContext(settings=self.settings, engine=self.engine, owner=owner)

    def write_config(self, path: Path, **overrides: dict) -> Path:
        """A legacy-format config.yaml for these settings, for `rra` subprocesses."""
        s = self.settings
        sections: dict[str, dict] = {
            "app": {"work_dir": str(s.app.work_dir), "retry_delay_seconds": 0},
            "source_files": {"run_records_dir": str(s.source_files.run_records_dir)},
            "artdaq_db": {
                "database_uri": s.artdaq_db.database_uri,
                "fcl_conf_dir": str(s.artdaq_db.fcl_conf_dir),
            },
            "ucon_db": {
                "server_url": s.ucon_db.server_url,
                "folder_name": FOLDER,
                "object_name": "configuration",
                "writer_user": USER,
                "writer_password": PASSWORD,
                "timeout_seconds": 10,
            },
            "database": {"url": s.database.url},
            "scanner": {"settle_seconds": 0},
        }
        for name, values in overrides.items():
            sections[name] = {**sections.get(name, {}), **values}
        path.write_text(yaml.safe_dump(sections))
        return path

    def ucondb_versions(self) -> Counter[str]:
        """How many versions the server holds per key (a run stored twice shows 2)."""
        response = httpx.get(
            f"{self.ucondb.base_url}/versions", params={"folder": FOLDER, "object": "configuration"}
        )
        if response.status_code == 404:
            return Counter()
        response.raise_for_status()
        return Counter(str(v["key"]) for v in response.json())


def make_settings(root: Path, db_url: str, base_url: str, **sections: dict) -> Settings:
    return Settings(
        app={"work_dir": str(root / "work"), "retry_delay_seconds": 0, "run_process_retries": 4},
        source_files={"run_records_dir": str(root / "records")},
        artdaq_db={
            "database_uri": f"filesystemdb://{root / 'db_archive'}",
            "fcl_conf_dir": str(root / "conf"),
        },
        ucon_db={
            "server_url": base_url,
            "folder_name": FOLDER,
            "object_name": "configuration",
            "writer_user": USER,
            "writer_password": PASSWORD,
            "timeout_seconds": 5,
            "connect_timeout_seconds": 2,
        },
        database={"url": db_url},
        scanner={"settle_seconds": 0},
        **sections,
    )


@pytest.fixture
def archive_env(tmp_path: Path, db_url: str) -> Iterator[ArchiveEnv]:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "schema.fcl").write_text(DEMO_SCHEMA)
    write_sample_records(tmp_path / "records", runs=6, running=1, seed=3)
    state = make_state(folders=[FOLDER], users={USER: PASSWORD}, seed=7)
    with serve_in_background(state) as server:
        settings = make_settings(tmp_path, db_url, server.base_url)
        engine = make_engine(db_url)
        migrate.upgrade(engine)
        try:
            yield ArchiveEnv(tmp_path, tmp_path / "records", settings, engine, server)
        finally:
            engine.dispose()


def dump(obj: object) -> str:
    return json.dumps(obj, default=str, indent=1)
