"""scikit-learn end to end: a script run with AUTOTRACK=1, the store read back through the CLI's JSON.

Each script prints, as its last line, a JSON object of what scikit-learn itself says (scores,
parameters, importances), so the tests compare the stored run with the real figures.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from scripting import all_runs, printed, script

pytest.importorskip("sklearn")
pytest.importorskip("pandas")

DATA = """
import json
import numpy as np
import pandas as pd
from sklearn.datasets import make_classification, make_regression

X_np, y_np = make_classification(n_samples=120, n_features=4, n_informative=3, n_redundant=0,
                                 random_state=0)
X = pd.DataFrame(X_np, columns=["age", "income", "height", "weight"])
y = pd.Series(y_np, name="bought")
"""


def top_level(cli) -> list[dict]:
    return [run for run in all_runs(cli) if run["parent_id"] is None]


def show(cli, run_id: str) -> dict:
    return cli("show", run_id, "--json")


def the_run(cli, name: str) -> dict:
    """Everything stored for the one top-level run called `name`."""
    matches = [run for run in top_level(cli) if run["name"] == name]
    names = [run["name"] for run in top_level(cli)]
    assert len(matches) == 1, f"expected one run named {name}, found {names}"
    return show(cli, matches[0]["id"])


def untracked_env() -> dict:
    return {key: value for key, value in os.environ.items() if not key.startswith("AUTOTRACK")}


# -- one run per outermost fit --------------------------------------------------------------------
def test_each_outermost_fit_makes_exactly_one_run(run_script, cli):
    run_script(script(DATA, """
        from sklearn.cluster import KMeans
        from sklearn.ensemble import BaggingClassifier, RandomForestClassifier, VotingClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        LogisticRegression().fit(X, y)
        RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
        StandardScaler().fit_transform(X)
        KMeans(n_clusters=2, n_init=2, random_state=0).fit_predict(X)
        BaggingClassifier(LogisticRegression(), n_estimators=3, random_state=0).fit(X, y)
        VotingClassifier([("lr", LogisticRegression()),
                          ("rf", RandomForestClassifier(n_estimators=3, random_state=0))],
                         voting="soft").fit(X, y)
    """))
    runs = all_runs(cli)
    assert sorted(run["name"] for run in runs) == sorted([
        "LogisticRegression", "RandomForestClassifier", "StandardScaler", "KMeans",
        "BaggingClassifier(LogisticRegression)", "VotingClassifier(LogisticRegression, RandomForestClassifier)"])
    assert all(run["parent_id"] is None and run["status"] == "finished" for run in runs)
    for run in runs:
        stored = show(cli, run["id"])
        assert stored["timings"]["fit_s"] > 0
        assert stored["tags"]["model.class"].endswith("." + run["name"].partition("(")[0])


def test_pipeline_is_one_run_with_each_steps_fit_time(run_script, cli):
    run_script(script(DATA, """
        from sklearn.decomposition import PCA
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        Pipeline([("scale", StandardScaler()), ("pca", PCA(n_components=2)),
                  ("clf", LogisticRegression(C=0.5))]).fit(X, y)
    """))
    assert [run["name"] for run in all_runs(cli)] == ["Pipeline(LogisticRegression)"]  # its final estimator
    run = the_run(cli, "Pipeline(LogisticRegression)")
    steps = run["timings"]["steps"]
    assert set(steps) == {"scale", "pca", "clf"}
    assert all(seconds > 0 for seconds in steps.values())
    assert sum(steps.values()) <= run["timings"]["fit_s"]
    assert run["params"]["clf__C"] == 0.5


def test_searches_record_best_params_and_one_child_run_per_candidate(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn.experimental import enable_halving_search_cv  # noqa: F401
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, RandomizedSearchCV

        searches = [
            GridSearchCV(LogisticRegression(), {"C": [0.01, 0.1, 1.0]}, cv=3),
            RandomizedSearchCV(LogisticRegression(), {"C": [0.01, 0.1, 1.0, 10.0]}, n_iter=3, cv=3,
                               random_state=0),
            HalvingGridSearchCV(LogisticRegression(), {"C": [0.01, 0.1, 1.0, 10.0]}, cv=3,
                                min_resources=30, random_state=0),
        ]
        out = {}
        for search in searches:
            search.fit(X, y)
            results = search.cv_results_
            out[type(search).__name__] = {
                "best_params": search.best_params_, "best_score": search.best_score_,
                "candidates": [
                    {"C": params["C"], "mean": results["mean_test_score"][i],
                     "std": results["std_test_score"][i], "fit_s": results["mean_fit_time"][i],
                     "iter": int(results["iter"][i]) if "iter" in results else None}
                    for i, params in enumerate(results["params"])],
            }
        print(json.dumps(out))
    """))
    expected = printed(result)
    runs = all_runs(cli)
    parents = {run["name"].partition("(")[0]: run for run in runs if run["parent_id"] is None}
    assert set(parents) == set(expected)
    assert {run["name"] for run in runs if run["parent_id"] is None} == {
        f"{name}(LogisticRegression)" for name in expected}
    for search_name, truth in expected.items():
        parent = show(cli, parents[search_name]["id"])
        assert parent["status"] == "finished"
        assert parent["params"]["best.C"] == truth["best_params"]["C"]
        assert parent["metrics"]["best_score"] == pytest.approx(truth["best_score"])
        children = [show(cli, child_id) for child_id in parent["children"]]
        assert len(children) == len(truth["candidates"])
        by_index = {int(child["name"].split("#")[1].split()[0]): child for child in children}
        for index, candidate in enumerate(truth["candidates"]):
            child = by_index[index]
            assert child["parent_id"] == parent["id"]
            # what tells the candidates apart is in their name: the param the search varied
            assert child["name"] == f"LogisticRegression #{index} C={candidate['C']:.4g}"
            assert child["params"]["C"] == candidate["C"]
            assert child["metrics"]["mean_test_score"] == pytest.approx(candidate["mean"])
            assert child["metrics"]["std_test_score"] == pytest.approx(candidate["std"])
            assert child["timings"]["fit_s"] == pytest.approx(candidate["fit_s"])
            if candidate["iter"] is not None:  # halving: which round scored this candidate
                assert child["tags"]["search.iter"] == str(candidate["iter"])
    # The candidates' own fits (and the refit) made no runs of their own.
    assert len(runs) == len(expected) + sum(len(t["candidates"]) for t in expected.values())


