"""`autotrack reproduce`, end to end: a project trained with AUTOTRACK=1 (in a git repository with
commits never pushed, and in a plain folder), then changed as projects change: a source line, a
data file, a package version; `--check` must name each, and a re-run from the kept code must
reproduce the run or say what differs and why."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("pandas")

FEATURES = """
import numpy as np

THRESHOLD = 0.5
DB_PASSWORD = "hunter2-not-for-the-store"


def target(X):
    return (X[:, 0] + X[:, 1] > 2 * THRESHOLD).astype(int)
"""

TRAIN = """
import sys
import pandas as pd
import tinydep  # a dependency whose version the tests change
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from features import target

X = pd.read_csv("data.csv").to_numpy()
y = target(X)
model = LogisticRegression(C=float(sys.argv[1])).fit(X, y)
model.score(X, y)
if "--forest" in sys.argv:
    RandomForestClassifier(n_estimators=5).fit(X, y).score(X, y)  # no random_state
"""


def _write_tinydep(site, version: str) -> None:
    for entry in site.glob("tinydep-*.dist-info"):
        for file in entry.iterdir():
            file.unlink()
        entry.rmdir()
    (site / "tinydep").mkdir(parents=True, exist_ok=True)
    (site / "tinydep" / "__init__.py").write_text("")
    info = site / f"tinydep-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: tinydep\nVersion: {version}\n")
    (info / "top_level.txt").write_text("tinydep\n")


def _data(path, seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    lines = ["a,b,c"] + [",".join(f"{v:.6f}" for v in row) for row in rng.random((200, 3))]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def project(tmp_path, store):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "features.py").write_text(textwrap.dedent(FEATURES))
    (folder / "train.py").write_text(textwrap.dedent(TRAIN))
    _data(folder / "data.csv", 0)
    site = tmp_path / "site"
    _write_tinydep(site, "1.0")
    base_env = {**os.environ, "AUTOTRACK_DIR": str(store), "PYTHONPATH": str(site), "AUTOTRACK_STRICT": "1"}

    def run(*args, tracked=True, check=True, env=None):
        full = {**base_env, **({"AUTOTRACK": "1"} if tracked else {}), **(env or {})}
        result = subprocess.run([sys.executable, *args], cwd=folder, env=full, capture_output=True, text=True,
                                timeout=300)
        if check and result.returncode != 0:
            raise AssertionError(result.stdout + result.stderr)
        return result

    def cli(*args, check=True):
        return run("-m", "autotrack", *args, tracked=False, check=check)

    return {"folder": folder, "site": site, "run": run, "cli": cli}


def _json(result):
    import json

    return json.loads(result.stdout)


def _the_run(project, name="LogisticRegression"):
    runs = _json(project["cli"]("runs", "--json", "--limit", "0"))
    return next(run for run in runs if run["name"].startswith(name))


def _git(folder, *args):
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@x"})


def test_check_names_a_changed_source_line_data_file_and_package(project):
    project["run"]("train.py", "0.7")
    run_id = _the_run(project)["id"]
    check = _json(project["cli"]("reproduce", run_id, "--check", "--json"))
    assert check["verdict"] == "reproducible", check
    assert check["code"]["files"] == 2 and check["data"]["files"][0]["same"]
    assert check["packages"]["verdict"] == "same"

    features = project["folder"] / "features.py"
    features.write_text(features.read_text().replace("THRESHOLD = 0.5", "THRESHOLD = 0.4"))
    _data(project["folder"] / "data.csv", 1)
    _write_tinydep(project["site"], "1.3.0")
    result = project["cli"]("reproduce", run_id, "--check", "--json", check=False)
    assert result.returncode == 1
    check = _json(result)
    assert check["verdict"] == "differs" and set(check["causes"]) == {"code", "packages", "data"}
    (changed,) = check["code"]["changed"]
    assert changed["path"] == "features.py"
    assert "-THRESHOLD = 0.5" in changed["diff"] and "+THRESHOLD = 0.4" in changed["diff"]
    assert check["code"]["redacted_files"] == 1  # the password line is masked, not a change
    assert {"name": "tinydep", "run": "1.0", "now": "1.3.0", "change": "minor"} in check["packages"]["differ"]
    assert check["data"]["files"][0]["path"].endswith("data.csv") and not check["data"]["files"][0]["same"]
    text = project["cli"]("reproduce", run_id, "--check", check=False).stdout
    assert "+THRESHOLD = 0.4" in text and "tinydep 1.0 \u2192 1.3.0 (minor)" in text and "changed:" in text


def test_the_password_in_the_code_never_reaches_the_store(project, store):
    project["run"]("train.py", "0.7")
    for path in store.rglob("*"):
        if path.is_file():
            assert b"hunter2-not-for-the-store" not in path.read_bytes(), path


def test_rerun_from_a_repository_with_unpushed_commits(project):
    folder = project["folder"]
    _git(folder, "init", "-q")
    _git(folder, "add", ".")
    _git(folder, "commit", "-qm", "first")
    project["run"]("train.py", "0.7")
    run = _the_run(project)
    # The code moves on in commits never pushed anywhere (there is no remote).
    features = folder / "features.py"
    features.write_text(features.read_text().replace("THRESHOLD = 0.5", "THRESHOLD = 0.3"))
    _git(folder, "commit", "-qam", "second")
    check = _json(project["cli"]("reproduce", run["id"], "--check", "--json", check=False))
    assert check["code"]["commit"]["verdict"] == "commit differs" and check["code"]["verdict"] == "differs"

    result = _json(project["cli"]("reproduce", run["id"], "--json"))
    assert result["verdict"] == "reproduced", result
    new = _json(project["cli"]("show", result["new_run_id"], "--json"))
    assert new["tags"]["autotrack.reproduction_of"] == run["id"]
    original = _json(project["cli"]("show", run["id"], "--json"))
    assert new["params"] == original["params"]
    assert new["metrics"]["X.score"] == original["metrics"]["X.score"]
    assert features.read_text().count("THRESHOLD = 0.3") == 1  # the project itself is untouched


def test_rerun_says_what_differs_and_why(project):
    project["run"]("train.py", "0.7", "--forest")
    lr, forest = _the_run(project), _the_run(project, "RandomForestClassifier")
    _data(project["folder"] / "data.csv", 2)  # the data file changed since
    result = project["cli"]("reproduce", lr["id"], "--json", check=False)
    assert result.returncode == 1
    outcome = _json(result)
    assert outcome["verdict"] == "differs" and "train.X" in outcome["datasets"]
    assert outcome["likely_causes"] == ["data: data.csv"], outcome
    text = project["cli"]("reproduce", lr["id"], check=False).stdout
    assert "likely cause: data: data.csv" in text

    _data(project["folder"] / "data.csv", 0)  # as it was: the forest differs on its own
    outcome = _json(project["cli"]("reproduce", forest["id"], "--json", check=False))
    assert outcome["verdict"] == "differs" and "training_log_loss" in outcome["metrics"], outcome
    assert not outcome["datasets"] and not outcome["params"]
    assert outcome["likely_causes"] == ["nondeterminism without a seed: random_state is None"], outcome


def test_reproduce_bad_input(project):
    missing = project["cli"]("reproduce", "nope", check=False)
    assert missing.returncode == 1 and "no autotrack store" in missing.stderr
    project["run"]("train.py", "0.7")
    missing = project["cli"]("reproduce", "nope", check=False)
    assert missing.returncode == 1 and "no run 'nope'" in missing.stderr
    project["run"]("train.py", "0.7", env={"AUTOTRACK_SOURCE_SNAPSHOT": "off"})
    run_id = _json(project["cli"]("runs", "--json"))[0]["id"]
    refused = project["cli"]("reproduce", run_id, check=False)
    assert refused.returncode == 1 and "has no source snapshot" in refused.stderr
    assert refused.stderr.count("\n") == 1
