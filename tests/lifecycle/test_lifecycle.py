"""delete / restore / trash / gc / tag / note / rename / du, through the CLI as a user runs them, read
back with `runs --json`, `show --json` and `autotrack.search_runs`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

pytest.importorskip("sklearn")

TRAIN = """
import autotrack
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

X, y = make_classification(n_samples=120, n_features=4, random_state=0)
LogisticRegression().fit(X, y).score(X, y)
GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0, 10.0]}, cv=2).fit(X, y)
with autotrack.start_run(name="manual"):
    autotrack.log_params({"lr": 0.1})
    for step in range(50):
        autotrack.log_metric("loss", 1 / (step + 1), step=step)
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lifecycle")
    (folder / "train.py").write_text(textwrap.dedent(TRAIN))
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(folder / "store"), "AUTOTRACK_STRICT": "1"}
    subprocess.run([sys.executable, "train.py"], cwd=folder, env=env, check=True, capture_output=True, timeout=240)
    return folder / "store"


@pytest.fixture
def store(trained, tmp_path):
    copy = tmp_path / "store"
    shutil.copytree(trained, copy)
    return copy


def at(store, *args, check=True):
    result = subprocess.run([sys.executable, "-m", "autotrack", *args, "--store", str(store)],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    if check:
        assert result.returncode == 0, result.stderr
    if "--json" in args and result.returncode == 0:
        return json.loads(result.stdout)
    return result


def ids(store) -> set[str]:
    return {run["id"] for run in at(store, "runs", "--json", "-n", "0")}


def shown(store, run_id) -> dict:
    return at(store, "show", run_id, "--json")


def test_delete_moves_a_search_with_its_children_to_the_trash_and_restore_brings_all_back(store):
    import autotrack

    before = {run_id: shown(store, run_id) for run_id in ids(store)}
    search = next(run for run in before.values() if run["name"].startswith("GridSearchCV"))
    children = set(search["children"])
    assert len(children) == 3
    answer = at(store, "delete", "--where", "name like 'GridSearch%'", "--json")
    assert set(answer["deleted"]) == {search["id"], *children}
    assert ids(store) == set(before) - {search["id"], *children}
    assert set(autotrack.search_runs(store=str(store))["run_id"]) == ids(store)  # gone from queries too
    assert not (store / "artifacts" / search["id"]).exists()
    missing = at(store, "show", search["id"][:8], check=False)
    assert missing.returncode == 1 and "no run" in missing.stderr
    trash = at(store, "trash", "--json")
    assert {run["id"] for run in trash} == {search["id"], *children} and all(run["deleted_at"] for run in trash)

    assert "restored 4 runs" in at(store, "restore", search["id"][:8]).stdout
    assert ids(store) == set(before)
    for run_id, run in before.items():  # everything back as it was: points, params, artifacts
        again = shown(store, run_id)
        assert again["history"] == run["history"] and again["params"] == run["params"]
        assert again["tags"] == run["tags"] and again["children"] == run["children"]
        assert [(a["name"], a["bytes"]) for a in again["artifacts"]] == [(a["name"], a["bytes"]) for a in run["artifacts"]]
        assert all(os.path.isfile(a["path"]) for a in again["artifacts"])
    assert at(store, "trash").stdout.strip() == "the trash is empty"


def test_gc_purges_the_trash_and_files_no_run_refers_to_and_says_what_it_reclaimed(store):
    manual = next(run for run in at(store, "runs", "--json") if run["name"] == "manual")
    at(store, "delete", manual["id"])
    old = store / "artifacts" / "0123456789abcdef0123456789abcdef"  # left by a run deleted long ago
    old.mkdir()
    (old / "model.pkl").write_bytes(b"x" * 5000)
    long_ago = time.time() - 2 * 3600
    os.utime(old, (long_ago, long_ago))
    fresh = store / "artifacts" / "fedcba9876543210fedcba9876543210"  # a training process saving a model now
    fresh.mkdir()
    (fresh / "model.pkl").write_bytes(b"y" * 100)
    planned = at(store, "gc", "--dry-run", "--json")
    assert planned["trash_runs"] == 1 and planned["orphan_folders"] == 1 and (store / "trash").exists()
    done = at(store, "gc", "--json")
    assert done["trash_runs"] == 1 and done["orphan_folders"] == 1 and done["reclaimed"] >= 5000
    assert not (store / "trash").exists() and not old.exists() and fresh.exists()
    said = at(store, "gc").stdout
    assert said.startswith("reclaimed") and "trash" not in said
    gone = at(store, "restore", manual["id"][:8], check=False)
    assert gone.returncode == 1 and "trash" in gone.stderr and len(gone.stderr.splitlines()) == 1


def test_a_running_run_and_a_registered_one_are_refused_unless_forced(store, tmp_path):
    logistic = next(run for run in at(store, "runs", "--json")
                    if run["name"].startswith("LogisticRegression") and run["parent_id"] is None)
    at(store, "models", "register", logistic["id"], "churn")
    refused = at(store, "delete", logistic["id"][:8], check=False)
    assert refused.returncode == 1 and "registered as model churn/1" in refused.stderr
    assert logistic["id"] in ids(store)
    script = tmp_path / "running.py"
    script.write_text(textwrap.dedent("""
        import sys, time, autotrack
        run = autotrack.start_run(name="long")
        autotrack.log_metric("loss", 1.0)
        autotrack.flush()
        print(run.id, flush=True)
        sys.stdin.read()
    """))
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(store)}
    process = subprocess.Popen([sys.executable, str(script)], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)
    try:
        run_id = process.stdout.readline().strip()
        busy = at(store, "delete", run_id, check=False)
        assert busy.returncode == 1 and "still running" in busy.stderr
        assert run_id in ids(store)
    finally:
        process.communicate("", timeout=60)
    assert at(store, "delete", run_id).returncode == 0  # ended: deleted
    assert at(store, "delete", logistic["id"], "--force").returncode == 0


