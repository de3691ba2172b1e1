"""The MLflow backend end to end, as a user runs it: a real training script in a subprocess with
`AUTOTRACK=1 AUTOTRACK_BACKENDS=local,mlflow MLFLOW_TRACKING_URI=...`, read back through
`mlflow.MlflowClient`, and compared with the local store: nothing lost, nothing duplicated.

The fault tests keep strict mode on (conftest sets AUTOTRACK_STRICT=1 for every script): a server
that is down, slow or failing is not a tracking error, so it must neither fail the script nor
change its exit code or output.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

mlflow = pytest.importorskip("mlflow")

from mlflow.entities import ViewType  # noqa: E402

from autotrack.stores.mlflow import _key as mlflow_key  # noqa: E402  (the documented key mapping)


# -- helpers ----------------------------------------------------------------------------------------


def unique(stem: str) -> str:
    """A script stem, hence an experiment name, no other test (or earlier session) uses."""
    return f"{stem}_{uuid.uuid4().hex[:8]}"


def backend_env(uri: str, **extra) -> dict:
    env = {"AUTOTRACK_BACKENDS": "local,mlflow", "MLFLOW_TRACKING_URI": uri,
           "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.update({key: str(value) for key, value in extra.items()})
    return env


def dead_uri() -> str:
    """A tracking URI on 127.0.0.1 where nothing listens (connection refused), as a stopped server."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def printed(result) -> dict:
    """The JSON object the script printed last (MLflow prints lines of its own for a user's run)."""
    return json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])


def local_runs(cli) -> list[dict]:
    """Every run of the store in full, as `autotrack show --json` gives it."""
    return [cli("show", run["id"], "--json") for run in cli("runs", "--json", "--limit", "0")]


def export_states(cli) -> dict[str, dict]:
    return {run["id"]: run["exports"].get("mlflow") for run in cli("runs", "--json", "--limit", "0")}


def autotrack_lines(stderr: str) -> list[str]:
    """What autotrack wrote to the script's stderr (its warnings), and any traceback."""
    return [line for line in stderr.splitlines() if line.startswith(("autotrack", "Traceback"))]


def warnings_naming_sync(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "autotrack sync" in line]


def ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso).timestamp() * 1000)


def finite_or_none(value):
    return value if value is not None and math.isfinite(value) else None


def as_mlflow_param(value) -> str:
    """A stored param value as MLflow shows it: str() of a scalar, JSON of a list or dict."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def artifact_files(client, run_id: str, path: str | None = None) -> dict[str, int]:
    """{path: size} of every artifact file of an MLflow run, folders walked."""
    files = {}
    for info in client.list_artifacts(run_id, path):
        if info.is_dir:
            files.update(artifact_files(client, run_id, info.path))
        else:
            files[info.path] = info.file_size
    return files


def remote_by_local_id(client, experiment: str) -> dict[str, list]:
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no MLflow experiment {experiment!r}"
    runs = client.search_runs([found.experiment_id], run_view_type=ViewType.ALL, max_results=1000)
    by_id: dict[str, list] = {}
    for run in runs:
        by_id.setdefault(run.data.tags.get("autotrack.run_id"), []).append(run)
    return by_id


def assert_mirrored(client, runs: list[dict], experiment: str) -> dict:
    """Every local run is in MLflow exactly once with all it holds; {local id: MLflow run}."""
    by_id = remote_by_local_id(client, experiment)
    assert sorted(by_id, key=str) == sorted(run["id"] for run in runs), "runs missing or extra in MLflow"
    assert {key: len(found) for key, found in by_id.items() if len(found) != 1} == {}, "duplicated runs"
    remote = {key: found[0] for key, found in by_id.items()}
    for run in runs:
        mine = remote[run["id"]]
        run_id, label = mine.info.run_id, f"{run['name']} ({run['id'][:8]})"
        assert run["exports"]["mlflow"] == {"status": "done", "remote_id": run_id, "error": None}, label
        assert mine.info.status == {"finished": "FINISHED", "failed": "FAILED"}[run["status"]], label
        assert abs(mine.info.start_time - ms(run["start_time"])) <= 1, label
        assert abs(mine.info.end_time - ms(run["end_time"])) <= 1, label
        if run["name"]:
            assert mine.info.run_name == run["name"], label
        parent = remote[run["parent_id"]].info.run_id if run["parent_id"] else None
        assert mine.data.tags.get("mlflow.parentRunId") == parent, label
        # params: every one, with its value, and no other
        assert mine.data.params == {mlflow_key(key): as_mlflow_param(value)
                                    for key, value in run["params"].items()}, label
        # metrics: every point of every key exactly once (a multiset of (step, value) per key)
        assert set(mine.data.metrics) == {mlflow_key(key) for key in run["history"]}, label
        for key, points in run["history"].items():
            history = client.get_metric_history(run_id, mlflow_key(key))
            got = Counter((m.step, finite_or_none(m.value)) for m in history)
            assert got == Counter((step, finite_or_none(value)) for step, value in points), (label, key)
            assert max(Counter(m.step for m in history).values()) == 1, (label, key, "duplicated steps")
        # datasets: one input per data set, digest = autotrack's fingerprint (cut to MLflow's 36)
        digests = sorted(i.dataset.digest for i in mine.inputs.dataset_inputs)
        assert digests == sorted({d["fingerprint"][:36] for d in run["datasets"]}), label
        # artifacts: every local file, with its size
        files = artifact_files(client, run_id)
        for artifact in run["artifacts"]:
            assert files.get(artifact["name"]) == artifact["bytes"], (label, artifact["name"], files)
        if run["timings"]:
            assert "timings.json" in files, label
    return remote


# -- 1. a scikit-learn script, everything read back --------------------------------------------------
SKLEARN = """
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
import autotrack

