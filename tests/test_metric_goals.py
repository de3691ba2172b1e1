"""Metric goals end to end: what each framework says of its metrics reaches show, runs and compare."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("lightgbm")
pytest.importorskip("xgboost")

SCRIPT = """
import json
import numpy as np
import lightgbm as lgb
import xgboost as xgb
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
import autotrack

rng = np.random.default_rng(0)
X = rng.normal(size=(400, 5))
y = (X[:, 0] + rng.normal(scale=0.7, size=400) > 0).astype(int)
X_train, X_valid, y_train, y_valid = X[:300], X[300:], y[:300], y[300:]
ids = {}
search = GridSearchCV(LogisticRegression(), {"C": [0.001, 0.1, 10.0]}, cv=3).fit(X_train, y_train)
ids["search"] = autotrack.active_run().id
ranks = {str(p["C"]): int(r) for p, r in zip(search.cv_results_["params"], search.cv_results_["rank_test_score"])}

train = lgb.Dataset(X_train, y_train, free_raw_data=False)
valid = lgb.Dataset(X_valid, y_valid, reference=train)
lgb.train({"objective": "binary", "metric": "auc", "verbose": -1}, train, 40, valid_sets=[valid],
          callbacks=[lgb.early_stopping(3, verbose=False)])
ids["lgb_auc"] = autotrack.active_run().id
lgb.train({"objective": "regression", "metric": "l2", "verbose": -1}, train, 40, valid_sets=[valid],
          callbacks=[lgb.early_stopping(3, verbose=False)])
ids["lgb_l2"] = autotrack.active_run().id

dtrain, dvalid = xgb.DMatrix(X_train, y_train), xgb.DMatrix(X_valid, y_valid)
xgb.train({"objective": "binary:logistic", "eval_metric": ["logloss", "auc"]}, dtrain, 40,
          evals=[(dvalid, "valid")], early_stopping_rounds=3, verbose_eval=False)
ids["xgb"] = autotrack.active_run().id
y_reg = X_train[:, 0] * 3.0 + 1.0
xgb.train({"objective": "reg:squarederror"}, xgb.DMatrix(X_train, y_reg), 12,
          evals=[(xgb.DMatrix(X_train, y_reg), "train")], verbose_eval=False)
