"""The run page's store sections over real stores: artdaq_database export, UconDB blob, diff."""

import os
from urllib.parse import quote

from web_support import Archive, section

from app.pipeline.blob import pack, unpack
from app.pipeline.runner import WorkRequest, run_work
from app.runrecords.metadata import parse_metadata


def archived_run(archive: Archive) -> int:
    """Import and migrate every finished sample run; returns the first of them."""
    report = run_work(archive.context, WorkRequest())
    assert not report.failed_runs
    return archive.runs[0]


def test_exported_and_archived_files_are_listed_and_viewable(archive: Archive) -> None:
    run = archived_run(archive)
    client = archive.client
    exported = client.get(f"/runs/{run}/artdaqdb", headers={"HX-Request": "true"}).text
    assert "<html" not in exported
    export = archive.context.store.export_run(run, _config(archive, run))
    assert all(f"name={quote(name)}" in exported for name in export.files)
    some_fcl = next(name for name in sorted(export.files) if name.endswith(".fcl"))
    page = client.get(f"/runs/{run}/file", params={"source": "artdaqdb", "name": some_fcl})
    assert page.status_code == 200
    shown = section(page.text, data_testid="file-text")
    assert shown == " ".join(export.files[some_fcl].decode().split())

    stored = archive.context.ucondb.download(run)
    assert stored is not None
    blob_names = [name for name, _ in unpack(stored).files]
    listing = client.get(f"/runs/{run}/ucondb").text
    assert "<html" in listing, "without htmx the section is a page of its own"
    assert all(f"name={quote(name)}" in listing for name in blob_names)
    download = client.get(f"/runs/{run}/ucondb/blob")
    assert download.content == stored
    assert download.headers["content-disposition"] == f'attachment; filename="run_{run}.blob.txt"'


def test_diff_is_identical_then_shows_a_changed_file(archive: Archive) -> None:
    run = archived_run(archive)
    client = archive.client
    same = client.get(f"/runs/{run}/diff", headers={"HX-Request": "true"}).text
    assert section(same, data_testid="diff-outcome").startswith("Identical")

    stored = unpack(archive.context.ucondb.download(run) or b"")
    name = next(n for n, _ in stored.files if n.endswith(".fcl"))
    altered = [(n, c + b"# edited by hand\n" if n == name else c) for n, c in stored.files]
    tampered = pack(run, altered, stored.stamp)
    archive.context.ucondb.upload(run, tampered.data, operator_override=True)

    changed = client.get(f"/runs/{run}/diff", headers={"HX-Request": "true"}).text
    assert section(changed, data_testid="diff-outcome") == "The stores differ in 1 file."
    assert name in changed
    assert '<span class="add">+# edited by hand</span>' in changed


def test_a_run_not_yet_archived_says_so(archive: Archive) -> None:
    archived_run(archive)
    run = archive.runs[-1]
    client = archive.client
    assert "holds nothing under this run" in client.get(f"/runs/{run}/ucondb").text
    assert "not been imported" in client.get(f"/runs/{run}/diff").text
    missing = client.get(f"/runs/{run}/file", params={"source": "ucondb", "name": "boot.fcl"})
    assert missing.status_code == 404 and "holds no file named" in missing.text


def _config(archive: Archive, run: int) -> str:
    from app.db import session_scope
    from app.models import Stage, StageStatus

    with session_scope(archive.context.engine) as session:
        row = session.get(StageStatus, (run, Stage.IMPORT))
        assert row is not None and row.details
        return row.details["config_name"]


def test_run_page_lists_the_components_of_metadata(archive: Archive) -> None:
    run = archive.runs[0]
    run_work(archive.context, WorkRequest(stages=()))
    metadata = archive.context.run_dir(run) / "metadata.txt"
    expected = parse_metadata(metadata.read_bytes()).components
    assert expected
    page = archive.client.get(f"/runs/{run}").text
    assert section(page, data_figure="components") == ", ".join(expected)
    metadata.unlink()
    os.mkfifo(metadata)
    page = archive.client.get(f"/runs/{run}").text
    assert section(page, data_figure="components") == "metadata.txt unavailable"
