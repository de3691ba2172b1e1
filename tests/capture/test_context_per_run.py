"""Each run records the code version and working directory as of its start, in one long process
(a notebook: fit, commit, fit, edit, fit), and git is not asked again while nothing changed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("sklearn")
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git binary not installed")

GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Test",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "t@example.com"}

# Between fits the script does what a person does between notebook cells; autotrack.flush() stands
# for the seconds that pass between cells (context is read off the training thread, within 0.25 s).
NOTEBOOK_LIKE = """
import json, os, subprocess
import numpy as np
import autotrack
from sklearn.linear_model import LogisticRegression

X = np.random.default_rng(0).normal(size=(60, 3))
y = (X[:, 0] > 0).astype(int)
ids = []

def fit():
    LogisticRegression().fit(X, y)
    ids.append(autotrack.active_run().id)
    autotrack.flush()

fit()
with open("model.py", "a") as handle:
    handle.write("C = 2\\n")
subprocess.run(["git", "commit", "-q", "-am", "C"], check=True)
fit()
with open("model.py", "a") as handle:
    handle.write("C = 3\\n")
fit()
os.chdir("data")
for _ in range(20):  # nothing changes: no git call for these
    fit()
print(json.dumps(ids))
"""

# A `git` first on PATH that logs each call, then runs the real one.
GIT_SPY = """#!/bin/sh
echo "$@" >> "{log}"
exec "{git}" "$@"
"""


@pytest.fixture(scope="module")
def notebook(tmp_path_factory):
    root = tmp_path_factory.mktemp("context")
    repo = root / "repo"
    (repo / "data").mkdir(parents=True)
    (repo / "model.py").write_text("C = 1\n")
    (repo / "notebook.py").write_text(textwrap.dedent(NOTEBOOK_LIKE))
    env = {**os.environ, **GIT_ENV}
    for args in (["init", "-q", "-b", "main"], ["add", "model.py", "notebook.py"], ["commit", "-q", "-m", "one"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True)
    first_commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, env=env, capture_output=True,
                                  text=True, check=True).stdout.strip()
    spy_dir, log = root / "bin", root / "git-calls.log"
    spy_dir.mkdir()
    (spy_dir / "git").write_text(GIT_SPY.format(log=log, git=shutil.which("git")))
    (spy_dir / "git").chmod(0o755)
    env.update(AUTOTRACK="1", AUTOTRACK_STRICT="1", AUTOTRACK_DIR=str(root / "store"),
               AUTOTRACK_EXPERIMENT="nb", AUTOTRACK_DISABLE="packages",
               PATH=f"{spy_dir}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run([sys.executable, "notebook.py"], cwd=repo, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    ids = json.loads(result.stdout.strip().splitlines()[-1])
    calls = log.read_text().splitlines()
    second_commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, env=env, capture_output=True,
                                   text=True, check=True).stdout.strip()
    runs = [json.loads(subprocess.run([sys.executable, "-m", "autotrack", "show", run_id, "--json"],
                                      env={**os.environ, "AUTOTRACK_DIR": str(root / "store")},
                                      capture_output=True, text=True, check=True).stdout) for run_id in ids]
    return runs, calls, (first_commit, second_commit), repo


def test_each_run_records_the_commit_and_dirty_flag_as_of_its_start(notebook):
    runs, _, (first, second), _ = notebook
    assert first != second
    gits = [run["context"]["git"] for run in runs[:3]]
    assert [(g["commit"], g["dirty"]) for g in gits] == [(first, False), (second, False), (second, True)]
    diffs = [next((a for a in run["artifacts"] if a["name"] == "git.diff"), None) for run in runs[:3]]
    assert diffs[0] is None and diffs[1] is None
    assert "+C = 3" in open(diffs[2]["path"]).read()


def test_working_directory_is_the_runs_own(notebook):
    runs, _, _, repo = notebook
    assert runs[2]["context"]["cwd"] == str(repo)
    assert runs[3]["context"]["cwd"] == str(repo / "data")


def test_git_is_not_asked_again_while_nothing_changed(notebook):
    runs, calls, _, _ = notebook
    statuses = [call for call in calls if call.startswith("status")]
    # one full read per state (clean, committed, edited), none for the 20 unchanged fits after
    assert len(statuses) == 3, calls
    assert len(calls) <= 16, calls
    assert all(run["context"]["git"]["dirty"] for run in runs[3:])


def test_autotracks_own_variables_are_not_the_runs_environment(notebook):
    runs, _, _, _ = notebook
    for run in runs:
        assert not [key for key in run["context"]["env"] if key.startswith("AUTOTRACK")]