rng = np.random.default_rng(0)
X_train = pd.DataFrame(rng.normal(size=(200, 4)), columns=["age", "income", "score", "tenure"])
y_train = (X_train["age"] + 0.3 * rng.normal(size=200) > 0).astype(int)
model = LogisticRegression(C=0.5).fit(X_train, y_train)
GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0, 10.0]}, cv=2).fit(X_train, y_train)
with autotrack.start_run(name="curve", tags={"ticket": "ML-7"}):
    autotrack.log_params({"lr": 0.01, "layers": [8, 4], "optimizer": "adam"})
    for step in range(50):
        autotrack.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
print("trained")
"""


def test_a_sklearn_script_reads_back_in_mlflow_as_in_the_local_store(mlflow_server, run_script, cli,
                                                                     tmp_path):
    stem = unique("sklearn_e2e")
    # A generous exit_timeout: the test wants the background export to finish before exit.
    result = run_script(SKLEARN, name=f"{stem}.py", env=backend_env(mlflow_server, AUTOTRACK_EXIT_TIMEOUT=60))
    assert result.stdout == "trained\n"
    assert autotrack_lines(result.stderr) == [], result.stderr

    runs = local_runs(cli)
    by_name = Counter(run["name"] for run in runs)
    assert by_name["LogisticRegression"] == 1 and by_name["GridSearchCV(LogisticRegression)"] == 1
    assert by_name["curve"] == 1 and len(runs) == 6, by_name  # and 3 candidates
    client = mlflow.MlflowClient(mlflow_server)
    remote = assert_mirrored(client, runs, stem)  # the experiment is named after the script

    search = next(run for run in runs if run["name"] == "GridSearchCV(LogisticRegression)")
    candidates = [run for run in runs if run["parent_id"] == search["id"]]
    assert len(candidates) == 3
    assert sorted(remote[c["id"]].data.params["C"] for c in candidates) == ["0.1", "1.0", "10.0"]
    for candidate in candidates:
        assert remote[candidate["id"]].data.tags["mlflow.parentRunId"] == remote[search["id"]].info.run_id

    curve = next(run for run in runs if run["name"] == "curve")
    loss = client.get_metric_history(remote[curve["id"]].info.run_id, "loss")
    assert sorted((m.step, m.value) for m in loss) == [(s, 1.0 / (s + 1)) for s in range(50)]
    assert remote[curve["id"]].data.params == {"lr": "0.01", "layers": "[8, 4]", "optimizer": "adam"}
    assert remote[curve["id"]].data.tags["ticket"] == "ML-7"

    fit = next(run for run in runs if run["name"] == "LogisticRegression")
    assert {d["role"] for d in fit["datasets"]} >= {"train.X", "train.y"}
    assert len(remote[fit["id"]].inputs.dataset_inputs) == len(fit["datasets"])
    local_model = next(a for a in fit["artifacts"] if a["name"] == "model.pkl")
    downloaded = client.download_artifacts(remote[fit["id"]].info.run_id, "model.pkl", str(tmp_path))
    assert Path(downloaded).read_bytes() == Path(local_model["path"]).read_bytes()
    assert cli("sync").stdout.startswith("nothing to sync")


# -- 2. the server stops in the middle of training ---------------------------------------------------
PHASED = """
import sys, time
from pathlib import Path
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
import autotrack

