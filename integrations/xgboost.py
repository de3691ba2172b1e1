"""XGBoost: `xgboost.train` and `xgboost.cv` as runs with per-iteration metrics, Booster predict
latency, DMatrix datasets, and the native answers for the scikit-learn API's estimators.

XGBoost is imported only inside functions: this module loads at `enable()`, before the user
imports the framework (or even when it is not installed). `AutotrackCallback` subclasses
`xgboost.callback.TrainingCallback`, so it is built on first access (module `__getattr__`); it
and what it records live in `xgboost_callback`.

`XGBClassifier`/`XGBRegressor`/`XGBRanker.fit` are patched by the scikit-learn integration (they
subclass BaseEstimator): this plugin answers its hooks first for them and adds its callback to the
estimator for the length of the fit. `xgboost.sklearn` holds its own reference to the original
`train`, so a fit never makes a second run, and a nested tracked call would not start one anyway.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
import weakref
from typing import NamedTuple

from autotrack.capture.eval_sets import describe_eval_sets, eval_pairs, training_function_name
from autotrack.integration import Integration, Target, bound_arguments
from autotrack.integrations.xgboost_callback import (
    _CALLBACK_RUNS, _PLAN, RUN_NAMES, _callback_class, _class_name, _importances, _is_autotrack_callback,
    _early_stopping_metric, _goals, _is_booster, _model_artifact, _Plan, _record_early_stopping,
    _resolved_params,
)
from autotrack.plugins import hookimpl

__all__ = ["AutotrackCallback"]  # built on first access, see __getattr__

_TRAINING_MODULES = ("xgboost", "xgboost.training")
DASK_TRAIN_RUN = "xgboost.dask.train"


# -- what to patch --------------------------------------------------------------------------------
def _dtrain_argument(args: tuple, kwargs: dict) -> dict:
    """train/cv(params, dtrain, ...): the DMatrix is `X`; its label and weights `y` and
    `sample_weight` (as LightGBM's Dataset), so the run has a target summary and fingerprint."""
    dtrain = args[1] if len(args) > 1 else kwargs.get("dtrain")
    data = {"X": dtrain}
    core = sys.modules.get("xgboost.core")
    if core is not None and isinstance(dtrain, core.DMatrix):
        for role, getter in (("y", "get_label"), ("sample_weight", "get_weight")):
            try:
                values = getattr(dtrain, getter)()
            except Exception:  # a DMatrix kind that keeps no such info (external memory, quantile)
                continue
            if getattr(values, "size", 0):
                data[role] = values
    return data


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


def _dask_targets(module):
    """xgboost.dask.train(client, params, dtrain, ...): trained on the Dask workers, recorded
    from what it returns (the booster and each iteration's history)."""
    yield Target(module, "train", "fit", data_arguments=_dask_dtrain_argument, run_name=DASK_TRAIN_RUN,
                 model_of_result=lambda result: result.get("booster") if isinstance(result, dict) else None)


def _dask_dtrain_argument(args: tuple, kwargs: dict) -> dict:
    return {"X": args[2] if len(args) > 2 else kwargs.get("dtrain")}


@hookimpl
def autotrack_register_integrations(register):
    register(Integration(name="xgboost", modules=("xgboost",), distribution="xgboost",
                         supported=">=2,<4", targets=_targets))
    register(Integration(name="xgboost.dask", modules=("xgboost.dask",), distribution="xgboost",
                         supported=">=2,<4", targets=_dask_targets))


# -- recognising xgboost's objects without importing xgboost --------------------------------------
def _training_function(call) -> str | None:
    """"train" or "cv" when the call is `xgboost.train` / `xgboost.cv`, else None."""
    target = call.target
    if target.attribute in RUN_NAMES and getattr(target.owner, "__name__", None) in _TRAINING_MODULES:
        return target.attribute
    return None



def _is_estimator(value) -> bool:
    """An estimator of xgboost's scikit-learn API, Dask's included (not Spark's, whose estimators
    are Spark ML's)."""
    sklearn_api = sys.modules.get("xgboost.sklearn")
    return (sklearn_api is not None and isinstance(value, sklearn_api.XGBModel)
            and not type(value).__module__.startswith("xgboost.spark"))


def _trains_elsewhere(estimator) -> bool:
    """Dask's estimators train on the cluster's workers, out of our callback's reach: their
    history is read from the fitted estimator."""
    return type(estimator).__module__.startswith("xgboost.dask")


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


# The scikit-learn API's names (and aliases XGBoost accepts in params) -> XGBoost's own name, the
# one its resolved config uses: each parameter is one key, one change one line of a diff.
_PRIMARY_NAMES = {
    "learning_rate": "eta", "reg_alpha": "alpha", "reg_lambda": "lambda", "min_split_loss": "gamma",
    "random_state": "seed", "n_jobs": "nthread", "n_estimators": "num_boost_round",
}


def canonical_params(params: dict) -> dict:
    return {_PRIMARY_NAMES.get(name, name): value for name, value in params.items()}


def _training_function_params(call, function: str) -> dict:
    arguments = _arguments(call)
    params = canonical_params(_params_dict(arguments.get("params")))
    settings = {name: arguments.get(name) for name in _TRAINING_SETTINGS}
    if function == "cv":
        settings.update({f"cv.{name}": arguments.get(name) for name in _CV_SETTINGS})
    params.update({name: value for name, value in settings.items() if value is not None and value != ()})
    params.update(_callback_params(arguments.get("callbacks")))
    return params


def _estimator_params(estimator) -> dict:
    params = canonical_params({name: value for name, value in estimator.get_params(deep=False).items()
                               if value is not None and name != "callbacks"})
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


@hookimpl(tryfirst=True)
def autotrack_model_params(model, call):
    function = _training_function(call)
    if model is None and function is not None:
        return _training_function_params(call, function)
    if model is None and call.target.run_name == DASK_TRAIN_RUN:
        return _dask_train_params(call)
    if _is_estimator(model):
        return _estimator_params(model)
    return None


@hookimpl
def autotrack_run_name(model, call):
    """`xgboost.train(binary:logistic)`: the training function and the objective (XGBoost's
    default, `reg:squarederror`, when none is given); `, continued` when it goes on from a model."""
    if model is None and call.target.run_name == DASK_TRAIN_RUN:
        params = canonical_params(_params_dict(_dask_train_params(call)))
        return training_function_name(DASK_TRAIN_RUN, params.get("objective", "reg:squarederror"),
                                      bool(call.kwargs.get("xgb_model")))
    function = _training_function(call) if model is None else None
    if function is None:
        return None
    arguments = _arguments(call)
    objective = canonical_params(_params_dict(arguments.get("params"))).get("objective", "reg:squarederror")
    if arguments.get("obj") is not None:
        objective = "custom"
    return training_function_name(RUN_NAMES[function], objective, arguments.get("xgb_model") is not None)


# -- preparing the call: our callback, and what the training is planned to be ---------------------
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
        if _trains_elsewhere(call.instance):
            _describe_eval_set(call, run)
        else:
            _prepare_estimator_fit(call, run)


def _describe_evals(call, run, arguments: dict) -> None:
    """xgboost.train's `evals=[(dmatrix, name), ...]` as `valid.<name>` (the training DMatrix,
    evaluated too, is already train.X)."""
    dtrain = call.data.get("X")
    describe_eval_sets(run, [(name, dmatrix) for dmatrix, name in (arguments.get("evals") or ())
                             if dmatrix is not dtrain])


def _describe_eval_set(call, run) -> None:
    """The scikit-learn API's `eval_set=[(X, y), ...]` as `valid.validation_<i>.X` / `.y`, named
    as XGBoost names the sets in its metrics."""
    arguments = _fit_arguments(call)
    describe_eval_sets(run, eval_pairs(arguments.get("eval_set"), lambda index: f"validation_{index}",
                                       arguments.get("sample_weight_eval_set")))


def _fit_arguments(call) -> dict:
    return bound_arguments(call.instance.fit, call)


def _prepare_training_function(call, run) -> None:
    arguments = _arguments(call)
    if call.target.attribute == "train":
        _describe_evals(call, run, arguments)
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
    _describe_eval_set(call, run)
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
@hookimpl(tryfirst=True)
def autotrack_feature_importances(model):
    booster = _trained_booster(model)
    return _importances(booster) if booster is not None else None


@hookimpl(tryfirst=True)
def autotrack_model_artifact(model):
    booster = _trained_booster(model)
    return _model_artifact(booster) if booster is not None else None


@hookimpl
def autotrack_fit_results(model, run, call):
    if _is_booster(model):  # xgboost.train's result: the run's model is known only now
        run.set_tags({"model.class": _class_name(model)})
        if call.target.run_name == DASK_TRAIN_RUN:
            _record_history(run, call.result.get("history") or {})
            run.log_params(_resolved_params(model))
    elif _is_estimator(model) and run not in _CALLBACK_RUNS:
        _record_without_callback(run, model)


def _record_history(run, evals_log: dict) -> None:
    """Each iteration's evaluation, as the callback would have recorded it."""
    run.set_metric_goals(_goals(evals_log))
    for data_name, metrics in evals_log.items():
        for metric_name, values in metrics.items():
            for step, value in enumerate(values):
                run.log_metrics({f"{data_name}.{metric_name}": value}, step=step)


def _dask_train_params(call) -> dict:
    import inspect

    try:
        arguments = inspect.signature(call.target.owner.train).bind(*call.args, **call.kwargs)
    except TypeError:
        return {}
    arguments.apply_defaults()
    named = arguments.arguments
    params = canonical_params(_params_dict(named.get("params")))
    params.update({name: named.get(name) for name in _TRAINING_SETTINGS if named.get(name) is not None})
    params.update(_callback_params(named.get("callbacks")))
    return params


def _record_without_callback(run, estimator) -> None:
    """An estimator trained without our callback (a random forest): its evaluation history,
    resolved params and early-stopping state, read from the fitted estimator."""
    evals_log = getattr(estimator, "evals_result_", None) or {}
    _record_history(run, evals_log)
    booster = estimator.get_booster()
    run.log_params(_resolved_params(booster))
    callbacks = list(estimator.callbacks or ())
    plan = _plan_for(estimator.get_num_boosting_rounds(), estimator.early_stopping_rounds, callbacks)
    _record_early_stopping(run, booster, booster.num_boosted_rounds(), plan, _early_stopping_metric(evals_log))


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


def __getattr__(name):
    if name == "AutotrackCallback":  # imports xgboost: only when asked for
        return _callback_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- serving --------------------------------------------------------------------------------------
@hookimpl(tryfirst=True)
def autotrack_model_fingerprint(model):
    """The trees, as text: the same for the trained booster and one loaded from .json or .ubj
    (whose learner config may differ in form)."""
    booster = _trained_booster(model)
    if booster is None:
        return None
    digest = hashlib.sha256()
    for tree in booster.get_dump(dump_format="text"):
        digest.update(tree.encode())
    return "xgboost-" + digest.hexdigest()[:24]


@hookimpl
def autotrack_data_table(data):
    """A DMatrix's values as a dense array with NaN where nothing is stored, named columns."""
    core = sys.modules.get("xgboost.core")
    if core is None or not isinstance(data, core.DMatrix):
        return None
    import numpy

    try:
        csr = data.get_data()
    except core.XGBoostError:  # external memory: nothing to profile
        return None
    dense = numpy.full(csr.shape, numpy.nan)
    coo = csr.tocoo()
    dense[coo.row, coo.col] = coo.data
    names = data.feature_names
    pandas = sys.modules.get("pandas")
    if names and pandas is not None:
        return pandas.DataFrame(dense, columns=list(names))
    return dense


# -- the registry ---------------------------------------------------------------------------------
@hookimpl
def autotrack_model_loader(name, model_class):
    if name != "model.ubj":
        return None

    def load(path: str):
        import xgboost

        booster = xgboost.Booster()
        booster.load_model(path)
        return booster

    return load


@hookimpl
def autotrack_mlflow_flavor(model):
    if type(model).__module__.split(".")[0] == "xgboost":
        return {"flavor": "xgboost", "packages": ["xgboost"]}
    return None


@hookimpl
def autotrack_predict(model, data):
    """A Booster predicts on a DMatrix (an estimator takes the DataFrame itself)."""
    if type(model).__name__ != "Booster" or type(model).__module__.split(".")[0] != "xgboost":
        return None
    import xgboost

    return model.predict(xgboost.DMatrix(data))
