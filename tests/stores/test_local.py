"""The embedded store as a user meets it: private files, concurrency, faults, round trips."""

from __future__ import annotations

import math
import os
import stat
import subprocess
import sys
import textwrap
import time

import pytest

FIT_SCRIPT = """
import numpy as np
from sklearn.linear_model import LogisticRegression
X = np.random.default_rng({seed}).normal(size=(200, 4)); y = (X[:, 0] > 0).astype(int)
LogisticRegression(C={seed} + 1.0).fit(X, y)
print("fitted")
"""


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_store_is_private_to_its_owner(run_script, store, cli):
    run_script(FIT_SCRIPT.format(seed=0))
    assert _mode(store) == 0o700
    for name in ("runs.db", "runs.db-wal", "runs.db-shm"):
        if (store / name).exists():
            assert _mode(store / name) == 0o600, name
    (run,) = cli("runs", "--json")
    model = next(a for a in cli("show", run["id"], "--json")["artifacts"] if a["name"] == "model.pkl")
    assert _mode(model["path"]) == 0o600


def test_processes_writing_one_store_at_once_lose_nothing(tmp_path, store, cli):
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(store), "AUTOTRACK_STRICT": "1"}
    procs = []
    for seed in range(4):
        script = tmp_path / f"fit_{seed}.py"
        script.write_text(textwrap.dedent(FIT_SCRIPT.format(seed=seed)))
        procs.append(subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    runs = cli("runs", "--json")
    assert sorted(r["experiment"] for r in runs) == ["fit_0", "fit_1", "fit_2", "fit_3"]
    assert all(r["status"] == "finished" for r in runs)
    assert sorted(cli("show", r["id"], "--json")["params"]["C"] for r in runs) == [1.0, 2.0, 3.0, 4.0]


def test_metric_history_round_trip_with_steps_nan_and_inf(run_script, cli):
    result = run_script("""
        import autotrack
        with autotrack.start_run(name="loop"):
            for step in (2, 0, 1):
                autotrack.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
            autotrack.log_metrics({"acc": 0.5})
            autotrack.log_metrics({"acc": 0.75})
            autotrack.log_metrics({"bad": float("nan"), "huge": float("inf")})
            autotrack.log_metrics({"text": "not a number"})
            autotrack.log_metrics({"rewritten": 1.0}, step=3)
            autotrack.log_metrics({"rewritten": 2.0}, step=3)  # the same step again: the last one counts
    """, tracked=False)
    assert "metric 'bad' is nan" in result.stderr
    assert "'text' has a non-numeric value" in result.stderr
    (run,) = cli("runs", "--json")
    shown = cli("show", run["id"], "--json")
    assert shown["history"]["loss"] == [[0, 1.0], [1, 0.5], [2, pytest.approx(1 / 3)]]
    assert shown["history"]["acc"] == [[0, 0.5], [1, 0.75]]  # steps numbered when not given
    assert shown["metrics"]["loss"] == pytest.approx(1 / 3)  # latest = highest step
    assert shown["metrics"]["bad"] is None and shown["metrics"]["huge"] is None  # JSON has no NaN/inf
    assert "text" not in shown["metrics"]
    assert run["metrics"] == shown["metrics"]  # the listing and the run agree on every latest value
    assert shown["metrics"]["rewritten"] == 2.0


def test_python_api_reads_what_the_cli_reads(run_script, store, cli):
    run_script(FIT_SCRIPT.format(seed=1))
    import autotrack

    (summary,) = autotrack.runs(store=str(store))
    run = autotrack.get_run(summary["id"][:6], store=str(store))
    shown = cli("show", summary["id"], "--json")
    assert run["params"] == shown["params"] and run["datasets"] == shown["datasets"]
    assert run["history"] == shown["history"]


def test_exit_is_not_held_by_a_stuck_disk(run_script, cli):
    # The store's writes hang (a stuck disk): the program must still exit within exit_timeout.
    started = time.monotonic()
    result = run_script("""
        import time
        from autotrack.stores import local
        local.LocalStore.write = lambda self, batch: time.sleep(600)
        import autotrack
        with autotrack.start_run(name="stuck"):
            autotrack.log_params({"a": 1})
        print("done")
    """, env={"AUTOTRACK_EXIT_TIMEOUT": "1"}, tracked=False)
    elapsed = time.monotonic() - started
    assert result.stdout.strip() == "done"
    assert elapsed < 30
    lost = [line for line in result.stderr.splitlines() if "are lost" in line]
    assert len(lost) == 1 and "other records of 1 runs are lost (not written within exit_timeout=1.0s)" in lost[0]


def test_a_corrupted_store_never_breaks_training(run_script, store):
    store.mkdir(mode=0o700)
    (store / "runs.db").write_bytes(b"this is not a database" * 100)
    result = run_script(FIT_SCRIPT.format(seed=0), env={"AUTOTRACK_STRICT": "0"})
    assert result.returncode == 0 and result.stdout.strip() == "fitted"
    assert "cannot be read" in result.stderr and "move it aside" in result.stderr


def test_a_corrupted_store_fails_loudly_in_strict_mode(run_script, store):
    store.mkdir(mode=0o700)
    (store / "runs.db").write_bytes(b"garbage" * 1000)
    result = run_script(FIT_SCRIPT.format(seed=0), check=False)
    assert result.stdout.strip() == "fitted"  # the user's code ran to the end
    assert result.returncode == 70 and "autotrack STRICT" in result.stderr


def test_nan_param_and_non_ascii_names_are_stored(run_script, cli):
    run_script("""
        import autotrack
        with autotrack.start_run(name="données"):
            autotrack.log_params({"α": float("nan"), "größe": 3, "obj": object()})
            autotrack.log_metrics({"précision": 0.9})
    """, tracked=False)
    (run,) = cli("runs", "--json")
    shown = cli("show", run["id"], "--json")
    assert shown["name"] == "données"
    assert shown["params"]["α"] == "nan" and shown["params"]["größe"] == 3
    assert shown["params"]["obj"] == "<object>"  # its repr, without the memory address
    assert math.isclose(shown["metrics"]["précision"], 0.9)


def test_a_store_written_before_exports_existed_is_upgraded_in_place(tmp_path):
    """Version 1 stores (issue 2) have no exports table: the writer adds it, runs are kept."""
    import sqlite3

    from autotrack.stores import local
    from autotrack.stores.reader import StoreReader

    directory = tmp_path / "old"
    directory.mkdir()
    conn = sqlite3.connect(directory / local.DB_NAME)
    conn.executescript(local.SCHEMA)
    conn.execute("INSERT INTO runs (id, experiment, status, start_time) VALUES ('a' , 'e', 'finished', 1.0)")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    assert StoreReader(str(directory)).runs()[0]["exports"] == {}  # readable before the upgrade
    store = local.LocalStore(str(directory))
    store.write([("run_start", "b", {"experiment": "e", "name": None, "status": "running", "parent_id": None,
                                     "source": "explicit", "start_time": 2.0, "pid": 1, "host": "h",
                                     "proc_token": None, "exports": ["mlflow"]})])
    runs = {run["id"]: run for run in StoreReader(str(directory)).runs()}
    assert runs["a"]["exports"] == {}
    assert runs["b"]["exports"] == {"mlflow": {"status": "pending", "remote_id": None, "error": None}}
