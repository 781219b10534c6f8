"""The tools backend (`use_tools: true`): the site's `bulkloader`, `bulkdownloader`, `conftool.py`.

For sites with MongoDB or their own installation. The tools' exit codes are not enough
(artdaqdb.md §9): bulkloader leaves partial imports, bulkdownloader exits 0 after failures, and
conftool.py exits 0 after failed listings, so every write and export is checked against the
configuration's composition afterwards.
"""

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from app.fhicl.pairs import Pairs
from app.redact import redact_url
from app.staging import remove_orphans, staging_directory
from app.stores.artdaqdb.conversion import Converter
from app.stores.artdaqdb.document import read_raw_block
from app.stores.artdaqdb.errors import ArtdaqStoreError
from app.stores.artdaqdb.naming import (
    RUN_HISTORY,
    SCHEMA_ENTITY,
    SYSTEM_LAYOUT,
    UPDATE_ENTITY,
    check_archive_files,
    check_config_name,
    check_run,
    check_stored_config_name,
    collection_for,
    is_canonical_run,
    next_update_version,
    resolve_configuration,
    split_configuration,
    update_rank,
)
from app.stores.artdaqdb.results import (
    ArchiveResult,
    EntityResult,
    EntityStatus,
    ExpectedFile,
    ExportEntry,
    ExportResult,
    FileSource,
    Outcome,
    RunConfigurations,
    RunListing,
    StoredDocument,
    VerifyIssue,
    VerifyResult,
)
from app.stores.artdaqdb.toolrunner import STAGING, ToolRun, ToolRunner

TOOL_EXIT_MEANINGS = {
    1: "failure (some files failed, or --help)",
    128: "malformed option",
    129: "missing -p",
    130: "missing -c",
    131: "missing -r",
    144: "uncaught exception",
}
MAX_ARGUMENT_BYTES = 100_000


