"""`autotrack backtest`: a registered model scored on a file the user names, overall and per month,
recorded as a run linked to the model; the scores equal scikit-learn's own on the same rows. An
XGBoost Booster predicts through its integration's `autotrack_predict` (a DMatrix)."""

from __future__ import annotations

import pytest
from scripting import printed

pytest.importorskip("sklearn")
pytest.importorskip("pyarrow")

TRAIN = """
import numpy as np, pandas as pd, lightgbm
from sklearn.linear_model import LogisticRegression
rng = np.random.RandomState(0)
X = pd.DataFrame(rng.rand(400, 3), columns=["tenure", "spend", "visits"])
y = (X.tenure + 0.3 * rng.rand(400) > 0.6).astype(int)
LogisticRegression().fit(X, y)
lightgbm.train({"objective": "binary", "verbose": -1, "num_leaves": 7}, lightgbm.Dataset(X, y), num_boost_round=10)
import xgboost
xgboost.train({"objective": "binary:logistic", "max_depth": 2}, xgboost.DMatrix(X, y), num_boost_round=10)

# New data, three months of it, drifting: the label rule changes in March.
new = pd.DataFrame(rng.rand(300, 3), columns=["tenure", "spend", "visits"])
new["when"] = pd.to_datetime("2026-01-01") + pd.to_timedelta(rng.randint(0, 90, 300), unit="D")
noise = rng.rand(300)
new["churned"] = np.where(new.when >= "2026-03-01", new.spend > 0.5, new.tenure + 0.3 * noise > 0.6).astype(int)
new.to_parquet("new.parquet")
"""

EXPECTED = """
import json, sys
import numpy as np, pandas as pd
from sklearn import metrics
import autotrack
new = pd.read_parquet("new.parquet")
model = autotrack.load_model(sys.argv[1])
X = new[["tenure", "spend", "visits"]]
if hasattr(model, "predict_proba"):
    labels, positive = model.predict(X), model.predict_proba(X)[:, 1]
elif type(model).__module__.startswith("xgboost"):
    import xgboost
    positive = model.predict(xgboost.DMatrix(X)); labels = (positive > 0.5).astype(int)
else:
    positive = model.predict(X.to_numpy()); labels = (positive > 0.5).astype(int)
out = {"all": {"accuracy": metrics.accuracy_score(new.churned, labels), "roc_auc": metrics.roc_auc_score(new.churned, positive)}}
months = new.when.dt.to_period("M").astype(str)
for month in sorted(months.unique()):
    m = (months == month).to_numpy()
    out[month] = {"rows": int(m.sum()), "accuracy": metrics.accuracy_score(new.churned[m], labels[m])}
print(json.dumps(out))
"""


@pytest.fixture
def registered(run_script, cli):
    pytest.importorskip("lightgbm")
    pytest.importorskip("xgboost")
    run_script(TRAIN)
    runs = {run["name"]: run["id"] for run in cli("runs", "--json")}
    cli("models", "register", runs["LogisticRegression"], "churn", "--alias", "champion")
    cli("models", "register", runs["lightgbm.train(binary)"], "churn", "--alias", "challenger")
    cli("models", "register", next(i for n, i in runs.items() if n.startswith("xgboost")), "churn", "--alias", "xgb")
    return runs


@pytest.mark.parametrize("ref", ["churn@champion", "churn@challenger", "churn@xgb"])
def test_backtest_per_month_is_a_run_linked_to_the_model(ref, registered, run_script, cli):
    expected = printed(run_script(EXPECTED, name="expected.py", tracked=False, args=[ref]))
    result = cli("backtest", ref, "--data", "new.parquet", "--target", "churned", "--by", "month", "--json")
    assert result["task"] == "classification" and result["rows"] == 300
    assert result["metrics"]["accuracy"] == pytest.approx(expected["all"]["accuracy"])
    assert result["metrics"]["roc_auc"] == pytest.approx(expected["all"]["roc_auc"])
    assert list(result["periods"]) == ["2026-01", "2026-02", "2026-03"]
    for month, values in result["periods"].items():
        assert values["rows"] == expected[month]["rows"]
        assert values["accuracy"] == pytest.approx(expected[month]["accuracy"])

    run = cli("show", result["run_id"], "--json")
    version = {"churn@champion": "churn/1", "churn@challenger": "churn/2", "churn@xgb": "churn/3"}[ref]
    assert run["tags"]["autotrack.model_version"] == version
    assert run["tags"]["autotrack.backtest_of"] == result["trained_run"]
    assert run["metrics"]["accuracy"] == pytest.approx(result["metrics"]["accuracy"])
    assert run["datasets"][0]["role"] == "backtest.X" and run["datasets"][0]["rows"] == 300
    children = {cli("show", child, "--json")["name"]: child for child in run["children"]}
    assert sorted(children) == ["2026-01", "2026-02", "2026-03"]
    march = cli("show", children["2026-03"], "--json")
    assert march["metrics"]["accuracy"] == pytest.approx(expected["2026-03"]["accuracy"])
    text = cli("backtest", ref, "--data", "new.parquet", "--target", "churned").stdout
    assert f"backtest of {version}" in text and "recorded as run" in text


def test_backtest_bad_input_is_one_line(registered, cli, tmp_path):
    cases = {
        ("--data", "missing.parquet", "--target", "churned"): "no such file",
        ("--data", "new.parquet", "--target", "gone"): "--target gone: not a column of new.parquet",
        ("--data", "train.py", "--target", "churned"): "give a .parquet, .csv",
    }
    for args, message in cases.items():
        result = cli("backtest", "churn@champion", *args, check=False)
        assert result.returncode == 1 and message in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1
    import pandas as pd

    pd.read_parquet(tmp_path / "new.parquet").drop(columns=["when"]).to_csv(tmp_path / "nodates.csv", index=False)
    result = cli("backtest", "churn@champion", "--data", "nodates.csv", "--target", "churned", "--by", "month",
                 check=False)
    assert result.returncode == 1 and "--by needs --time-column: the data has no date column" in result.stderr
