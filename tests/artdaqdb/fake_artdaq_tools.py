"""Stand-ins for the artdaq_database C++ tools, which cannot run here.

`install(bin_dir)` writes executables `bulkloader`, `bulkdownloader`, `conftool.py` and `ssh`
into `bin_dir`. They keep their "database" as one JSON file named after ARTDAQ_DATABASE_URI and
reproduce the documented observable behaviour (artdaqdb.md §9): bulkloader's exit codes
129/130/131/128, exit 1 with the other files kept on a partial failure, death by signal with no
files or `-t 0`; bulkdownloader's exit 0 after failed exports and its `<prefix>/<entity>.fcl`
layout; conftool.py's `Info:` chatter and JSON results. Every call is appended to
$FAKE_TOOL_LOG with its arguments and the URI it saw. `ssh` checks its options and runs the
remote command with `sh -c`, as sshd would.
"""

import json
import os
import re
import signal
import sys
import time
from pathlib import Path

from app.fhicl.dbjson import document_to_fhicl
from app.fhicl.pairs import Pairs
from app.stores.artdaqdb.convert import convert_source
from app.stores.artdaqdb.dialect import dumps, loads
from app.stores.artdaqdb.document import build_record, random_object_id

TOOLS = ("bulkloader", "bulkdownloader", "conftool.py", "ssh", "slowtool")


def install(bin_dir: Path) -> None:
    """Write the fake executables into `bin_dir`."""
    here = Path(__file__).resolve().parent
    root = here.parents[1]
    for tool in TOOLS:
        script = bin_dir / tool
        script.write_text(
            f"#!{sys.executable}\n"
            "import sys\n"
            f"sys.path[:0] = [{str(here)!r}, {str(root)!r}]\n"
            "import fake_artdaq_tools\n"
            f"fake_artdaq_tools.main({tool!r})\n"
        )
        script.chmod(0o755)


def _log(tool: str, argv: list[str]) -> None:
    entry = {"tool": tool, "argv": argv, "uri": os.environ.get("ARTDAQ_DATABASE_URI")}
    with Path(os.environ["FAKE_TOOL_LOG"]).open("a") as log:
        log.write(json.dumps(entry) + "\n")


def _state_path() -> Path:
    uri = os.environ.get("ARTDAQ_DATABASE_URI")
    if not uri:
        print("Error: ARTDAQ_DATABASE_URI is not set.", file=sys.stderr)
        sys.exit(1)
    return Path(os.environ["FAKE_TOOL_STATE_DIR"]) / (re.sub(r"\W", "_", uri) + ".json")


