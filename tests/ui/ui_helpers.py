"""What the dashboard tests share: the training that fills their store, and `autotrack ui` run as a
subprocess (tests/ui/conftest.py turns these into fixtures)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import autotrack

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "ui"
HOSTILE = '<script>alert("x")</script>'
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

# Two random forests with different params, a grid search (a parent and its candidates), two LightGBM
# trainings with a validation set (learning curves, importances), a fit that fails, and a run whose name,
# param and tag are HTML. Each model's validation accuracy is logged to its own run.
TRAINING = f"""
import warnings
import numpy as np
import lightgbm as lgb
import autotrack
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV

warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X = rng.normal(size=(300, 4))
y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.3, size=300) > 0).astype(int)
X_train, y_train, X_valid, y_valid = X[:240], y[:240], X[240:], y[240:]

for depth, trees in ((2, 5), (6, 20)):
    forest = RandomForestClassifier(n_estimators=trees, max_depth=depth, random_state=0).fit(X_train, y_train)
    autotrack.log_metric("accuracy", float((forest.predict(X_valid) == y_valid).mean()))

search = GridSearchCV(RandomForestClassifier(n_estimators=5, random_state=0), {{"max_depth": [2, 4, 8]}},
                      cv=2)
search.fit(X_train, y_train)
autotrack.log_metric("accuracy", float((search.predict(X_valid) == y_valid).mean()))

train = lgb.Dataset(X_train, y_train, feature_name=["age", "income", "height", "weight"])
valid = lgb.Dataset(X_valid, y_valid, reference=train)
for leaves in (7, 15):
    booster = lgb.train({{"objective": "binary", "metric": ["binary_logloss", "auc"], "verbose": -1,
                         "num_threads": 1, "num_leaves": leaves}}, train, num_boost_round=25,
                        valid_sets=[train, valid], valid_names=["training", "valid"])
    autotrack.log_metric("accuracy", float(((booster.predict(X_valid) > 0.5) == y_valid).mean()))

try:
    RandomForestClassifier(n_estimators=3).fit(X_train, np.full(len(y_train), np.nan))
except ValueError:
    pass

with autotrack.start_run(name={HOSTILE!r}, tags={{"team": {HOSTILE!r}}}, experiment={HOSTILE!r}):
    autotrack.log_params({{"note": {HOSTILE!r}}})
    autotrack.log_metric("accuracy", 0.5)
"""


def run_python(code: str, directory: Path, store: Path, name: str = "train.py", tracked: bool = True,
               **popen) -> subprocess.Popen:
    """Start `code` as a script with AUTOTRACK=1 (its file stem is the experiment's name)."""
    path = directory / name
    path.write_text(textwrap.dedent(code))
    env = {**os.environ, "AUTOTRACK_DIR": str(store), "AUTOTRACK_STRICT": "1"}
    if tracked:
        env["AUTOTRACK"] = "1"
    return subprocess.Popen([sys.executable, str(path)], cwd=directory, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)


def autotrack_cli(store: Path, *args: str):
    result = subprocess.run([sys.executable, "-m", "autotrack", *args, "--store", str(store)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if "--json" in args else result.stdout


def full_runs(store: Path, listed: list[dict]) -> list[dict]:
    """Every listed run in full, as `autotrack show --json` prints it."""
    return [autotrack.get_run(run["id"], store=str(store)) for run in listed]


class Dashboard:
    """`autotrack ui` serving a store in a subprocess, stopped with Ctrl-C."""

    def __init__(self, store: Path, *flags: str):
        env = {key: value for key, value in os.environ.items() if key != "AUTOTRACK"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autotrack", "ui", "--store", str(store), "--port", "0", "--no-browser",
             *flags], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.line = self.process.stdout.readline()
        match = re.search(r"http://[^\s/]+:\d+/", self.line)
        if not match:
            self.process.kill()
            raise AssertionError(f"no URL from autotrack ui: {self.line!r}\n{self.process.stderr.read()}")
        self.url = match.group(0)

    def stop(self) -> int:
        self.process.send_signal(2)  # SIGINT, as Ctrl-C
        try:
            return self.process.wait(timeout=15)
        finally:
            if self.process.poll() is None:
                self.process.kill()
