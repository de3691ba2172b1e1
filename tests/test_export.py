"""Export to other backends, offline-first: pending rows, the background exporter, `autotrack sync`.

A third-party backend plugin (installed the way pip would, through the entry-point group) writes
what it receives to a file; a flag file makes it unavailable, as a server that is down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_plugins import make_distribution

BACKEND_PLUGIN = '''
import json, os
from autotrack import hookimpl
from autotrack.export import BackendUnavailable


class FileBackend:
    """Appends each push to a JSON-lines file; "remote" runs are numbered in a second file."""
    name = "filebackend"

    def __init__(self, settings):
        self.path = os.environ["FAKE_BACKEND_FILE"]

    def export_run(self, run, state):
        if os.path.exists(self.path + ".down"):
            raise BackendUnavailable("connection refused")
        if run.name == "refused":
            raise ValueError("the server refused this run")
        state.setdefault("remote_id", "remote-" + run.id[:8])
        new_params = sorted(set(run.params) - set(state.get("params", [])))
        state["params"] = sorted(set(state.get("params", [])) | set(new_params))
        with open(self.path, "a") as handle:
            handle.write(json.dumps({"run": run.id, "name": run.name, "status": run.status,
                                     "parent": run.parent_remote_id, "params": new_params,
                                     "points": [list(p) for p in run.points],
                                     "artifacts": [a["name"] for a in run.artifacts]}) + "\\n")
        state["complete"] = run.ended
        return state


@hookimpl
def autotrack_register_backends(register):
    register("filebackend", FileBackend)
'''

TRAIN = """
import autotrack
with autotrack.start_run(name="outer"):
    autotrack.log_params({"lr": 0.1})
    for step in range(5):
        autotrack.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
    with autotrack.start_run(name="inner"):
        autotrack.log_metrics({"acc": 0.5}, step=0)
with autotrack.start_run(name="refused"):
    autotrack.log_metrics({"x": 1.0}, step=0)
"""


@pytest.fixture
def backend_env(tmp_path) -> dict:
    site = tmp_path / "site"
    make_distribution(site, "file-backend", {"filebackend": "file_backend"},
                      {"file_backend.py": BACKEND_PLUGIN})
    return {"PYTHONPATH": str(site), "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "FAKE_BACKEND_FILE": str(tmp_path / "pushed.jsonl"),
            "AUTOTRACK_BACKENDS": "local,filebackend", "AUTOTRACK_STRICT": "0"}


def pushes(env: dict) -> list[dict]:
    path = Path(env["FAKE_BACKEND_FILE"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def points_by_run(env: dict) -> dict[str, list]:
    found: dict[str, list] = {}
    for push in pushes(env):
        found.setdefault(push["name"], []).extend(tuple(point[:3]) for point in push["points"])
    return found


def exports(cli, env) -> dict[str, dict]:
    return {run["name"]: run["exports"].get("filebackend") for run in cli("runs", "--json", env=env)}


def test_runs_reach_the_backend_from_the_training_process_once_each(run_script, cli, backend_env):
    run_script(TRAIN, env=backend_env, tracked=False)
    received = points_by_run(backend_env)
    assert received["outer"] == [("loss", 1.0 / (s + 1), s) for s in range(5)]
    assert received["inner"] == [("acc", 0.5, 0)]
    first_outer = next(p for p in pushes(backend_env) if p["name"] == "outer")
    assert first_outer["params"] == ["lr"]
    inner = next(p for p in pushes(backend_env) if p["name"] == "inner")
    assert inner["parent"] is not None  # the parent went first, and the child knows its remote id
    states = exports(cli, backend_env)
    assert states["outer"]["status"] == states["inner"]["status"] == "done"
    assert states["refused"]["status"] == "error" and "refused" in states["refused"]["error"]
    table = cli("runs", env=backend_env).stdout
    assert "filebackend ✓" in table and "filebackend error" in table


def test_a_backend_that_is_down_loses_nothing_and_sync_sends_it_once(run_script, cli, backend_env,
                                                                      tmp_path):
    down = Path(backend_env["FAKE_BACKEND_FILE"] + ".down")
    down.touch()
    result = run_script(TRAIN, env={**backend_env, "AUTOTRACK_EXIT_TIMEOUT": "2"}, tracked=False)
    assert "unavailable" in result.stderr and "autotrack sync" in result.stderr
    assert pushes(backend_env) == []
    assert exports(cli, backend_env)["outer"]["status"] == "pending"
    failed = cli("sync", env=backend_env, check=False)  # still down: says so, exit 1
    assert failed.returncode == 1 and "unavailable" in failed.stderr
    down.unlink()
    synced = cli("sync", env=backend_env, check=False)
    assert "exported 2 runs (6 metric points) to filebackend" in synced.stdout, synced.stdout
    assert synced.returncode == 1 and "refused" in synced.stderr  # the refused run says why
    again = cli("sync", "--backend", "filebackend", env=backend_env, check=False)
    assert "exported 0 runs" in again.stdout  # only the refused run was left: nothing sent twice
    received = points_by_run(backend_env)
    assert received["outer"] == [("loss", 1.0 / (s + 1), s) for s in range(5)]
    assert received["inner"] == [("acc", 0.5, 0)]
    assert exports(cli, backend_env)["outer"]["status"] == "done"


def test_sync_of_a_store_where_nothing_is_pending(run_script, cli, backend_env):
    run_script("import autotrack\nautotrack.log_metrics({'a': 1.0})\n",
               env={**backend_env, "AUTOTRACK_BACKENDS": "local"}, tracked=False)
    assert cli("sync", env=backend_env).stdout.strip() == "nothing to sync: every run is exported"
    unknown = cli("sync", "--backend", "nope", env=backend_env, check=False)
    assert unknown.returncode == 1 and "no backend 'nope'" in unknown.stderr


def test_an_unknown_backend_name_is_warned_about_and_the_local_store_still_records(run_script, cli,
                                                                                    backend_env):
    result = run_script("import autotrack\nautotrack.log_metrics({'a': 1.0})\n",
                        env={**backend_env, "AUTOTRACK_BACKENDS": "local,mlfow"}, tracked=False)
    assert "'mlfow', which no plugin provides" in result.stderr
    (run,) = cli("runs", "--json", env=backend_env)
    assert run["metrics"] == {"a": 1.0} and run["exports"] == {}


def test_the_training_process_catches_up_by_itself_when_the_backend_comes_back(run_script, cli,
                                                                               backend_env):
    down = Path(backend_env["FAKE_BACKEND_FILE"] + ".down")
    down.touch()
    result = run_script(f"""
        import os, time
        import autotrack
        with autotrack.start_run(name="outer"):
            autotrack.log_metrics({{"loss": 0.5}}, step=0)
        time.sleep(1.5)  # the first pushes fail: the exporter backs off
        os.remove({str(down)!r})  # the server is back
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            (run,) = autotrack.runs()
            if run["exports"]["filebackend"]["status"] == "done":
                break
            time.sleep(0.2)
        print(run["exports"]["filebackend"]["status"])
    """, env=backend_env, tracked=False)
    assert result.stdout.strip().splitlines()[-1] == "done"
    assert points_by_run(backend_env)["outer"] == [("loss", 0.5, 0)]
    assert result.stderr.count("unavailable") == 1  # one warning for the outage