def test_parallel_search_records_every_candidate_and_no_runs_from_worker_processes(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GridSearchCV, cross_val_score

        # Starts joblib's worker processes; the search below reuses them.
        cross_val_score(LogisticRegression(), X, y, cv=3, n_jobs=2)
        search = GridSearchCV(LogisticRegression(), {"C": [0.01, 0.1, 1.0, 10.0]}, cv=3, n_jobs=2)
        search.fit(X, y)
        print(json.dumps({"candidates": len(search.cv_results_["params"])}))
    """))
    runs = all_runs(cli)
    parents = [run for run in runs if run["parent_id"] is None]
    assert sorted(run["name"] for run in parents) == ["GridSearchCV(LogisticRegression)",
                                                      "cross_val_score(LogisticRegression)"]
    search = next(run for run in parents if run["name"] == "GridSearchCV(LogisticRegression)")
    children = [run for run in runs if run["parent_id"] == search["id"]]
    assert len(children) == printed(result)["candidates"] == 4
    assert len(runs) == 6


def test_fits_and_scores_made_by_scikit_learns_own_functions_are_not_the_users(run_script, cli):
    run_script(script(DATA, """
        from sklearn.feature_selection import mutual_info_classif
        from sklearn.inspection import permutation_importance
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import log_loss
        from sklearn.preprocessing import StandardScaler

        class MyScaler(StandardScaler):  # scikit-learn wraps its fit_transform: still the user's
            pass

        model = LogisticRegression().fit(X, y)
        log_loss(y, model.predict_proba(X))  # fits a LabelBinarizer inside; the user's metric of the model
        mutual_info_classif(X, y, random_state=0)  # fits NearestNeighbors inside
        permutation_importance(model, X, y, n_repeats=2, random_state=0)  # scores 1 + 4 x 2 times
        X_test = X[:30]
        model.score(X_test, y[:30])
        MyScaler().fit_transform(X)
    """))
    assert sorted(run["name"] for run in all_runs(cli)) == ["LogisticRegression", "MyScaler"]
    run = the_run(cli, "LogisticRegression")
    # the user's score and log_loss of the model's predictions; permutation_importance's own
    # 1 + 4 x 2 scores are part of its call (timed as a whole), not scores on the user's data
    assert sorted(key for key in run["metrics"] if not key.startswith("training_")) == ["X_test.score", "log_loss.X"]
    assert run["timings"]["score"]["count"] == 1
    assert run["timings"]["permutation_importance_s"] > 0


# -- cross-validation: one run holds every fold --------------------------------------------------
def test_cross_val_score_is_one_run_with_every_folds_score(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import cross_val_score

        scores = cross_val_score(LogisticRegression(C=0.5), X, y, cv=4)
        print(json.dumps({"scores": [float(s) for s in scores]}))
    """))
    scores = printed(result)["scores"]
    assert [run["name"] for run in all_runs(cli)] == ["cross_val_score(LogisticRegression)"]
    run = the_run(cli, "cross_val_score(LogisticRegression)")
    history = run["history"]["cv.test_score.folds"]
    assert [step for step, _value in history] == [0, 1, 2, 3]
    assert [value for _step, value in history] == pytest.approx(scores)
    # the run's score is the mean of its folds, not its last fold
    assert run["metrics"]["cv.test_score"] == pytest.approx(sum(scores) / 4)
    listed = cli("runs", "--json")[0]["metrics"]
    assert listed["cv.test_score"] == pytest.approx(sum(scores) / 4) and listed["cv.test_score.std"] >= 0
    assert run["params"]["C"] == 0.5
    assert run["tags"]["cv.function"] == "cross_val_score" and run["tags"]["cv.folds"] == "4"
    assert run["timings"]["cross_val_score_s"] > 0
    assert {dataset["role"] for dataset in run["datasets"]} == {"cross_val_score.X", "cross_val_score.y"}


