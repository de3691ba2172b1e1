"""The MLflow backend against a real MLflow server, read back through MlflowClient as a user would."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

mlflow = pytest.importorskip("mlflow")

import autotrack  # noqa: E402
from autotrack.config import Settings  # noqa: E402
from autotrack.export import BackendUnavailable, Exporter, RunSnapshot  # noqa: E402
from autotrack.stores import mlflow as mlflow_backend  # noqa: E402
from autotrack.stores.mlflow import CLIENT_DEFAULTS, MlflowBackend  # noqa: E402

TRAIN = """
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
import autotrack

rng = np.random.default_rng(0)
X_train = pd.DataFrame(rng.normal(size=(300, 3)), columns=["age", "income", "score"])
y_train = (X_train["age"] > 0).astype(int)
with open("notes.txt", "w") as file:
    file.write("trained on v3 features\\n")
with autotrack.start_run(name="tuning", tags={"ticket": "ML-42"}):
    autotrack.log_params({"features": "v3", "lr": 0.1, "layers": [64, 32], "use_bn": True,
                          "dropout": None, "long": "x" * 7000})
    for epoch in range(5):
        autotrack.log_metrics({"val_loss": 1.0 / (epoch + 1), "val_acc": 0.5 + epoch / 10}, step=epoch)
    autotrack.log_metric("diverged", float("nan"), step=0)
    autotrack.log_metric("diverged", float("inf"), step=1)
    autotrack.log_artifact("notes.txt")
    GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2).fit(X_train, y_train)
