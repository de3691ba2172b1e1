"""A team leaving (or moving between) MLflow servers: `autotrack import --from-mlflow` against a real
MLflow server, and what lifecycle edits of exported runs do there (tags re-sent, deletions said)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid

import pytest

mlflow = pytest.importorskip("mlflow")
pytest.importorskip("sklearn")

# A user's existing history, logged with MLflow's own API: no autotrack.
PLAIN_MLFLOW = """
import sys
import mlflow

mlflow.set_experiment(sys.argv[1])
with mlflow.start_run(run_name="baseline") as parent:
    mlflow.log_params({"max_depth": 3, "criterion": "gini", "lr": 0.1, "early_stop": True})
    for step in range(30):
        mlflow.log_metric("loss", 1 / (step + 1), step=step)
    mlflow.set_tag("ticket", "ML-42")
    mlflow.set_tag("mlflow.note.content", "the first model")
    mlflow.log_text("max_depth=3", "notes/config.txt")
    with mlflow.start_run(run_name="fold 1", nested=True):
        mlflow.log_metric("auc", 0.9)
print(parent.info.run_id)
"""

AUTOTRACKED = """
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

X, y = make_classification(n_samples=100, n_features=4, random_state=0)
LogisticRegression(C=0.5).fit(X, y).score(X, y)
"""


def run(args, env, cwd, **kwargs):
    result = subprocess.run(args, env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", **env}, cwd=cwd,
                            capture_output=True, text=True, timeout=240, **kwargs)
    assert result.returncode == 0, result.stderr
    return result


def at(store, *args, env=None, check=True):
    result = subprocess.run([sys.executable, "-m", "autotrack", *args, "--store", str(store)],
                            env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", **(env or {})},
                            capture_output=True, text=True, timeout=240)
    if check:
        assert result.returncode == 0, result.stderr
    if "--json" in args and result.returncode == 0:
        import json

        return json.loads(result.stdout)
    return result


@pytest.fixture
def histories(mlflow_server, tmp_path):
    """Two experiments on the server: one logged with MLflow's API, one exported by autotrack."""
    plain, tracked = f"plain_{uuid.uuid4().hex[:8]}", f"tracked_{uuid.uuid4().hex[:8]}"
    (tmp_path / "plain.py").write_text(textwrap.dedent(PLAIN_MLFLOW))
    (tmp_path / f"{tracked}.py").write_text(textwrap.dedent(AUTOTRACKED))
    uri = {"MLFLOW_TRACKING_URI": mlflow_server}
    parent_id = run([sys.executable, "plain.py", plain], uri, tmp_path).stdout.strip().splitlines()[-1]
    store = tmp_path / "training-store"
    run([sys.executable, f"{tracked}.py"], {**uri, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(store),
                                             "AUTOTRACK_BACKENDS": "local,mlflow"}, tmp_path)
    return {"plain": plain, "tracked": tracked, "parent_id": parent_id, "store": store}


def test_import_from_mlflow_brings_runs_with_history_numbers_artifacts_and_links(mlflow_server, histories, tmp_path):
    laptop = tmp_path / "laptop"
    answer = at(laptop, "import", "--from-mlflow", mlflow_server, "-e", histories["plain"], "-e", histories["tracked"],
                "--json")
    assert len(answer["imported"]) == 3 and answer["already"] == []
    runs = {run["name"]: at(laptop, "show", run["id"], "--json") for run in at(laptop, "runs", "--json")}
    baseline, fold = runs["baseline"], runs["fold 1"]
    assert baseline["id"] == histories["parent_id"] and fold["parent_id"] == baseline["id"]
    # MLflow keeps params as text: numbers are numbers again, so queries compare them as numbers
    assert baseline["params"] == {"max_depth": 3, "criterion": "gini", "lr": 0.1, "early_stop": True}
    client = mlflow.MlflowClient(mlflow_server)
    history = client.get_metric_history(histories["parent_id"], "loss")
    assert baseline["history"]["loss"] == [[point.step, point.value] for point in history]
    assert baseline["tags"]["ticket"] == "ML-42" and baseline["tags"]["autotrack.note"] == "the first model"
    (config,) = [artifact for artifact in baseline["artifacts"] if artifact["name"] == "notes/config.txt"]
    assert open(config["path"]).read() == "max_depth=3"
    # a run autotrack exported keeps autotrack's id
    trained = at(histories["store"], "runs", "--json")
    logistic = next(run for run in runs.values() if run["name"].startswith("LogisticRegression"))
    assert logistic["id"] == trained[0]["id"] and logistic["params"]["C"] == 0.5
    found = at(laptop, "runs", "--where", "params.max_depth >= 3 and tags.ticket = 'ML-42'", "--json")
    assert [run["id"] for run in found] == [baseline["id"]]
    again = at(laptop, "import", "--from-mlflow", mlflow_server, "-e", histories["plain"], "--json")
    assert again["imported"] == [] and len(again["already"]) == 2
    missing = at(laptop, "import", "--from-mlflow", mlflow_server, "-e", "no_such_experiment", check=False)
    assert missing.returncode == 1 and "no experiment 'no_such_experiment'" in missing.stderr


def test_edits_of_an_exported_run_reach_mlflow_on_sync_and_a_deletion_says_it_stays_there(mlflow_server, histories):
    store, env = histories["store"], {"MLFLOW_TRACKING_URI": mlflow_server, "AUTOTRACK_BACKENDS": "local,mlflow"}
    (trained,) = at(store, "runs", "--json")
    remote_id = trained["exports"]["mlflow"]["remote_id"]
    said = at(store, "tag", trained["id"][:8], "reviewed=yes", env=env).stdout
    assert "sent to mlflow on the next `autotrack sync`" in said
    at(store, "note", trained["id"][:8], "kept for the audit", env=env)
    at(store, "rename", trained["id"][:8], "logistic baseline", env=env)
    at(store, "sync", env=env)
    tags = mlflow.MlflowClient(mlflow_server).get_run(remote_id).data.tags
    assert tags["reviewed"] == "yes" and tags["mlflow.note.content"] == "kept for the audit"
    assert tags["mlflow.runName"] == "logistic baseline"
    deleted = at(store, "delete", trained["id"][:8], env=env).stdout
    assert "1 run had been exported to mlflow: still there" in deleted
    assert "every run is exported" in at(store, "sync", env=env).stdout  # a deleted run is never exported


def test_runs_merged_into_a_store_that_exports_go_to_mlflow_once(mlflow_server, histories, tmp_path):
    env = {"MLFLOW_TRACKING_URI": mlflow_server, "AUTOTRACK_BACKENDS": "local,mlflow"}
    laptop = tmp_path / "laptop"
    (merged,) = at(laptop, "merge", str(histories["store"]), "--json", env=env)
    assert merged["pending_for"] == ["mlflow"] and len(merged["imported"]) == 1
    assert "pending for mlflow" in at(tmp_path / "other", "merge", str(histories["store"]), env=env).stdout
    at(laptop, "sync", env=env)
    (run_id,) = merged["imported"]
    client = mlflow.MlflowClient(mlflow_server)
    experiment = client.get_experiment_by_name(histories["tracked"])
    found = client.search_runs([experiment.experiment_id], f"tags.`autotrack.run_id` = '{run_id}'")
    assert len(found) == 1  # the run the training store had exported, found again: not a second one
    assert at(laptop, "runs", "--json")[0]["exports"]["mlflow"]["status"] == "done"
