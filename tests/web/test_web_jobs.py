"""Jobs from the dashboard: the form starts the API's jobs, the row reports their progress."""

import re
import time

from fastapi.testclient import TestClient
from web_support import Archive, ledger, section, sign_in, token

from app.models import TokenScope

WAIT_SECONDS = 60


def job_row(client: TestClient, job_id: int) -> str:
    response = client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.text


def finished_row(client: TestClient, job_id: int) -> str:
    """The job's row once it has ended (bounded wait; the row stops polling then)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        row = job_row(client, job_id)
        if 'hx-trigger="every' not in row:
            return row
        assert time.monotonic() < deadline, f"job {job_id} still running: {row}"
        time.sleep(0.2)


def test_import_job_runs_to_completion_with_progress(archive: Archive) -> None:
    client = archive.client
    csrf = sign_in(client, token(ledger(client), "alice", TokenScope.OPERATE))
    response = client.post(
        "/jobs",
        data={"csrf": csrf, "kind": "run", "mode": "full", "runs": "1000-1003"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    started = section(response.text, data_testid="job-messages")
    job_id = int(re.search(r"job (\d+) \(run\) started", started).group(1))  # type: ignore[union-attr]
    assert f'id="job-{job_id}"' in response.text
    row = finished_row(client, job_id)
    assert 'data-state="succeeded"' in row
    assert "8 done of 8 (100 %)" in " ".join(row.split())
    assert 'value="8"' in row and 'max="8"' in row
    ended = client.post(f"/jobs/{job_id}/cancel", data={"csrf": csrf})
    assert f"job {job_id} already ended" in section(ended.text, data_testid="job-messages")


def test_bad_parameters_and_read_only_users_start_nothing(archive: Archive) -> None:
    client = archive.client
    form = client.get("/jobs?kind=migrate&runs=1000-1002").text
    assert "Start job" not in form
    csrf = sign_in(client, token(ledger(client), "alice", TokenScope.OPERATE))
    prefilled = client.get("/jobs?kind=migrate&runs=1000-1002").text
    assert '<option value="migrate" selected>' in prefilled and 'value="1000-1002"' in prefilled
    response = client.post("/jobs", data={"csrf": csrf, "kind": "import", "runs": "10-x"})
    assert "is not a run, a range" in section(response.text, data_testid="job-messages")
    unknown = client.post("/jobs", data={"csrf": csrf, "kind": "delete-everything"})
    assert "kind" in section(unknown.text, data_testid="job-messages")
    assert "No jobs yet" in section(unknown.text, data_testid="jobs")


def test_unknown_job_is_a_404(archive: Archive) -> None:
    response = archive.client.get("/jobs/999")
    assert response.status_code == 404 and "there is no job 999" in response.text