"""


# -- a real local run, read as the exporter hands it over ------------------------------------------
@pytest.fixture(scope="module")
def local_runs(tmp_path_factory) -> dict[str, RunSnapshot]:
    """A tuning run with a GridSearchCV child and its two candidates, recorded by a script in a
    git repository with AUTOTRACK=1; {name: snapshot}, names `tuning`, `search`, `candidate0/1`."""
    folder = tmp_path_factory.mktemp("project")
    store = folder / "store"
    (folder / "train.py").write_text(textwrap.dedent(TRAIN))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=folder, check=True)
    subprocess.run([*git, "add", "train.py"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "train"], cwd=folder, check=True)
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(store), "AUTOTRACK_STRICT": "1"}
    env.pop("AUTOTRACK_BACKENDS", None)
    result = subprocess.run([sys.executable, "train.py"], cwd=folder, env=env, capture_output=True,
                            text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    exporter = Exporter(store, {})
    try:  # exactly what the exporter hands a backend on its first push
        ids = [run["id"] for run in autotrack.runs(store=str(store))]
        snapshots = [exporter._snapshot(run_id, "mlflow", 0)[0] for run_id in ids]
    finally:
        exporter.close()
    by_name = {}
    for snapshot in snapshots:
        if snapshot.parent_id is None:
            by_name["tuning"] = snapshot
        elif snapshot.name == "GridSearchCV(LogisticRegression)":
            by_name["search"] = snapshot
        else:
            by_name[f"candidate{sum(n.startswith('candidate') for n in by_name)}"] = snapshot
    assert sorted(by_name) == ["candidate0", "candidate1", "search", "tuning"], [s.name for s in snapshots]
    return by_name


@pytest.fixture
def experiment(request) -> str:
    """An experiment name of this test's own, so tests never see each other's runs."""
    return f"{request.node.name[:40]}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def client(mlflow_server):
    return mlflow.MlflowClient(mlflow_server)


def export_tree(backend, snapshots, experiment, states=None) -> dict[str, dict]:
    """Export runs parents first, as the exporter does: {local id: state}."""
    states = {} if states is None else states
    by_id = {s.id: s for s in snapshots}
    depth = {}
    for s in snapshots:
        d, p = 0, s.parent_id
        while p in by_id:
            d, p = d + 1, by_id[p].parent_id
        depth[s.id] = d
    for s in sorted(snapshots, key=lambda s: depth[s.id]):
        parent = states.get(s.parent_id, {}).get("remote_id") if s.parent_id else None
        states[s.id] = backend.export_run(
            dataclasses.replace(s, experiment=experiment, parent_remote_id=parent), states.get(s.id, {}))
    return states


def remote_runs(client, experiment: str, local_id: str):
    exp = client.get_experiment_by_name(experiment)
    return client.search_runs([exp.experiment_id], f"tags.`autotrack.run_id` = '{local_id}'",
                              run_view_type=mlflow.entities.ViewType.ALL)


def history(client, run_id: str, key: str) -> list[tuple]:
    points = client.get_metric_history(run_id, key)
    return sorted((m.step, m.timestamp, m.value) for m in points)


def make_snapshot(**overrides) -> RunSnapshot:
    """A hand-made run with the content a real one has (context as the collectors write it)."""
    fields = dict(
        id=uuid.uuid4().hex, experiment="hand", name="MLPClassifier", status="running",
        parent_id=None, start_time=1_700_000_000.123, end_time=None, error=None,
        params={"hidden": "[64, 32]", "lr": "0.001"}, tags={"model.class": "MLPClassifier"},
        context={"host": "trainer-1", "user": "ana", "script": "/src/train.py", "argv": ["train.py"],
                 "env": {"AUTOTRACK_DIR": "/secret/place", "AWS_SECRET_ACCESS_KEY": "hunter2"},
                 "git": {"commit": "a" * 40, "branch": "feature/x", "dirty": True,
                         "remote": "https://bob:token123@git.example.com/ml/repo.git"}},
        timings={"fit_s": 1.5}, importances={}, datasets=[], artifacts=[], points=[],
        parent_remote_id=None)
    fields.update(overrides)
    return RunSnapshot(**fields)


def points(key, steps, t0=1_700_000_001.0):
    return [(key, 1.0 / (step + 1), step, t0 + step * 0.25) for step in steps]


# -- what a user sees in MLflow --------------------------------------------------------------------
def test_a_real_run_reads_back_in_mlflow_as_recorded(mlflow_server, client, local_runs, experiment,
                                                     tmp_path):
    backend = MlflowBackend(mlflow_server)
    states = export_tree(backend, list(local_runs.values()), experiment)
    tuning, search = local_runs["tuning"], local_runs["search"]
    assert all(state["complete"] for state in states.values())

    (parent,) = remote_runs(client, experiment, tuning.id)
    assert parent.info.run_id == states[tuning.id]["remote_id"]
    assert parent.info.run_name == "tuning"
    assert parent.info.status == "FINISHED"
    assert parent.info.start_time == round(tuning.start_time * 1000)
    assert parent.info.end_time == round(tuning.end_time * 1000)

    # params: plain strings as MLflow's autolog writes them (autotrack cut the long one itself)
    params = parent.data.params
    assert {k: params[k] for k in ("features", "lr", "layers", "use_bn", "dropout")} == {
        "features": "v3", "lr": "0.1", "layers": "[64, 32]", "use_bn": "True", "dropout": "None"}
    assert params["long"] == json.loads(tuning.params["long"])

    # metrics: every point with its step and timestamp; NaN and infinity kept as such
    local = {}
    for key, value, step, ts in tuning.points:
        local.setdefault(key, []).append((step, round(ts * 1000), value))
    assert history(client, parent.info.run_id, "val_loss") == sorted(local["val_loss"])
    assert [m.step for m in client.get_metric_history(parent.info.run_id, "val_acc")] == [0, 1, 2, 3, 4]
    diverged = history(client, parent.info.run_id, "diverged")
    assert math.isnan(diverged[0][2]) and diverged[1][2] > 1e300

    # tags: the user's, and the context in MLflow's own terms; never the environment
    tags = parent.data.tags
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(tuning.context["script"]).parent,
                            capture_output=True, text=True, check=True).stdout.strip()
    assert tags["ticket"] == "ML-42"
    assert tags["autotrack.run_id"] == tuning.id
    assert tags["mlflow.user"] == tuning.context["user"]
    assert tags["autotrack.host"] == tuning.context["host"]
    assert tags["mlflow.source.name"].endswith("train.py")
    assert tags["mlflow.source.git.commit"] == commit
    assert tags["autotrack.git.branch"] == "main"
    assert tags["autotrack.git.dirty"] in ("true", "false")
    assert not any("AUTOTRACK_DIR" in value for value in tags.values())
    assert "mlflow.parentRunId" not in tags

    # nested runs: the search under the tuning run, the candidates under the search
    (child,) = remote_runs(client, experiment, search.id)
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    for name in ("candidate0", "candidate1"):
        (candidate,) = remote_runs(client, experiment, local_runs[name].id)
        assert candidate.data.tags["mlflow.parentRunId"] == child.info.run_id
        assert candidate.data.params["C"] in ("0.1", "1.0")

    # datasets: inputs with our fingerprint as digest, the role as context, schema and profile
    inputs = {i.dataset.name: i for i in child.inputs.dataset_inputs}
    assert sorted(inputs) == ["X_train", "y_train"]
    x_local = next(d for d in search.datasets if d["role"] == "train.X")
    x_input = inputs["X_train"]
    assert x_input.dataset.digest == x_local["fingerprint"]
    assert {t.key: t.value for t in x_input.tags} == {"mlflow.data.context": "train.X"}
    assert json.loads(x_input.dataset.schema)["mlflow_colspec"] == [
        {"type": "double", "name": name, "required": True} for name in ("age", "income", "score")]
    assert json.loads(x_input.dataset.profile)["num_rows"] == 300
    source = mlflow.data.get_source(x_input)  # MLflow resolves our source type itself
    assert source.to_dict()["tags"]["autotrack.role"] == "train.X"

    # artifacts: the model, the user's file, importances and timings, all downloadable
    names = {f.path for f in client.list_artifacts(child.info.run_id)}
    assert {"model.pkl", "importances.json", "timings.json"} <= names
    model = client.download_artifacts(child.info.run_id, "model.pkl", str(tmp_path))
    local_model = next(a for a in search.artifacts if a["name"] == "model.pkl")
    assert Path(model).read_bytes() == Path(local_model["path"]).read_bytes()
    importances = json.loads(Path(client.download_artifacts(
        child.info.run_id, "importances.json", str(tmp_path))).read_text())
    assert importances == search.importances
    notes = client.download_artifacts(parent.info.run_id, "notes.txt", str(tmp_path))
    assert Path(notes).read_text() == "trained on v3 features\n"


def test_exporting_again_or_with_lost_state_duplicates_nothing(mlflow_server, client, local_runs,
                                                               experiment):
    backend = MlflowBackend(mlflow_server)
    runs = list(local_runs.values())
    first = export_tree(backend, runs, experiment)
    again = export_tree(backend, runs, experiment, states=dict(first))  # same state: nothing new
    # The push succeeded but its state was never saved: an empty state, the same points again.
    lost = export_tree(MlflowBackend(mlflow_server), runs, experiment, states={})
    for run in runs:
        assert again[run.id]["remote_id"] == lost[run.id]["remote_id"] == first[run.id]["remote_id"]
        (remote,) = remote_runs(client, experiment, run.id)
        run_id = remote.info.run_id
        for key in {p[0] for p in run.points}:
            expected = sorted((s, round(t * 1000)) for k, _, s, t in run.points if k == key)
            assert [(s, t) for s, t, _ in history(client, run_id, key)] == expected, key
        assert len(remote.inputs.dataset_inputs) == len({d["fingerprint"] for d in run.datasets})
        assert set(remote.data.params) == {mlflow_backend._key(k) for k in run.params}
    exp = client.get_experiment_by_name(experiment)
    assert len(client.search_runs([exp.experiment_id])) == len(runs)


def test_a_run_exported_while_running_is_completed_when_it_ends(mlflow_server, client, experiment,
                                                                 capsys, caplog):
    backend = MlflowBackend(mlflow_server)
    running = make_snapshot(experiment=experiment, points=points("loss", range(3)))
    state = backend.export_run(running, {})
    assert state["complete"] is False
    (remote,) = remote_runs(client, experiment, running.id)
    assert remote.info.status == "RUNNING"
    assert remote.data.tags["mlflow.source.git.branch"] == "feature/x"
    assert remote.data.tags["autotrack.git.dirty"] == "true"
    # credentials in a git remote are dropped; the environment is never sent
    assert remote.data.tags["mlflow.source.git.repoURL"] == "https://git.example.com/ml/repo.git"
    assert not any("hunter2" in v or "token123" in v for v in remote.data.tags.values())

    finished = dataclasses.replace(
        running, status="failed", end_time=running.start_time + 42.5, error="ValueError: boom",
        points=points("loss", range(3, 6)), params={**running.params, "epochs": "6", "lr": "0.01"},
        importances={"permutation": {"age": 0.7, "income": 0.3}},
        datasets=[{"role": "train.X", "name": None, "rows": 10, "columns": 2, "fingerprint": None,
                   "type": "builtins.list"}])
    state = backend.export_run(finished, state)
    assert state["complete"] is True
    run = client.get_run(state["remote_id"])
    assert run.info.status == "FAILED"
    assert run.info.end_time == round(finished.end_time * 1000)
    assert run.data.tags["autotrack.error"] == "ValueError: boom"
    # MLflow refuses to change a param: the first value stays, with one warning
    assert run.data.params == {"hidden": "[64, 32]", "lr": "0.001", "epochs": "6"}
    assert "param 'lr'" in caplog.text and "changed" in caplog.text
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == list(range(6))
    (data,) = run.inputs.dataset_inputs  # data autotrack could not hash still gets a digest
    assert data.dataset.name == "train.X" and len(data.dataset.digest) == 36
    assert "View run" not in capsys.readouterr().out  # MLflow's prints stay out of the script's stdout


def test_a_users_own_mlflow_run_is_logged_into_not_taken_over(mlflow_server, client, experiment):
    experiment_id = client.create_experiment(experiment)
    users = client.create_run(experiment_id, run_name="my-own-run")
    backend = MlflowBackend(mlflow_server)
    snapshot = make_snapshot(experiment=experiment, status="finished", end_time=1_700_000_050.0,
                             points=points("loss", range(2)))
    state = backend.export_run(snapshot, {"remote_id": users.info.run_id, "owned": False})
    assert state["complete"] is True
    run = client.get_run(users.info.run_id)
    assert run.info.status == "RUNNING" and run.info.run_name == "my-own-run"  # still the user's
    assert run.data.params["lr"] == "0.001"
    assert len(client.get_metric_history(run.info.run_id, "loss")) == 2
    assert len(client.search_runs([experiment_id])) == 1


def test_a_child_exported_before_its_parent_is_linked_later(mlflow_server, client, experiment):
    backend = MlflowBackend(mlflow_server)
    parent = make_snapshot(experiment=experiment, status="finished", end_time=1_700_000_010.0)
    child = make_snapshot(experiment=experiment, status="finished", end_time=1_700_000_009.0,
                          parent_id=parent.id)
    child_state = backend.export_run(child, {})
    assert child_state["complete"] is False  # ended, but not yet under its parent
    parent_state = backend.export_run(parent, {})
    child_state = backend.export_run(
        dataclasses.replace(child, parent_remote_id=parent_state["remote_id"]), child_state)
    assert child_state["complete"] is True
    assert client.get_run(child_state["remote_id"]).data.tags["mlflow.parentRunId"] == \
        parent_state["remote_id"]


def test_points_and_params_go_in_batches(mlflow_server, client, experiment, monkeypatch):
    backend = MlflowBackend(mlflow_server)
    calls = []
    log_batch = backend.client.log_batch
    monkeypatch.setattr(backend.client, "log_batch",
                        lambda *a, **kw: calls.append({k: len(v) for k, v in kw.items()
                                                       if isinstance(v, list)}) or log_batch(*a, **kw))
    many = [(f"m{i % 3}", float(i), i // 3, 1_700_000_000.0 + i / 1000) for i in range(2500)]
    snapshot = make_snapshot(experiment=experiment, status="finished", end_time=1_700_000_100.0,
                             params={**{f"p{i}": json.dumps(i) for i in range(249)},
                                     "huge": json.dumps("y" * 7000)},
                             tags={"odd key (%)": "v", **{f"t{i}": "x" for i in range(120)}},
                             points=many + [("val loss (%)", 0.5, 0, 1_700_000_000.0)])
    started = time.perf_counter()
    state = backend.export_run(snapshot, {})
    elapsed = time.perf_counter() - started
    metric_calls = [c["metrics"] for c in calls if "metrics" in c]
    assert metric_calls == [1000, 1000, 501]
    assert [c["params"] for c in calls if "params" in c] == [100, 100, 50]
    tag_calls = [c["tags"] for c in calls if "tags" in c]
    assert max(tag_calls) == 100 and sum(tag_calls) >= 121
    run = client.get_run(state["remote_id"])
    assert len(run.data.params) == 250
    assert len(run.data.params["huge"]) == 6000  # MLflow's limit
    assert run.data.tags["odd key ___"] == "v"  # characters MLflow refuses become "_"
    assert len(client.get_metric_history(run.info.run_id, "m0")) == 834
    assert client.get_metric_history(run.info.run_id, "val loss ___")[0].value == 0.5
    assert elapsed < 30, f"{elapsed:.1f} s for 2,500 points"


# -- faults ------------------------------------------------------------------------------------------
def test_a_stopped_server_is_unavailable_quickly_and_nothing_is_lost(mlflow_restartable, client,
                                                                      experiment):
    backend = MlflowBackend(mlflow_restartable.uri)
    running = make_snapshot(experiment=experiment, points=points("loss", range(3)))
    state = backend.export_run(running, {})
    mlflow_restartable.stop()
    finished = dataclasses.replace(running, status="finished", end_time=running.start_time + 5,
                                   points=points("loss", range(3, 6)))
    started = time.monotonic()
    with pytest.raises(BackendUnavailable):
        backend.export_run(finished, state)
    assert time.monotonic() - started < 10
    for name in CLIENT_DEFAULTS:  # the bounded retries applied during the call only
        assert name not in os.environ
    mlflow_restartable.start()
    # The exporter kept the old state and watermark: the same points come again.
    state = backend.export_run(finished, state)
    assert state["complete"] is True
    run = client.get_run(state["remote_id"])
    assert run.info.status == "FINISHED"
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == list(range(6))
    assert len(remote_runs(client, experiment, running.id)) == 1


class _Overloaded(BaseHTTPRequestHandler):
    requests = 0

    def _answer(self):
        type(self).requests += 1
        body = json.dumps({"error_code": "TEMPORARILY_UNAVAILABLE", "message": "overloaded"}).encode()
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args):
        pass


def test_a_server_answering_5xx_is_unavailable_after_bounded_retries():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Overloaded)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        backend = MlflowBackend(f"http://127.0.0.1:{server.server_address[1]}")
        started = time.monotonic()
        with pytest.raises(BackendUnavailable, match="503|overloaded|too many"):
            backend.export_run(make_snapshot(), {})
        assert time.monotonic() - started < 10
        assert _Overloaded.requests == 1 + int(CLIENT_DEFAULTS["MLFLOW_HTTP_REQUEST_MAX_RETRIES"])
    finally:
        server.shutdown()
        server.server_close()


def test_data_the_server_refuses_is_an_error_not_unavailability(mlflow_server, client, experiment):
    backend = MlflowBackend(mlflow_server)
    running = make_snapshot(experiment=experiment, points=points("loss", range(2)))
    state = backend.export_run(running, {})
    client.delete_run(state["remote_id"])  # a user deleted it in the MLflow UI
    with pytest.raises(mlflow.exceptions.MlflowException) as caught:
        backend.export_run(dataclasses.replace(running, points=points("loss", [2])), state)
    assert not isinstance(caught.value, BackendUnavailable)
    assert caught.value.get_http_status_code() == 400


def test_a_user_set_retry_setting_is_left_alone(mlflow_server, experiment, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "33")
    seen = {}
    backend = MlflowBackend(mlflow_server)
    create_run = backend.client.create_run
    monkeypatch.setattr(backend.client, "create_run", lambda *a, **kw: seen.update(
        {k: os.environ.get(k) for k in CLIENT_DEFAULTS}) or create_run(*a, **kw))
    backend.export_run(make_snapshot(experiment=experiment), {})
    assert seen["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "33"
    assert seen["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == CLIENT_DEFAULTS["MLFLOW_HTTP_REQUEST_MAX_RETRIES"]
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "33"
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ


# -- the plugin ------------------------------------------------------------------------------------
def test_the_plugin_registers_a_backend_that_reads_the_tracking_uri(mlflow_server, monkeypatch):
    registered = []
    mlflow_backend.autotrack_register_backends(lambda name, factory: registered.append((name, factory)))
    ((name, factory),) = registered
    assert name == "mlflow"
    backend = factory(Settings(mlflow_tracking_uri=mlflow_server))
    assert backend.name == "mlflow" and backend.tracking_uri == mlflow_server
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:1")
    assert factory(Settings()).tracking_uri == "http://127.0.0.1:1"


def test_importing_autotrack_or_the_backend_module_does_not_import_mlflow():
    code = ("import sys, autotrack, autotrack.stores.mlflow; "
            "assert 'mlflow' not in sys.modules, sorted(m for m in sys.modules if 'mlflow' in m)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