ids["xgb_native_train"] = autotrack.active_run().id
xgb.XGBRegressor(n_estimators=12).fit(X_train, y_reg)
ids["xgb_regressor"] = autotrack.active_run().id
print(json.dumps({"ids": ids, "ranks": ranks}))
"""


def cli(store, *args, **env):
    result = subprocess.run([sys.executable, "-m", "autotrack", *args], capture_output=True, text=True,
                            env={**os.environ, "AUTOTRACK_DIR": str(store), "COLUMNS": "200", **env},
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if "--json" in args else result.stdout


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    root = tmp_path_factory.mktemp("goals")
    (root / "goals.py").write_text(textwrap.dedent(SCRIPT))
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_STRICT": "1", "AUTOTRACK_DIR": str(root / "store")}
    result = subprocess.run([sys.executable, "goals.py"], cwd=root, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return root / "store", json.loads(result.stdout.strip().splitlines()[-1])


def test_search_candidates_rank_is_minimised_and_spread_is_no_quality(recorded):
    store, out = recorded
    search = cli(store, "show", out["ids"]["search"], "--json")
    assert search["goals"]["best_score"] == "max" and search["goal_sources"]["best_score"] == "logged"
    child = cli(store, "show", search["children"][0], "--json")
    assert child["goals"]["rank_test_score"] == "min"
    assert child["goals"]["std_test_score"] == "none"
    assert child["goals"]["mean_test_score"] == "max"
    # --best rank_test_score picks the candidate scikit-learn ranked first, not the worst
    chosen = cli(store, "compare", "-e", "goals", "--best", "rank_test_score", "--top", "3", "--json")
    best = cli(store, "show", chosen["runs"][0]["id"], "--json")
    assert out["ranks"][str(best["params"]["C"])] == 1
    assert chosen["metrics"]["rank_test_score"]["best"] == [0]
    # the spread across folds never gets the star, however large
    spread = cli(store, "compare", *search["children"], "--json")["metrics"]["std_test_score"]
    assert spread["goal"] == "none" and spread["best"] == []


def test_lightgbm_says_each_metric_direction_and_best_score_follows_it(recorded):
    store, out = recorded
    auc = cli(store, "show", out["ids"]["lgb_auc"], "--json")
    assert auc["goals"]["valid_0.auc"] == "max" and auc["goal_sources"]["valid_0.auc"] == "logged"
    assert auc["goals"]["best_score"] == "max"
    assert auc["goals"]["best_iteration"] == "none"
    l2 = cli(store, "show", out["ids"]["lgb_l2"], "--json")
    assert l2["goals"]["valid_0.l2"] == "min" and l2["goals"]["best_score"] == "min"
    # the best point shown is the lowest l2, at its step
    shown = cli(store, "show", out["ids"]["lgb_l2"])
    lowest = min(value for _, value in l2["history"]["valid_0.l2"])
    line = next(line for line in shown.splitlines() if "valid_0.l2" in line)
    assert "↓ min" in line and f"{lowest:.4g}"[:5] in line


def test_xgboost_goals_and_best_score_of_the_metric_early_stopping_watched(recorded):
    store, out = recorded
    run = cli(store, "show", out["ids"]["xgb"], "--json")
    assert run["goals"]["valid.logloss"] == "min"
    assert run["goals"]["valid.auc"] == "max"
    assert run["goals"]["best_score"] == "max"  # early stopping watched auc, the last metric
    assert run["goals"]["best_iteration"] == "none"
    listed = {r["id"]: r for r in cli(store, "runs", "--json", "-n", "0")}
    assert listed[out["ids"]["xgb"]]["goals"]["valid.auc"] == "max"


def test_a_setting_names_goals_for_metrics_nothing_knows(tmp_path):
    script = tmp_path / "own.py"
    script.write_text(textwrap.dedent("""
        import autotrack
        with autotrack.start_run(name="a"):
            autotrack.log_metrics({"uplift": 0.2, "cost_eur": 10.0, "valid_0.auc": 0.6})
        with autotrack.start_run(name="b"):
            autotrack.log_metrics({"uplift": 0.3, "cost_eur": 12.0})
    """))
    (tmp_path / "pyproject.toml").write_text('[tool.autotrack]\nmetric_goals = {uplift = "max", "cost_*" = "min"}\n')
    env = {**os.environ, "AUTOTRACK_STRICT": "1", "AUTOTRACK_DIR": str(tmp_path / "store")}
    subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, check=True, timeout=120)
    runs = {r["name"]: r for r in cli(tmp_path / "store", "runs", "--json")}
    assert runs["a"]["goals"] == {"uplift": "max", "cost_eur": "min", "valid_0.auc": "max"}
    assert runs["a"]["goal_sources"] == {"uplift": "setting", "cost_eur": "setting", "valid_0.auc": "name"}
    # stored with the series: read back the same from another folder, without the setting
    elsewhere = subprocess.run([sys.executable, "-m", "autotrack", "compare", runs["a"]["id"], runs["b"]["id"],
                                "--json"], cwd="/", capture_output=True, text=True, timeout=120,
                               env={**os.environ, "AUTOTRACK_DIR": str(tmp_path / "store")})
    metrics = json.loads(elsewhere.stdout)["metrics"]
    assert metrics["cost_eur"]["goal"] == "min" and metrics["cost_eur"]["best"] == [0]
    assert metrics["uplift"]["best"] == [1]


def test_a_bad_goal_setting_is_one_warning(tmp_path):
    env = {**os.environ, "AUTOTRACK_STRICT": "1", "AUTOTRACK_METRIC_GOALS": "uplift=biggest",
           "AUTOTRACK_DIR": str(tmp_path / "store")}
    result = subprocess.run([sys.executable, "-c", "import autotrack; autotrack.enable()"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "AUTOTRACK_METRIC_GOALS" in result.stderr and "'biggest' is not a metric goal" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_autotracks_training_metrics_never_share_a_name_with_a_frameworks_series(recorded):
    store, out = recorded
    native = cli(store, "show", out["ids"]["xgb_native_train"], "--json")
    regressor = cli(store, "show", out["ids"]["xgb_regressor"], "--json")
    assert len(native["history"]["train.rmse"]) == 12  # XGBoost's own, per iteration
    assert "training_rmse" not in native["metrics"]  # no target given to xgb.train: none computed
    assert "train.rmse" not in regressor["metrics"]
    assert len(regressor["history"]["training_rmse"]) == 1  # autotrack's, after the fit
    assert regressor["goals"]["training_rmse"] == "min"