def test_cross_validate_in_worker_processes_records_each_scorer_and_fold_times(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.model_selection import cross_validate

        out = cross_validate(RandomForestClassifier(n_estimators=5, random_state=0), X, y, cv=3,
                             scoring=["accuracy", "f1"], return_train_score=True, n_jobs=2)
        print(json.dumps({key: [float(v) for v in values] for key, values in out.items()}))
    """))
    truth = printed(result)
    runs = all_runs(cli)
    assert [run["name"] for run in runs] == ["cross_validate(RandomForestClassifier)"]  # no run per fold
    run = the_run(cli, "cross_validate(RandomForestClassifier)")
    for key in ("test_accuracy", "test_f1", "train_accuracy", "train_f1"):
        assert [value for _step, value in run["history"][f"cv.{key}.folds"]] == pytest.approx(truth[key])
    assert run["timings"]["folds"]["fit_s"] == pytest.approx(truth["fit_time"])
    assert run["timings"]["folds"]["score_s"] == pytest.approx(truth["score_time"])


def test_cross_validating_a_fitted_model_adds_the_folds_to_its_run(run_script, cli):
    run_script(script(DATA, """
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import cross_val_score

        model = LogisticRegression().fit(X, y)
        cross_val_score(model, X, y, cv=3)
    """))
    assert [run["name"] for run in all_runs(cli)] == ["LogisticRegression"]
    run = the_run(cli, "LogisticRegression")
    assert len(run["history"]["cv.test_score.folds"]) == 3
    assert "training_accuracy" in run["metrics"] and run["timings"]["fit_s"] > 0


def test_each_validation_utility_is_one_run_holding_what_it_computed(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import accuracy_score
        from sklearn.model_selection import (cross_val_predict, learning_curve, permutation_test_score,
                                             validation_curve)

        predicted = cross_val_predict(LogisticRegression(C=0.5), X, y, cv=3)
        oof_accuracy = accuracy_score(y, predicted)
        sizes, train_scores, test_scores = learning_curve(
            LogisticRegression(), X, y, cv=3, train_sizes=[0.5, 1.0])
        v_train, v_test = validation_curve(LogisticRegression(), X, y, param_name="C",
                                           param_range=[0.01, 1.0, 100.0], cv=3)
        score, permuted, pvalue = permutation_test_score(LogisticRegression(), X, y, cv=3,
                                                         n_permutations=5, random_state=0)
        print(json.dumps({"oof_accuracy": oof_accuracy, "sizes": sizes.tolist(),
                          "test_means": test_scores.mean(axis=1).tolist(),
                          "v_test_means": v_test.mean(axis=1).tolist(),
                          "score": score, "pvalue": pvalue}))
    """))
    truth = printed(result)
    assert sorted(run["name"] for run in top_level(cli)) == [
        "cross_val_predict(LogisticRegression)", "learning_curve(LogisticRegression)",
        "permutation_test_score(LogisticRegression)", "validation_curve(LogisticRegression)"]

    # The out-of-fold predictions are the run's: the user's accuracy on them is recorded there.
    oof = the_run(cli, "cross_val_predict(LogisticRegression)")
    assert oof["metrics"]["accuracy_score.X"] == pytest.approx(truth["oof_accuracy"])
    assert oof["params"]["C"] == 0.5 and oof["tags"]["cv.function"] == "cross_val_predict"

    curve = the_run(cli, "learning_curve(LogisticRegression)")
    history = curve["history"]["learning_curve.test_score"]
    assert [step for step, _ in history] == truth["sizes"]  # the training rows are the step
    assert [value for _, value in history] == pytest.approx(truth["test_means"])
    assert curve["goals"]["learning_curve.test_score"] == "max"
    assert curve["goals"]["learning_curve.test_score.std"] == "none"

    validation = the_run(cli, "validation_curve(LogisticRegression)")
    assert [v for _, v in validation["history"]["validation_curve.test_score"]] == pytest.approx(truth["v_test_means"])
    assert validation["params"]["validation_curve.param"] == "C"
    assert validation["params"]["validation_curve.values"] == [0.01, 1.0, 100.0]

    permutation = the_run(cli, "permutation_test_score(LogisticRegression)")
    assert permutation["metrics"]["cv.test_score"] == pytest.approx(truth["score"])
    assert permutation["metrics"]["permutation_test.pvalue"] == pytest.approx(truth["pvalue"])
    assert permutation["goals"]["permutation_test.pvalue"] == "min"
    assert permutation["tags"]["permutation_test.permutations"] == "5"


def test_permutation_importance_and_scorers_on_a_fitted_model_are_kept_on_its_run(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn.inspection import permutation_importance
        from sklearn.linear_model import Ridge
        from sklearn.metrics import get_scorer

        X_train, X_test, y_train, y_test = X[:80], X[80:], y[:80], y[80:]
        model = Ridge().fit(X_train, y_train)
        importance = permutation_importance(model, X_test, y_test, n_repeats=3, random_state=0)
        r2 = get_scorer("r2")(model, X_test, y_test)
        neg_mse = get_scorer("neg_mean_squared_error")(model, X_test, y_test)
        print(json.dumps({"means": dict(zip(X.columns, importance.importances_mean.tolist())),
                          "r2": r2, "neg_mse": neg_mse}))
    """))
    truth = printed(result)
    assert [run["name"] for run in all_runs(cli)] == ["Ridge"]  # no run of its own: the model's
    run = the_run(cli, "Ridge")
    assert run["importances"]["permutation"] == pytest.approx(truth["means"])
    assert set(run["importances"]["permutation_std"]) == set(truth["means"])
    assert run["tags"]["permutation_importance.data"] == "X_test"
    assert run["tags"]["permutation_importance.repeats"] == "3"
    # A scorer the user calls is a metric of the model's run, named after it and the data.
    assert run["metrics"]["r2_score.X_test"] == pytest.approx(truth["r2"])
    assert run["metrics"]["neg_mean_squared_error.X_test"] == pytest.approx(truth["neg_mse"])
    assert run["goals"]["neg_mean_squared_error.X_test"] == "max"  # negated: higher is better


def test_a_scoring_monitor_set_on_the_model_gives_its_scores_per_iteration(run_script, cli):
    pytest.importorskip("sklearn.callback")  # scikit-learn 1.9's callback API
    result = run_script(script(DATA, """
        from sklearn.callback import ScoringMonitor
        from sklearn.linear_model import LogisticRegression

        monitor = ScoringMonitor(scoring=["accuracy", "neg_log_loss"])
        LogisticRegression(max_iter=30).set_callbacks(monitor).fit(X, y)
        rows = [row for row in monitor.get_logs().data if row["task_name"] != "fit"]
        print(json.dumps({"steps": [row["task_id"] for row in rows],
                          "accuracy": [row["accuracy"] for row in rows],
                          "neg_log_loss": [row["neg_log_loss"] for row in rows]}))
    """))
    truth = printed(result)
    run = the_run(cli, "LogisticRegression")
    for score in ("accuracy", "neg_log_loss"):
        history = run["history"][f"scoring_monitor.{score}"]
        assert [step for step, _ in history] == truth["steps"]
        assert [value for _, value in history] == pytest.approx(truth[score])
        assert run["goals"][f"scoring_monitor.{score}"] == "max"


def test_user_defined_estimator_used_inside_a_pipeline_is_part_of_its_run(run_script, cli):
    run_script(script(DATA, """
        from sklearn.base import BaseEstimator, TransformerMixin
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        class Clip(TransformerMixin, BaseEstimator):
            def __init__(self, limit=2.0):
                self.limit = limit
            def fit(self, X, y=None):
                return self
            def transform(self, X):
                return np.clip(X, -self.limit, self.limit)

        Pipeline([("clip", Clip(limit=1.5)), ("clf", LogisticRegression())]).fit(X, y)
    """))
    run = the_run(cli, "Pipeline(LogisticRegression)")
    assert run["params"]["clip__limit"] == 1.5
    assert set(run["timings"]["steps"]) == {"clip", "clf"}


def test_user_defined_estimator_with_its_own_fit_makes_a_run(run_script, cli):
    run_script(script(DATA, """
        from sklearn.base import BaseEstimator, ClassifierMixin

        class Majority(ClassifierMixin, BaseEstimator):
            def __init__(self, smoothing=1.0):
                self.smoothing = smoothing
            def fit(self, X, y):
                self.classes_, counts = np.unique(y, return_counts=True)
                self.majority_ = self.classes_[counts.argmax()]
                return self
            def predict(self, X):
                return np.full(len(X), self.majority_)

        Majority(smoothing=0.5).fit(X, y)
    """))
    assert the_run(cli, "Majority")["params"] == {"smoothing": 0.5}


# -- params ---------------------------------------------------------------------------------------
def test_params_are_flattened_and_json_safe(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn.ensemble import BaggingClassifier
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import FunctionTransformer

        def shift(values, by=0.0):
            return values + by

        base = LogisticRegression(C=np.float32(0.5), max_iter=np.int64(200),
                                  class_weight={0: 1.0, 1: 2.0})
        model = Pipeline([
            ("impute", SimpleImputer(missing_values=np.nan)),
            ("shift", FunctionTransformer(func=shift, kw_args={"by": np.float64(1.5)})),
            ("clf", BaggingClassifier(base, n_estimators=3, random_state=0)),
        ]).fit(X, y)
        print(json.dumps({"keys": sorted(model.get_params(deep=True))}))
    """))
    expected = printed(result)
    params = the_run(cli, "Pipeline(BaggingClassifier(LogisticRegression))")["params"]
    # Flattened: every deep key, with dict-valued params spread into dotted keys.
    flat_keys = {key for key in params if not key.startswith("shift__kw_args.")}
    assert flat_keys | {"shift__kw_args"} == set(expected["keys"])
    assert params["shift__kw_args.by"] == 1.5
    # JSON-safe forms of awkward values.
    # a nested estimator is its class; its own params follow under its name, each once
    assert params["clf__estimator"] == "LogisticRegression"
    assert params["clf"] == "BaggingClassifier"
    assert params["steps"] == [["impute", "SimpleImputer"], ["shift", "FunctionTransformer"], ["clf", "BaggingClassifier"]]
    assert params["clf__estimator__C"] == 0.5
    assert params["clf__estimator__max_iter"] == 200
    assert params["clf__estimator__class_weight"] == {"0": 1.0, "1": 2.0}
    assert params["impute__missing_values"] == "nan"
    assert params["shift__func"] == "__main__.shift"
    assert params["clf__n_estimators"] == 3