def default_threads() -> int:
    """Half the CPUs, at least one (the legacy `$(nproc)/2` gave 0 on one CPU and crashed)."""
    return max(1, (os.cpu_count() or 2) // 2)


def _explain(run: ToolRun) -> str:
    code = run.returncode
    meaning = f"killed by signal {-code}" if code < 0 else TOOL_EXIT_MEANINGS.get(code, "failure")
    return f"`{run.command}` exited {code} ({meaning}): {run.tail()}"


def _json_output(run: ToolRun) -> object:
    """The JSON conftool.py printed, skipping its `Info:` chatter; error if there is none."""
    lines = [line for line in run.stdout.splitlines() if not line.startswith("Info:")]
    text = "\n".join(lines)
    start = text.find("{")
    if run.returncode != 0 or start < 0:
        raise ArtdaqStoreError(_explain(run))
    try:
        value, _ = json.JSONDecoder(object_pairs_hook=Pairs).raw_decode(text[start:])
    except json.JSONDecodeError as exc:
        raise ArtdaqStoreError(f"`{run.command}` printed unparsable JSON ({exc})") from None
    return value


def _search(value: object) -> list[Pairs]:
    search = value.get("search") if isinstance(value, Pairs) else None
    if not isinstance(search, list):
        raise ArtdaqStoreError("conftool.py output has no `search` list")
    return [item for item in search if isinstance(item, Pairs)]


class ToolsStore:
    """Drives the C++ tools; content checks use the project's converter on the same files."""

    def __init__(
        self,
        runner: ToolRunner,
        *,
        converter: Converter,
        staging: Path,
        threads: int | None = None,
    ) -> None:
        self.runner = runner
        self._converter = converter
        self._staging = staging
        self.threads = max(1, threads or default_threads())
        remove_orphans(staging)

    @property
    def description(self) -> str:
        """Backend, URI (credentials redacted) and where the tools run."""
        where = f" via ssh {self.runner.remote_host}" if self.runner.remote_host else ""
        return f"tools backend at {redact_url(self.runner.uri)}{where}"

    def _conftool(self, function: str, query: Mapping[str, object]) -> object:
        """Call one conftoolp function through conftool.py and return the JSON it printed."""
        return _json_output(self.runner.run(["conftool.py", function, json.dumps(query)]))

    def _configurations(self, pattern: str) -> list[str]:
        """`findconfigs` names matching an exact name or a `prefix*` filter (§6.2)."""
        query = {
            "operation": "findconfigs",
            "dataformat": "gui",
            "filter": {"configurations.name": pattern},
        }
        names = [item.get("name") for item in _search(self._conftool("find_configurations", query))]
        return sorted({name for name in names if isinstance(name, str)})

    def _run_configurations(self, run_text: str) -> list[str]:
        return [
            name
            for name in self._configurations(f"{run_text}/*")
            if name.startswith(f"{run_text}/")
        ]

    def _composition(self, configuration: str) -> set[tuple[str, str]]:
        query = {
            "operation": "buildfilter",
            "dataformat": "gui",
            "filter": {"configurations.name": configuration},
        }
        found = set()
        for item in _search(self._conftool("configuration_composition", query)):
            load = item.get("query")
            filters = load.get("filter") if isinstance(load, Pairs) else None
            if isinstance(filters, Pairs):
                found.add((str(load.get("collection")), str(filters.get("entities.name"))))
        return found

    def _versions(self, collection: str, entity: str, configuration: str) -> list[str]:
        query = {
            "operation": "findversions",
            "dataformat": "gui",
            "collection": collection,
            "filter": {"entities.name": entity},
        }
        versions = set()
        for item in _search(self._conftool("find_versions", query)):
            load = item.get("query")
            filters = load.get("filter") if isinstance(load, Pairs) else None
            version = filters.get("version") if isinstance(filters, Pairs) else None
            if isinstance(version, str) and update_rank(version, configuration) is not None:
                versions.add(version)
        return sorted(versions)

    def _stored_record(
        self, collection: str, configuration: str, entity: str, version: str | None
    ) -> Pairs:
        filters = {"configurations.name": configuration, "entities.name": entity}
        if version is not None:
            filters["version"] = version
        query = {
            "operation": "load",
            "dataformat": "db",
            "collection": collection,
            "filter": filters,
        }
        record = self._conftool("read_document", query)
        if not isinstance(record, Pairs):
            raise ArtdaqStoreError(f"read_document returned no record for {configuration}:{entity}")
        return record

    def _same_content(self, record: Pairs, entity: str, source: bytes) -> tuple[bool, str]:
        raw = read_raw_block(record)
        if raw.data is not None:
            return raw.data == source, "stored raw bytes differ"
        conversion = self._converter(source, entity)
        if conversion.parse_error:
            return False, f"file does not parse ({conversion.parse_error}); cannot compare"
        document = record.get("document")
        stored = document.get("data") if isinstance(document, Pairs) else None
        return stored == conversion.document.get("data"), "stored document.data differs"

    def _load(self, staging: Path, run_text: str, config_part: str) -> None:
        """One bulkloader call over the files in `staging`; raise unless it exits 0."""
        run = self.runner.run(
            [
                "bulkloader",
                "-p",
                STAGING,
                "-r",
                run_text,
                "-c",
                config_part,
                "-t",
                str(self.threads),
            ],
            staging=staging,
        )
        if run.returncode != 0:
            raise ArtdaqStoreError(_explain(run))

    def archive_run(self, run: int, config_name: str, files: Mapping[str, bytes]) -> ArchiveResult:
        """bulkloader the missing files (schema last) after checking what is already stored."""
        run_text = check_run(run)
        check_config_name(config_name)
        sources = _checked_files(files)
        wanted = f"{run_text}/{config_name}"
        stored = self._run_configurations(run_text)
        configuration = resolve_configuration(wanted, stored) or wanted
        foreign = tuple(name for name in stored if name != configuration)
        if foreign:
            return ArchiveResult(
                run, wanted, wanted, Outcome.FOREIGN_CONFIGURATION, foreign=foreign
            )
        present = self._composition(configuration) if configuration in stored else set()
        results: dict[str, EntityResult] = {}
        for entity, source in sources.items():
            collection = collection_for(entity)
            status, detail = EntityStatus.WRITTEN, ""
            if (collection, entity) in present:
                record = self._stored_record(collection, configuration, entity, configuration)
                same, why = self._same_content(record, entity, source)
                status, detail = (
                    (EntityStatus.UNCHANGED, "") if same else (EntityStatus.CONFLICT, why)
                )
            results[entity] = _entity_result(entity, configuration, source, status, detail)
        extra = tuple(
            StoredDocument(collection, entity, "", configuration, "")
            for collection, entity in sorted(present)
            if entity not in sources and entity != UPDATE_ENTITY
        )
        statuses = {result.status for result in results.values()}
        if EntityStatus.CONFLICT in statuses:
            return ArchiveResult(
                run,
                configuration,
                configuration,
                Outcome.CONFLICT,
                tuple(_not_written(result) for result in results.values()),
                extra,
            )
        missing = [
            entity for entity, result in results.items() if result.status is EntityStatus.WRITTEN
        ]
        config_part = configuration.split("/", 1)[1]
        for batch in (
            [entity for entity in missing if entity != SCHEMA_ENTITY],
            [entity for entity in missing if entity == SCHEMA_ENTITY],
        ):
            if not batch:
                continue
            with staging_directory(self._staging, "bulkloader") as directory:
                for entity in batch:
                    (Path(directory) / f"{entity}.fcl").write_bytes(sources[entity])
                self._load(Path(directory), run_text, config_part)
        if missing:
            now = self._composition(configuration)
            lost = [entity for entity in missing if (collection_for(entity), entity) not in now]
            if lost:
                raise ArtdaqStoreError(
                    f"{configuration}: bulkloader exited 0 but {lost} are not in the composition"
                )
        if statuses == {EntityStatus.WRITTEN}:
            outcome = Outcome.INSERTED
        else:
            outcome = Outcome.COMPLETED if missing else Outcome.UNCHANGED
        return ArchiveResult(
            run, configuration, configuration, outcome, tuple(results.values()), extra
        )

    def _write_document(
        self,
        collection: str,
        configuration: str,
        version: str,
        entity: str,
        run_text: str,
        source: bytes,
    ) -> None:
        if len(source) > MAX_ARGUMENT_BYTES:
            raise ArtdaqStoreError(
                f"{entity}: {len(source)} bytes is too large to pass to conftool.py write_document"
            )
        query = {
            "operation": "store",
            "dataformat": "fhicl",
            "collection": collection,
            "filter": {
                "configurations.name": configuration,
                "version": version,
                "entities.name": entity,
                "runs.name": run_text,
            },
        }
        text = source.decode("utf-8", errors="surrogateescape")
        run = self.runner.run(["conftool.py", "write_document", json.dumps(query), text])
        if run.returncode != 0:
            raise ArtdaqStoreError(_explain(run))

    def archive_stopped_run(
        self, run: int, config_name: str, files: Mapping[str, bytes], runhistory2: bytes
    ) -> tuple[ArchiveResult, ArchiveResult | None]:
        """The archive, then the stop update: two tool runs (the C++ tools share no lock)."""
        archived = self.archive_run(run, config_name, files)
        if not archived.ok:
            return archived, None
        configuration = archived.configuration.split("/", 1)[1]
        schema = files[SCHEMA_ENTITY]
        return archived, self.update_run_stop(run, configuration, runhistory2, schema)

    def update_run_stop(
        self, run: int, config_name: str, runhistory2: bytes, schema: bytes
    ) -> ArchiveResult:
        """conftool.py write_document of RunHistory2 and schema under `R/Cvk` (§11.4)."""
        run_text = check_run(run)
        check_stored_config_name(config_name)
        wanted = f"{run_text}/{config_name}"
        stored = self._run_configurations(run_text)
        configuration = resolve_configuration(wanted, stored)
        if configuration is None:
            outcome = Outcome.FOREIGN_CONFIGURATION if stored else Outcome.MISSING_BASE
            return ArchiveResult(run, wanted, wanted, outcome, foreign=tuple(stored))
        schema_versions = self._versions(SYSTEM_LAYOUT, SCHEMA_ENTITY, configuration)
        if configuration not in schema_versions:
            return ArchiveResult(run, configuration, configuration, Outcome.MISSING_BASE)
        updates = self._versions(RUN_HISTORY, UPDATE_ENTITY, configuration)
        results = []
        if updates:
            newest = max(updates, key=lambda version: update_rank(version, configuration) or ())
            record = self._stored_record(RUN_HISTORY, configuration, UPDATE_ENTITY, newest)
            same, _ = self._same_content(record, UPDATE_ENTITY, runhistory2)
            if same:
                results.append(
                    _entity_result(UPDATE_ENTITY, newest, runhistory2, EntityStatus.UNCHANGED, "")
                )
                if newest != configuration and newest not in schema_versions:
                    self._write_document(
                        SYSTEM_LAYOUT, configuration, newest, SCHEMA_ENTITY, run_text, schema
                    )
                    results.append(
                        _entity_result(SCHEMA_ENTITY, newest, schema, EntityStatus.WRITTEN, "")
                    )
                    return ArchiveResult(
                        run, configuration, newest, Outcome.COMPLETED, tuple(results)
                    )
                return ArchiveResult(run, configuration, newest, Outcome.UNCHANGED, tuple(results))
        version = next_update_version(configuration, [*updates, *schema_versions])
        self._write_document(
            RUN_HISTORY, configuration, version, UPDATE_ENTITY, run_text, runhistory2
        )
        self._write_document(SYSTEM_LAYOUT, configuration, version, SCHEMA_ENTITY, run_text, schema)
        if version not in self._versions(SYSTEM_LAYOUT, SCHEMA_ENTITY, configuration):
            raise ArtdaqStoreError(f"{version}: schema written but not listed by find_versions")
        results = [
            _entity_result(UPDATE_ENTITY, version, runhistory2, EntityStatus.WRITTEN, ""),
            _entity_result(SCHEMA_ENTITY, version, schema, EntityStatus.WRITTEN, ""),
        ]
        return ArchiveResult(run, configuration, version, Outcome.INSERTED, tuple(results))

    def list_runs(self) -> RunListing:
        """Run numbers from `findconfigs` (a full scan inside the tools)."""
        by_run = self.run_configurations()
        return RunListing(tuple(sorted(by_run.by_run)), by_run.anomalies)

    def run_configurations(self) -> RunConfigurations:
        """run → configuration names from `findconfigs`."""
        by_run: dict[int, list[str]] = {}
        anomalies = []
        for name in self._configurations("*"):
            parts = split_configuration(name)
            if parts is None:
                continue
            if not is_canonical_run(parts[0]):
                anomalies.append(
                    f"configuration {name!r}: run number {parts[0]!r} is not canonical"
                )
                if int(parts[0]) == 0:
                    continue
            by_run.setdefault(int(parts[0]), []).append(name)
        anomalies += [
            f"run {run} has {len(names)} configurations: {names}"
            for run, names in sorted(by_run.items())
            if len(names) > 1
        ]
        return RunConfigurations(
            {run: tuple(names) for run, names in sorted(by_run.items())}, tuple(anomalies)
        )

    def run_documents(self, run: int) -> tuple[StoredDocument, ...]:
        """The run's documents from the composition (the tools do not report versions or oids)."""
        run_text = check_run(run)
        return tuple(
            StoredDocument(collection, entity, "", configuration, "")
            for configuration in self._run_configurations(run_text)
            for collection, entity in sorted(self._composition(configuration))
        )

    def export_run(self, run: int, config_name: str) -> ExportResult:
        """bulkdownloader the run and check the files against the composition (§9.2)."""
        run_text = check_run(run)
        check_stored_config_name(config_name)
        wanted = f"{run_text}/{config_name}"
        configuration = resolve_configuration(wanted, self._run_configurations(run_text))
        if configuration is None:
            raise ArtdaqStoreError(
                f"{self.description}: run {run_text} has no configuration {wanted!r}"
            )
        composition = self._composition(configuration)
        entities = [entity for _, entity in composition]
        clashes = sorted({entity for entity in entities if entities.count(entity) > 1})
        if clashes:
            raise ArtdaqStoreError(
                f"{configuration}: entities {clashes} are in several collections"
            )
        config_part = configuration.split("/", 1)[1]
        prefix = re.sub(r"\d+$", "", config_part)
        with staging_directory(self._staging, "bulkdownloader") as directory:
            staging = Path(directory)
            done = self.runner.run(
                [
                    "bulkdownloader",
                    "-p",
                    STAGING,
                    "-r",
                    run_text,
                    "-c",
                    config_part,
                    "-t",
                    str(self.threads),
                ],
                staging=staging,
                fetch_back=True,
            )
            if done.returncode != 0:
                raise ArtdaqStoreError(_explain(done))
            files: dict[str, bytes] = {}
            missing = []
            for collection, entity in sorted(composition, key=lambda item: item[1]):
                folder = staging if collection == SYSTEM_LAYOUT or not prefix else staging / prefix
                path = folder / f"{entity}.fcl"
                if path.is_file():
                    files[f"{entity}.fcl"] = path.read_bytes()
                else:
                    missing.append(f"{collection}/{entity}")
            if missing:
                raise ArtdaqStoreError(
                    f"{configuration}: bulkdownloader exited 0 but did not export {missing}:"
                    f" {done.tail()}"
                )
        manifest = tuple(
            ExportEntry(
                file_name=f"{entity}.fcl",
                entity=entity,
                collection=collection,
                version=None,
                oid=None,
                size=len(files[f"{entity}.fcl"]),
                sha256=hashlib.sha256(files[f"{entity}.fcl"]).hexdigest(),
                source=FileSource.REGENERATED,
            )
            for collection, entity in sorted(composition, key=lambda item: item[1])
        )
        warnings = ("bulkdownloader regenerates FHiCL; no file is the original",)
        return ExportResult(int(run_text), configuration, files, manifest, warnings)

    def verify_run(
        self, run: int, config_name: str, expected: Mapping[str, ExpectedFile]
    ) -> VerifyResult:
        """Presence against the composition; the tools expose no raw bytes to compare."""
        run_text = check_run(run)
        check_stored_config_name(config_name)
        wanted = f"{run_text}/{config_name}"
        resolved = resolve_configuration(wanted, self._run_configurations(run_text))
        composition = self._composition(resolved) if resolved else set()
        configuration = resolved or wanted
        missing: list[VerifyIssue] = []
        unverifiable: list[VerifyIssue] = []
        for entity in sorted(expected):
            collection = collection_for(entity)
            if (collection, entity) in composition:
                detail = "stored by the tools; no raw bytes to compare"
                unverifiable.append(VerifyIssue(entity, collection, None, None, detail))
            else:
                detail = "not in the composition"
                missing.append(VerifyIssue(entity, collection, None, None, detail))
        if UPDATE_ENTITY in expected and (RUN_HISTORY, UPDATE_ENTITY) in composition:
            newest = max(
                self._versions(RUN_HISTORY, UPDATE_ENTITY, configuration),
                key=lambda version: update_rank(version, configuration) or (),
                default=configuration,
            )
            schemas = self._versions(SYSTEM_LAYOUT, SCHEMA_ENTITY, configuration)
            if newest != configuration and newest not in schemas:
                detail = "the update set has no schema"
                missing.append(VerifyIssue(SCHEMA_ENTITY, SYSTEM_LAYOUT, newest, None, detail))
        extra = [
            VerifyIssue(entity, collection, None, None, "stored but not expected")
            for collection, entity in sorted(composition)
            if entity not in expected
        ]
        return VerifyResult(
            run=int(run_text),
            configuration=configuration,
            missing=tuple(missing),
            extra=tuple(extra),
            unverifiable=tuple(unverifiable),
        )


def _checked_files(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The archive file set, minus names bulkloader's path rules would mis-file (§9.1)."""
    sources = check_archive_files(files)
    for entity in sources:
        if ".fcl" in entity or (entity != SCHEMA_ENTITY and entity.endswith(SCHEMA_ENTITY)):
            raise ValueError(f"entity {entity!r} would be mis-filed by bulkloader's path rules")
    return sources


def _entity_result(
    entity: str, version: str, source: bytes, status: EntityStatus, detail: str
) -> EntityResult:
    return EntityResult(
        entity=entity,
        collection=collection_for(entity),
        version=version,
        status=status,
        oid=None,
        size=len(source),
        sha256=hashlib.sha256(source).hexdigest(),
        detail=detail,
    )


def _not_written(result: EntityResult) -> EntityResult:
    if result.status is EntityStatus.WRITTEN:
        return replace(result, status=EntityStatus.NOT_WRITTEN)
    return result
