"""XGBoost's AutotrackCallback and what it records of a training: metrics, early stopping, params, model."""

from __future__ import annotations

import contextvars
import json
import os
import sys
import weakref
from time import perf_counter
from typing import NamedTuple

from autotrack.callbacks import RunHandle, guarded

RUN_NAMES = {"train": "xgboost.train", "cv": "xgboost.cv"}
# Importances of every feature (0 for the unused ones) up to this many features; past it (wide
# sparse data) only the features the trees use, so the record stays small.
MAX_ZERO_FILLED_FEATURES = 10_000


def _is_booster(value) -> bool:
    core = sys.modules.get("xgboost.core")
    return core is not None and isinstance(value, core.Booster)


def _class_name(value) -> str:
    return f"{type(value).__module__}.{type(value).__qualname__}"


# -- what a trained booster holds: resolved params, importances, the model ------------------------
# The parameters every trained booster resolves, from `save_config()` (0.3 ms): the *_param
# sections of the learner, booster and objective, under XGBoost's own names. Left out: aliases
# of other entries, and internals that are not hyperparameters.
_CONFIG_NOISE = frozenset({
    "learning_rate", "reg_alpha", "reg_lambda", "min_split_loss", "n_jobs", "random_state",
    "fail_on_invalid_gpu_id", "validate_parameters", "seed_per_iteration", "debug_synchronize",
    "max_cached_hist_node", "disable_default_eval_metric", "updater", "updater_seq", "process_type",
    "num_trees", "refresh_leaf",
})


def _resolved_params(booster) -> dict:
    config = json.loads(booster.save_config())["learner"]
    params: dict = {}
    _collect_config_params(config, params)
    metrics = [metric.get("name") for metric in config.get("metrics", ())]
    if metrics:
        params["eval_metric"] = metrics
    return params


def _collect_config_params(section: dict, into: dict) -> None:
    for key, value in section.items():
        if isinstance(value, dict):
            if key.endswith("_param"):
                into.update({name: _config_value(text) for name, text in value.items()
                             if name not in _CONFIG_NOISE and isinstance(text, str)})
            else:
                _collect_config_params(value, into)


def _config_value(text: str):
    """XGBoost's config holds text: "6" -> 6, "0.300000012" -> 0.3 (float32, as XGBoost stores
    it, printed with float32's 7 significant digits), "[5E-1]" -> 0.5, anything else as is."""
    inner = text[1:-1] if text.startswith("[") and text.endswith("]") and "," not in text else text
    try:
        return int(inner)
    except ValueError:
        pass
    try:
        return float(f"{float(inner):.7g}")
    except ValueError:
        return text


def _importances(booster) -> dict | None:
    """{"gain": total gain, "split": number of splits} per feature; None for linear boosters."""
    core = sys.modules["xgboost.core"]
    try:
        gain = booster.get_score(importance_type="total_gain")
    except core.XGBoostError:  # gblinear has coefficients, not splits
        return None
    split = booster.get_score(importance_type="weight")
    names = booster.feature_names
    count = booster.num_features()
    if names is None and count <= MAX_ZERO_FILLED_FEATURES:
        names = [f"f{index}" for index in range(count)]
    if names is None or len(names) > MAX_ZERO_FILLED_FEATURES:
        names = list(dict.fromkeys([*gain, *split]))
    return {"gain": {name: float(gain.get(name, 0.0)) for name in names},
            "split": {name: float(split.get(name, 0.0)) for name in names}}


def _model_artifact(booster):
    """("model.ubj", write): XGBoost's own UBJSON, taken now (ms), written by the writer thread."""
    snapshot = booster.save_raw(raw_format="ubj")  # a new bytearray: nothing else holds it

    def write(path: str) -> None:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(snapshot)

    return "model.ubj", write


# -- what the tracked call planned, for the callback to read --------------------------------------
class _Plan(NamedTuple):
    """What a tracked training call asked for: the callback tells "early stopping fired" from it."""

    rounds: int
    early_stopping: bool