def test_huge_param_is_cut_with_a_warning(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import FunctionTransformer

        lookup = list(range(50_000))
        Pipeline([("prep", FunctionTransformer(kw_args={"lookup": lookup}, validate=False,
                                               func=lambda X, lookup: X)),
                  ("clf", LogisticRegression())]).fit(X, y)
    """))
    value = the_run(cli, "Pipeline(LogisticRegression)")["params"]["prep__kw_args.lookup"]
    assert isinstance(value, str) and len(value) < 3_000
    assert value.startswith("[0, 1, 2, 3")
    assert "prep__kw_args.lookup" in result.stderr and "characters" in result.stderr


def test_param_named_like_a_credential_is_masked_everywhere(run_script, cli, store):
    run_script(script(DATA, """
        from sklearn.base import BaseEstimator, TransformerMixin
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        class FeatureService(TransformerMixin, BaseEstimator):
            def __init__(self, api_token=None, endpoint="https://features.example"):
                self.api_token = api_token
                self.endpoint = endpoint
            def fit(self, X, y=None):
                return self
            def transform(self, X):
                return X

        Pipeline([("features", FeatureService(api_token="tok-hunter2-secret")),
                  ("clf", LogisticRegression())]).fit(X, y)
    """, ))
    run = the_run(cli, "Pipeline(LogisticRegression)")
    assert run["params"]["features__api_token"] == "***"
    assert run["params"]["features__endpoint"] == "https://features.example"
    # Not in the params that hold the step's repr either, nor anywhere else in the store.
    assert "hunter2" not in json.dumps(run)
    with sqlite3.connect(store / "runs.db") as conn:
        dump = "\n".join(conn.iterdump())
    assert "hunter2" not in dump


# -- timings --------------------------------------------------------------------------------------
def test_predict_latency_is_aggregated_per_run_never_stored_per_call(run_script, cli, store):
    run_script(script(DATA, """
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression().fit(X_np, y_np)
        rows = X_np[:, None, :]
        for i in range(1000):
            model.predict(rows[i % len(rows)])
        for i in range(10):
            model.predict_proba(rows[i])
    """))
    run = the_run(cli, "LogisticRegression")
    assert run["timings"]["fit_s"] > 0
    predict = run["timings"]["predict"]
    assert set(predict) == {"count", "total_s", "mean_s", "p50_s", "p95_s"}
    assert predict["count"] == 1000
    assert predict["mean_s"] == pytest.approx(predict["total_s"] / 1000)
    assert 0 < predict["p50_s"] <= predict["p95_s"] <= predict["total_s"]
    assert run["timings"]["predict_proba"]["count"] == 10
    # No per-call records: metric points are only the training metrics (one each), and at most
    # max_predict_datasets inputs are described.
    assert all(len(points) == 1 for points in run["history"].values())
    assert len([d for d in run["datasets"] if d["role"] == "predict.X"]) == 5
    with sqlite3.connect(store / "runs.db") as conn:
        (points,) = conn.execute("SELECT count(*) FROM metrics JOIN series ON metrics.series = series.id"
                                 " WHERE series.run_id = ?", (run["id"],)).fetchone()
    assert points == len(run["history"]) < 20


def test_transform_latency_of_a_scaler(run_script, cli):
    run_script(script(DATA, """
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler().fit(X)
        for _ in range(3):
            scaler.transform(X)
    """))
    timings = the_run(cli, "StandardScaler")["timings"]
    assert timings["fit_s"] > 0
    assert timings["transform"]["count"] == 3
    assert timings["transform"]["total_s"] > 0


# -- metrics --------------------------------------------------------------------------------------
CLASSIFIER_TRUTH = """
from sklearn import metrics as m

def classifier_truth(model, X, y, binary, pos_label=1):
    predicted = model.predict(X)
    options = ({"average": "binary", "pos_label": pos_label} if binary else {"average": "weighted"})
    options["zero_division"] = 0
    truth = {"accuracy": m.accuracy_score(y, predicted),
             "precision": m.precision_score(y, predicted, **options),
             "recall": m.recall_score(y, predicted, **options),
             "f1": m.f1_score(y, predicted, **options)}
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        truth["log_loss"] = m.log_loss(y, proba)
        truth["roc_auc"] = (m.roc_auc_score(y, proba[:, 1]) if binary
                            else m.roc_auc_score(y, proba, multi_class="ovr"))
    return truth
"""


def assert_training_metrics(run: dict, truth: dict) -> None:
    stored = {key[len("training_"):]: value for key, value in run["metrics"].items()
              if key.startswith("training_")}
    assert set(stored) == set(truth)
    for name, value in truth.items():
        assert stored[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_binary_classifier_training_metrics_are_correct(run_script, cli):
    result = run_script(script(DATA, CLASSIFIER_TRUTH, """
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=0.1).fit(X, y)
        print(json.dumps(classifier_truth(model, X, y, binary=True)))
    """))
    truth = printed(result)
    assert set(truth) == {"accuracy", "precision", "recall", "f1", "log_loss", "roc_auc"}
    assert_training_metrics(the_run(cli, "LogisticRegression"), truth)


def test_multiclass_classifier_training_metrics_are_correct(run_script, cli):
    result = run_script(script(DATA, CLASSIFIER_TRUTH, """
        from sklearn.ensemble import RandomForestClassifier

        X3, y3 = make_classification(n_samples=150, n_features=5, n_informative=4, n_redundant=0,
                                     n_classes=3, random_state=1)
        labels = np.array(["cat", "dog", "fox"])[y3]
        model = RandomForestClassifier(n_estimators=5, max_depth=2, random_state=0).fit(X3, labels)
        print(json.dumps(classifier_truth(model, X3, labels, binary=False)))
    """))
    assert_training_metrics(the_run(cli, "RandomForestClassifier"), printed(result))


def test_regressor_training_metrics_are_correct(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn import metrics as m
        from sklearn.linear_model import Ridge

        Xr, yr = make_regression(n_samples=100, n_features=3, noise=5.0, random_state=0)
        yr = yr + 300  # away from zero, so MAPE is meaningful
        model = Ridge(alpha=10.0).fit(Xr, yr)
        predicted = model.predict(Xr)
        print(json.dumps({"r2": m.r2_score(yr, predicted),
                          "rmse": float(np.sqrt(m.mean_squared_error(yr, predicted))),
                          "mae": m.mean_absolute_error(yr, predicted),
                          "mape": m.mean_absolute_percentage_error(yr, predicted)}))
    """))
    assert_training_metrics(the_run(cli, "Ridge"), printed(result))