def _load() -> list[Pairs]:
    path = _state_path()
    return [loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _save(records: list[Pairs]) -> None:
    _state_path().write_text("".join(dumps(record) + "\n" for record in records))


def _first(record: Pairs, key: str) -> str:
    return record.get(key)[0].get("name")


def _store(
    source: bytes, collection: str, configuration: str, version: str, entity: str, run: str
) -> Pairs:
    """What a C++ store writes: converted FHiCL, a random oid, and no raw block."""
    record = build_record(
        source,
        converter=convert_source,
        collection=collection,
        configuration=configuration,
        version=version,
        entity=entity,
        run=run,
    ).record
    record.get("origin")[-1] = ("rawdata", [])
    for number, (key, _) in enumerate(record):
        if key == "_id":
            record[number] = ("_id", Pairs([("$oid", random_object_id())]))
    return record


def _options(argv: list[str]) -> dict[str, str]:
    if "--help" in argv:
        sys.exit(1)
    options: dict[str, str] = {}
    items = iter(argv)
    for item in items:
        if item not in ("-p", "-r", "-c", "-t", "-d"):
            sys.exit(128)
        options[item] = next(items, "")
    for flag, code in (("-p", 129), ("-c", 130), ("-r", 131)):
        if flag not in options:
            sys.exit(code)
    return options


def _failing() -> set[str]:
    return set(filter(None, os.environ.get("FAKE_FAIL_ENTITIES", "").split(",")))


def bulkloader(argv: list[str]) -> None:
    options = _options(argv)
    paths = sorted(path for path in Path(options["-p"]).rglob("*") if ".fcl" in str(path))
    threads = int(options.get("-t", "4"))
    if not paths or threads == 0:
        os.kill(os.getpid(), signal.SIGFPE)
    run = str(int(options["-r"]))
    configuration = f"{run}/{options['-c']}"
    records = _load()
    failed = 0
    for path in paths:
        entity = "schema" if "schema.fcl" in str(path) else path.stem
        if entity in _failing():
            failed += 1
            continue
        collection = "SystemLayout" if "schema.fcl" in str(path) else "RunHistory"
        records.append(
            _store(path.read_bytes(), collection, configuration, configuration, entity, run)
        )
    _save(records)
    print(f"Loaded {len(paths) - failed} files with {threads} threads in 5 msecs.")
    if failed:
        print(f"Error: Failed to load {failed} file(s).")
        sys.exit(1)


def _newest(records: list[Pairs]) -> dict[tuple[str, str], Pairs]:
    chosen: dict[tuple[str, str], Pairs] = {}
    for record in records:
        key = (record.get("collection"), _first(record, "entities"))
        if key not in chosen or record.get("version") > chosen[key].get("version"):
            chosen[key] = record
    return chosen


def bulkdownloader(argv: list[str]) -> None:
    options = _options(argv)
    configuration = f"{int(options['-r'])}/{options['-c']}"
    mine = [r for r in _load() if _first(r, "configurations") == configuration]
    if not mine:
        os.kill(os.getpid(), signal.SIGFPE)
    prefix = re.sub(r"\d+$", "", options["-c"])
    failed = 0
    for (collection, entity), record in sorted(_newest(mine).items()):
        if entity in _failing():
            failed += 1
            continue
        folder = Path(options["-p"]) / ("" if collection == "SystemLayout" else prefix)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{entity}.fcl").write_text(document_to_fhicl(record.get("document")))
    if failed:
        print(f"Error: Failed to export {failed} file(s).", file=sys.stderr)


def _matches(name: str, pattern: str) -> bool:
    return name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern


def conftool(argv: list[str]) -> None:
    function, query = argv[0], json.loads(argv[1])
    records = _load()
    filters = query.get("filter", {})
    print(f"Info: ARTDAQ_DATABASE_URI was set to {os.environ.get('ARTDAQ_DATABASE_URI')}")
    if function == "find_configurations":
        names = sorted({_first(r, "configurations") for r in records})
        found = [n for n in names if _matches(n, filters["configurations.name"])]
        print(json.dumps({"search": [{"name": name, "query": {}} for name in found]}))
    elif function == "configuration_composition":
        mine = [r for r in records if _first(r, "configurations") == filters["configurations.name"]]
        entries = [
            {
                "name": f"x:{entity}",
                "query": {"collection": collection, "filter": {"entities.name": entity}},
            }
            for collection, entity in sorted(_newest(mine))
        ]
        print(json.dumps({"search": entries}))
    elif function == "find_versions":
        versions = sorted(
            {
                r.get("version")
                for r in records
                if r.get("collection") == query["collection"]
                and _matches(_first(r, "entities"), filters["entities.name"])
            }
        )
        print(
            json.dumps(
                {"search": [{"name": v, "query": {"filter": {"version": v}}} for v in versions]}
            )
        )
    elif function == "read_document":
        mine = [
            r
            for r in records
            if r.get("collection") == query["collection"]
            and _first(r, "configurations") == filters["configurations.name"]
            and _first(r, "entities") == filters["entities.name"]
            and r.get("version") == filters.get("version", r.get("version"))
        ]
        if not mine:
            print("Error: no document", file=sys.stderr)
            sys.exit(1)
        print(dumps(max(mine, key=lambda r: r.get("version"))))
    elif function == "write_document":
        text = argv[2].encode("utf-8", errors="surrogateescape")
        records.append(
            _store(
                text,
                query["collection"],
                filters["configurations.name"],
                filters["version"],
                filters["entities.name"],
                filters["runs.name"],
            )
        )
        _save(records)
        print(json.dumps({"ok": True}))
    else:
        print("Error: Unrecognised API function.")
        sys.exit(1)


def ssh(argv: list[str]) -> None:
    separator = argv.index("--")
    options, host, command = argv[:separator], argv[separator + 1], argv[separator + 2 :]
    if "BatchMode=yes" not in options or len(command) != 1 or not host:
        print("fake ssh: unexpected invocation", file=sys.stderr)
        sys.exit(255)
    if "StrictHostKeyChecking=yes" not in options and os.environ.get("FAKE_SSH_REQUIRE_STRICT"):
        sys.exit(255)
    os.execv("/bin/sh", ["sh", "-c", command[0]])  # noqa: S606 - what sshd does remotely


def slowtool(argv: list[str]) -> None:
    child = os.fork()
    if child == 0:
        time.sleep(60)
        os._exit(0)
    Path(argv[0]).write_text(str(child))
    time.sleep(60)


def main(tool: str) -> None:
    argv = sys.argv[1:]
    _log(tool, argv)
    handlers = {
        "bulkloader": bulkloader,
        "bulkdownloader": bulkdownloader,
        "conftool.py": conftool,
        "ssh": ssh,
        "slowtool": slowtool,
    }
    handlers[tool](argv)
