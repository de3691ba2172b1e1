"""No secret in anything autotrack writes or prints (issue 12): canaries planted where users put
credentials — a webhook URL, the MLflow tracking URI, a run name, an error message, free-text
tags, a signed URL, an uncommitted diff, argv, params — are searched for in every byte autotrack
wrote: the store and its artifacts, the CLI's output and reports, the script's stdout and stderr,
`autotrack sync`, and what the MLflow server received."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

mlflow = pytest.importorskip("mlflow")
pytest.importorskip("sklearn")

CANARIES = {
    "notify_url": "CANARYNOTIFY1",
    "tracking_uri": "CANARYMLFLOW2",
    "run_name": "CANARYNAME3",
    "error": "CANARYERR4",
    "tag": "CANARYTAG5",
    "sas": "CANARYSAS6",
    "diff": "CANARYDIFF7",
    "argv": "CANARYARGV8",
    "param": "CANARYPARAM9",
    "token": "ghp_CANARY10abcdefghijklmnopqrstu",
    "exception": "CANARYFIT11",
}

SCRIPT = f"""
import sys
import numpy as np
from sklearn.linear_model import LogisticRegression
import autotrack

X = np.random.default_rng(0).normal(size=(100, 3))
y = (X[:, 0] > 0).astype(int)
LogisticRegression().fit(X, y)
with autotrack.start_run(name="nightly password={CANARIES['run_name']}"):
    autotrack.set_tags({{"note": "use token={CANARIES['tag']} for the bucket", "ci": "{CANARIES['token']}"}})
    autotrack.log_params({{"data_url": "https://acct.blob.core.windows.net/c/d.csv?sv=2022&sig={CANARIES['sas']}",
                          "db_password": "{CANARIES['param']}"}})
    autotrack.log_metrics({{"loss": 0.5}})
try:
    with autotrack.start_run(name="load"):
        raise RuntimeError("could not reach postgresql://app:{CANARIES['error']}@db.internal/x")
except RuntimeError:
    pass
try:
    LogisticRegression(C=-1.0).fit(X, y)  # fails inside the tracked fit
except ValueError:
    pass
class Leaky(LogisticRegression):
    def fit(self, X, y):
        raise ConnectionError("https://user:{CANARIES['exception']}@api.example.invalid/v1 refused")
try:
    Leaky().fit(X, y)
except ConnectionError:
    pass
print("trained")
"""


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.invalid", "PATH": "/usr/bin:/bin", "HOME": str(cwd)})


def test_no_canary_reaches_anything_autotrack_writes_or_prints(tmp_path, store, cli, mlflow_process):
    project = tmp_path / "project"
    project.mkdir()
    (project / "settings.py").write_text("LR = 0.1\n")
    _git(project, "init", "-q")
    _git(project, "add", "settings.py")
    _git(project, "commit", "-q", "-m", "start")
    (project / "settings.py").write_text(f'LR = 0.1\nAPI_KEY = "{CANARIES["diff"]}"\n')  # uncommitted
    (project / "train.py").write_text(SCRIPT)
    _git(project, "add", "train.py")
    parts = urlsplit(mlflow_process.uri)
    uri_with_credentials = f"http://canaryuser:{CANARIES['tracking_uri']}@{parts.netloc}"
    env = {**__import__("os").environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(store),
           "AUTOTRACK_BACKENDS": "local,mlflow", "MLFLOW_TRACKING_URI": uri_with_credentials,
           "AUTOTRACK_NOTIFY_URL": f"https://hooks.example.invalid/services/{CANARIES['notify_url']}",
           "AUTOTRACK_EXIT_TIMEOUT": "30", "MLFLOW_DISABLE_TELEMETRY": "true", "AUTOTRACK_LOG": "debug"}
    result = subprocess.run([sys.executable, "train.py", "--api-key", CANARIES["argv"]], cwd=project, env=env,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0 and result.stdout.strip() == "trained", result.stderr
    printed = [result.stdout, result.stderr]

    runs = cli("runs", "--json", "--limit", "0")
    assert len(runs) >= 4
    for run in runs:
        printed.append(cli("show", run["id"]).stdout)
        printed.append(str(cli("show", run["id"], "--json")))
    printed.append(cli("runs", "--all").stdout)
    for run in runs:
        report = tmp_path / f"report-{run['id'][:8]}.html"
        cli("report", run["id"], "-o", str(report))
        printed.append(report.read_text())
    sync = cli("sync", check=False, env={"MLFLOW_TRACKING_URI": uri_with_credentials})
    printed += [sync.stdout, sync.stderr]
    # The point of the exercise: the run's redacted values did arrive (the checks saw real text).
    shown = cli("show", next(run["id"] for run in runs if run["name"].startswith("nightly")), "--json")
    assert shown["params"]["db_password"] == "***" and "sig=***" in shown["params"]["data_url"]
    assert shown["name"] == "nightly password=***"

    client = mlflow.MlflowClient(mlflow_process.uri)
    remote = [client.get_run(run["exports"]["mlflow"]["remote_id"]) for run in runs
              if (run.get("exports") or {}).get("mlflow", {}).get("remote_id")]
    assert remote, "nothing reached MLflow"
    printed += [str(run.data.params) + str(run.data.tags) + str(run.info.run_name) for run in remote]

    sources = {f"printed[{index}]": text.encode() for index, text in enumerate(printed)}
    sources.update({str(path): path.read_bytes() for folder in (store, mlflow_process.root)
                    for path in sorted(folder.rglob("*")) if path.is_file()})
    found = {what: [where for where, data in sources.items() if canary.encode() in data]
             for what, canary in CANARIES.items()}
    assert {what: where for what, where in found.items() if where} == {}