ready, go = Path(sys.argv[1]), Path(sys.argv[2])
rng = np.random.default_rng(1)
X_train = rng.normal(size=(150, 3))
y_train = (X_train[:, 0] > 0).astype(int)
LogisticRegression().fit(X_train, y_train)
Path("phase1.txt").write_text("written before the outage\\n")
Path("phase2.txt").write_text("written during the outage\\n" * 50)
with autotrack.start_run(name="curve"):
    autotrack.log_params({"lr": 0.1, "phase": "one"})
    for step in range(30):
        autotrack.log_metrics({"loss": 1.0 / (step + 1), "acc": step / 60}, step=step)
    autotrack.log_artifact("phase1.txt")
    autotrack.flush()
    ready.touch()
    deadline = time.monotonic() + 120
    while not go.exists():
        if time.monotonic() > deadline:
            sys.exit("the test never said go")
        time.sleep(0.05)
    autotrack.log_params({"epochs": 60})
    for step in range(30, 60):
        autotrack.log_metrics({"loss": 1.0 / (step + 1), "acc": step / 60}, step=step)
    autotrack.log_artifact("phase2.txt", name="outage-notes.txt")
    DecisionTreeClassifier(max_depth=3, random_state=0).fit(X_train, y_train)
print("trained")
"""


def wait_for(condition, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def test_a_server_stopped_mid_training_gets_everything_once_after_sync(mlflow_restartable, store, cli,
                                                                       tmp_path):
    server = mlflow_restartable
    client = mlflow.MlflowClient(server.uri)
    stem = unique("outage_e2e")
    script = tmp_path / f"{stem}.py"
    script.write_text(textwrap.dedent(PHASED))
    ready, go = tmp_path / "ready.flag", tmp_path / "go.flag"
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_STRICT": "1", "AUTOTRACK_DIR": str(store),
           **backend_env(server.uri, AUTOTRACK_EXIT_TIMEOUT=2)}
    process = subprocess.Popen([sys.executable, str(script), str(ready), str(go)], cwd=tmp_path,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: ready.exists() or process.poll() is not None, 90, "phase one")
        assert process.poll() is None, process.communicate()

        def phase_one_in_mlflow():  # the background export has sent phase one, partly or whole
            experiment = client.get_experiment_by_name(stem)
            if experiment is None:
                return False
            curve = client.search_runs([experiment.experiment_id], "attributes.run_name = 'curve'")
            return bool(curve) and len(client.get_metric_history(curve[0].info.run_id, "loss")) == 30

        wait_for(phase_one_in_mlflow, 60, "phase one to reach MLflow", interval=0.3)
        server.stop()
        go.touch()
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert stdout == "trained\n"
    assert warnings_naming_sync(stderr), stderr
    pending = [run_id for run_id, state in export_states(cli).items() if state["status"] == "pending"]
    assert pending, "the outage left nothing pending"

    server.start()
    uri = {"MLFLOW_TRACKING_URI": server.uri}  # sync reads the server from the environment too
    first = cli("sync", env=uri)
    assert f"exported {len(pending)} run" in first.stdout, first.stdout + first.stderr
    runs = local_runs(cli)
    assert len(runs) == 3  # LogisticRegression, curve, and the tree inside curve
    remote = assert_mirrored(client, runs, stem)
    curve = next(run for run in runs if run["name"] == "curve")
    files = artifact_files(client, remote[curve["id"]].info.run_id)
    assert {"phase1.txt", "outage-notes.txt"} <= set(files)
    assert remote[curve["id"]].data.params == {"lr": "0.1", "phase": "one", "epochs": "60"}
    for key in ("loss", "acc"):
        steps = Counter(m.step for m in client.get_metric_history(remote[curve["id"]].info.run_id, key))
        assert steps == Counter(range(60)), key

    second = cli("sync", env=uri)
    assert second.returncode == 0
    assert "nothing to sync" in second.stdout or "exported 0 runs" in second.stdout, second.stdout
    assert len(remote_by_local_id(client, stem)) == 3


# -- 3./4. exit with records queued; a slow server ---------------------------------------------------
# Shared by the reference run (local store only), the run against a dead server and the run
# behind a slow proxy: a run with many points, other work, then the fit that is timed.
WORKLOAD = """
import json, time
t0 = time.perf_counter()
import numpy as np
from sklearn.ensemble import RandomForestClassifier
import autotrack

