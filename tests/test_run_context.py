"""Work that fans out to other processes stays in the run it belongs to (AUTOTRACK_RUN_CONTEXT)."""

from __future__ import annotations

import json

import pytest

from scripting import all_runs, printed, script

pytest.importorskip("sklearn")

CHILD = """
from sklearn.linear_model import LogisticRegression
LogisticRegression().fit([[0.0], [1.0], [0.2], [0.9]], [0, 1, 0, 1])
"""

PARENT = """
import json, multiprocessing, os, subprocess, sys
import autotrack
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV


def fit_in_worker(C):
    LogisticRegression(C=C).fit([[0.0], [1.0], [0.2], [0.9]], [0, 1, 0, 1])
    return C


if __name__ == "__main__":
    with autotrack.start_run(name="fan-out") as run:
        subprocess.run([sys.executable, "child.py"], check=True)
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            pool.map(fit_in_worker, [0.5, 2.0])
        X, y = [[0.0], [1.0], [0.2], [0.9], [0.1], [0.8]], [0, 1, 0, 1, 0, 1]
        GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2, n_jobs=2).fit(X, y)
    LogisticRegression().fit(X, y)  # after the run: a run of its own again
    print(json.dumps({"run": run.id, "context_left": os.environ.get("AUTOTRACK_RUN_CONTEXT")}))
"""


def test_subprocesses_and_worker_processes_record_under_the_run_that_started_them(run_script, cli,
                                                                                  tmp_path):
    (tmp_path / "child.py").write_text(CHILD)
    result = run_script(PARENT, name="parent.py")
    report = printed(result)
    assert report["context_left"] is None  # the variable is gone once the run ended
    runs = all_runs(cli)
    by_parent: dict = {}
    for run in runs:
        by_parent.setdefault(run["parent_id"], []).append(run)
    # Named without the sibling suffix: a pool worker that takes both tasks names its second fit
    # `LogisticRegression C=2.0` (run_names.py), one that takes one does not.
    under = sorted(run["name"].split(" C=")[0] for run in by_parent[report["run"]])
    # The subprocess's fit, the two pool workers' fits and the search: children of the run.
    assert under == ["GridSearchCV(LogisticRegression)", "LogisticRegression", "LogisticRegression", "LogisticRegression"]
    assert {run["experiment"] for run in runs} == {"parent"}  # not "child", not "__mp_main__"
    search = next(run for run in by_parent[report["run"]] if run["name"] == "GridSearchCV(LogisticRegression)")
    assert len(by_parent[search["id"]]) == 2  # its candidates; the workers' fits made no runs
    top = sorted(run["name"] for run in by_parent[None])
    assert top == ["LogisticRegression", "fan-out"]


def test_a_child_process_with_its_own_store_keeps_it(run_script, cli, tmp_path, store):
    (tmp_path / "child.py").write_text(CHILD)
    own = tmp_path / "own-store"
    run_script(script("""
        import os, subprocess, sys
        import autotrack
        with autotrack.start_run(name="outer"):
            subprocess.run([sys.executable, "child.py"], check=True,
                           env={**os.environ, "AUTOTRACK_DIR": sys.argv[1]})
    """), args=[str(own)])
    assert [run["name"] for run in all_runs(cli)] == ["outer"]
    theirs = cli("runs", "--json", "--store", str(own))
    assert [run["name"] for run in theirs] == ["LogisticRegression"]
    assert theirs[0]["parent_id"] is not None  # still linked to the run that started it


def test_a_malformed_context_is_ignored(run_script, cli, tmp_path):
    run_script(CHILD, env={"AUTOTRACK_RUN_CONTEXT": "{not json"})
    (run,) = all_runs(cli)
    assert run["parent_id"] is None and json.dumps(run)