def test_training_metrics_describe_the_model_fit_returned_whatever_is_done_to_it_after(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn.linear_model import LinearRegression, Ridge
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        Xr, yr = make_regression(n_samples=200, n_features=3, noise=5.0, random_state=0)
        pipe = Pipeline([("scale", StandardScaler()), ("reg", LinearRegression())]).fit(Xr, yr)
        from sklearn.metrics import r2_score
        fitted_r2 = r2_score(yr, pipe.predict(Xr))
        pipe.named_steps["reg"].fit(Xr[:, ::-1], -yr)  # a tutorial refits a step of the fitted pipeline
        after = r2_score(yr, pipe.predict(Xr))
        ridge = Ridge(alpha=1.0)
        ridge.fit(Xr, yr)  # the same object fitted twice in a row: two runs, each with its metrics
        first_r2 = r2_score(yr, ridge.predict(Xr))
        ridge.fit(Xr, yr * 2 + 5)
        second_r2 = r2_score(yr * 2 + 5, ridge.predict(Xr))
        zeros = np.where(np.arange(200) % 10 == 0, 0.0, yr + 300)  # targets with zeros: MAPE undefined
        from sklearn.linear_model import Lasso
        Lasso(alpha=0.1).fit(Xr, zeros)
        print(json.dumps({"fitted": fitted_r2, "after": after, "first": first_r2, "second": second_r2}))
    """))
    truth = printed(result)
    assert truth["after"] < 0 < truth["fitted"]
    pipeline = the_run(cli, "Pipeline(LinearRegression)")
    assert pipeline["metrics"]["training_r2"] == pytest.approx(truth["fitted"])
    ridges = [show(cli, run["id"]) for run in all_runs(cli) if run["name"] == "Ridge"]
    assert sorted(run["metrics"]["training_r2"] for run in ridges) == pytest.approx(
        sorted([truth["first"], truth["second"]]))
    zero_targets = the_run(cli, "Lasso")
    assert "training_mape" not in zero_targets["metrics"] and "training_rmse" in zero_targets["metrics"]


def test_classifier_without_predict_proba_has_no_log_loss_and_no_error(run_script, cli):
    result = run_script(script(DATA, CLASSIFIER_TRUTH, """
        from sklearn.svm import LinearSVC

        model = LinearSVC().fit(X, y)
        assert not hasattr(model, "predict_proba")
        print(json.dumps(classifier_truth(model, X, y, binary=True)))
    """))
    run = the_run(cli, "LinearSVC")
    assert run["status"] == "finished"
    assert "training_log_loss" not in run["metrics"] and "training_roc_auc" not in run["metrics"]
    assert_training_metrics(run, printed(result))


def test_training_metrics_that_are_undefined_are_left_out_without_an_error(run_script, cli):
    result = run_script(script(DATA, CLASSIFIER_TRUTH, """
        from sklearn.dummy import DummyClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.neighbors import KNeighborsClassifier

        words = np.where(y_np == 1, "yes", "no")  # string labels: "yes" is the positive class
        model = LogisticRegression().fit(X_np, words)
        DummyClassifier().fit(X_np, np.full(len(X_np), "only"))  # one class: no log_loss
        KNeighborsClassifier().fit(X_np, np.c_[y_np, 1 - y_np])  # multilabel: none of these
        print(json.dumps(classifier_truth(model, X_np, words, binary=True, pos_label="yes")))
    """))
    assert_training_metrics(the_run(cli, "LogisticRegression"), printed(result))
    dummy = the_run(cli, "DummyClassifier")["metrics"]
    assert dummy["training_accuracy"] == 1.0 and "training_log_loss" not in dummy
    multilabel = the_run(cli, "KNeighborsClassifier")["metrics"]
    assert not [key for key in multilabel if key.startswith("training_")]


def test_training_metrics_for_text_in_a_list_and_none_for_a_consumed_generator(run_script, cli):
    result = run_script(script(DATA, CLASSIFIER_TRUTH, """
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        texts = [f"{'good' if label else 'bad'} item {i}" for i, label in enumerate(y_np)]
        model = make_pipeline(CountVectorizer(), LogisticRegression()).fit(texts, y_np)
        make_pipeline(CountVectorizer(), LogisticRegression()).fit((t for t in texts), y_np)
        print(json.dumps(classifier_truth(model, texts, y_np, binary=True)))
    """))
    runs = [show(cli, run["id"]) for run in all_runs(cli)]
    assert len(runs) == 2 and all(run["status"] == "finished" for run in runs)
    with_metrics = [run for run in runs if "training_accuracy" in run["metrics"]]
    assert len(with_metrics) == 1  # the generator was used up by fit: nothing to score it on
    assert_training_metrics(with_metrics[0], printed(result))


def test_sklearn_metrics_on_a_tracked_models_predictions_are_metrics_of_its_run(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.metrics import accuracy_score, f1_score, mean_squared_error, r2_score, roc_auc_score
        from sklearn.model_selection import GridSearchCV

        X_train, y_train, X_test, y_test = X[:100], y[:100], X[100:], y[100:]
        model = LogisticRegression().fit(X_train, y_train)
        out = {"auc": roc_auc_score(y_test, model.predict_proba(X_test)[:, 1]),
               "accuracy": accuracy_score(y_test, model.predict(X_test)),
               "plain": f1_score(y_test, y_test)}  # no model's predictions: nothing recorded
        try:
            accuracy_score(y_test[:3], model.predict(X_test))
        except ValueError as exc:
            out["error"] = str(exc)  # the user's mistake reaches them unchanged
        regressor = Ridge().fit(X_train, y_train * 2.0)
        predicted = regressor.predict(X_test)
        out["mse"] = mean_squared_error(y_test * 2.0, predicted)
        out["r2"] = r2_score(y_true=y_test * 2.0, y_pred=predicted)
        GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2, scoring="roc_auc").fit(X_train, y_train)
        print(json.dumps(out))
    """))
    truth = printed(result)
    assert "Found input variables with inconsistent numbers of samples" in truth["error"]
    classifier = the_run(cli, "LogisticRegression")["metrics"]
    assert classifier["roc_auc_score.X_test"] == pytest.approx(truth["auc"])
    assert classifier["accuracy_score.X_test"] == pytest.approx(truth["accuracy"])
    assert not [key for key in classifier if key.startswith("f1_score")]
    regressor = the_run(cli, "Ridge")
    assert regressor["metrics"]["mean_squared_error.X_test"] == pytest.approx(truth["mse"])
    assert regressor["metrics"]["r2_score.X_test"] == pytest.approx(truth["r2"])
    assert regressor["goals"]["mean_squared_error.X_test"] == "min" and regressor["goals"]["r2_score.X_test"] == "max"
    # the search's own scoring (roc_auc on every fold) is not a post-training metric of anything
    search = the_run(cli, "GridSearchCV(LogisticRegression)")
    assert not [key for key in search["metrics"] if key.startswith("roc_auc_score")]


