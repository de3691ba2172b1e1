"""Shared for the report tests: one store of real LightGBM and scikit-learn runs, built once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

# report_pages.py (helpers these tests share) sits beside this file; --import-mode=importlib
# puts neither folder on sys.path.
sys.path.insert(0, str(Path(__file__).parent))

# Two LightGBM runs that differ in num_leaves, in one experiment (the script's stem: lgb_train).
# The script prints what LightGBM itself reports, for the tests to compare the report with.
LIGHTGBM_SCRIPT = """
import json
import warnings
import numpy as np
import lightgbm as lgb

warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X = rng.normal(size=(400, 5))
y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=400) > 0).astype(int)
names = ["age", "income", "height", "weight", "noise"]
out = []
for leaves in (7, 15):
    train = lgb.Dataset(X[:300], y[:300], feature_name=names)
    valid = lgb.Dataset(X[300:], y[300:], reference=train)
    evals = {}
    params = {"objective": "binary", "metric": ["binary_logloss", "auc"], "num_leaves": leaves,
              "learning_rate": 0.1, "verbose": -1, "num_threads": 1}
    booster = lgb.train(params, train, num_boost_round=30, valid_sets=[train, valid],
                        valid_names=["training", "valid"], callbacks=[lgb.record_evaluation(evals)])
    booster.predict(X[300:])
    gain = dict(zip(booster.feature_name(), booster.feature_importance(importance_type="gain")))
    out.append({"params": params, "evals": evals, "top_gain": max(gain, key=gain.get)})
print(json.dumps(out, default=float))
"""

SKLEARN_SCRIPT = """
import json
import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

rng = np.random.default_rng(1)
X_train = pd.DataFrame(rng.normal(size=(300, 4)), columns=["tenure", "spend", "visits", "age"])
y_train = (X_train["spend"] + 0.3 * X_train["visits"] > 0).astype(int)
X_test = pd.DataFrame(rng.normal(size=(80, 4)), columns=X_train.columns)
pipe = Pipeline([("scaler", StandardScaler()),
                 ("model", GradientBoostingClassifier(n_estimators=20, max_depth=2, random_state=0))])
pipe.fit(X_train, y_train)
for _ in range(3):
    pipe.predict(X_test)
pipe.predict_proba(X_test)
importances = dict(zip(X_train.columns, pipe.named_steps["model"].feature_importances_))
print(json.dumps({"top_impurity": max(importances, key=importances.get)}))
"""

# A search: its candidates become child runs.
SEARCH_SCRIPT = """
import json
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

rng = np.random.default_rng(2)
X = rng.normal(size=(150, 3))
y = (X[:, 0] + rng.normal(scale=0.8, size=150) > 0).astype(int)
search = GridSearchCV(LogisticRegression(), {"C": [0.01, 0.1, 10]}, cv=3).fit(X, y)
print(json.dumps({"C": [params["C"] for params in search.cv_results_["params"]],
                  "mean_test_score": list(search.cv_results_["mean_test_score"])}))
"""


@dataclass
class TrainedStore:
    """The shared store: its path, the runs' ids and what the training scripts printed."""

    path: Path
    lightgbm_ids: list[str]  # in training order: num_leaves 7, then 15
    lightgbm: list[dict]
    sklearn_id: str
    sklearn: dict
    search_id: str
    search: dict

    def env(self) -> dict:
        return {"AUTOTRACK_DIR": str(self.path)}


def run_tracked(directory: Path, name: str, code: str, store: Path) -> str:
    """Run a script with AUTOTRACK=1 into `store` and return its stdout (what run_script does,
    for fixtures wider than one test)."""
    script = directory / name
    script.write_text(textwrap.dedent(code))
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(store), "AUTOTRACK_STRICT": "1"}
    result = subprocess.run([sys.executable, str(script)], cwd=directory, env=env, capture_output=True,
                            text=True, timeout=240)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def list_runs(store: Path, experiment: str) -> list[dict]:
    result = subprocess.run([sys.executable, "-m", "autotrack", "runs", "--json", "-e", experiment],
                            env={**os.environ, "AUTOTRACK_DIR": str(store)}, capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> TrainedStore:
    """Real training, once for every report test: the tests only read this store."""
    pytest.importorskip("lightgbm")
    pytest.importorskip("sklearn")
    directory = tmp_path_factory.mktemp("trained")
    store = directory / "store"
    lightgbm = json.loads(run_tracked(directory, "lgb_train.py", LIGHTGBM_SCRIPT, store).splitlines()[-1])
    sklearn = json.loads(run_tracked(directory, "sk_train.py", SKLEARN_SCRIPT, store).splitlines()[-1])
    search = json.loads(run_tracked(directory, "search.py", SEARCH_SCRIPT, store).splitlines()[-1])
    lightgbm_ids = [run["id"] for run in reversed(list_runs(store, "lgb_train"))]  # oldest first
    (sklearn_run,) = list_runs(store, "sk_train")
    (search_run,) = [run for run in list_runs(store, "search") if run["parent_id"] is None]
    assert len(lightgbm_ids) == 2
    return TrainedStore(store, lightgbm_ids, lightgbm, sklearn_run["id"], sklearn, search_run["id"], search)