rng = np.random.default_rng(2)
X_train = rng.normal(size=(3000, 10))
y_train = (X_train[:, 0] + rng.normal(size=3000) > 0).astype(int)
with autotrack.start_run(name="curve"):
    autotrack.log_params({"lr": 0.01})
    for step in range(2000):
        autotrack.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
time.sleep(1.5)  # other work (loading data...) while the exporter talks to the server
fit_start = time.time()
started = time.perf_counter()
RandomForestClassifier(n_estimators=60, max_depth=8, random_state=0).fit(X_train, y_train)
fit_wall = time.perf_counter() - started
print(json.dumps({"fit_wall": fit_wall, "fit_start": fit_start, "fit_end": time.time(),
                  "work_s": time.perf_counter() - t0}))
"""


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    """WORKLOAD with the local store only: its wall time, fit_s and printed timings."""
    folder = tmp_path_factory.mktemp("reference")
    (folder / "workload.py").write_text(textwrap.dedent(WORKLOAD))
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_STRICT": "1", "AUTOTRACK_DIR": str(folder / "store"),
           "AUTOTRACK_BACKENDS": "local"}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "workload.py"], cwd=folder, env=env, capture_output=True,
                            text=True, timeout=240)
    wall = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    listing = subprocess.run([sys.executable, "-m", "autotrack", "runs", "--json", "--store",
                              str(folder / "store")], capture_output=True, text=True, check=True)
    (fit,) = [run for run in json.loads(listing.stdout) if run["name"] == "RandomForestClassifier"]
    shown = subprocess.run([sys.executable, "-m", "autotrack", "show", fit["id"], "--json", "--store",
                            str(folder / "store")], capture_output=True, text=True, check=True)
    return {"wall": wall, "fit_s": json.loads(shown.stdout)["timings"]["fit_s"], **printed(result)}


@pytest.fixture(scope="module")
def exit_while_queued(tmp_path_factory) -> dict:
    """WORKLOAD against a server that is down for the whole script, with exit_timeout=2."""
    folder = tmp_path_factory.mktemp("queued")
    stem = unique("queued_e2e")
    (folder / f"{stem}.py").write_text(textwrap.dedent(WORKLOAD))
    store = folder / "store"
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_STRICT": "1", "AUTOTRACK_DIR": str(store),
           **backend_env(dead_uri(), AUTOTRACK_EXIT_TIMEOUT=2)}
    started = time.monotonic()
    result = subprocess.run([sys.executable, f"{stem}.py"], cwd=folder, env=env, capture_output=True,
                            text=True, timeout=240)
    return {"result": result, "wall": time.monotonic() - started, "store": store, "stem": stem}


def test_exit_is_not_held_while_records_are_queued_and_sync_sends_them(exit_while_queued, reference,
                                                                       mlflow_server, cli, store):
    result, wall = exit_while_queued["result"], exit_while_queued["wall"]
    assert result.returncode == 0, result.stderr
    assert set(printed(result)) == {"fit_wall", "fit_start", "fit_end", "work_s"}  # its own output
    # exit_timeout=2 bounds the wait at exit; the margin covers a busy 2-core machine.
    assert wall < reference["wall"] + 2 + 6, (wall, reference["wall"])
    assert warnings_naming_sync(result.stderr), result.stderr
    assert "Traceback" not in result.stderr and "tracking error" not in result.stderr, result.stderr

    env = {"AUTOTRACK_DIR": str(exit_while_queued["store"]), "MLFLOW_TRACKING_URI": mlflow_server}
    states = export_states(lambda *args: cli(*args, env=env))
    assert [state["status"] for state in states.values()] == ["pending", "pending"]
    synced = cli("sync", env=env)
    assert "exported 2 runs" in synced.stdout, synced.stdout
    runs = local_runs(lambda *args: cli(*args, env=env))
    assert_mirrored(mlflow.MlflowClient(mlflow_server), runs, exit_while_queued["stem"])
    assert "nothing to sync" in cli("sync", env=env).stdout


def test_an_outage_at_exit_is_reported_by_a_single_warning(exit_while_queued):
    stderr = exit_while_queued["result"].stderr
    assert len(warnings_naming_sync(stderr)) == 1, stderr


class _DelayingProxy(ThreadingHTTPServer):
    """127.0.0.1 only: forwards each request to `target` after `delay` s; at most `limit`
    requests are forwarded (503 after that); records when each request was in flight."""

    daemon_threads = True

    def __init__(self, target: str, delay: float, limit: int = 400):
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        parts = urlsplit(target)
        self.target = (parts.hostname, parts.port)
        self.delay, self.limit = delay, limit
        self.lock = threading.Lock()
        self.spans: list[tuple[float, float]] = []
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "te",
        "trailer", "upgrade"}


class _ProxyHandler(BaseHTTPRequestHandler):
    def _forward(self):
        proxy: _DelayingProxy = self.server
        started = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        with proxy.lock:
            over = len(proxy.spans) >= proxy.limit
            proxy.spans.append((started, started))
            index = len(proxy.spans) - 1
        if over:
            self.send_error(503, "proxy request limit reached")
            return
        time.sleep(proxy.delay)
        connection = http.client.HTTPConnection(*proxy.target, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in _HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            connection.close()
            with proxy.lock:
                proxy.spans[index] = (started, time.time())

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

    def log_message(self, *args):
        pass


def test_a_slow_server_does_not_slow_the_fit_and_still_gets_the_data(reference, mlflow_server,
                                                                      run_script, cli):
    stem = unique("slow_e2e")
    with _DelayingProxy(mlflow_server, delay=0.25) as proxy:
        result = run_script(WORKLOAD, name=f"{stem}.py",
                            env=backend_env(proxy.uri, AUTOTRACK_EXIT_TIMEOUT=60))
    out = printed(result)
    # The export really was talking to the slow server while the fit ran...
    assert any(start < out["fit_end"] and end > out["fit_start"] for start, end in proxy.spans), \
        "no request in flight during the fit: the test proves nothing"
    # ...and the fit did not wait for it: a generous functional bound, not a benchmark (one
    # delayed request alone is 0.25 s; an export on the training thread costs dozens of them).
    runs = local_runs(cli)
    (fit,) = [run for run in runs if run["name"] == "RandomForestClassifier"]
    assert fit["timings"]["fit_s"] < 2 * reference["fit_s"] + 0.5, (fit["timings"], reference)
    assert out["fit_wall"] < 2 * reference["fit_wall"] + 0.5, (out, reference)
    assert autotrack_lines(result.stderr) == [], result.stderr
    assert len(proxy.spans) < proxy.limit
    assert_mirrored(mlflow.MlflowClient(mlflow_server), runs, stem)


# -- 5. a user's own mlflow.start_run() ---------------------------------------------------------------
USERS_RUN = """
import json, sys, time
import mlflow
import numpy as np
from sklearn.linear_model import LogisticRegression