def test_scores_become_metrics_named_after_the_data(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn.linear_model import LogisticRegression

        X_train, y_train = X[:80], y[:80]
        X_test, y_test = X[80:100], y[80:100]
        X_val, y_val = X[100:], y[100:]
        model = LogisticRegression().fit(X_train, y_train)
        print(json.dumps({"test": model.score(X_test, y_test), "val": model.score(X_val, y_val),
                          "head": model.score(X[:10], y[:10])}))
    """))
    scores = printed(result)
    run = the_run(cli, "LogisticRegression")
    assert run["metrics"]["X_test.score"] == pytest.approx(scores["test"])
    assert run["metrics"]["X_val.score"] == pytest.approx(scores["val"])
    unnamed = [d for d in run["datasets"] if d["role"] == "score.X" and d["name"] is None]
    assert len(unnamed) == 1 and unnamed[0]["rows"] == 10
    assert run["metrics"][f"data_{unnamed[0]['fingerprint'][:8]}.score"] == pytest.approx(scores["head"])


# -- importances ----------------------------------------------------------------------------------
def test_importances_are_keyed_by_feature_names(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.linear_model import LogisticRegression, Ridge

        forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
        linear = LogisticRegression().fit(X, y)
        on_numpy = Ridge().fit(X_np, y_np)
        weights = np.abs(linear.coef_).mean(axis=0)
        print(json.dumps({
            "forest": dict(zip(forest.feature_names_in_, forest.feature_importances_)),
            "linear": dict(zip(linear.feature_names_in_, weights / weights.sum())),
            "numpy": (np.abs(on_numpy.coef_) / np.abs(on_numpy.coef_).sum()).tolist(),
        }))
    """))
    truth = printed(result)
    forest = the_run(cli, "RandomForestClassifier")["importances"]["impurity"]
    assert forest == pytest.approx(truth["forest"])
    assert list(forest) == ["age", "income", "height", "weight"]
    linear = the_run(cli, "LogisticRegression")["importances"]["coef"]
    assert linear == pytest.approx(truth["linear"])
    assert sum(linear.values()) == pytest.approx(1.0)
    numpy_run = the_run(cli, "Ridge")["importances"]["coef"]
    assert numpy_run == pytest.approx({f"x{i}": v for i, v in enumerate(truth["numpy"])})


