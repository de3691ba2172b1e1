"""Keras 3 (torch backend) end to end: training scripts run in subprocesses, the store read back.

Importing keras costs seconds, so each script runs once per module (module-scoped fixtures) and
several tests assert on what it stored, each on its own run. Every script prints, as its last line,
what Keras itself reported (history, evaluate results, optimizer config), and the tests compare
the stored runs with it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from scripting import printed, script

# Keras is only imported by the scripts (with KERAS_BACKEND=torch), never by this process.
if importlib.util.find_spec("keras") is None or importlib.util.find_spec("torch") is None:
    pytest.skip("keras with torch is not installed", allow_module_level=True)

import numpy as np  # noqa: E402

import autotrack  # noqa: E402
from autotrack.capture.datasets import fingerprint  # noqa: E402

DATA = """
import json
import sys
import numpy as np
import keras

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
X = rng.normal(size=(240, 6)).astype("float32")
y = (X[:, 0] + X[:, 1] > 0).astype("float32")
X_train, y_train = X[:160], y[:160]
X_val, y_val = X[160:200], y[160:200]
X_test, y_test = X[200:], y[200:]
out = {}


def dense_model():
    model = keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
                  metrics=["accuracy", keras.metrics.AUC(name="auc")])
    return model


class Batches(keras.utils.PyDataset):  # four batches of the training data; counts its reads
    def __init__(self):
        super().__init__()
        self.reads = 0

    def __len__(self):
        return 4

    def __getitem__(self, index):
        self.reads += 1
        rows = slice(40 * index, 40 * (index + 1))
        return X_train[rows], y_train[rows]
"""

# Dense(6 -> 8): 6*8 + 8 weights; BatchNormalization(8): gamma and beta trainable, the moving
# mean and variance not; Dense(8 -> 1): 8 + 1.
PARAMS_TRAINABLE = (6 * 8 + 8) + 2 * 8 + (8 + 1)
PARAMS_TOTAL = PARAMS_TRAINABLE + 2 * 8

PRINT = """
print(json.dumps(out))
"""

# -- the main script: fit with validation data, evaluate twice, predict three times, save ----------
MAIN = """
class Noop(keras.callbacks.Callback):
    pass

user_callbacks = [Noop()]
model = dense_model()
history = model.fit(X_train, y_train, batch_size=16, epochs=3, validation_data=(X_val, y_val),
                    callbacks=user_callbacks, verbose=0)
on_test = model.evaluate(X_test, y_test, verbose=0, return_dict=True)
on_val = model.evaluate(X_val, y_val, verbose=0, return_dict=True)
predictions = []
for _ in range(3):
    predictions.append(model.predict(X_test, verbose=0))

model.save("user.keras")
import pickle
with open("user.pkl", "wb") as handle:
    pickle.dump(model, handle)
for name in ("X_train", "y_train", "X_val", "y_val", "X_test"):
    np.save(name + ".npy", globals()[name])
np.save("predictions.npy", predictions[0])
out.update(history=history.history, evaluate=[on_test, on_val], steps=history.params["steps"],
           optimizer=model.optimizer.get_config(), user_callbacks=len(user_callbacks),
           weights=[weights.tolist() for weights in model.get_weights()])
"""

# Appended to MAIN in a process without autotrack: the tracked run's files load and predict alike.
LOAD_TRACKED_FILES = """
import pickle
tracked_predictions = np.load({directory!r} + "/predictions.npy")
with open({directory!r} + "/user.pkl", "rb") as handle:
    loaded = [keras.saving.load_model({artifact!r}), keras.saving.load_model({directory!r} + "/user.keras"),
              pickle.load(handle)]
for loaded_model in loaded:
    np.testing.assert_allclose(loaded_model.predict(X_test, verbose=0), tracked_predictions, rtol=1e-6)
loaded_classes = [type(loaded_model).__name__ for loaded_model in loaded]
autotrack_imported = "autotrack" in sys.modules
"""
LOAD_RESULTS = """
out.update(loaded=loaded_classes, autotrack_imported=autotrack_imported)
"""

# -- every kind of model, a PyDataset, a loaded model, and the explicit callback under AUTOTRACK=1 --
VARIED = """
from autotrack.integrations.keras import AutotrackCallback