mlflow.set_experiment(sys.argv[1])
client = mlflow.MlflowClient()
rng = np.random.default_rng(3)
X_train = rng.normal(size=(120, 3))
y_train = (X_train[:, 1] > 0).astype(int)
with mlflow.start_run(run_name="my-own-run") as users:
    mlflow.log_param("data_version", "v7")
    LogisticRegression().fit(X_train, y_train)
    # Wait (bounded) until autotrack's export has ended its own run, then look at the user's.
    query = f"tags.`mlflow.parentRunId` = '{users.info.run_id}' and attributes.status = 'FINISHED'"
    deadline = time.monotonic() + 60
    while not client.search_runs([users.info.experiment_id], query) and time.monotonic() < deadline:
        time.sleep(0.2)
    seen = client.get_run(users.info.run_id).info
    print(json.dumps({"run_id": users.info.run_id, "experiment_id": users.info.experiment_id,
                      "status_after_export": seen.status, "name_after_export": seen.run_name}))
"""


def test_a_users_own_mlflow_run_gets_the_autotrack_run_nested_under_it(mlflow_server, run_script, cli):
    stem, experiment = unique("users_e2e"), unique("users-own-experiment")
    result = run_script(USERS_RUN, name=f"{stem}.py", args=[experiment],
                        env=backend_env(mlflow_server, AUTOTRACK_EXIT_TIMEOUT=60))
    users = printed(result)
    # While the user's run was open and autotrack had exported into it, it was still the user's.
    assert users["status_after_export"] == "RUNNING"
    assert users["name_after_export"] == "my-own-run"

    client = mlflow.MlflowClient(mlflow_server)
    (fit,) = local_runs(cli)
    assert fit["exports"]["mlflow"]["status"] == "done"
    nested = client.get_run(fit["exports"]["mlflow"]["remote_id"])
    assert nested.info.run_id != users["run_id"]
    assert nested.data.tags["mlflow.parentRunId"] == users["run_id"]
    assert nested.info.experiment_id == users["experiment_id"]
    assert nested.info.status == "FINISHED"
    assert nested.data.params["solver"] == "lbfgs"
    assert client.get_experiment_by_name(stem) is None  # nothing went to an experiment of its own

    mine = client.get_run(users["run_id"])
    assert mine.info.run_name == "my-own-run"
    assert mine.info.status == "FINISHED"  # ended by the user's `with`, when the user chose
    assert mine.data.params == {"data_version": "v7"}  # nothing of autotrack's logged into it
    assert "autotrack.run_id" not in mine.data.tags
    assert len(client.search_runs([users["experiment_id"]])) == 2


# -- 6. a server answering 500 to everything -----------------------------------------------------------
class _Failing(BaseHTTPRequestHandler):
    def _answer(self):
        self.server.requests.append((time.time(), self.command, self.path))
        body = json.dumps({"error_code": "INTERNAL_ERROR", "message": "database is on fire"}).encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, *args):
        pass


FAILING_SCRIPT = """
import sys, time
import numpy as np
from sklearn.linear_model import LogisticRegression
import autotrack