def test_params_of_a_search_over_a_pipeline_read_as_structure_on_one_line(run_script, cli):
    run_script(script(DATA, """
        from scipy.stats import loguniform
        from sklearn.compose import ColumnTransformer, make_column_selector
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import RandomizedSearchCV
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        frame = X.assign(colour=np.array(["red", "green", "blue"])[np.arange(len(X)) % 3])
        pipe = Pipeline([
            ("pre", ColumnTransformer([("num", StandardScaler(), ["age", "income"]),
                                       ("cat", OneHotEncoder(), make_column_selector(dtype_include=object))])),
            ("clf", LogisticRegression()),
        ])
        RandomizedSearchCV(pipe, {"clf__C": loguniform(1e-3, 10)}, n_iter=3, cv=2,
                           random_state=np.random.RandomState(0)).fit(frame, y)
    """))
    run = the_run(cli, "RandomizedSearchCV(Pipeline(LogisticRegression))")
    params = run["params"]
    for key, value in params.items():
        assert "\n" not in json.dumps(value) and " at 0x" not in json.dumps(value), key
    assert params["estimator"] == "Pipeline"
    assert params["estimator__steps"] == [["pre", "ColumnTransformer"], ["clf", "LogisticRegression"]]
    assert params["estimator__pre__transformers"] == [
        ["num", "StandardScaler", ["age", "income"]],
        ["cat", "OneHotEncoder", "make_column_selector(dtype_include=object)"]]
    assert params["estimator__clf"] == "LogisticRegression" and params["estimator__clf__C"] == 1.0
    assert params["param_distributions.clf__C"] == "loguniform(0.001, 10)"
    assert params["random_state"] == "RandomState"
    children = [show(cli, child) for child in run["children"]]
    assert all(child["name"].startswith("Pipeline(LogisticRegression) #") and " C=" in child["name"]
               for child in children)
    # the compare of two candidates fits 80 columns and shows the one param that changed
    table = cli("compare", children[0]["id"], children[1]["id"], env={"COLUMNS": "80"}).stdout
    assert max(len(line) for line in table.splitlines()) <= 80
    assert [line for line in table.splitlines() if "clf__C" in line]


def test_pipeline_with_column_transformer_keys_importances_by_output_feature_names(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn.compose import ColumnTransformer
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.model_selection import GridSearchCV
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        frame = X.assign(colour=np.array(["red", "green", "blue"])[np.arange(len(X)) % 3])
        pipe = Pipeline([
            ("prep", ColumnTransformer([("num", StandardScaler(), ["age", "income"]),
                                        ("cat", OneHotEncoder(), ["colour"])])),
            ("forest", RandomForestClassifier(n_estimators=5, random_state=0)),
        ]).fit(frame, y)
        search = GridSearchCV(pipe, {"forest__max_depth": [2, 3]}, cv=2).fit(frame, y)
        best = search.best_estimator_
        print(json.dumps({
            "pipeline": dict(zip(pipe[:-1].get_feature_names_out(), pipe[-1].feature_importances_)),
            "search": dict(zip(best[:-1].get_feature_names_out(), best[-1].feature_importances_)),
        }))
    """))
    truth = printed(result)
    pipeline = the_run(cli, "Pipeline(RandomForestClassifier)")["importances"]["impurity"]
    assert list(pipeline) == ["num__age", "num__income", "cat__colour_blue", "cat__colour_green",
                              "cat__colour_red"]
    assert pipeline == pytest.approx(truth["pipeline"])
    assert the_run(cli, "GridSearchCV(Pipeline(RandomForestClassifier))")["importances"]["impurity"] \
        == pytest.approx(truth["search"])


# -- datasets -------------------------------------------------------------------------------------
def test_training_data_is_described(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn.linear_model import LogisticRegression

        X_train = X.assign(store=(np.arange(len(X)) % 4).astype("int32"))
        LogisticRegression().fit(X_train, y)
        print(json.dumps({"schema": [[str(c), str(t)] for c, t in X_train.dtypes.items()],
                          "min_bytes": int(sum(X_train[c].to_numpy().nbytes for c in X_train))}))
    """))
    truth = printed(result)
    datasets = {d["role"]: d for d in the_run(cli, "LogisticRegression")["datasets"]}
    X_train, y_train = datasets["train.X"], datasets["train.y"]
    assert (X_train["name"], X_train["rows"], X_train["columns"]) == ("X_train", 120, 5)
    assert X_train["bytes"] >= truth["min_bytes"]
    assert [[field["name"], field["dtype"]] for field in X_train["schema"]] == truth["schema"]
    assert (y_train["name"], y_train["rows"], y_train["columns"]) == ("y", 120, 1)
    for description in (X_train, y_train):
        assert len(description["fingerprint"]) == 32
        int(description["fingerprint"], 16)


def test_training_target_is_summarised(run_script, cli):
    run_script(script(DATA, """
        from sklearn.linear_model import LogisticRegression

        LogisticRegression().fit(X, y)
    """))
    datasets = {d["role"]: d for d in the_run(cli, "LogisticRegression")["datasets"]}
    target = datasets["train.y"]["target"]
    assert target["kind"] == "classes" and target["n_classes"] == 2


