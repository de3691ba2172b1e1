"""XGBoost end to end: scripts run as a user runs them, the store read back with autotrack.get_run.

Each script prints, as its last line, a JSON object of what XGBoost itself reports (evals_result,
get_score, best_iteration, cv's table), so the tests compare the stored run with the real figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter

import pytest
from scripting import printed, script

pytest.importorskip("xgboost")
pytest.importorskip("sklearn")

import autotrack  # noqa: E402  (reading the store only: nothing here enables tracking)

DATA = """
import json
import numpy as np
import xgboost as xgb

rng = np.random.default_rng(0)
X = rng.standard_normal((240, 5))
y = (X[:, 0] + 0.5 * X[:, 1] + 0.8 * rng.standard_normal(240) > 0).astype(float)
X_train, y_train, X_valid, y_valid = X[:160], y[:160], X[160:], y[160:]
PARAMS = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "nthread": 1,
          "eval_metric": ["logloss", "auc"]}
dtrain = xgb.DMatrix(X_train, label=y_train)
dvalid = xgb.DMatrix(X_valid, label=y_valid)
EVALS = [(dtrain, "train"), (dvalid, "eval")]
"""


def stored_runs(store) -> list[dict]:
    """Every run in the store, in full, oldest first; [] when nothing was ever recorded."""
    if not (store / "runs.db").exists():
        return []
    summaries = autotrack.runs(store=str(store))
    return sorted((autotrack.get_run(run["id"], store=str(store)) for run in summaries),
                  key=lambda run: run["start_time"])


def one_run(store, **expected) -> dict:
    """The one stored run whose keys (or params, given as `params_<name>`) match `expected`."""
    matches = [run for run in stored_runs(store) if all(
        (run["params"].get(key[7:]) if key.startswith("params_") else run.get(key)) == value
        for key, value in expected.items())]
    assert len(matches) == 1, f"expected one run matching {expected}, found {len(matches)}"
    return matches[0]


def assert_history(run: dict, evals_result: dict, suffix: str = "") -> None:
    """Every point XGBoost reported, at its 0-based iteration, as `<eval set>.<metric>`."""
    for data_name, metrics in evals_result.items():
        for metric_name, values in metrics.items():
            stored = run["history"][f"{data_name}.{metric_name}{suffix}"]
            assert [step for step, _ in stored] == list(range(len(values)))
            assert [value for _, value in stored] == pytest.approx(values, rel=1e-12)


def untracked_env() -> dict:
    return {key: value for key, value in os.environ.items() if not key.startswith("AUTOTRACK")}


# -- xgboost.train ------------------------------------------------------------------------------
def test_train_records_params_history_importances_timings_data_and_predict_latency(run_script, store):
    result = run_script(script(DATA, """
        history = {}
        booster = xgb.train(PARAMS, dtrain, 8, evals=EVALS, evals_result=history, verbose_eval=False)
        for _ in range(3):
            booster.predict(dvalid)
        booster.inplace_predict(X_valid)
        booster.inplace_predict(X_valid)
        config = json.loads(booster.save_config())["learner"]
        print(json.dumps({"history": history, "label_mean": float(y_train.mean()),
                          "gain": booster.get_score(importance_type="total_gain"),
                          "split": booster.get_score(importance_type="weight"),
                          "tree_params": config["gradient_booster"]["tree_train_param"]}))
    """))
    truth = printed(result)
    run = one_run(store, name="xgboost.train(binary:logistic)")
    assert (run["status"], run["source"]) == ("finished", "auto")
    assert run["tags"] == {"model.class": "xgboost.core.Booster", "early_stopping": "off"}
    assert_history(run, truth["history"])
    assert set(run["history"]) == {"train.logloss", "train.auc", "eval.logloss", "eval.auc"}

    params = run["params"]
    assert {key: params[key] for key in ("objective", "max_depth", "eta", "nthread", "num_boost_round")} == {
        "objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "nthread": 1, "num_boost_round": 8}
    assert params["eval_metric"] == ["logloss", "auc"]
    # Defaults the user never set, resolved by the trained booster.
    for name in ("gamma", "min_child_weight", "subsample", "colsample_bytree", "lambda", "alpha", "max_bin"):
        assert params[name] == pytest.approx(float(truth["tree_params"][name]), rel=1e-6), name
    assert params["booster"] == "gbtree" and params["tree_method"] in ("auto", "hist")

    features = [f"f{index}" for index in range(5)]
    assert list(run["importances"]["gain"]) == features  # unused features are there, as 0
    assert run["importances"]["gain"] == pytest.approx({f: truth["gain"].get(f, 0.0) for f in features})
    assert run["importances"]["split"] == pytest.approx({f: truth["split"].get(f, 0.0) for f in features})

    timings = run["timings"]
    assert timings["iterations"] == 8
    assert 0 < 8 * timings["iteration_mean_s"] <= timings["fit_s"]
    assert timings["predict"]["count"] == 3 and timings["inplace_predict"]["count"] == 2

    datasets = {d["role"]: d for d in run["datasets"]}
    assert set(datasets) == {"train.X", "train.y", "valid.eval", "predict.X", "inplace_predict.X"}
    # the label the DMatrix holds is the training target; the eval set is data the model saw
    assert datasets["train.y"]["rows"] == 160
    assert datasets["train.y"]["target"]["mean"] == pytest.approx(truth["label_mean"])
    assert (datasets["valid.eval"]["name"], datasets["valid.eval"]["rows"]) == ("dvalid", 80)
    assert datasets["valid.eval"]["fingerprint"] == datasets["predict.X"]["fingerprint"]
    train = datasets["train.X"]
    assert (train["name"], train["rows"], train["columns"]) == ("dtrain", 160, 5)
    assert [field["name"] for field in train["schema"]] == features
    assert train["target"]["mean"] == pytest.approx(truth["label_mean"])
    assert (datasets["predict.X"]["name"], datasets["predict.X"]["rows"]) == ("dvalid", 80)
    assert datasets["inplace_predict.X"]["rows"] == 80


def test_early_stopping_outcome_best_iteration_and_settings(run_script, store):
    result = run_script(script(DATA, """
        out = {}
        history = {}
        stopped = xgb.train(PARAMS, dtrain, 300, evals=EVALS, early_stopping_rounds=2,
                            evals_result=history, verbose_eval=False)
        out["stopped"] = {"history": history, "best_iteration": stopped.best_iteration,
                          "best_score": stopped.best_score}
        history = {}
        stopping = xgb.callback.EarlyStopping(rounds=50, metric_name="logloss", data_name="eval",
                                              save_best=True)
        kept = xgb.train(PARAMS, dtrain, 4, evals=EVALS, callbacks=[stopping], evals_result=history,
                         verbose_eval=False)
        out["kept"] = {"history": history, "best_iteration": kept.best_iteration,
                       "best_score": kept.best_score}
        print(json.dumps(out))
    """))
    truth = printed(result)
    stopped = one_run(store, params_num_boost_round=300)
    rounds = len(truth["stopped"]["history"]["eval"]["logloss"])
    assert rounds < 300
    assert stopped["tags"]["early_stopping"] == "fired"
    assert stopped["params"]["early_stopping_rounds"] == 2
    assert_history(stopped, truth["stopped"]["history"])  # the iteration that stopped it, too
    assert stopped["timings"]["iterations"] == rounds
    assert stopped["metrics"]["best_iteration"] == truth["stopped"]["best_iteration"]
    assert stopped["metrics"]["best_score"] == pytest.approx(truth["stopped"]["best_score"])
    assert len(stopped["history"]["best_iteration"]) == 1

    kept = one_run(store, params_num_boost_round=4)
    assert kept["tags"]["early_stopping"] == "not fired"
    assert {key: value for key, value in kept["params"].items() if key.startswith("early_stopping")} == {
        "early_stopping.rounds": 50, "early_stopping.metric_name": "logloss",
        "early_stopping.data_name": "eval", "early_stopping.save_best": True,
        "early_stopping.min_delta": 0.0}
    assert kept["params"]["callbacks"] == ["EarlyStopping"]
    assert_history(kept, truth["kept"]["history"])
    assert kept["metrics"]["best_iteration"] == truth["kept"]["best_iteration"]


def test_cv_records_mean_and_std_per_iteration(run_script, store):
    result = run_script(script(DATA, """
        table = xgb.cv(PARAMS, dtrain, 5, nfold=3, seed=1)
        stopped = xgb.cv(PARAMS, dtrain, 300, nfold=3, seed=1, early_stopping_rounds=2)
        print(json.dumps({"table": table.to_dict(orient="list"), "stopped_rows": len(stopped)}))
    """))
    truth = printed(result)
    run = one_run(store, name="xgboost.cv(binary:logistic)", params_num_boost_round=5)
    assert (run["params"]["cv.nfold"], run["params"]["cv.seed"], run["params"]["cv.shuffle"]) == (3, 1, True)
    assert run["params"]["max_depth"] == 3  # resolved from the first fold's booster
    assert run["timings"]["iterations"] == 5
    assert run["tags"]["early_stopping"] == "off"
    for column, values in truth["table"].items():  # "train-logloss-mean" -> "train.logloss-mean"
        data_name, _, metric = column.partition("-")
        stored = run["history"][f"{data_name}.{metric}"]
        assert stored == [[step, pytest.approx(value, rel=1e-12)] for step, value in enumerate(values)]
    assert len(run["history"]) == len(truth["table"]) == 8

    # The second run of a name says what differs from the first.
    stopped = one_run(store, name="xgboost.cv(binary:logistic) num_boost_round=300 early_stopping_rounds=2")
    assert stopped["tags"]["early_stopping"] == "fired"
    # cv keeps its table up to the best iteration; the history has every iteration it ran.
    assert stopped["metrics"]["best_iteration"] == truth["stopped_rows"] - 1
    assert len(stopped["history"]["test.logloss-mean"]) == stopped["timings"]["iterations"] > truth["stopped_rows"]


# -- datasets -----------------------------------------------------------------------------------
def test_dmatrix_fingerprint_is_its_content_however_it_was_built(run_script, store):
    run_script(script(DATA, """
        import scipy.sparse

        def train(dmatrix, label):
            xgb.train({"nthread": 1, "max_depth": 2, "label": label}, dmatrix, 1)

        dtrain.save_binary("train.buffer")
        train(dtrain, "numpy")
        train(xgb.DMatrix(scipy.sparse.csr_matrix(X_train), label=y_train), "scipy")
        train(xgb.DMatrix("train.buffer"), "binary file")
        changed = X_train.copy()
        changed[-1, -1] += 1e-3
        train(xgb.DMatrix(changed, label=y_train), "one value")
        relabelled = y_train.copy()
        relabelled[-1] = 1 - relabelled[-1]
        train(xgb.DMatrix(X_train, label=relabelled), "one label")
        missing, zero = X_train.copy(), X_train.copy()
        missing[-1, -1], zero[-1, -1] = np.nan, 0.0
        train(xgb.DMatrix(missing, label=y_train), "missing")
        train(xgb.DMatrix(zero, label=y_train), "zero")
        dtrain.set_label(relabelled)  # the same DMatrix object, described again
        train(dtrain, "set_label")
    """), env={"AUTOTRACK_LOG_MODELS": "0"})
    fingerprints = {}
    for run in stored_runs(store):
        (train_x,) = [d for d in run["datasets"] if d["role"] == "train.X"]
        assert (train_x["rows"], train_x["columns"]) == (160, 5)
        fingerprints[run["params"]["label"]] = train_x["fingerprint"]
    assert len(fingerprints) == 8
    assert fingerprints["numpy"] == fingerprints["scipy"] == fingerprints["binary file"]
    assert fingerprints["set_label"] == fingerprints["one label"]
    assert len(set(fingerprints.values())) == 5  # each change, and missing vs 0, tells apart


# -- models -------------------------------------------------------------------------------------
def test_model_artifacts_and_pickles_load_without_autotrack_and_predict_the_same(run_script, store, tmp_path):
    run_script(script(DATA, """
        import pickle

        booster = xgb.train(PARAMS, dtrain, 5)
        classifier = xgb.XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1).fit(X_train, y_train)
        np.save("X_valid.npy", X_valid)
        np.save("booster.npy", booster.predict(dvalid))
        np.save("classifier.npy", classifier.predict_proba(X_valid))
        with open("models.pkl", "wb") as handle:
            pickle.dump((booster, classifier), handle)
    """))
    booster_run = one_run(store, name="xgboost.train(binary:logistic)")
    classifier_run = one_run(store, name="XGBClassifier")
    paths = {}
    for key, run in (("booster", booster_run), ("classifier", classifier_run)):
        (artifact,) = [a for a in run["artifacts"] if a["name"] != "sources.json"]
        assert artifact["name"] == "model.ubj"
        assert os.path.getsize(artifact["path"]) == artifact["bytes"] > 0
        paths[key] = artifact["path"]
    check = textwrap.dedent(f"""
        import pickle, sys
        import numpy as np
        import xgboost as xgb
        X_valid = np.load("X_valid.npy")
        booster = xgb.Booster(model_file={paths["booster"]!r})
        assert np.array_equal(booster.predict(xgb.DMatrix(X_valid)), np.load("booster.npy"))
        classifier = xgb.XGBClassifier()
        classifier.load_model({paths["classifier"]!r})
        assert np.array_equal(classifier.predict_proba(X_valid), np.load("classifier.npy"))
        with open("models.pkl", "rb") as handle:
            booster, classifier = pickle.load(handle)
        assert classifier.callbacks is None
        assert np.array_equal(booster.predict(xgb.DMatrix(X_valid)), np.load("booster.npy"))
        assert np.array_equal(classifier.predict_proba(X_valid), np.load("classifier.npy"))
        assert "autotrack" not in sys.modules, "autotrack was imported"
        print("ok")
    """)
    loaded = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, env=untracked_env(),
                            capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "ok"


# -- the scikit-learn API -----------------------------------------------------------------------
def test_sklearn_api_estimators_get_native_answers_and_one_run_each(run_script, store):
    result = run_script(script(DATA, """
        class Counting(xgb.callback.TrainingCallback):
            def __init__(self):
                self.iterations = 0
            def after_iteration(self, model, epoch, evals_log):
                self.iterations += 1
                return False

        classifier = xgb.XGBClassifier(n_estimators=300, max_depth=2, early_stopping_rounds=3,
                                       eval_metric="logloss", n_jobs=1)
        classifier.fit(X_train, y_train, eval_set=[(X_train, y_train), (X_valid, y_valid)], verbose=False)
        users = [Counting()]
        regressor = xgb.XGBRegressor(n_estimators=4, max_depth=2, callbacks=users, n_jobs=1)
        regressor.fit(X_train, y_train, eval_set=[(X_valid, y_valid)], verbose=False)
        forest = xgb.XGBRFRegressor(n_estimators=3, max_depth=2, n_jobs=1)
        forest.fit(X_train, y_train, eval_set=[(X_valid, y_valid)], verbose=False)
        print(json.dumps({
            "classifier": {"history": classifier.evals_result(), "best_iteration": classifier.best_iteration,
                           "callbacks": classifier.callbacks,
                           "gain": classifier.get_booster().get_score(importance_type="total_gain")},
            "regressor": {"history": regressor.evals_result(), "same_list": regressor.callbacks is users,
                          "user_callbacks": len(users), "counted": users[0].iterations},
            "forest": {"history": forest.evals_result()},
        }))
    """))
    truth = printed(result)
    runs = stored_runs(store)
    assert sorted(run["name"] for run in runs) == ["XGBClassifier", "XGBRFRegressor", "XGBRegressor"]

    classifier = one_run(store, name="XGBClassifier")
    assert truth["classifier"]["callbacks"] is None  # the estimator got its own value back
    assert_history(classifier, truth["classifier"]["history"])
    assert classifier["tags"]["early_stopping"] == "fired"
    assert classifier["metrics"]["best_iteration"] == truth["classifier"]["best_iteration"]
    params = classifier["params"]
    assert (params["num_boost_round"], params["max_depth"]) == (300, 2)
    # one key per parameter: the scikit-learn names are XGBoost's own (n_estimators, learning_rate)
    assert not {"n_estimators", "learning_rate", "reg_lambda", "reg_alpha", "random_state", "n_jobs"} & set(params)
    assert params["early_stopping_rounds"] == 3 and params["eta"] == 0.3  # a resolved default
    assert set(classifier["importances"]) == {"gain", "split"}
    gain = truth["classifier"]["gain"]
    assert classifier["importances"]["gain"] == pytest.approx({f"f{i}": gain.get(f"f{i}", 0.0) for i in range(5)})
    assert [artifact["name"] for artifact in classifier["artifacts"] if artifact["name"] != "sources.json"] == ["model.ubj"]
    # every eval set, named as XGBoost names it in the metrics, with the user's variables
    evaluated = {d["role"]: d["name"] for d in classifier["datasets"] if d["role"].startswith("valid.")}
    assert evaluated == {"valid.validation_0.X": "X_train", "valid.validation_0.y": "y_train",
                         "valid.validation_1.X": "X_valid", "valid.validation_1.y": "y_valid"}
    assert classifier["timings"]["iterations"] == len(truth["classifier"]["history"]["validation_0"]["logloss"])

    regressor = one_run(store, name="XGBRegressor")
    users = truth["regressor"]  # the user's list came back as it was, and their callback ran
    assert (users["same_list"], users["user_callbacks"], users["counted"]) == (True, 1, 4)
    assert regressor["params"]["callbacks"] == ["Counting"]
    assert regressor["tags"]["early_stopping"] == "off"
    assert_history(regressor, truth["regressor"]["history"])

    forest = one_run(store, name="XGBRFRegressor")  # takes no callbacks: read after the fit
    assert_history(forest, truth["forest"]["history"])
    assert forest["params"]["num_parallel_tree"] == 3


# -- switching on and off -------------------------------------------------------------------------
def test_enable_before_importing_xgboost(run_script, store):
    result = run_script("""
        import autotrack
        autotrack.enable()
        import json
        import numpy as np
        import xgboost as xgb

        X = np.random.default_rng(0).standard_normal((50, 3))
        dtrain = xgb.DMatrix(X, label=X[:, 0])
        history = {}
        xgb.train({"nthread": 1}, dtrain, 3, evals=[(dtrain, "train")], evals_result=history,
                  verbose_eval=False)
        print(json.dumps(history))
    """, tracked=False)
    # No objective given: XGBoost's default names the run.
    assert_history(one_run(store, name="xgboost.train(reg:squarederror)"), printed(result))


def test_enable_after_import_then_disable_restores_and_tracking_never_changes_results(run_script, store):
    result = run_script(script("import autotrack", DATA, """
        import hashlib

        def current():
            return [xgb.train, xgb.training.train, xgb.cv, xgb.training.cv,
                    xgb.Booster.__dict__["predict"], xgb.Booster.__dict__["inplace_predict"]]

        def seeded_training():
            history = {}
            params = {**PARAMS, "subsample": 0.7, "colsample_bytree": 0.6, "seed": 3}
            booster = xgb.train(params, dtrain, 6, evals=EVALS, evals_result=history, verbose_eval=False,
                                early_stopping_rounds=3)
            classifier = xgb.XGBClassifier(n_estimators=6, subsample=0.7, random_state=3, n_jobs=1)
            classifier.fit(X_train, y_train)
            return {"history": history, "booster": hashlib.sha256(booster.save_raw("ubj")).hexdigest(),
                    "predictions": booster.predict(dvalid).tolist(),
                    "classifier": classifier.predict_proba(X_valid).tolist()}

        originals = current()
        untracked = seeded_training()
        autotrack.enable()
        patched = [a is not b for a, b in zip(current(), originals)]
        tracked = seeded_training()
        autotrack.disable()
        restored = [a is b for a, b in zip(current(), originals)]
        seeded_training()  # after disable: no run
        print(json.dumps({"patched": patched, "restored": restored, "untracked": untracked,
                          "tracked": tracked}))
    """), tracked=False)
    truth = printed(result)
    assert truth["patched"] == truth["restored"] == [True] * 6
    assert truth["tracked"] == truth["untracked"]
    assert sorted(run["name"] for run in stored_runs(store)) == ["XGBClassifier", "xgboost.train(binary:logistic)"]
    assert_history(one_run(store, name="xgboost.train(binary:logistic)"), truth["tracked"]["history"])


def test_users_exception_in_training_propagates_unchanged_and_the_run_fails(run_script, store):
    result = run_script(script(DATA, """
        def objective(predt, dmatrix):
            if objective.calls == 3:
                raise ValueError("objective exploded at 3")
            objective.calls += 1
            p = 1 / (1 + np.exp(-predt))
            return p - dmatrix.get_label(), p * (1 - p)
        objective.calls = 0

        try:
            xgb.train({"nthread": 1, "eval_metric": "logloss"}, dtrain, 10, obj=objective,
                      evals=[(dvalid, "eval")], verbose_eval=False)
        except Exception as exc:
            print(json.dumps({"type": type(exc).__name__, "message": str(exc)}))
    """))
    assert printed(result) == {"type": "ValueError", "message": "objective exploded at 3"}
    run = one_run(store, name="xgboost.train(custom)")  # obj=: the user's own objective
    assert (run["status"], run["error"]) == ("failed", "ValueError: objective exploded at 3")
    assert [step for step, _ in run["history"]["eval.logloss"]] == [0, 1, 2]  # recorded as it trained
    assert run["params"]["obj"] == "__main__.objective"


# -- the explicit callback ----------------------------------------------------------------------
def test_explicit_callback_without_enable_records_one_run(run_script, store):
    result = run_script(script("""
        import pickle
        import sys
        import autotrack
        import autotrack.integrations.xgboost as integration
        assert "xgboost" not in sys.modules, "importing the integration imported xgboost"
        from autotrack.integrations.xgboost import AutotrackCallback
        assert issubclass(AutotrackCallback, sys.modules["xgboost"].callback.TrainingCallback)
        copied = pickle.loads(pickle.dumps(AutotrackCallback()))
        assert type(copied) is AutotrackCallback
    """, DATA, """
        history = {}
        callback = AutotrackCallback()
        booster = xgb.train(PARAMS, dtrain, 300, evals=EVALS, early_stopping_rounds=2,
                            callbacks=[callback], evals_result=history, verbose_eval=False)
        with autotrack.start_run(name="by hand"):
            xgb.train(PARAMS, dtrain, 3, callbacks=[callback], evals=EVALS, verbose_eval=False)
        print(json.dumps({"history": history, "best_iteration": booster.best_iteration,
                          "split": booster.get_score(importance_type="weight")}))
    """), tracked=False)
    truth = printed(result)
    runs = stored_runs(store)
    assert [(run["name"], run["source"], run["status"]) for run in runs] == [
        ("xgboost.train", "callback", "finished"), ("by hand", "explicit", "finished")]
    run = runs[0]
    assert_history(run, truth["history"])
    assert run["metrics"]["best_iteration"] == truth["best_iteration"]
    assert run["tags"] == {"early_stopping": "on", "model.class": "xgboost.core.Booster"}
    assert (run["params"]["max_depth"], run["params"]["eval_metric"]) == (3, ["logloss", "auc"])
    assert run["importances"]["split"] == pytest.approx(
        {f"f{i}": truth["split"].get(f"f{i}", 0.0) for i in range(5)})
    assert [artifact["name"] for artifact in run["artifacts"] if artifact["name"] != "sources.json"] == ["model.ubj"]
    assert run["timings"]["iterations"] == len(truth["history"]["eval"]["logloss"])
    by_hand = runs[1]
    assert len(by_hand["history"]["eval.auc"]) == 3 and by_hand["timings"]["iterations"] == 3


def test_explicit_callback_with_autotrack_enabled_makes_one_run_without_duplicate_points(run_script, store):
    result = run_script(script(DATA, """
        from autotrack.integrations.xgboost import AutotrackCallback

        booster = xgb.train(PARAMS, dtrain, 300, evals=EVALS, early_stopping_rounds=2,
                            callbacks=[AutotrackCallback()], verbose_eval=False)
        users = [AutotrackCallback()]
        classifier = xgb.XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1, callbacks=users)
        classifier.fit(X_train, y_train, eval_set=[(X_valid, y_valid)], verbose=False)
        print(json.dumps({"booster_rounds": booster.num_boosted_rounds(),
                          "same_list": classifier.callbacks is users and len(users) == 1}))
    """))
    truth = printed(result)
    assert truth["same_list"]
    runs = stored_runs(store)
    assert sorted(run["name"] for run in runs) == ["XGBClassifier", "xgboost.train(binary:logistic)"]
    for run in runs:
        points = Counter((key, step) for key, history in run["history"].items() for step, _ in history)
        assert points and max(points.values()) == 1, run["name"]
    train = one_run(store, name="xgboost.train(binary:logistic)")
    assert train["tags"]["early_stopping"] == "fired"  # the core told the user's callback the plan
    assert len(train["history"]["eval.logloss"]) == train["timings"]["iterations"] == truth["booster_rounds"]
    assert [artifact["name"] for artifact in train["artifacts"] if artifact["name"] != "sources.json"] == ["model.ubj"]
    classifier = one_run(store, name="XGBClassifier")
    assert len(classifier["history"]["validation_0.logloss"]) == 5


def test_continued_training_numbers_its_steps_from_the_models_rounds(run_script, store):
    result = run_script(script(DATA, """
        first = xgb.train(PARAMS, dtrain, 5, evals=[(dvalid, "eval")], verbose_eval=False)
        history = {}
        second = xgb.train(PARAMS, dtrain, 3, evals=[(dvalid, "eval")], xgb_model=first,
                           evals_result=history, early_stopping_rounds=10, verbose_eval=False)
        print(json.dumps({"history": history, "best_iteration": second.best_iteration,
                          "rounds": second.num_boosted_rounds()}))
    """))
    truth = printed(result)
    first, second = sorted(stored_runs(store), key=lambda run: run["start_time"])
    assert [step for step, _ in first["history"]["eval.logloss"]] == [0, 1, 2, 3, 4]
    continued = second["history"]["eval.logloss"]
    assert [step for step, _ in continued] == [5, 6, 7] and truth["rounds"] == 8
    assert [value for _, value in continued] == pytest.approx(truth["history"]["eval"]["logloss"])
    assert second["tags"]["continued_training"] == "from round 5"
    # best_iteration counts from the model's first round too: it names a stored step
    assert second["metrics"]["best_iteration"] == truth["best_iteration"]
    assert truth["best_iteration"] in [step for step, _ in continued]