def test_tag_note_and_rename_change_the_run_and_bad_input_is_one_line(store):
    import autotrack

    manual = next(run for run in at(store, "runs", "--json") if run["name"] == "manual")
    at(store, "tag", manual["id"][:8], "team=vision", "ticket=ML-42=b")
    at(store, "note", manual["id"][:8], "baseline for the review")
    at(store, "rename", manual["id"][:8], "baseline")
    run = shown(store, manual["id"])
    assert run["name"] == "baseline"
    assert run["tags"]["team"] == "vision" and run["tags"]["ticket"] == "ML-42=b"
    assert run["tags"]["autotrack.note"] == "baseline for the review"
    frame = autotrack.search_runs(where="tags.team = vision and name = baseline", store=str(store))
    assert list(frame["run_id"]) == [manual["id"]]
    at(store, "tag", manual["id"][:8], "--remove", "team")
    at(store, "note", manual["id"][:8], "")
    run = shown(store, manual["id"])
    assert "team" not in run["tags"] and "autotrack.note" not in run["tags"]
    for args, message in ((("tag", manual["id"], "novalue"), "is not key=value"),
                          (("tag", manual["id"], "autotrack.x=1"), "autotrack's own"),
                          (("rename", manual["id"], " "), "not empty"),
                          (("tag", "ffffffff", "a=b"), "no run")):
        result = at(store, *args, check=False)
        assert result.returncode == 1 and message in result.stderr and len(result.stderr.splitlines()) == 1


def test_du_says_how_much_each_experiment_and_run_takes(store):
    report = at(store, "du", "--json", "--top", "0")
    runs = {run["id"]: run for run in report["runs"]}
    assert set(runs) == ids(store)
    manual = next(run for run in runs.values() if run["name"] == "manual")
    assert manual["points"] == 50
    with_model = [run for run in runs.values() if run["artifact_bytes"]]
    assert with_model and all(run["bytes"] >= run["artifact_bytes"] for run in runs.values())
    assert [run["bytes"] for run in report["runs"]] == sorted((run["bytes"] for run in report["runs"]), reverse=True)
    (experiment,) = report["experiments"]
    assert experiment["runs"] == len(runs) and experiment["points"] == sum(run["points"] for run in runs.values())
    assert report["database_bytes"] > 0 and report["artifacts_bytes"] >= sum(run["artifact_bytes"] for run in runs.values())
    text = at(store, "du").stdout
    assert "by experiment" in text and "largest runs" in text and "manual" in text
