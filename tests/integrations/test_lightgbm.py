"""LightGBM end to end: real training scripts in subprocesses, the stored runs read back.

Each script prints, as its last line, a JSON object of what LightGBM itself reports (its evaluation
history, best iteration, importances, parameters), so the tests compare the stored run with it.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from scripting import printed, script

import autotrack
from autotrack.capture.datasets import fingerprint

np = pytest.importorskip("numpy")
lgb = pytest.importorskip("lightgbm")

DATA = """
import json
import warnings
import numpy as np
import lightgbm as lgb

warnings.simplefilter("ignore")  # LightGBM's deprecation notices are not the subject here
rng = np.random.default_rng(0)
X = rng.normal(size=(500, 4))
y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=500) > 0).astype(int)
X_train, y_train, X_valid, y_valid = X[:400], y[:400], X[400:], y[400:]
PARAMS = {"objective": "binary", "eta": 0.5, "num_leaves": 7, "verbose": -1, "num_threads": 1}
"""

# Stops early for sure: a large learning rate on little data overfits within a few rounds.
TRAIN = """
import pickle

np.save("X_train.npy", X_train)
np.save("y_train.npy", y_train)
np.save("X_valid.npy", X_valid)
train_data = lgb.Dataset(X_train, y_train, feature_name=["age", "income", "height", "weight"])
valid_data = lgb.Dataset(X_valid, y_valid, reference=train_data)
evals = {}
booster = lgb.train({**PARAMS, "metric": ["binary_logloss", "auc"]}, train_data, num_boost_round=100,
                    valid_sets=[train_data, valid_data], valid_names=["training", "holdout"],
                    callbacks=[lgb.early_stopping(3, verbose=False), lgb.record_evaluation(evals)])
for rows in (X_valid[:10], X_valid[:20], X_valid[:10]):
    booster.predict(rows)
np.save("expected.npy", booster.predict(X_valid))
booster.save_model("saved.txt")
with open("booster.pkl", "wb") as handle:
    pickle.dump(booster, handle)