# Set by autotrack_prepare_call for the length of a tracked training call; read by whichever
# AutotrackCallback records it (ours, or one the user passed).
_PLAN: contextvars.ContextVar[_Plan | None] = contextvars.ContextVar("autotrack_xgboost_plan", default=None)


# -- the callback ---------------------------------------------------------------------------------
# Runs an AutotrackCallback recorded into: after an estimator's fit, the fit_results hook reads
# the history from the estimator only when no callback did (a random forest), never twice.
_CALLBACK_RUNS: weakref.WeakSet = weakref.WeakSet()


class _TrainingRecorder:
    """What an AutotrackCallback does, apart from the xgboost base class that is built lazily.

    Always: each iteration's newest evaluation results as `<eval set>.<metric>` at step = the
    iteration, iteration timings, early stopping's outcome and the resolved booster params.
    When no tracked call covers the training (no `enable()`), also what the core's hooks would
    record after a fit: importances, the model class and the model artifact.
    """

    def __init__(self, run=None):
        self._handle = RunHandle(run)
        self._given = run is not None
        self.run = None
        self._plan: _Plan | None = None
        self._records_model = False
        self._iterations = 0
        self._seconds = 0.0
        self._started = None
        self._last_metric: str | None = None
        self._first_round = 0

    @guarded("starting to record an xgboost training")
    def begin(self, model) -> None:
        if self.run is not None:  # the last training raised before after_training
            self._handle.end(RuntimeError("xgboost training stopped before after_training"))
        run = self.run = self._handle.begin(RUN_NAMES["cv" if hasattr(model, "cvfolds") else "train"])
        self._plan, self._iterations, self._seconds, self._started = _PLAN.get(), 0, 0.0, None
        if run is None:
            return  # a distributed job's process other than rank zero
        _CALLBACK_RUNS.add(run)
        self._records_model = not self._given and (self._handle.owned or run is _explicit_run())
        # Training continued from a model (`xgb_model=`): XGBoost counts this call's iterations
        # from 0, its best_iteration from the model's first round; steps follow the model's rounds.
        self._first_round = model.num_boosted_rounds() if _is_booster(model) else 0
        if self._first_round:
            run.set_tags({"continued_training": f"from round {self._first_round}"})

    def iteration_started(self) -> None:
        self._started = perf_counter()

    @guarded("recording an xgboost iteration")
    def iteration_ended(self, epoch: int, evals_log: dict) -> None:
        run = self.run
        if run is None:
            return
        if self._started is not None:
            self._seconds += perf_counter() - self._started
        if not self._iterations:
            run.set_metric_goals(_goals(evals_log))
        self._iterations += 1
        self._last_metric = _early_stopping_metric(evals_log)
        run.log_metrics(_newest_points(evals_log), step=epoch + self._first_round)

    @guarded("recording the end of an xgboost training")
    def end(self, model) -> None:
        run = self.run
        if run is None:
            return
        try:
            self._record_outcome(run, model)
        finally:
            self.run = None
            self._handle.end()

    def _record_outcome(self, run, model) -> None:
        booster = model.cvfolds[0].bst if hasattr(model, "cvfolds") else model
        if self._iterations:
            run.set_timings({"iterations": self._iterations,
                             "iteration_mean_s": self._seconds / self._iterations})
        _record_early_stopping(run, booster, self._iterations, self._plan, self._last_metric)
        run.log_params(_resolved_params(booster))
        if self._records_model and _is_booster(model):
            _record_model(run, model)


def _explicit_run():
    from autotrack.session import active_run

    return active_run.get()


def _newest_points(evals_log: dict) -> dict:
    """The newest value of each metric of each eval set: evals_log holds the whole history."""
    points = {}
    for data_name, metrics in evals_log.items():
        for metric_name, history in metrics.items():
            newest = history[-1]
            if isinstance(newest, tuple):  # xgboost.cv: (mean, std) over the folds
                points[f"{data_name}.{metric_name}-mean"] = newest[0]
                points[f"{data_name}.{metric_name}-std"] = newest[1]
            else:
                points[f"{data_name}.{metric_name}"] = newest
    return points


