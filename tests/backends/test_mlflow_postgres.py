"""The team server, for real: several training processes, each with its own local store as if on
its own machine, export at once to an MLflow server on PostgreSQL, which restarts mid-way.
Every run, metric point and artifact arrives exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections import Counter

import pytest

mlflow = pytest.importorskip("mlflow")
from mlflow.entities import ViewType  # noqa: E402

TRAIN = """
import sys, time
import numpy as np
from sklearn.linear_model import LogisticRegression
import autotrack

rng = np.random.default_rng(int(sys.argv[1]))
X = rng.normal(size=(200, 4))
y = (X[:, 0] > 0).astype(int)
for C in (0.1, 1.0, 10.0):
    LogisticRegression(C=C).fit(X, y)
with autotrack.start_run(name=f"curve {sys.argv[1]}"):
    for step in range(150):
        autotrack.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
        time.sleep(0.02)
"""

MACHINES = 3


def test_concurrent_exporters_to_a_postgresql_server_that_restarts_deliver_everything_once(
        team_server, tmp_path):
    experiment = f"team-{uuid.uuid4().hex[:8]}"
    (tmp_path / "train.py").write_text(textwrap.dedent(TRAIN))
    stores = [tmp_path / f"machine-{index}" for index in range(MACHINES)]
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_BACKENDS": "local,mlflow", "AUTOTRACK_EXPERIMENT": experiment,
           "MLFLOW_TRACKING_URI": team_server.uri, "MLFLOW_DISABLE_TELEMETRY": "true",
           "AUTOTRACK_EXIT_TIMEOUT": "5"}
    trainings = [subprocess.Popen([sys.executable, "train.py", str(index)], cwd=tmp_path,
                                  env={**env, "AUTOTRACK_DIR": str(store)}, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for index, store in enumerate(stores)]
    time.sleep(3)  # the fits are exported, the curves are being logged: the server goes down
    team_server.stop()
    time.sleep(2)
    team_server.start()
    for training in trainings:
        out, err = training.communicate(timeout=240)
        assert training.returncode == 0, err[-2000:]
    for store in stores:  # what a process could not send before it ended, as a user would
        sync = subprocess.run([sys.executable, "-m", "autotrack", "sync"], cwd=tmp_path,
                              env={**env, "AUTOTRACK_DIR": str(store)}, capture_output=True, text=True, timeout=240)
        assert sync.returncode == 0, sync.stdout + sync.stderr

    import autotrack

    local = {run["id"]: run for store in stores for run in autotrack.runs(store=str(store), limit=0)}
    assert len(local) == MACHINES * 4
    client = mlflow.MlflowClient(team_server.uri)
    found = client.get_experiment_by_name(experiment)
    remote = client.search_runs([found.experiment_id], run_view_type=ViewType.ALL, max_results=1000)
    assert Counter(run.data.tags.get("autotrack.run_id") for run in remote) == Counter(list(local))  # each once
    for run in remote:
        if run.info.run_name.startswith("curve"):
            points = client.get_metric_history(run.info.run_id, "loss")
            assert sorted(point.step for point in points) == list(range(150))  # every point, once
        else:
            assert run.data.params["C"] in ("0.1", "1.0", "10.0")
            artifacts = [info.path for info in client.list_artifacts(run.info.run_id)]
            assert any("model" in path for path in artifacts), artifacts  # through the server's proxy
    assert all(run.info.status == "FINISHED" for run in remote)
