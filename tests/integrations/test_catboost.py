"""CatBoost end to end: real training scripts in subprocesses under AUTOTRACK=1, the store read back.

Each script prints, as its last line, what CatBoost itself reports (its evaluation history, best
iteration and scores, all params, importances), which the stored run must match.
"""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest
from scripting import printed, script

import autotrack

catboost = pytest.importorskip("catboost")

DATA = """
import json
import numpy as np
import pandas as pd
import catboost

rng = np.random.default_rng(0)
X = pd.DataFrame(rng.normal(size=(400, 4)), columns=["age", "income", "height", "weight"])
y = (X["age"] + 0.5 * X["income"] + rng.normal(scale=0.5, size=400) > 0).astype(int)
X_train, y_train, X_valid, y_valid = X[:300], y[:300], X[300:], y[300:]
"""

CLASSIFIER = """
model = catboost.CatBoostClassifier(n_estimators=200, learning_rate=0.5, eval_metric="AUC", random_state=0,
                                    verbose=False, thread_count=1)
model.fit(X_train, y_train, eval_set=(X_valid, y_valid), early_stopping_rounds=5)
np.save("expected.npy", model.predict_proba(X_valid))
print(json.dumps({
    "evals": model.get_evals_result(), "best_iteration": model.get_best_iteration(),
    "best_score": model.get_best_score(), "all_params": model.get_all_params(),
    "importances": dict(zip(model.feature_names_, model.get_feature_importance().tolist())),
}))
"""


def only_run(store) -> dict:
    runs = autotrack.runs(store=str(store), limit=0)
    assert len(runs) == 1, [run["name"] for run in runs]
    return autotrack.get_run(runs[0]["id"], store=str(store))


def test_catboost_registers_through_the_entry_point_group_as_a_third_party_would():
    names = {entry.name: entry.value for entry in importlib.metadata.entry_points(group="autotrack")}
    assert names["catboost"] == "autotrack.integrations.catboost"


def test_a_classifier_fit_records_every_iteration_on_each_set_with_catboosts_goals(run_script, store, tmp_path):
    catboost_says = printed(run_script(script(DATA, CLASSIFIER)))
    run = only_run(store)
    assert run["name"] == "CatBoostClassifier" and run["tags"]["model.class"] == "catboost.core.CatBoostClassifier"
    for set_name, metrics in catboost_says["evals"].items():  # learn, validation
        for metric, values in metrics.items():
            key = f"{set_name}.{metric}"
            assert [value for _, value in run["history"][key]] == pytest.approx(values)
            assert [step for step, _ in run["history"][key]] == list(range(len(values)))
    assert run["goals"]["validation.AUC"] == "max" and run["goals"]["validation.Logloss"] == "min"
    assert run["goals"]["learn.Logloss"] == "min"
    # early stopping: CatBoost's own best iteration and scores, and the iterations it trained
    assert run["metrics"]["best_iteration"] == catboost_says["best_iteration"]
    assert run["metrics"]["best.validation.AUC"] == pytest.approx(catboost_says["best_score"]["validation"]["AUC"])
    assert run["tags"]["early_stopping"] == "fired"
    assert run["timings"]["iterations"] == len(catboost_says["evals"]["learn"]["Logloss"]) < 200
    # params: CatBoost's names for what the user wrote, and what CatBoost chose, as it reports them
    assert run["params"]["iterations"] == 200 and "n_estimators" not in run["params"]
    assert run["params"]["random_seed"] == 0 and run["params"]["learning_rate"] == 0.5
    assert run["params"]["depth"] == catboost_says["all_params"]["depth"]
    assert run["params"]["loss_function"] == catboost_says["all_params"]["loss_function"] == "Logloss"
    assert run["importances"]["prediction_values_change"] == pytest.approx(catboost_says["importances"])
    assert {"train.X", "train.y", "valid.validation.X", "valid.validation.y"} <= {d["role"] for d in run["datasets"]}
    assert "predict_proba" in run["timings"]
    # the model in CatBoost's own format, loaded back as the class that was trained
    assert "model.cbm" in [artifact["name"] for artifact in run["artifacts"]]
    model = autotrack.load_model(run["id"], store=str(store))
    assert type(model).__name__ == "CatBoostClassifier"
    X_valid = np.random.default_rng(0).normal(size=(400, 4))[300:]
    import pandas as pd

    frame = pd.DataFrame(X_valid, columns=["age", "income", "height", "weight"])
    assert model.predict_proba(frame) == pytest.approx(np.load(tmp_path / "expected.npy"))


def test_catboost_train_is_one_run_named_by_its_loss_and_continued_training_says_so(run_script, store):
    run_script(script(DATA, """
        train_pool = catboost.Pool(X_train, y_train)
        first = catboost.train(train_pool, params={"loss_function": "Logloss", "verbose": False, "thread_count": 1},
                               iterations=5, eval_set=catboost.Pool(X_valid, y_valid))
        catboost.train(train_pool, params={"loss_function": "Logloss", "verbose": False, "thread_count": 1},
                       iterations=3, init_model=first)
    """))
    runs = {run["name"]: autotrack.get_run(run["id"], store=str(store))
            for run in autotrack.runs(store=str(store), limit=0)}
    assert set(runs) == {"catboost.train(Logloss)", "catboost.train(Logloss, continued)"}
    first = runs["catboost.train(Logloss)"]
    assert len(first["history"]["learn.Logloss"]) == 5 and len(first["history"]["validation.Logloss"]) == 5
    assert first["params"]["iterations"] == 5 and first["params"]["loss_function"] == "Logloss"
    assert "model.cbm" in [artifact["name"] for artifact in first["artifacts"]]


def test_a_regressor_trains_and_predicts_the_same_tracked_or_not(run_script, store):
    code = script(DATA, """
        model = catboost.CatBoostRegressor(iterations=30, depth=3, random_seed=1, verbose=False, thread_count=1)
        model.fit(X_train, X_train["age"] * 2 + 1)
        print(json.dumps(model.predict(X_valid).round(10).tolist()))
    """)
    assert printed(run_script(code)) == printed(run_script(code, tracked=False))
    run = only_run(store)
    assert run["name"] == "CatBoostRegressor" and len(run["history"]["learn.RMSE"]) == 30
    assert run["goals"]["learn.RMSE"] == "min" and "early_stopping" not in run["tags"]