# XGBoost's metrics where higher is better (its EarlyStopping's own list); every other is an error,
# a loss or a likelihood to minimise. `ndcg@5`, `map@10-` are read by their name before the `@`.
_XGBOOST_MAXIMISED = frozenset({"auc", "aucpr", "pre", "map", "ndcg", "interval-regression-accuracy"})


def metric_goal(metric_name: str) -> str:
    return "max" if metric_name.partition("@")[0] in _XGBOOST_MAXIMISED else "min"


def _goals(evals_log: dict) -> dict:
    """Each series' goal, named as _newest_points names it; a cv's `-std` is not a quality measure."""
    goals = {}
    for data_name, metrics in evals_log.items():
        for metric_name, history in metrics.items():
            goal = metric_goal(metric_name)
            if history and isinstance(history[-1], tuple):
                goals[f"{data_name}.{metric_name}-mean"] = goal
                goals[f"{data_name}.{metric_name}-std"] = "none"
            else:
                goals[f"{data_name}.{metric_name}"] = goal
    return goals


def _early_stopping_metric(evals_log: dict) -> str | None:
    """The metric XGBoost's early stopping watches by default: the last one of the last eval set."""
    for metrics in reversed(list(evals_log.values())):
        for metric_name in reversed(list(metrics)):
            return metric_name
    return None


def _record_early_stopping(run, booster, iterations: int, plan: _Plan | None,
                           metric_name: str | None = None) -> None:
    """Tag `early_stopping` (off / fired / not fired; "on" when nobody told the callback the planned
    rounds), and `best_iteration`/`best_score` metrics when early stopping was on."""
    best_iteration = booster.attr("best_iteration")
    if plan is None:
        state = "off" if best_iteration is None else "on"
    elif not plan.early_stopping:
        state = "off"
    else:
        state = "fired" if iterations < plan.rounds else "not fired"
    run.set_tags({"early_stopping": state})
    if state != "off" and best_iteration is not None:
        run.log_metrics({"best_iteration": int(best_iteration),
                         "best_score": float(booster.attr("best_score"))}, step=0)
        if metric_name is not None:
            run.set_metric_goals({"best_score": metric_goal(metric_name), "best_iteration": "none"})


def _record_model(run, booster) -> None:
    from autotrack.session import SESSION

    run.set_tags({"model.class": _class_name(booster)})
    importances = _importances(booster)
    if importances:
        run.set_importances(importances)
    if SESSION.configure().log_models:
        run.write_artifact(*_model_artifact(booster))


_CALLBACK_CLASS = None


def _is_autotrack_callback(callback) -> bool:
    return _CALLBACK_CLASS is not None and isinstance(callback, _CALLBACK_CLASS)


def _callback_class():
    global _CALLBACK_CLASS
    if _CALLBACK_CLASS is None:
        _CALLBACK_CLASS = _build_callback_class()
    return _CALLBACK_CLASS


def _build_callback_class():
    from xgboost.callback import TrainingCallback

    class AutotrackCallback(TrainingCallback):
        """Records an XGBoost training into autotrack: `xgboost.train(..., callbacks=[AutotrackCallback()])`.

        Records into the run of the tracked call when autotrack is enabled (one run, no duplicated
        point), else into the innermost `autotrack.start_run()`, else into a run of its own that
        ends with the training. Put it first in `callbacks`: XGBoost stops calling the callbacks
        after one that stops training. Copies and pickles of it are fresh, unbound callbacks.
        """

        def __init__(self, run=None):
            super().__init__()
            self._recorder = _TrainingRecorder(run)

        def __reduce__(self):  # sklearn's clone deep-copies callbacks: never copy a run
            return (type(self), ())

        def before_training(self, model):
            self._recorder.begin(model)
            return model

        def before_iteration(self, model, epoch, evals_log):
            self._recorder.iteration_started()
            return False

        def after_iteration(self, model, epoch, evals_log):
            self._recorder.iteration_ended(epoch, evals_log)
            return False

        def after_training(self, model):
            self._recorder.end(model)
            return model

    AutotrackCallback.__module__ = "autotrack.integrations.xgboost"  # its public home: pickles name it
    AutotrackCallback.__qualname__ = "AutotrackCallback"
    return AutotrackCallback
