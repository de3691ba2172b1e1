"""Dask end to end: lightgbm.dask, xgboost.dask and dask-ml on a LocalCluster of two worker
processes, in scripts run under AUTOTRACK=1; the store read back.

What the cluster trains is one run in the client's process, with the per-iteration history the
model brings back; the workers (which inherit AUTOTRACK=1) record nothing of their own, and the
Dask collections are described from what Dask knows, never computed by autotrack.
"""

from __future__ import annotations

import pytest
from scripting import printed, script

import autotrack

pytest.importorskip("distributed")
pytest.importorskip("dask.array")

CLUSTER = """
import json
import numpy as np
import dask.array as da
from distributed import Client, LocalCluster
"""

# The training, as `def train(client, X, y, dX, dy)`, runs under the main guard: Dask's worker
# processes import the script again.
MAIN = """
if __name__ == "__main__":
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 4))
    y = (X[:, 0] + 0.3 * rng.normal(size=2000) > 0).astype(int)
    train(client, X, y, da.from_array(X, chunks=(500, 4)), da.from_array(y, chunks=500))
    client.close()
    cluster.close()
"""


def runs_in(store) -> list[dict]:
    return [autotrack.get_run(run["id"], store=str(store)) for run in autotrack.runs(store=str(store), limit=0)]


def test_lightgbm_dask_is_one_run_with_each_iteration_and_the_workers_record_nothing(run_script, store):
    pytest.importorskip("lightgbm")
    result = run_script(script(CLUSTER, """
def train(client, X, y, dX, dy):
    import lightgbm as lgb
    import warnings
    warnings.simplefilter("ignore")
    model = lgb.DaskLGBMClassifier(n_estimators=12, num_leaves=7, verbose=-1, random_state=0)
    model.fit(dX, dy, eval_set=[(dX, dy)], eval_names=["train"])
    print(json.dumps(model.evals_result_))
""", MAIN), timeout=300)
    evals = printed(result)
    runs = runs_in(store)
    assert [run["name"] for run in runs] == ["DaskLGBMClassifier"]  # none from the workers
    run = runs[0]
    assert [value for _, value in run["history"]["train.binary_logloss"]] == pytest.approx(
        evals["train"]["binary_logloss"])
    assert run["params"]["num_leaves"] == 7 and "model.txt" in [a["name"] for a in run["artifacts"]]
    described = {dataset["role"]: dataset for dataset in run["datasets"]}
    assert described["train.X"]["rows"] == 2000 and described["train.X"]["columns"] == 4
    assert described["train.X"]["lazy"] == "dask"
    assert not any(key.startswith("training_") for key in run["metrics"])  # no sample pulled from the cluster


def test_xgboost_dask_estimator_and_train_are_runs_with_their_history(run_script, store):
    pytest.importorskip("xgboost")
    result = run_script(script(CLUSTER, """
def train(client, X, y, dX, dy):
    from xgboost import dask as dxgb
    model = dxgb.DaskXGBClassifier(n_estimators=8, max_depth=3)
    model.fit(dX, dy, eval_set=[(dX, dy)])
    dtrain = dxgb.DaskDMatrix(client, dX, dy)
    output = dxgb.train(client, {"objective": "binary:logistic", "max_depth": 2}, dtrain, num_boost_round=6,
                        evals=[(dtrain, "train")], verbose_eval=False)
    print(json.dumps({"estimator": model.evals_result(), "train": output["history"]}))
""", MAIN), timeout=300)
    history = printed(result)
    runs = {run["name"]: run for run in runs_in(store)}
    assert set(runs) == {"DaskXGBClassifier", "xgboost.dask.train(binary:logistic)"}
    estimator = runs["DaskXGBClassifier"]
    assert [v for _, v in estimator["history"]["validation_0.logloss"]] == pytest.approx(
        history["estimator"]["validation_0"]["logloss"])
    assert estimator["goals"]["validation_0.logloss"] == "min" and estimator["params"]["max_depth"] == 3
    trained = runs["xgboost.dask.train(binary:logistic)"]
    assert [v for _, v in trained["history"]["train.logloss"]] == pytest.approx(history["train"]["train"]["logloss"])
    assert trained["params"]["num_boost_round"] == 6 and trained["tags"]["model.class"] == "xgboost.core.Booster"
    for run in runs.values():
        assert "model.ubj" in [artifact["name"] for artifact in run["artifacts"]]
        assert set(run["importances"]) >= {"gain"}


def test_a_dask_ml_search_is_a_run_with_its_candidates_as_children(run_script, store):
    pytest.importorskip("dask_ml")
    result = run_script(script(CLUSTER, """
def train(client, X, y, dX, dy):
    from dask_ml.model_selection import GridSearchCV
    from sklearn.linear_model import LogisticRegression
    search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0, 10.0]}, cv=3)
    search.fit(X, y)
    print(json.dumps({"best": search.best_params_, "score": search.best_score_}))
""", MAIN), timeout=300)
    found = printed(result)
    runs = runs_in(store)
    parents = [run for run in runs if run["parent_id"] is None]
    assert len(parents) == 1 and parents[0]["name"].startswith("GridSearchCV")
    children = [run for run in runs if run["parent_id"] == parents[0]["id"]]
    assert sorted(float(child["params"]["C"]) for child in children) == [0.1, 1.0, 10.0]
    assert parents[0]["params"]["best.C"] == found["best"]["C"]
    assert parents[0]["metrics"]["best_score"] == pytest.approx(found["score"])