rng = np.random.default_rng(4)
X_train = rng.normal(size=(100, 3))
y_train = (X_train[:, 2] > 0).astype(int)
LogisticRegression().fit(X_train, y_train)
with autotrack.start_run(name="curve"):
    for step in range(20):
        autotrack.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
time.sleep(3)  # long enough for the exporter to meet the errors before exit
print("trained")
sys.exit(3)
"""


@pytest.fixture(scope="module")
def failing_server_run(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("failing")
    (folder / "failing.py").write_text(textwrap.dedent(FAILING_SCRIPT))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    server.requests = []
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    store = folder / "store"
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_STRICT": "1", "AUTOTRACK_DIR": str(store),
           **backend_env(f"http://127.0.0.1:{server.server_address[1]}", AUTOTRACK_EXIT_TIMEOUT=2)}
    try:
        started = time.monotonic()
        result = subprocess.run([sys.executable, "failing.py"], cwd=folder, env=env, capture_output=True,
                                text=True, timeout=240)
        wall = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    return {"result": result, "wall": wall, "requests": list(server.requests), "store": store}


def test_a_server_answering_500_costs_bounded_retries_and_keeps_the_runs(failing_server_run, cli):
    result = failing_server_run["result"]
    assert result.returncode == 3, result.stderr  # the script's own exit code, strict mode and all
    assert result.stdout == "trained\n"
    assert "Traceback" not in result.stderr and "tracking error" not in result.stderr, result.stderr
    assert warnings_naming_sync(result.stderr), result.stderr
    assert any("500" in line for line in result.stderr.splitlines() if "unavailable" in line), result.stderr
    # Bounded: each pass is 1 request + MLFLOW_HTTP_REQUEST_MAX_RETRIES (2), passes back off.
    requests = failing_server_run["requests"]
    assert 3 <= len(requests) <= 15, requests
    assert failing_server_run["wall"] < 30

    env = {"AUTOTRACK_DIR": str(failing_server_run["store"])}
    runs = local_runs(lambda *args: cli(*args, env=env))
    assert sorted(run["name"] for run in runs) == ["LogisticRegression", "curve"]
    for run in runs:  # kept locally, whole, and pending for MLflow
        assert run["status"] == "finished"
        assert run["exports"]["mlflow"]["status"] == "pending", run["exports"]
    curve = next(run for run in runs if run["name"] == "curve")
    assert [step for step, _ in curve["history"]["loss"]] == list(range(20))


def test_a_server_answering_500_is_reported_by_a_single_warning(failing_server_run):
    stderr = failing_server_run["result"].stderr
    warnings = [line for line in stderr.splitlines() if line.startswith("autotrack")]
    assert len(warnings) == 1, stderr


# -- the import race: the export thread imports mlflow while the script goes on --------------------------
RACE = """
import sys, time
import autotrack