print(json.dumps({
    "evals": evals,
    "best_iteration": booster.best_iteration,
    "best_score": {name: dict(scores) for name, scores in booster.best_score.items()},
    "importances": {kind: dict(zip(booster.feature_name(), booster.feature_importance(importance_type=kind)))
                    for kind in ("gain", "split")},
    "used_params": lgb.Booster(model_str=booster.model_to_string()).params,
}, default=float))
"""


# -- helpers ----------------------------------------------------------------------------------------
def untracked_env() -> dict:
    return {key: value for key, value in os.environ.items() if not key.startswith("AUTOTRACK")}


def run_in(directory, code: str, tracked: bool = True, check: bool = True) -> subprocess.CompletedProcess:
    """What the `run_script` fixture does, for module-scoped fixtures that share one training."""
    path = directory / "train.py"
    path.write_text(textwrap.dedent(code))
    env = {**os.environ, "AUTOTRACK_DIR": str(directory / "store"), "AUTOTRACK_STRICT": "1"}
    if tracked:
        env["AUTOTRACK"] = "1"
    result = subprocess.run([sys.executable, str(path)], cwd=directory, env=env, capture_output=True,
                            text=True, timeout=240)
    if check and result.returncode != 0:
        raise AssertionError(f"script failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def stored_runs(store) -> list[dict]:
    """Every run in the store, in full, oldest first."""
    return [autotrack.get_run(run["id"], store=str(store))
            for run in reversed(autotrack.runs(store=str(store), limit=0))]


def the_run(store, name: str) -> dict:
    runs = [run for run in stored_runs(store) if run["name"] == name]
    assert len(runs) == 1, [run["name"] for run in stored_runs(store)]
    return runs[0]


def history_values(run: dict, key: str) -> list[float]:
    points = run["history"][key]
    assert [step for step, _ in points] == list(range(len(points))), f"{key}: a step is missing"
    return [value for _, value in points]


def points_per_key_and_step(store, run_id: str) -> dict:
    with sqlite3.connect(store / "runs.db") as conn:
        rows = conn.execute("SELECT series.key, metrics.step, count(*) FROM metrics JOIN series"
                            " ON metrics.series = series.id WHERE series.run_id = ?"
                            " GROUP BY series.key, metrics.step", (run_id,)).fetchall()
    return {(key, step): count for key, step, count in rows}


def artifact_path(run: dict, name: str) -> str:
    (path,) = [artifact["path"] for artifact in run["artifacts"] if artifact["name"] == name]
    return path


# -- lightgbm.train, one training shared by the tests below ----------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    directory = tmp_path_factory.mktemp("train")
    truth = printed(run_in(directory, script(DATA, TRAIN)))
    return directory, truth, the_run(directory / "store", "lightgbm.train(binary)")


def test_train_is_one_finished_run_named_after_the_function(trained):
    directory, _, run = trained
    assert [r["name"] for r in stored_runs(directory / "store")] == ["lightgbm.train(binary)"]
    assert run["status"] == "finished" and run["source"] == "auto"


def test_train_history_is_every_iteration_as_lightgbm_evaluated_it(trained):
    _, truth, run = trained
    expected = {f"{data}.{metric}": values for data, metrics in truth["evals"].items()
                for metric, values in metrics.items()}
    assert set(expected) == {"training.binary_logloss", "training.auc", "holdout.binary_logloss", "holdout.auc"}
    for key, values in expected.items():
        assert history_values(run, key) == pytest.approx(values, rel=1e-12), key


def test_train_best_iteration_and_scores_come_from_early_stopping(trained):
    _, truth, run = trained
    metrics, iterations = run["metrics"], len(truth["evals"]["holdout"]["auc"])
    assert run["tags"]["early_stopping"] == "fired"
    assert metrics["best_iteration"] == truth["best_iteration"] == iterations - 3
    for data, scores in truth["best_score"].items():
        for metric, value in scores.items():
            assert metrics[f"best.{data}.{metric}"] == pytest.approx(value, rel=1e-12)
    # The early-stopping metric is the first one on the first validation set.
    assert run["tags"]["best_score.metric"] == "holdout.binary_logloss"
    assert metrics["best_score"] == pytest.approx(truth["best_score"]["holdout"]["binary_logloss"])


def test_train_params_are_what_the_booster_used_with_defaults_resolved(trained):
    _, truth, run = trained
    params, used = run["params"], truth["used_params"]
    assert params["learning_rate"] == used["learning_rate"] == 0.5 and "eta" not in params  # one name, LightGBM's
    for default in ("num_leaves", "max_depth", "min_data_in_leaf", "feature_fraction", "bagging_fraction",
                    "lambda_l1", "lambda_l2", "objective", "metric", "boosting", "num_threads"):
        assert params[default] == used[default], default
    assert params["num_iterations"] == 100 and "num_boost_round" not in params
    assert_one_key_per_parameter(params)
    assert (params["early_stopping.stopping_rounds"], params["early_stopping.first_metric_only"],
            params["early_stopping.min_delta"]) == (3, False, 0.0)


def test_train_importances_are_lightgbms_gain_and_split_by_feature_name(trained):
    _, truth, run = trained
    assert set(run["importances"]) == {"gain", "split"}
    for kind in ("gain", "split"):
        assert list(run["importances"][kind]) == ["age", "income", "height", "weight"]
        assert run["importances"][kind] == pytest.approx(truth["importances"][kind])


def test_train_datasets_are_fingerprinted_as_the_raw_data(trained):
    directory, _, run = trained
    datasets = {d["role"]: d for d in run["datasets"]}
    X_train, y_train = np.load(directory / "X_train.npy"), np.load(directory / "y_train.npy")
    train_X, train_y, holdout = datasets["train.X"], datasets["train.y"], datasets["valid.holdout"]
    assert (train_X["name"], train_X["rows"], train_X["columns"]) == ("train_data", 400, 4)
    assert train_X["fingerprint"] == fingerprint(X_train)
    assert [field["name"] for field in train_X["schema"]] == ["age", "income", "height", "weight"]
    assert train_y["fingerprint"] == fingerprint(y_train)
    assert train_y["target"]["kind"] == "classes"
    assert (holdout["rows"], holdout["fingerprint"]) == (100, fingerprint(np.load(directory / "X_valid.npy")))
    assert "valid.training" not in datasets  # the training data evaluated as a set is train.X
    assert holdout["name"] == "valid_data"  # the user's variable; the role names the set as the metrics do


def test_a_dataset_trained_on_again_after_lightgbm_freed_its_data_keeps_its_fingerprint(run_script, store, cli):
    run_script(script(DATA, """
        data = lgb.Dataset(X_train, y_train)  # free_raw_data=True: X_train is dropped once built
        for leaves in (7, 15):
            lgb.train({**PARAMS, "num_leaves": leaves}, data, num_boost_round=3)
        assert data.data is None
    """))
    first, second = stored_runs(store)
    # The second run of a name says what differs from the first.
    assert (first["name"], second["name"]) == ("lightgbm.train(binary)", "lightgbm.train(binary) num_leaves=15")
    assert first["datasets"][0]["fingerprint"] is not None
    assert [d["fingerprint"] for d in second["datasets"]] == [d["fingerprint"] for d in first["datasets"]]
    compared = cli("compare", first["id"], second["id"], "--json")
    assert {d["role"]: d["verdict"] for d in compared["datasets"]} == {"train.X": "same", "train.y": "same"}


def test_train_timings_count_iterations_and_predict_calls(trained):
    _, truth, run = trained
    timings = run["timings"]
    assert timings["iterations"] == len(truth["evals"]["holdout"]["auc"])
    assert 0 < timings["iteration_mean_s"] < timings["fit_s"]
    assert timings["predict"]["count"] == 4
    # Described once per distinct input: X_valid[:10] twice, X_valid[:20], X_valid.
    assert sorted(d["rows"] for d in run["datasets"] if d["role"] == "predict.X") == [10, 20, 100]


def test_model_artifact_and_the_users_own_files_load_without_autotrack(trained):
    directory, _, run = trained
    check = f"""
        import pickle, sys
        import numpy as np
        import lightgbm as lgb
        X_valid, expected = np.load("X_valid.npy"), np.load("expected.npy")
        stored = lgb.Booster(model_file={artifact_path(run, "model.txt")!r})
        with open("booster.pkl", "rb") as handle:
            unpickled = pickle.load(handle)
        for booster in (stored, unpickled, lgb.Booster(model_file="saved.txt")):
            assert np.array_equal(booster.predict(X_valid), expected)
        assert "autotrack" not in sys.modules
        print("ok")
    """
    loaded = subprocess.run([sys.executable, "-c", textwrap.dedent(check)], cwd=directory,
                            env=untracked_env(), capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "ok"


# -- lightgbm.cv ------------------------------------------------------------------------------------
def test_cv_records_mean_and_stdv_per_iteration_and_the_folds(run_script, store):
    result = run_script(script(DATA, """
        cv = lgb.cv({**PARAMS, "metric": "binary_logloss", "early_stopping_round": 3}, lgb.Dataset(X, y),
                    num_boost_round=100, nfold=3, seed=1, return_cvbooster=True)
        folds = cv.pop("cvbooster")
        np.save("X.npy", X)
        np.save("expected.npy", np.array(folds.predict(X)))
        print(json.dumps({"cv": cv, "best_iteration": folds.best_iteration,
                          "importances": {kind: np.mean(folds.feature_importance(importance_type=kind), axis=0).tolist()
                                          for kind in ("gain", "split")}}))
    """))
    truth = printed(result)
    run = the_run(store, "lightgbm.cv(binary)")
    best = truth["best_iteration"]
    means, stdvs = history_values(run, "valid.binary_logloss.mean"), history_values(run, "valid.binary_logloss.stdv")
    # cv() cuts its results at the best iteration; the run keeps the rounds after it that were trained.
    assert len(means) == len(stdvs) == best + 3
    assert means[:best] == pytest.approx(truth["cv"]["valid binary_logloss-mean"], rel=1e-12)
    assert stdvs[:best] == pytest.approx(truth["cv"]["valid binary_logloss-stdv"], rel=1e-12)
    assert run["tags"]["early_stopping"] == "fired"
    assert run["metrics"]["best_iteration"] == best
    assert run["metrics"]["best_score"] == pytest.approx(truth["cv"]["valid binary_logloss-mean"][-1])
    params = run["params"]
    assert (params["nfold"], params["learning_rate"], params["early_stopping.stopping_rounds"]) == (3, 0.5, 3)
    assert list(run["importances"]["split"].values()) == pytest.approx(truth["importances"]["split"])
    assert list(run["importances"]["gain"].values()) == pytest.approx(truth["importances"]["gain"])
    folds = lgb.CVBooster(model_file=artifact_path(run, "cvbooster.json"))
    assert np.array_equal(np.array(folds.predict(np.load(store.parent / "X.npy"))),
                          np.load(store.parent / "expected.npy"))


# -- the scikit-learn API ---------------------------------------------------------------------------
def test_sklearn_api_is_one_run_with_lightgbms_own_records(run_script, store):
    result = run_script(script(DATA, """
        import pandas as pd

        frame = pd.DataFrame(X, columns=["age", "income", "height", "weight"])
        model = lgb.LGBMClassifier(n_estimators=100, learning_rate=0.5, num_leaves=7, verbose=-1, n_jobs=1)
        model.fit(frame[:400], y_train, eval_set=[(frame[400:], y_valid)],
                  callbacks=[lgb.early_stopping(3, verbose=False)])
        np.save("X_valid.npy", X_valid)
        np.save("y_valid.npy", y_valid)
        np.save("expected.npy", model.predict_proba(frame[400:])[:, 1])
        booster = model.booster_
        print(json.dumps({"evals": model.evals_result_["valid_0"]["binary_logloss"],
                          "best_iteration": model.best_iteration_,
                          "importances": {kind: dict(zip(booster.feature_name(),
                                                         booster.feature_importance(importance_type=kind)))
                                          for kind in ("gain", "split")}}, default=float))
    """))
    truth = printed(result)
    assert [run["name"] for run in stored_runs(store)] == ["LGBMClassifier"]  # not a second lightgbm.train
    run = the_run(store, "LGBMClassifier")
    assert history_values(run, "valid_0.binary_logloss") == pytest.approx(truth["evals"], rel=1e-12)
    assert run["metrics"]["best_iteration"] == truth["best_iteration"]
    assert run["tags"]["early_stopping"] == "fired"
    assert run["importances"] == {kind: pytest.approx(values) for kind, values in truth["importances"].items()}
    assert run["params"]["num_iterations"] == 100  # n_estimators, under LightGBM's main name
    assert run["params"]["feature_fraction"] == 1.0  # colsample_bytree, under LightGBM's main name
    assert run["params"]["learning_rate"] == 0.5 and run["params"]["num_leaves"] == 7
    assert run["params"]["importance_type"] == "split"  # the wrapper's own, which LightGBM does not know
    assert_one_key_per_parameter(run["params"])
    assert len(run["params"]) < 30
    assert [a["name"] for a in run["artifacts"] if a["name"] != "sources.json"] == ["model.txt"]
    # eval_set is data the model saw: described under the name of its metrics, with its variable
    datasets = {d["role"]: d for d in run["datasets"]}
    assert set(datasets) == {"train.X", "train.y", "valid.valid_0.X", "valid.valid_0.y", "predict_proba.X"}
    assert datasets["valid.valid_0.X"]["rows"] == 100
    assert datasets["valid.valid_0.X"]["name"] is None  # `frame[400:]`: an expression, no variable
    assert datasets["valid.valid_0.X"]["fingerprint"] == datasets["predict_proba.X"]["fingerprint"]
    assert datasets["valid.valid_0.y"]["fingerprint"] == fingerprint(np.load(store.parent / "y_valid.npy"))
    stored = lgb.Booster(model_file=artifact_path(run, "model.txt"))
    assert np.array_equal(stored.predict(np.load(store.parent / "X_valid.npy")),
                          np.load(store.parent / "expected.npy"))


def assert_one_key_per_parameter(params: dict) -> None:
    """No two stored keys are aliases of one LightGBM parameter (n_estimators and num_iterations)."""
    from lightgbm.basic import _ConfigAliases

    for primary, aliases in _ConfigAliases._get_all_param_aliases().items():
        present = sorted(set(aliases) & set(params))
        assert len(present) <= 1, f"{present} are one parameter ({primary})"


def test_a_learning_rate_schedule_keeps_the_rate_set_and_records_each_iterations(run_script, store):
    result = run_script(script(DATA, """
        rates = []
        def decay(iteration):
            rates.append(0.4 * 0.9 ** iteration)
            return rates[-1]
        train_data = lgb.Dataset(X_train, y_train)
        lgb.train({**PARAMS, "learning_rate": 0.4}, train_data, num_boost_round=8, valid_sets=[train_data],
                  callbacks=[lgb.reset_parameter(learning_rate=decay)])
        print(json.dumps({"rates": rates}))
    """))
    rates = printed(result)["rates"]
    run = the_run(store, "lightgbm.train(binary)")
    assert run["params"]["learning_rate"] == 0.4  # what the user set, not the last iteration's
    assert history_values(run, "schedule.learning_rate") == pytest.approx(rates)
    assert run["tags"]["schedule"] == "learning_rate" and run["goals"]["schedule.learning_rate"] == "none"


def test_continued_training_is_tagged_and_numbers_its_steps_on(run_script, store):
    run_script(script(DATA, """
        train_data = lgb.Dataset(X_train, y_train, free_raw_data=False)
        first = lgb.train(PARAMS, train_data, num_boost_round=4, keep_training_booster=True)
        lgb.train(PARAMS, train_data, num_boost_round=3, init_model=first, valid_sets=[train_data])
    """))
    first, second = sorted(stored_runs(store), key=lambda run: run["start_time"])
    assert "continued_training" not in first["tags"]
    assert second["tags"]["continued_training"] == "from round 4"
    assert [step for step, _ in second["history"]["training.binary_logloss"]] == [4, 5, 6]


# -- enabling and disabling -------------------------------------------------------------------------
def test_enable_after_import_tracks_changes_no_result_and_disable_restores_the_originals(run_script, store):
    result = run_script(script(DATA, """
        import autotrack

        def names():
            return [lgb.train, lgb.cv, lgb.engine.train, lgb.engine.cv, lgb.Booster.predict]

        def fit():  # bagging and feature subsampling: randomness that the seed must drive alike
            data = lgb.Dataset(X, y)
            params = {**PARAMS, "bagging_fraction": 0.7, "bagging_freq": 1, "feature_fraction": 0.6, "seed": 7}
            return lgb.train(params, data, num_boost_round=8, valid_sets=[data])

        originals = names()
        untracked = fit()
        autotrack.enable()
        patched = [now is not before for now, before in zip(names(), originals)]
        tracked = fit()
        tracked.predict(X[:5])
        autotrack.disable()
        restored = [now is before for now, before in zip(names(), originals)]
        again = fit()
        print(json.dumps({
            "patched": patched, "restored": restored,
            "same_model": untracked.model_to_string() == tracked.model_to_string() == again.model_to_string(),
            "same_predictions": bool(np.array_equal(untracked.predict(X), tracked.predict(X))),
        }))
    """), tracked=False)
    outcome = printed(result)
    assert outcome == {"patched": [True] * 5, "restored": [True] * 5, "same_model": True, "same_predictions": True}
    run = the_run(store, "lightgbm.train(binary)")  # the fits before enable() and after disable() made none
    assert len(history_values(run, "training.binary_logloss")) == 8
    assert run["timings"]["predict"]["count"] == 1


def test_enable_before_import_tracks_training(run_script, store):
    result = run_script(script("""
        import sys
        import autotrack

        autotrack.enable()
        imported_early = "lightgbm" in sys.modules
    """, DATA, """
        data = lgb.Dataset(X, y)
        lgb.train(PARAMS, data, num_boost_round=5, valid_sets=[data])
        print(json.dumps({"imported_early": imported_early}))
    """), tracked=False)
    assert printed(result) == {"imported_early": False}
    assert len(history_values(the_run(store, "lightgbm.train(binary)"), "training.binary_logloss")) == 5


def test_importing_the_integration_and_its_callback_does_not_import_lightgbm():
    code = ("import sys\nimport autotrack.integrations.lightgbm\n"
            "from autotrack.integrations.lightgbm import AutotrackCallback\n"
            "print(sorted(name for name in ('lightgbm', 'numpy', 'sklearn') if name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], env=untracked_env(), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# -- failures ---------------------------------------------------------------------------------------
def test_users_exception_in_training_propagates_unchanged_and_the_run_fails(run_script, store):
    result = run_script(script(DATA, """
        class Exploding(ValueError):
            pass

        def explode(env):
            if env.iteration == 2:
                raise Exploding("boom at iteration 2")

        data = lgb.Dataset(X, y)
        try:
            lgb.train(PARAMS, data, num_boost_round=10, valid_sets=[data], callbacks=[explode])
        except Exception as error:
            print(json.dumps({"type": type(error).__qualname__, "message": str(error)}))
    """))
    assert printed(result) == {"type": "Exploding", "message": "boom at iteration 2"}
    run = the_run(store, "lightgbm.train(binary)")
    assert run["status"] == "failed"
    assert run["error"] == "Exploding: boom at iteration 2"
    assert run["timings"]["fit_s"] > 0
    # The user's callback runs before autotrack's (negative default order): iteration 2 never ended.
    assert len(history_values(run, "training.binary_logloss")) == 2


# -- the explicit callback --------------------------------------------------------------------------
def test_explicit_callback_without_enable_records_each_training_to_its_end(run_script, store):
    result = run_script(script(DATA, """
        import autotrack
        from autotrack.integrations.lightgbm import AutotrackCallback

        callback = AutotrackCallback()
        train_data = lgb.Dataset(X_train, y_train)
        valid_data = lgb.Dataset(X_valid, y_valid, reference=train_data)
        evals = {}
        stopped = lgb.train(PARAMS, train_data, num_boost_round=100, valid_sets=[valid_data],
                            callbacks=[lgb.early_stopping(3, verbose=False), lgb.record_evaluation(evals), callback])
        data = lgb.Dataset(X, y)
        lgb.train(PARAMS, data, num_boost_round=6, valid_sets=[data], callbacks=[callback])  # used again
        with autotrack.start_run(name="manual"):
            lgb.train(PARAMS, lgb.Dataset(X, y), num_boost_round=4, callbacks=[AutotrackCallback()])
        np.save("X_valid.npy", X_valid)
        np.save("expected.npy", stopped.predict(X_valid))
        print(json.dumps({
            "patched": hasattr(lgb.train, "__autotrack_original__"),
            "evals": evals["valid_0"]["binary_logloss"], "best_iteration": stopped.best_iteration,
            "importances": {kind: stopped.feature_importance(importance_type=kind).tolist()
                            for kind in ("gain", "split")},
        }))
    """), tracked=False)
    truth = printed(result)
    assert truth["patched"] is False
    runs = stored_runs(store)
    assert [(r["name"], r["source"], r["status"]) for r in runs] == [
        ("lightgbm.train", "callback", "finished"), ("lightgbm.train", "callback", "finished"),
        ("manual", "explicit", "finished")]
    stopped, full, manual = runs
    assert history_values(stopped, "valid_0.binary_logloss") == pytest.approx(truth["evals"], rel=1e-12)
    assert stopped["tags"]["early_stopping"] == "fired"
    assert stopped["metrics"]["best_iteration"] == truth["best_iteration"]
    assert stopped["params"]["learning_rate"] == 0.5 and stopped["params"]["early_stopping.stopping_rounds"] == 3
    # Up to the best iteration, as LightGBM counts them once training has set it. The callback
    # reads the booster before train() reloads it from its model text, which rounds split gains.
    assert list(stopped["importances"]["gain"].values()) == pytest.approx(truth["importances"]["gain"], rel=1e-5)
    assert list(stopped["importances"]["split"].values()) == pytest.approx(truth["importances"]["split"])
    model = lgb.Booster(model_file=artifact_path(stopped, "model.txt"))
    assert np.array_equal(model.predict(np.load(store.parent / "X_valid.npy")), np.load(store.parent / "expected.npy"))
    assert {d["role"]: d["rows"] for d in stopped["datasets"]} == {"train.X": 400, "valid.valid_0": 100}
    assert len(history_values(full, "training.binary_logloss")) == 6
    assert (full["tags"]["early_stopping"], full["timings"]["iterations"]) == ("off", 6)
    assert "best_iteration" not in full["metrics"]
    assert manual["params"]["num_iterations"] == 4 and manual["timings"]["iterations"] == 4
    assert set(manual["importances"]) == {"gain", "split"}


def test_explicit_callback_with_autotrack_enabled_gives_one_run_and_no_duplicate_points(run_script, store):
    run_script(script(DATA, """
        from autotrack.integrations.lightgbm import AutotrackCallback

        data = lgb.Dataset(X_train, y_train)
        lgb.train(PARAMS, data, num_boost_round=100, valid_sets=[data, lgb.Dataset(X_valid, y_valid)],
                  callbacks=[AutotrackCallback(), lgb.early_stopping(3, verbose=False)])
        lgb.LGBMClassifier(n_estimators=5, verbose=-1, n_jobs=1).fit(
            X, y, eval_set=[(X, y)], callbacks=[AutotrackCallback()])
    """))
    runs = stored_runs(store)
    assert sorted(r["name"] for r in runs) == ["LGBMClassifier", "lightgbm.train(binary)"]
    for run in runs:
        counts = points_per_key_and_step(store, run["id"])
        assert counts and set(counts.values()) == {1}, run["name"]
    train = the_run(store, "lightgbm.train(binary)")
    assert train["tags"]["early_stopping"] == "fired"
    steps = len(history_values(train, "valid_1.binary_logloss"))
    assert train["metrics"]["best_iteration"] == steps - 3
    assert len(history_values(the_run(store, "LGBMClassifier"), "training.binary_logloss")) == 5
