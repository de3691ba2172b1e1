"""XGBoost: `xgboost.train` and `xgboost.cv` as runs with per-iteration metrics, Booster predict
latency, DMatrix datasets, and the native answers for the scikit-learn API's estimators.

XGBoost is imported only inside functions: this module loads at `enable()`, before the user
imports the framework (or even when it is not installed). `AutotrackCallback` subclasses
`xgboost.callback.TrainingCallback`, so it is built on first access (module `__getattr__`).

`XGBClassifier`/`XGBRegressor`/`XGBRanker.fit` are patched by the scikit-learn integration (they
subclass BaseEstimator): this plugin answers its hooks first for them and adds its callback to the
estimator for the length of the fit. `xgboost.sklearn` holds its own reference to the original
`train`, so a fit never makes a second run, and a nested tracked call would not start one anyway.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import json
import os
import sys
import weakref
from time import perf_counter
from typing import NamedTuple

from autotrack.callbacks import RunHandle, guarded
from autotrack.integration import Integration, Target
from autotrack.plugins import hookimpl

__all__ = ["AutotrackCallback"]  # built on first access, see __getattr__

RUN_NAMES = {"train": "xgboost.train", "cv": "xgboost.cv"}
_TRAINING_MODULES = ("xgboost", "xgboost.training")
# Importances of every feature (0 for the unused ones) up to this many features; past it (wide
# sparse data) only the features the trees use, so the record stays small.
MAX_ZERO_FILLED_FEATURES = 10_000


# -- what to patch --------------------------------------------------------------------------------
def _dtrain_argument(args: tuple, kwargs: dict) -> dict:
    return {"X": args[1] if len(args) > 1 else kwargs.get("dtrain")}


def _predict_argument(args: tuple, kwargs: dict) -> dict:
    return {"X": args[0] if args else kwargs.get("data")}


def _targets(module):
    # `xgboost.train` is `xgboost.training.train` re-exported: both names are patched, each
    # restored on its own. xgboost.sklearn imported the original before either, so XGBClassifier.fit
    # (tracked by the scikit-learn integration) never reaches a wrapper.
    for owner in (module, module.training):
        for attribute, run_name in RUN_NAMES.items():
            yield Target(owner, attribute, "fit", data_arguments=_dtrain_argument, run_name=run_name)
    for method in ("predict", "inplace_predict"):
        yield Target(module.Booster, method, "predict", data_arguments=_predict_argument)


@hookimpl
def autotrack_register_integrations(register):
    register(Integration(name="xgboost", modules=("xgboost",), distribution="xgboost",
                         supported=">=2,<4", targets=_targets))


# -- recognising xgboost's objects without importing xgboost --------------------------------------
def _training_function(call) -> str | None:
    """"train" or "cv" when the call is `xgboost.train` / `xgboost.cv`, else None."""
    target = call.target
    if target.attribute in RUN_NAMES and getattr(target.owner, "__name__", None) in _TRAINING_MODULES:
        return target.attribute
    return None


def _is_booster(value) -> bool:
    core = sys.modules.get("xgboost.core")
    return core is not None and isinstance(value, core.Booster)


def _is_estimator(value) -> bool:
    """An estimator of xgboost's scikit-learn API trained in this process (not Dask's or Spark's,
    whose training runs in other processes)."""
    sklearn_api = sys.modules.get("xgboost.sklearn")
    return (sklearn_api is not None and isinstance(value, sklearn_api.XGBModel)
            and not type(value).__module__.startswith(("xgboost.dask", "xgboost.spark")))


def _is_random_forest(estimator) -> bool:
    # XGBRFClassifier/XGBRFRegressor refuse any `callbacks` (one boosting round, nothing to follow).
    sklearn_api = sys.modules["xgboost.sklearn"]
    return isinstance(estimator, (sklearn_api.XGBRFClassifier, sklearn_api.XGBRFRegressor))


def _trained_booster(model):
    """The Booster behind `model` (itself, or a fitted estimator's), else None."""
    if _is_booster(model):
        return model
    if _is_estimator(model) and model.__sklearn_is_fitted__():
        return model.get_booster()
    return None


# -- params ---------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _parameters(attribute: str):
    import inspect

    # Through the patch's and xgboost's own decorators (functools.wraps) to the real signature.
    return inspect.signature(getattr(sys.modules["xgboost.training"], attribute)).parameters


def _arguments(call) -> dict:
    """The arguments of an `xgboost.train`/`cv` call by name, defaults filled in."""
    parameters = _parameters(call.target.attribute)
    named = {name: p.default for name, p in parameters.items() if p.default is not p.empty}
    named.update(zip(parameters, call.args))  # positionally past `*` too: xgboost only warns
    named.update(call.kwargs)
    return named


def _params_dict(params) -> dict:
    """Booster params as a dict; the old list-of-pairs form keeps repeated keys as lists."""
    if params is None or isinstance(params, dict):
        return dict(params or {})
    merged: dict = {}
    for key, value in params:
        if key not in merged:
            merged[key] = value
        else:  # repeated (one eval_metric per pair): all of them, in order
            previous = merged[key]
            merged[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
    return merged


# Settings of `xgboost.train`/`cv` beside the booster params that change what is trained.
_TRAINING_SETTINGS = ("num_boost_round", "early_stopping_rounds", "maximize", "obj", "custom_metric")
# cv's own, as `cv.<name>`: its `seed` splits the folds and is not the booster's `seed`.
_CV_SETTINGS = ("nfold", "stratified", "shuffle", "seed", "metrics")


def _training_function_params(call, function: str) -> dict:
    arguments = _arguments(call)
    params = _params_dict(arguments.get("params"))
    settings = {name: arguments.get(name) for name in _TRAINING_SETTINGS}
    if function == "cv":
        settings.update({f"cv.{name}": arguments.get(name) for name in _CV_SETTINGS})
    params.update({name: value for name, value in settings.items() if value is not None and value != ()})
    params.update(_callback_params(arguments.get("callbacks")))
    return params


def _estimator_params(estimator) -> dict:
    params = {name: value for name, value in estimator.get_params(deep=False).items()
              if value is not None and name != "callbacks"}
    params["num_boost_round"] = estimator.get_num_boosting_rounds()
    params.update(_callback_params(estimator.callbacks))
    return params


def _callback_params(callbacks) -> dict:
    """The user's callbacks by class name, and an EarlyStopping callback's settings."""
    params: dict = {}
    own = list(callbacks or ())
    names = [type(callback).__name__ for callback in own if not _is_autotrack_callback(callback)]
    if names:
        params["callbacks"] = names
    for stopping in filter(_is_early_stopping, own):
        settings = {"rounds": stopping.rounds, "metric_name": stopping.metric_name,
                    "data_name": stopping.data, "maximize": stopping.maximize,
                    "save_best": stopping.save_best, "min_delta": getattr(stopping, "_min_delta", None)}
        params.update({f"early_stopping.{key}": value
                       for key, value in settings.items() if value is not None})
    return params


def _is_early_stopping(callback) -> bool:
    return isinstance(callback, sys.modules["xgboost.callback"].EarlyStopping)


def _is_autotrack_callback(callback) -> bool:
    return _CALLBACK_CLASS is not None and isinstance(callback, _CALLBACK_CLASS)


@hookimpl(tryfirst=True)
def autotrack_model_params(model, call):
    function = _training_function(call)
    if model is None and function is not None:
        return _training_function_params(call, function)
    if _is_estimator(model):
        return _estimator_params(model)
    return None


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


# -- preparing the call: our callback, and what the training is planned to be ---------------------
class _Plan(NamedTuple):
    """What a tracked training call asked for: the callback tells "early stopping fired" from it."""

    rounds: int
    early_stopping: bool


# Set by autotrack_prepare_call for the length of a tracked training call; read by whichever
# AutotrackCallback records it (ours, or one the user passed).
_PLAN: contextvars.ContextVar[_Plan | None] = contextvars.ContextVar("autotrack_xgboost_plan", default=None)


def _plan_for(rounds, early_stopping_rounds, callbacks) -> _Plan:
    stopping = bool(early_stopping_rounds) or any(map(_is_early_stopping, callbacks))
    return _Plan(int(rounds), stopping)


def _use_plan(call, plan: _Plan) -> None:
    token = _PLAN.set(plan)
    call.cleanups.append(lambda: _PLAN.reset(token))


@hookimpl
def autotrack_prepare_call(call, run):
    function = _training_function(call)
    if function is not None:
        _prepare_training_function(call, run)
    elif call.target.attribute == "fit" and _is_estimator(call.instance):
        _prepare_estimator_fit(call, run)


def _prepare_training_function(call, run) -> None:
    arguments = _arguments(call)
    callbacks = list(arguments.get("callbacks") or ())
    rounds, stopping_rounds = arguments["num_boost_round"], arguments.get("early_stopping_rounds")
    _use_plan(call, _plan_for(rounds, stopping_rounds, callbacks))
    positional = list(_parameters(call.target.attribute))[:len(call.args)]
    if any(map(_is_autotrack_callback, callbacks)) or "callbacks" in positional:
        return  # the user's own AutotrackCallback records into this run
    # First in the list: XGBoost stops asking callbacks once one says stop (EarlyStopping), and
    # the iteration that made it stop must be recorded too.
    call.kwargs = {**call.kwargs, "callbacks": [_callback_class()(run), *callbacks]}


def _prepare_estimator_fit(call, run) -> None:
    estimator = call.instance
    callbacks = list(estimator.callbacks or ())
    rounds, stopping_rounds = estimator.get_num_boosting_rounds(), estimator.early_stopping_rounds
    _use_plan(call, _plan_for(rounds, stopping_rounds, callbacks))
    if any(map(_is_autotrack_callback, callbacks)) or _is_random_forest(estimator):
        return  # the user's callback records; a random forest's evals are read after the fit
    # `fit` takes no callbacks (a constructor parameter since xgboost 2): the estimator holds ours
    # for the length of this fit only, and gets back the very object it had.
    users = estimator.callbacks
    estimator.callbacks = [_callback_class()(run), *callbacks]
    call.cleanups.append(lambda: setattr(estimator, "callbacks", users))


# -- after the fit: importances, model, what the callback could not see --------------------------
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


@hookimpl(tryfirst=True)
def autotrack_feature_importances(model):
    booster = _trained_booster(model)
    return _importances(booster) if booster is not None else None


@hookimpl(tryfirst=True)
def autotrack_model_artifact(model):
    booster = _trained_booster(model)
    return _model_artifact(booster) if booster is not None else None


@hookimpl
def autotrack_fit_results(model, run):
    if _is_booster(model):  # xgboost.train's result: the run's model is known only now
        run.set_tags({"model.class": _class_name(model)})
    elif _is_estimator(model) and run not in _CALLBACK_RUNS:
        _record_without_callback(run, model)


def _class_name(value) -> str:
    return f"{type(value).__module__}.{type(value).__qualname__}"


def _record_without_callback(run, estimator) -> None:
    """An estimator trained without our callback (a random forest): its evaluation history,
    resolved params and early-stopping state, read from the fitted estimator."""
    for data_name, metrics in (getattr(estimator, "evals_result_", None) or {}).items():
        for metric_name, values in metrics.items():
            for step, value in enumerate(values):
                run.log_metrics({f"{data_name}.{metric_name}": value}, step=step)
    booster = estimator.get_booster()
    run.log_params(_resolved_params(booster))
    callbacks = list(estimator.callbacks or ())
    plan = _plan_for(estimator.get_num_boosting_rounds(), estimator.early_stopping_rounds, callbacks)
    _record_early_stopping(run, booster, booster.num_boosted_rounds(), plan)


# -- datasets -------------------------------------------------------------------------------------
# Everything a DMatrix holds besides the features (what is unset reads back empty).
_FLOAT_INFO = ("label", "weight", "base_margin", "label_lower_bound", "label_upper_bound", "feature_weights")
_UINT_INFO = ("group_ptr",)


@hookimpl
def autotrack_describe_dataset(data, role, name):
    core = sys.modules.get("xgboost.core")
    if core is None or not isinstance(data, core.DMatrix):
        return None
    return _describe_dmatrix(data, role, name)


def _describe_dmatrix(dmatrix, role: str, name: str | None) -> dict:
    """Shape, schema (feature names and XGBoost's feature types), label summary and a fingerprint
    of the whole content: the stored values with their positions (missing entries are absent, so a
    missing value and a 0 differ), labels, weights, margins, bounds, groups, names and types."""
    from autotrack.capture.datasets import FINGERPRINT_HEX_CHARS, feed_text, summarize_target

    rows, columns = dmatrix.num_row(), dmatrix.num_col()
    names = dmatrix.feature_names or [f"f{index}" for index in range(columns)]
    types = dmatrix.feature_types or ["float"] * columns
    content = _content_digest(dmatrix)
    description = {
        "role": role, "name": name, "rows": rows, "columns": columns, "type": _class_name(dmatrix),
        "bytes": content.bytes if content else None, "fingerprint": None,
        "schema": [{"name": str(n), "dtype": str(t)} for n, t in zip(names[:1000], types)],
    }
    if content is not None:
        hasher = hashlib.sha256(b"autotrack-dmatrix-v1")
        hasher.update(content.digest)
        feed_text(hasher, json.dumps([[str(n) for n in names], [str(t) for t in types]]))
        _hash_info(hasher, dmatrix)
        description["fingerprint"] = hasher.hexdigest()[:FINGERPRINT_HEX_CHARS]
    if columns > 1000:
        description["schema_truncated"] = True
    label = dmatrix.get_label()
    if label.size:
        description["target"] = summarize_target(label)
    return description


class _Content(NamedTuple):
    digest: bytes
    bytes: int


# A DMatrix's features never change once built (labels and names can): their digest is kept for
# as long as the DMatrix lives, so predicting on the same DMatrix again does not hash it again.
_CONTENT_DIGESTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _content_digest(dmatrix) -> _Content | None:
    """sha256 of the stored values and their positions, as CSR: ~70 ms for 100,000 x 50 dense
    floats (get_data copies them out). None for a DMatrix that cannot hand its data out."""
    content = _CONTENT_DIGESTS.get(dmatrix)
    if content is not None:
        return content
    from autotrack.capture.datasets import hash_array

    try:
        csr = dmatrix.get_data()
    except sys.modules["xgboost.core"].XGBoostError:  # external memory: data that stays out of reach
        return None
    hasher = hashlib.sha256()
    for part in (csr.indptr, csr.indices, csr.data):
        hash_array(hasher, part)  # with its dtype and shape
    content = _Content(hasher.digest(), int(csr.data.nbytes + csr.indices.nbytes + csr.indptr.nbytes))
    _CONTENT_DIGESTS[dmatrix] = content
    return content


def _hash_info(hasher, dmatrix) -> None:
    from autotrack.capture.datasets import hash_array

    for field in _FLOAT_INFO:
        hash_array(hasher, dmatrix.get_float_info(field))
    for field in _UINT_INFO:
        hash_array(hasher, dmatrix.get_uint_info(field))


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

    def iteration_started(self) -> None:
        self._started = perf_counter()

    @guarded("recording an xgboost iteration")
    def iteration_ended(self, epoch: int, evals_log: dict) -> None:
        run = self.run
        if run is None:
            return
        if self._started is not None:
            self._seconds += perf_counter() - self._started
        self._iterations += 1
        run.log_metrics(_newest_points(evals_log), step=epoch)

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
        _record_early_stopping(run, booster, self._iterations, self._plan)
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


def _record_early_stopping(run, booster, iterations: int, plan: _Plan | None) -> None:
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


def _record_model(run, booster) -> None:
    from autotrack.session import SESSION

    run.set_tags({"model.class": _class_name(booster)})
    importances = _importances(booster)
    if importances:
        run.set_importances(importances)
    if SESSION.configure().log_models:
        run.write_artifact(*_model_artifact(booster))


_CALLBACK_CLASS = None


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

    AutotrackCallback.__module__ = __name__
    AutotrackCallback.__qualname__ = "AutotrackCallback"
    return AutotrackCallback


def __getattr__(name):
    if name == "AutotrackCallback":  # imports xgboost: only when asked for
        return _callback_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