# Runs start on the training thread while the export thread imports mlflow (about 2 s). The loop
# stops once mlflow is fully imported, or after 20 s.
overlapped = 0
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    module = sys.modules.get("mlflow")
    if module is not None and hasattr(module, "MlflowClient"):
        break
    with autotrack.start_run(name="tick"):
        autotrack.log_metric("x", 1.0, step=0)
    overlapped += module is not None
    time.sleep(0.01)
print(overlapped)
"""


def test_runs_started_while_the_exporter_imports_mlflow_do_not_fail(run_script):
    result = run_script(RACE, name=f"{unique('race_e2e')}.py", check=False,
                        env=backend_env(dead_uri(), AUTOTRACK_EXIT_TIMEOUT=0.5))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "tracking error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert int(result.stdout.strip() or 0) > 0, "no run started while mlflow was being imported"


SHORT = """
import autotrack
with autotrack.start_run(name="short"):
    autotrack.log_metric("x", 1.0, step=0)
print("done")
"""


def test_exiting_while_the_exporter_imports_mlflow_is_not_a_tracking_error(run_script):
    # exit_timeout (0.5 s) is shorter than importing mlflow: the process exits during the import.
    result = run_script(SHORT, name=f"{unique('short_e2e')}.py", check=False,
                        env=backend_env(dead_uri(), AUTOTRACK_EXIT_TIMEOUT=0.5))
    assert result.stdout == "done\n"
    assert result.returncode == 0, result.stderr[-3000:]
    assert "tracking error" not in result.stderr, result.stderr


def test_without_a_tracking_server_runs_stay_pending_and_sync_says_what_to_set(run_script, cli,
                                                                               mlflow_server):
    """MLflow alone would write to a local ./mlruns and call the runs exported: refused instead."""
    env = {"AUTOTRACK_BACKENDS": "local,mlflow", "MLFLOW_TRACKING_URI": "",
           "MLFLOW_DISABLE_TELEMETRY": "true"}
    result = run_script(SHORT, name=f"{unique('unset')}.py", env=env)
    assert result.stdout.strip() == "done"
    assert "no tracking server: set MLFLOW_TRACKING_URI" in result.stderr
    (run,) = local_runs(lambda *args: cli(*args, env=env))
    assert run["exports"]["mlflow"]["status"] == "pending"
    refused = cli("sync", env=env, check=False)
    assert refused.returncode == 1 and "set MLFLOW_TRACKING_URI" in refused.stderr
    synced = cli("sync", env={**env, "MLFLOW_TRACKING_URI": mlflow_server})
    assert "exported 1 run " in synced.stdout


# -- 8. preprocessing fitted on its own stays local -----------------------------------------------------
PREPROCESSED = """
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

X, y = make_classification(n_samples=200, n_features=5, random_state=0)
for _ in range(3):
    StandardScaler().fit(X)                     # a loop of standalone scalers: no flood in MLflow
X_scaled = StandardScaler(with_std=False).fit_transform(X)
LogisticRegression().fit(X_scaled, y)
"""


@pytest.mark.parametrize("runs_for, exported", [("models", ["LogisticRegression"]),
                                                 ("all", ["LogisticRegression"] + ["StandardScaler"] * 4)])
def test_preprocessing_records_stay_local_unless_every_fit_is_a_run(mlflow_server, run_script, cli,
                                                                     runs_for, exported):
    stem = unique("preprocessing_e2e")
    run_script(PREPROCESSED, name=f"{stem}.py",
               env=backend_env(mlflow_server, AUTOTRACK_EXIT_TIMEOUT=60, AUTOTRACK_RUNS_FOR=runs_for))
    assert len(local_runs(cli)) == 5  # every fit is recorded locally either way
    client = mlflow.MlflowClient(mlflow_server)
    experiment = client.get_experiment_by_name(stem)
    remote = client.search_runs([experiment.experiment_id])
    assert sorted(run.info.run_name.split()[0] for run in remote) == exported
    model = next(run for run in remote if run.info.run_name == "LogisticRegression")
    if runs_for == "models":  # the model carries its preprocessing's params
        assert model.data.params["standardscaler__with_std"] == "False"


# -- 9. several syncs at once -------------------------------------------------------------------------
MANY_RUNS = """
import numpy as np
from sklearn.linear_model import LogisticRegression
import autotrack

