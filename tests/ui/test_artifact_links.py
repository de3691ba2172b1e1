"""The dashboard serves an artifact only when it resolves to a regular file inside that run's own
artifact folder (issue 12): a recorded artifact replaced by a symlink to the store's database, or to
another run's file, is a 404, never the bytes."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # ui_helpers, with --import-mode=importlib

from ui_helpers import Dashboard, autotrack_cli, run_python  # noqa: E402

TWO_RUNS = """
import autotrack
for name in ("first", "second"):
    with autotrack.start_run(name=name):
        autotrack.log_metrics({"loss": 0.5})
        autotrack.active_run().log_artifact(data=f"notes of {name}", name="notes.txt")
"""


def _get(url: str) -> tuple[int, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_an_artifact_that_became_a_link_out_of_its_run_folder_is_not_served(tmp_path):
    store = tmp_path / "store"
    process = run_python(TWO_RUNS, tmp_path, store, tracked=False)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    runs = {run["name"]: run["id"] for run in autotrack_cli(store, "runs", "--json")}
    first, second = (store / "artifacts" / runs[name] / "notes.txt" for name in ("first", "second"))
    server = Dashboard(store)
    try:
        status, body = _get(f"{server.url}runs/{runs['first']}/artifacts/notes.txt")
        assert (status, body) == (200, b"notes of first")  # served while it is what was recorded
        first.unlink()
        first.symlink_to(store / "runs.db")
        status, body = _get(f"{server.url}runs/{runs['first']}/artifacts/notes.txt")
        assert status == 404 and b"SQLite" not in body
        first.unlink()
        first.symlink_to(second)  # another run's file
        status, body = _get(f"{server.url}runs/{runs['first']}/artifacts/notes.txt")
        assert status == 404 and b"notes of second" not in body
    finally:
        assert server.stop() == 0