inputs = keras.Input((6,))
outputs = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Dense(4, activation="relu")(inputs))
functional = keras.Model(inputs, outputs)
functional.compile(optimizer="sgd", loss="binary_crossentropy")
out["functional"] = functional.fit(X_train, y_train, epochs=2, validation_split=0.25, verbose=0).history


class Subclassed(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(4, activation="relu")
        self.head = keras.layers.Dense(1, activation="sigmoid")

    def call(self, inputs):
        return self.head(self.hidden(inputs))


subclassed = Subclassed()
subclassed.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
subclassed.fit(X_train, y_train, epochs=1, verbose=0)
out["subclassed_params"] = subclassed.count_params()


class WithOwnFit(keras.Sequential):
    calls = 0

    def fit(self, *args, **kwargs):
        WithOwnFit.calls += 1
        return super().fit(*args, **kwargs)


own = WithOwnFit([keras.Input((6,)), keras.layers.Dense(1, activation="sigmoid")])
own.compile(loss="binary_crossentropy")
own.fit(X_train, y_train, 16, 2, 0)  # batch_size, epochs, verbose by position
out["own_fit_calls"] = WithOwnFit.calls


batches = Batches()
on_batches = dense_model()
on_batches.fit(batches, epochs=1, verbose=0)
out["reads"] = batches.reads
on_batches.save("on_batches.keras")
loaded = keras.saving.load_model("on_batches.keras")
out["loaded_evaluate"] = loaded.evaluate(X_test, y_test, verbose=0, return_dict=True)

user_callbacks = [AutotrackCallback()]
explicit = dense_model()
out["explicit_history"] = explicit.fit(X_train, y_train, epochs=3, callbacks=user_callbacks,
                                       verbose=0).history
out["explicit_evaluate"] = explicit.evaluate(X_test, y_test, callbacks=user_callbacks, verbose=0,
                                             return_dict=True)
out["user_callbacks"] = [type(callback).__name__ for callback in user_callbacks]
"""

# -- without AUTOTRACK: the explicit callback alone, then enable() after `import keras` -------------
LAZY_IMPORT = """
import sys
import autotrack.integrations.keras
keras_imported_by_autotrack = "keras" in sys.modules
from autotrack.integrations.keras import AutotrackCallback
"""

EXPLICIT_THEN_ENABLE = """
out["keras_imported_by_autotrack"] = keras_imported_by_autotrack
batches = Batches()
dense_model().fit(batches, epochs=1, verbose=0)
out["untracked_reads"] = batches.reads  # as often as Keras alone reads them

callback = AutotrackCallback()
model = dense_model()
out["explicit_history"] = model.fit(X_train, y_train, epochs=2, validation_split=0.25, callbacks=[callback],
                                    verbose=0).history
out["explicit_evaluate"] = model.evaluate(X_test, y_test, callbacks=[callback], verbose=0, return_dict=True)

import autotrack
from keras.src.backend.torch.trainer import TorchTrainer

METHODS = ("fit", "evaluate", "predict")
originals = {name: TorchTrainer.__dict__[name] for name in METHODS}
own_init_subclass = keras.Model.__dict__.get("__init_subclass__")
autotrack.enable()
out["patched"] = [TorchTrainer.__dict__[name] is not originals[name] for name in METHODS]


class Boom(keras.callbacks.Callback):
    raised = None

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            Boom.raised = ValueError("boom at epoch 1")
            raise Boom.raised


try:
    dense_model().fit(X_train, y_train, epochs=3, callbacks=[Boom()], verbose=0)
except ValueError as exc:
    out["caught"] = {"same_object": exc is Boom.raised, "type": type(exc).__name__, "message": str(exc)}
out["after_import_history"] = dense_model().fit(X_train, y_train, epochs=1, verbose=0).history
autotrack.disable()
out["restored"] = [TorchTrainer.__dict__[name] is originals[name] for name in METHODS]
out["init_subclass_restored"] = keras.Model.__dict__.get("__init_subclass__") is own_init_subclass
dense_model().fit(X_train, y_train, epochs=1, verbose=0)  # after disable(): not tracked
"""


# -- running scripts once per module --------------------------------------------------------------
def _environment(store: Path, tracked: bool) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTOTRACK")}
    env.update(KERAS_BACKEND="torch", AUTOTRACK_STRICT="1", AUTOTRACK_DIR=str(store))
    if tracked:
        env["AUTOTRACK"] = "1"
    return env


class Outcome:
    """What one script printed and every run it stored, oldest first."""

    def __init__(self, directory: Path, code: str, tracked: bool = True):
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "train.py"
        path.write_text(textwrap.dedent(code))
        self.directory = directory
        self.result = subprocess.run([sys.executable, str(path)], cwd=directory, capture_output=True,
                                     text=True, env=_environment(directory / "store", tracked), timeout=240)
        assert self.result.returncode == 0, f"script failed:\n{self.result.stdout}\n{self.result.stderr}"
        self.truth = printed(self.result)
        self.runs = self._stored_runs()

    def _stored_runs(self) -> list[dict]:
        store = self.directory / "store"
        if not store.exists():
            return []
        summaries = autotrack.runs(store=str(store))
        return [autotrack.get_run(run["id"], store=str(store)) for run in reversed(summaries)]

    def only_run(self) -> dict:
        assert len(self.runs) == 1, [run["name"] for run in self.runs]
        return self.runs[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Outcome:
    """MAIN with AUTOTRACK=1."""
    return Outcome(tmp_path_factory.mktemp("keras_main"), script(DATA, MAIN, PRINT))


@pytest.fixture(scope="module")
def untracked(trained, tmp_path_factory) -> Outcome:
    """MAIN again without autotrack, then loading the tracked run's artifact and the user's saves."""
    (artifact,) = [a["path"] for a in trained.only_run()["artifacts"] if a["name"] == "model.keras"]
    load = LOAD_TRACKED_FILES.format(directory=str(trained.directory), artifact=artifact)
    return Outcome(tmp_path_factory.mktemp("keras_untracked"), script(DATA, MAIN, load, LOAD_RESULTS, PRINT),
                   tracked=False)


@pytest.fixture(scope="module")
def varied(tmp_path_factory) -> Outcome:
    outcome = Outcome(tmp_path_factory.mktemp("keras_varied"), script(DATA, VARIED, PRINT))
    names = [run["name"] for run in outcome.runs]
    # The second Sequential fit is named with what differs from the first (epochs, batch_size).
    assert names == ["Functional", "Subclassed", "WithOwnFit", "Sequential", "evaluate(Sequential)",
                     "Sequential epochs=3 batch_size=32"]
    return outcome


@pytest.fixture(scope="module")
def explicit(tmp_path_factory) -> Outcome:
    code = script(LAZY_IMPORT, DATA, EXPLICIT_THEN_ENABLE, PRINT)
    outcome = Outcome(tmp_path_factory.mktemp("keras_explicit"), code, tracked=False)
    assert [run["name"] for run in outcome.runs] == ["Sequential", "Sequential", "Sequential epochs=1"]
    return outcome


def steps(run: dict) -> dict[str, list[int]]:
    return {key: [step for step, _ in points] for key, points in run["history"].items()}


def assert_history(run: dict, history: dict) -> None:
    """Every entry of Keras's own History, at every epoch, with the epoch as step."""
    for key, values in history.items():
        assert run["history"][key] == [[epoch, value] for epoch, value in enumerate(values)], key


# -- one run, params, history, evaluate, timings --------------------------------------------------
def test_fit_is_one_run_and_its_validation_and_evaluate_calls_are_not_runs_of_their_own(trained):
    run = trained.only_run()
    assert (run["name"], run["status"], run["source"]) == ("Sequential", "finished", "auto")
    assert run["tags"]["model.class"] == "keras.src.models.sequential.Sequential"
    assert trained.truth["user_callbacks"] == 1  # autotrack's callback went into a list of its own


def test_params_from_compile_fit_arguments_and_the_model(trained):
    params = trained.only_run()["params"]
    assert params["epochs"] == 3 and params["batch_size"] == 16
    assert params["steps_per_epoch"] == trained.truth["steps"] == 10
    assert params["optimizer.class"] == "Adam"
    for key, value in trained.truth["optimizer"].items():
        assert params[f"optimizer.{key}"] == value
    assert params["optimizer.learning_rate"] == pytest.approx(0.01)
    assert params["loss"] == "binary_crossentropy"
    assert params["metrics"] == ["accuracy", "auc"]
    assert params["model.layers"] == 3
    assert params["model.params_total"] == PARAMS_TOTAL
    assert params["model.params_trainable"] == PARAMS_TRAINABLE
    assert "validation_split" not in params


def test_every_epoch_of_every_log_entry_is_stored_as_keras_reports_it(trained):
    history = trained.truth["history"]
    assert set(history) == {"loss", "accuracy", "auc", "val_loss", "val_accuracy", "val_auc"}
    assert_history(trained.only_run(), history)


def test_metric_goals_come_from_keras_metrics_own_direction(trained):
    run = trained.only_run()
    goals, sources = run["goals"], run["goal_sources"]
    assert {key: goals[key] for key in ("loss", "val_loss", "accuracy", "val_accuracy", "auc", "val_auc")} == {
        "loss": "min", "val_loss": "min", "accuracy": "max", "val_accuracy": "max", "auc": "max", "val_auc": "max"}
    assert sources["val_auc"] == "logged" and sources["loss"] == "logged"
    assert goals["time.epoch_s"] == "none"


def test_evaluate_results_are_metrics_counted_per_call(trained):
    run = trained.only_run()
    on_test, on_val = trained.truth["evaluate"]
    for name in ("loss", "accuracy", "auc"):
        assert run["history"][f"evaluate.{name}"] == [[0, on_test[name]], [1, on_val[name]]]
    # No other evaluate.* series: fit's validation passes are val_* of the epochs, not evaluations.
    assert sorted(key for key in run["history"] if key.startswith("evaluate.")) == [
        "evaluate.accuracy", "evaluate.auc", "evaluate.loss"]


def test_timings_per_epoch_fit_evaluate_and_predict(trained):
    run = trained.only_run()
    epochs = run["history"]["time.epoch_s"]
    assert [step for step, _ in epochs] == [0, 1, 2]
    assert all(seconds > 0 for _, seconds in epochs)
    timings = run["timings"]
    assert timings["epoch_mean_s"] == pytest.approx(sum(seconds for _, seconds in epochs) / 3)
    assert sum(seconds for _, seconds in epochs) < timings["fit_s"]
    assert timings["evaluate_s"] > 0
    assert timings["predict"]["count"] == 3


def test_training_and_validation_data_are_described_with_their_fingerprints(trained):
    datasets = {d["role"]: d for d in trained.only_run()["datasets"]}
    assert set(datasets) == {"train.X", "train.y", "valid.X", "valid.y", "predict.X"}
    for role, name in [("train.X", "X_train"), ("train.y", "y_train"), ("valid.X", "X_val"),
                       ("valid.y", "y_val"), ("predict.X", "X_test")]:
        data = np.load(trained.directory / f"{name}.npy")
        assert datasets[role]["name"] == name
        assert datasets[role]["rows"] == len(data)
        assert datasets[role]["fingerprint"] == fingerprint(data)


# -- the model, and training with and without autotrack -------------------------------------------
def test_model_artifact_and_users_own_saves_load_and_predict_alike_without_autotrack(trained, untracked):
    (artifact,) = [a for a in trained.only_run()["artifacts"] if a["name"] == "model.keras"]
    assert os.path.getsize(artifact["path"]) == artifact["bytes"] > 0
    assert untracked.truth["loaded"] == ["Sequential"] * 3  # artifact, model.save(), pickle
    assert untracked.truth["autotrack_imported"] is False


def test_seeded_training_gives_identical_results_without_autotrack(trained, untracked):
    assert untracked.runs == []
    without = {key: value for key, value in untracked.truth.items()
               if key not in ("loaded", "autotrack_imported")}
    assert without == trained.truth  # history, evaluate results, every weight


# -- every kind of model --------------------------------------------------------------------------
def test_functional_model_with_validation_split_and_keras_default_batch_size(varied):
    run = varied.runs[0]
    assert run["status"] == "finished"
    assert run["params"]["validation_split"] == 0.25
    assert run["params"]["batch_size"] == 32  # not given: Keras's default for arrays
    assert run["params"]["optimizer.class"] == "SGD" and "metrics" not in run["params"]
    assert_history(run, varied.truth["functional"])
    assert set(varied.truth["functional"]) == {"loss", "val_loss"}


def test_subclassed_model_is_tracked_with_its_weight_count_once_built(varied):
    run = varied.runs[1]
    assert run["params"]["model.params_total"] == varied.truth["subclassed_params"] == (6 * 4 + 4) + (4 + 1)
    assert steps(run)["loss"] == [0]


def test_subclass_overriding_fit_is_one_run_with_its_positional_arguments(varied):
    run = varied.runs[2]
    assert varied.truth["own_fit_calls"] == 1
    assert (run["params"]["batch_size"], run["params"]["epochs"]) == (16, 2)
    assert steps(run)["loss"] == [0, 1]


def test_pydataset_is_described_without_autotrack_reading_a_batch(varied, explicit):
    run = varied.runs[3]
    assert varied.truth["reads"] == explicit.truth["untracked_reads"]
    (train,) = [d for d in run["datasets"] if d["role"].startswith("train.")]
    assert (train["role"], train["batches"], train["fingerprint"]) == ("train.X", 4, None)
    assert train["type"] == "__main__.Batches"
    assert "batch_size" not in run["params"]  # the dataset makes its own batches
    assert steps(run)["loss"] == [0]


def test_evaluate_of_a_model_that_was_never_fitted_here_is_a_run_of_its_own(varied):
    run = varied.runs[4]
    assert run["status"] == "finished" and "fit_s" not in run["timings"]
    assert run["timings"]["evaluate_s"] > 0
    results = varied.truth["loaded_evaluate"]
    assert {key: points for key, points in run["history"].items()} == {
        f"evaluate.{name}": [[0, value]] for name, value in results.items()}
    assert run["params"]["optimizer.class"] == "Adam"


def test_users_callback_with_autotrack_enabled_gives_one_run_and_no_duplicated_point(varied):
    run = varied.runs[5]
    assert run["source"] == "auto"
    assert varied.truth["user_callbacks"] == ["AutotrackCallback"]  # nothing added to the user's list
    assert_history(run, varied.truth["explicit_history"])
    for key, recorded in steps(run).items():
        assert recorded == ([0] if key.startswith("evaluate.") else [0, 1, 2]), key
    assert {name: run["history"][f"evaluate.{name}"][0][1] for name in varied.truth["explicit_evaluate"]} == \
        varied.truth["explicit_evaluate"]
    assert "fit_s" in run["timings"] and "evaluate_s" in run["timings"]


# -- the explicit callback without enable(), and enable() after import ----------------------------
def test_explicit_callback_without_enable_records_one_run_of_its_own(explicit):
    assert explicit.truth["keras_imported_by_autotrack"] is False  # only AutotrackCallback imports it
    run = explicit.runs[0]
    assert (run["source"], run["status"]) == ("callback", "finished")
    assert_history(run, explicit.truth["explicit_history"])
    assert set(explicit.truth["explicit_history"]) >= {"loss", "val_loss", "val_auc"}
    for name, value in explicit.truth["explicit_evaluate"].items():
        assert run["history"][f"evaluate.{name}"] == [[0, value]]
    params = run["params"]
    assert (params["epochs"], params["steps_per_epoch"], params["optimizer.class"]) == (2, 4, "Adam")
    assert params["model.params_total"] == PARAMS_TOTAL and params["loss"] == "binary_crossentropy"
    assert {"fit_s", "epoch_mean_s", "evaluate_s"} <= set(run["timings"])
    assert [a["name"] for a in run["artifacts"] if a["name"] != "sources.json"] == ["model.keras"]


def test_users_exception_in_training_propagates_unchanged_and_the_run_failed(explicit):
    caught = explicit.truth["caught"]
    assert caught == {"same_object": True, "type": "ValueError", "message": "boom at epoch 1"}
    run = explicit.runs[1]
    assert (run["source"], run["status"]) == ("auto", "failed")
    assert run["error"] == "ValueError: boom at epoch 1"
    assert steps(run)["loss"] == [0]  # epoch 1 raised before autotrack's callback saw it


def test_enable_after_import_tracks_and_disable_restores_the_originals(explicit):
    assert explicit.truth["patched"] == [True, True, True]
    run = explicit.runs[2]
    assert (run["source"], run["status"]) == ("auto", "finished")
    assert_history(run, explicit.truth["after_import_history"])
    assert explicit.truth["restored"] == [True, True, True]
    assert explicit.truth["init_subclass_restored"] is True
    assert len(explicit.runs) == 3  # the fit after disable() made none


VALIDATION_SPLIT = """
model = dense_model()
history = model.fit(X[:200], y[:200], batch_size=20, epochs=2, validation_split=0.25, verbose=0)
np.save("X_head.npy", X[:150])
np.save("X_tail.npy", X[150:200])
out.update(history=history.history, steps=history.params["steps"])
"""


def test_validation_split_describes_the_rows_trained_on_and_the_rows_held_out(tmp_path):
    outcome = Outcome(tmp_path / "split", script(DATA, VALIDATION_SPLIT, PRINT))
    run = outcome.only_run()
    assert outcome.truth["steps"] == 150 // 20 + 1  # Keras trained on 150 rows
    datasets = {d["role"]: d for d in run["datasets"]}
    assert (datasets["train.X"]["rows"], datasets["train.y"]["rows"]) == (150, 150)
    assert (datasets["valid.X"]["rows"], datasets["valid.y"]["rows"]) == (50, 50)
    assert datasets["train.X"]["fingerprint"] == fingerprint(np.load(tmp_path / "split" / "X_head.npy"))
    assert datasets["valid.X"]["fingerprint"] == fingerprint(np.load(tmp_path / "split" / "X_tail.npy"))
    assert run["tags"]["validation"] == "validation_split=0.25"
    assert_history(run, outcome.truth["history"])


SUBCLASSED_WITHOUT_CONFIG = """
import json
import keras
import numpy as np

class Residual(keras.Model):  # takes a layer object: Keras cannot write its config
    def __init__(self, hidden, **kwargs):
        super().__init__(**kwargs)
        self.hidden, self.out = hidden, keras.layers.Dense(1)

    def call(self, x):
        return self.out(self.hidden(x))

keras.utils.set_random_seed(0)
x = np.random.default_rng(0).random((64, 4)).astype("float32")
y = x.sum(axis=1)
model = Residual(keras.layers.Dense(8))
model.compile(optimizer="adam", loss="mse")
for _ in range(3):
    model.fit(x, y, epochs=1, verbose=0)
print(json.dumps({"prediction": model.predict(x[:4], verbose=0).ravel().tolist()}))
"""


def test_a_subclassed_model_keras_cannot_save_keeps_its_weights_with_one_short_line(tmp_path):
    outcome = Outcome(tmp_path, SUBCLASSED_WITHOUT_CONFIG)
    lines = [line for line in outcome.result.stderr.splitlines() if "autotrack" in line]
    assert lines == ["autotrack: Residual has no get_config(), so Keras cannot save it whole; its weights "
                     "are stored as model.weights.h5"], outcome.result.stderr
    assert "get_config" not in outcome.result.stderr.replace(lines[0], "")  # not Keras's 20 lines
    last = outcome.runs[-1]
    (artifact,) = [a["path"] for a in last["artifacts"] if a["name"] != "sources.json"]
    assert artifact.endswith("model.weights.h5")
    # The weights load into a model built by the user's own class and predict the same.
    check = f"""
import json, keras, numpy as np
{SUBCLASSED_WITHOUT_CONFIG.split("keras.utils.set_random_seed")[0].split("import numpy as np")[1]}
x = np.random.default_rng(0).random((64, 4)).astype("float32")
model = Residual(keras.layers.Dense(8))
model(x[:1])
model.load_weights({artifact!r})
print(json.dumps({{"prediction": model.predict(x[:4], verbose=0).ravel().tolist()}}))
"""
    reloaded = Outcome(tmp_path / "reload", check, tracked=False)
    assert reloaded.truth["prediction"] == pytest.approx(outcome.truth["prediction"], rel=1e-5)