X = np.random.default_rng(0).normal(size=(100, 3))
y = (X[:, 0] > 0).astype(int)
for C in (0.1, 1.0, 10.0):
    LogisticRegression(C=C).fit(X, y)
with autotrack.start_run(name="curve"):
    for step in range(50):
        autotrack.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
"""


def test_syncs_started_together_create_each_run_once(mlflow_server, run_script, cli, store):
    stem = unique("concurrent_sync")
    run_script(MANY_RUNS, name=f"{stem}.py", env=backend_env(dead_uri(), AUTOTRACK_EXIT_TIMEOUT=1))
    local = local_runs(cli)
    assert len(local) == 4 and all(run["exports"]["mlflow"]["status"] == "pending" for run in local)
    env = {**os.environ, "AUTOTRACK_DIR": str(store), "MLFLOW_TRACKING_URI": mlflow_server,
           "MLFLOW_DISABLE_TELEMETRY": "true"}
    syncs = [subprocess.Popen([sys.executable, "-m", "autotrack", "sync"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [sync.communicate(timeout=180) for sync in syncs]
    # The test server keeps its own records in SQLite, which may answer a burst of concurrent
    # requests with "database is locked": such a run is left for the next sync, never duplicated.
    assert {sync.returncode for sync in syncs} <= {0, 1}, [out[1][-800:] for out in outputs]
    # whatever a sync left to another is done by then
    leftover = cli("sync", env={"MLFLOW_TRACKING_URI": mlflow_server, "MLFLOW_DISABLE_TELEMETRY": "true"})
    assert leftover.returncode == 0
    client = mlflow.MlflowClient(mlflow_server)
    experiment = client.get_experiment_by_name(stem)
    remote = client.search_runs([experiment.experiment_id], run_view_type=ViewType.ALL)
    assert Counter(run.data.tags.get("autotrack.run_id") for run in remote) == Counter(run["id"] for run in local)
    assert all(state["status"] == "done" for state in export_states(cli).values())
    curve = next(run for run in remote if run.info.run_name == "curve")
    assert len(client.get_metric_history(curve.info.run_id, "loss")) == 50  # every point, once


# -- 10. serving windows reach MLflow -----------------------------------------------------------------
def test_serving_windows_and_drift_reach_mlflow_on_a_monitoring_run_tagged_with_the_training_run(
        mlflow_server, run_script, cli):
    pytest.importorskip("datasketches")
    sys.path.insert(0, str(Path(__file__).parent.parent / "serving"))
    from test_serving_end_to_end import SERVE, TRAIN

    stem = unique("served")
    env = backend_env(mlflow_server, AUTOTRACK_EXIT_TIMEOUT=60)
    run_script(TRAIN.replace("SAVE", "pickle.dump(model, open('model.pkl', 'wb'))"), name=f"{stem}.py", env=env)
    run_script(SERVE.replace("LOAD", "pickle.load(open('model.pkl', 'rb'))"), name="serve.py", args=["1", "shift"],
               env={**env, "AUTOTRACK_SERVING_WINDOW_ROWS": "1500"})
    training = next(run for run in cli("runs", "--json", "--experiment", stem) if run["source"] != "serving")
    client = mlflow.MlflowClient(mlflow_server)
    experiment = client.get_experiment_by_name(stem)  # the monitoring run joins the training's experiment
    remote = {run.info.run_name: run for run in client.search_runs([experiment.experiment_id])}
    monitor = remote["serving Pipeline"]
    assert monitor.data.tags["autotrack.serving.training_run_id"] == training["id"]
    assert remote[training["name"]].data.tags["autotrack.run_id"] == training["id"]
    calls = client.get_metric_history(monitor.info.run_id, "serving.rows")
    assert sum(point.value for point in calls) == 4300 and len(calls) >= 2  # one step per window
    assert monitor.data.metrics["drift.features_drifted"] == 2
    assert monitor.data.metrics["drift.f2.wasserstein"] > 0.5 > monitor.data.metrics["drift.f0.wasserstein"]