def test_fingerprint_changes_when_one_value_in_the_last_row_changes(run_script, cli):
    body = """
        from sklearn.linear_model import LogisticRegression

        X_np[-1, -1] += {delta}
        LogisticRegression().fit(X_np, y_np)
        LogisticRegression(C=2.0).fit(X_np, y_np)
    """
    run_script(script(DATA, body.format(delta="0.0")), name="original.py")
    run_script(script(DATA, body.format(delta="1e-9")), name="changed.py")

    def fingerprints(experiment: str, role: str) -> set[str]:
        runs = [run for run in all_runs(cli) if run["experiment"] == experiment]
        assert len(runs) == 2
        return {d["fingerprint"] for run in runs for d in show(cli, run["id"])["datasets"]
                if d["role"] == role}

    original, changed = fingerprints("original", "train.X"), fingerprints("changed", "train.X")
    assert len(original) == len(changed) == 1  # the same data fingerprints the same each time
    assert original != changed
    assert fingerprints("original", "train.y") == fingerprints("changed", "train.y")


def test_predict_inputs_are_described_at_most_max_predict_datasets_times_per_method(run_script, cli):
    run_script(script(DATA, """
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression().fit(X, y)
        for start in range(0, 100, 10):
            batch = X[start:start + 10]
            model.predict(batch)
            model.predict(batch)  # the same input again is not a new dataset
        for start in range(0, 70, 10):
            model.predict_proba(X[start:start + 10])
    """))
    run = the_run(cli, "LogisticRegression")
    roles = [d["role"] for d in run["datasets"]]
    assert roles.count("predict.X") == 5
    assert roles.count("predict_proba.X") == 5
    assert len({d["fingerprint"] for d in run["datasets"] if d["role"] == "predict.X"}) == 5
    assert run["timings"]["predict"]["count"] == 20


# -- model artifact -------------------------------------------------------------------------------
def test_model_artifact_loads_without_autotrack_and_predicts_the_same(run_script, cli, tmp_path):
    run_script(script(DATA, """
        from sklearn.ensemble import RandomForestClassifier

        model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
        np.save("expected.npy", model.predict_proba(X))
        X.to_pickle("X.pkl")
    """))
    run = the_run(cli, "RandomForestClassifier")
    (artifact,) = [a for a in run["artifacts"] if a["name"] == "model.pkl"]
    assert os.path.getsize(artifact["path"]) == artifact["bytes"] > 0
    check = textwrap.dedent(f"""
        import pickle, sys
        import numpy as np
        import pandas as pd
        with open({artifact["path"]!r}, "rb") as handle:
            model = pickle.load(handle)
        assert "autotrack" not in sys.modules, "autotrack was imported"
        assert np.array_equal(model.predict_proba(pd.read_pickle("X.pkl")), np.load("expected.npy"))
        print(type(model).__name__)
    """)
    loaded = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, env=untracked_env(),
                            capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "RandomForestClassifier"


def test_log_models_off_stores_no_model(run_script, cli, store):
    run_script(script(DATA, """
        from sklearn.linear_model import LogisticRegression

        LogisticRegression().fit(X, y)
    """), env={"AUTOTRACK_LOG_MODELS": "0"})
    run = the_run(cli, "LogisticRegression")
    assert [a["name"] for a in run["artifacts"]] == ["sources.json"]  # the code, kept once for all runs
    assert not (store / "artifacts" / run["id"]).exists()


def test_unpicklable_model_is_tracked_without_an_artifact_and_with_a_warning(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import FunctionTransformer

        model = Pipeline([("double", FunctionTransformer(lambda values: values * 2)),
                          ("clf", LogisticRegression())]).fit(X, y)
        print(json.dumps({"accuracy": model.score(X, y)}))
    """))
    run = the_run(cli, "Pipeline(LogisticRegression)")
    assert run["status"] == "finished"
    assert [a["name"] for a in run["artifacts"] if a["name"] == "model.pkl"] == []
    assert "training_accuracy" in run["metrics"]
    assert "cannot be pickled" in result.stderr


def test_what_a_cv_estimator_selected_is_recorded(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn.feature_selection import RFECV
        from sklearn.linear_model import LassoCV, LogisticRegressionCV
        from sklearn.tree import DecisionTreeClassifier

        Xr, yr = make_regression(n_samples=120, n_features=5, noise=5.0, random_state=0)
        lasso = LassoCV(cv=3).fit(Xr, yr)
        logistic = LogisticRegressionCV(Cs=4, cv=3).fit(X, y)
        rfecv = RFECV(DecisionTreeClassifier(random_state=0), cv=3).fit(X, y)
        print(json.dumps({"alpha": lasso.alpha_, "C": logistic.C_.tolist(), "n_features": int(rfecv.n_features_)}))
    """))
    truth = printed(result)
    assert the_run(cli, "LassoCV")["params"]["selected.alpha"] == pytest.approx(truth["alpha"])
    logistic = the_run(cli, "LogisticRegressionCV")["params"]
    assert logistic["selected.C"] == pytest.approx(truth["C"]) and "selected.l1_ratio" not in logistic
    assert the_run(cli, "RFECV(DecisionTreeClassifier)")["params"]["selected.n_features"] == truth["n_features"]


def test_a_boosting_estimators_importances_are_labelled_by_what_they_measure(run_script, cli):
    run_script(script(DATA, """
        import lightgbm as lgb
        from sklearn.model_selection import GridSearchCV
        GridSearchCV(lgb.LGBMClassifier(n_estimators=5, verbose=-1), {"num_leaves": [4, 8]}, cv=2).fit(X, y)
    """))
    search = the_run(cli, "GridSearchCV(LGBMClassifier)")
    assert set(search["importances"]) == {"split"}  # LightGBM's split counts, not impurity
