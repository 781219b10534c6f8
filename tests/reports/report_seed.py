"""Ledgers for report tests: the spec's full example (legacy.md §5.5) and one with exclusions,
failures, truncated lists and a stray huge run number; settings naming their locations."""

from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from app.config import Settings
from app.models import LedgerMeta, Readiness, Run, Stage, StageStatus, State, StoreRun
from app.reports.sources import Source, record_listing


@dataclass
class Locations:
    records: str
    artdaq_uri: str
    ucon_url: str
    folder: str
    object: str = "configuration"


SPEC_LOCATIONS = Locations(
    records="/daq/run_records",
    artdaq_uri="filesystemdb:///daq/database/filesystemdb/sbnd_db_archive",
    ucon_url="https://dbdata0vm.fnal.gov:9443/sbnd_on_ucon_prod/app",
    folder="sbnd_runs",
)
MIXED_LOCATIONS = Locations(
    records="/data/run_records",
    artdaq_uri="mongodb://archiver:s3cret-db@db.example:27017/runs_archive",
    ucon_url="https://writer:s3cret-ucon@ucon.example/app",
    folder="runs",
)
EMPTY_LOCATIONS = Locations(
    records="/data/run_records",
    artdaq_uri="filesystemdb:///data/archive",
    ucon_url="https://ucon.example/app",
    folder="runs",
)


def report_settings(db_url: str, where: Locations) -> Settings:
    return Settings(
        source_files={"run_records_dir": where.records},
        artdaq_db={"database_uri": where.artdaq_uri, "fcl_conf_dir": "/nonexistent/conf"},
        ucon_db={
            "server_url": where.ucon_url,
            "folder_name": where.folder,
            "object_name": where.object,
            "writer_user": "writer",
            "writer_password": "s3cret-ucon",
        },
        database={"url": db_url},
    )


def config_yaml(path: Path, db_url: str, where: Locations) -> Path:
    """The same settings as a config file, for `rra report --config`."""
    path.write_text(
        f"""
source_files:
  run_records_dir: {where.records}
artdaq_db:
  database_uri: "{where.artdaq_uri}"
  fcl_conf_dir: /nonexistent/conf
ucon_db:
  server_url: "{where.ucon_url}"
  folder_name: {where.folder}
  object_name: {where.object}
  writer_user: writer
  writer_password: s3cret-ucon
database:
  url: "{db_url}"
"""
    )
    return path


@dataclass
class LedgerSpec:
    fs: set[int]
    a: set[int]
    u: set[int]
    stages: dict[Stage, dict[int, State]]
    excluded: dict[int, str] = field(default_factory=dict)
    legacy: dict[Stage, int] = field(default_factory=dict)


def seed(session: Session, spec: LedgerSpec) -> None:
    """Write the sets and stage rows into the ledger and commit."""
    for number in spec.fs | set(spec.excluded):
        session.add(
            Run(
                run_number=number,
                readiness=Readiness.READY,
                present=number in spec.fs,
                excluded_reason=spec.excluded.get(number),
            )
        )
    for store, runs in (("artdaqdb", spec.a), ("ucondb", spec.u)):
        session.add_all(StoreRun(store=store, run_number=number) for number in runs)
    for stage, rows in spec.stages.items():
        session.add_all(
            StageStatus(run_number=number, stage=stage, state=state)
            for number, state in rows.items()
        )
    for stage, last in spec.legacy.items():
        session.add(
            LedgerMeta(key=f"legacy_watermark.{stage.value}", value={"last_contiguous_run": last})
        )
    for source in Source:
        record_listing(session, source, error=None)
    session.commit()


def spec_example() -> LedgerSpec:
    """legacy.md §5.5 as a ledger: the import watermark derives from the rows (17494); the
    migration stage's lowest run (17470) is not done, so the imported legacy one (17494) shows."""
    fs = set(range(17480, 17531)) - {17495, 17511}
    a = ({17470} | set(range(17480, 17526))) - {17495, 17502, 17511}
    u = set(range(17480, 17521)) - {17495, 17502, 17503, 17511}
    imports = {n: State.DONE if n in a else State.PENDING for n in fs}
    imports[17502] = State.FAILED
    migrations = {n: State.DONE if n in u else State.PENDING for n in a}
    migrations.update({17502: State.FAILED, 17503: State.RETRY})
    return LedgerSpec(
        fs=fs,
        a=a,
        u=u,
        stages={Stage.IMPORT: imports, Stage.MIGRATE: migrations},
        legacy={Stage.MIGRATE: 17494},
    )


def mixed_example() -> LedgerSpec:
    """Eleven FS islands, 23 A gaps, a stray UconDB run 99999999, three excluded runs (two
    never seen, one on disk), thirteen failed imports, no migration watermark."""
    fs = {1000, 1001, 1002, 1004, 1006, 1007, 1009, 1011, 1013, 1015, 1017, 1019}
    fs |= {1021, 1022, 1023, 1024, 1025, 1030}
    a = set(range(1000, 1051, 2))
    u = {1000, 1002, 99999999}
    excluded = {1005: "never taken", 1013: "test run", 1026: "DAQ crash, no record"}
    imports = {n: State.DONE for n in fs & a}
    for n in (990, 1001, 1009, 1011, 1015, 1019, 1021, 1023, 1025, 1040, 1041):
        imports[n] = State.FAILED
    imports.update({1007: State.RETRY, 1017: State.RETRY})
    migrations = {1000: State.RETRY, 1002: State.DONE, 1004: State.FAILED, 1006: State.PENDING}
    for n in excluded:
        imports[n] = migrations[n] = State.EXCLUDED
    return LedgerSpec(
        fs=fs,
        a=a,
        u=u,
        stages={Stage.IMPORT: imports, Stage.MIGRATE: migrations},
        excluded=excluded,
        legacy={Stage.IMPORT: 1025},
    )


def empty_example() -> LedgerSpec:
    return LedgerSpec(fs=set(), a=set(), u=set(), stages={})
