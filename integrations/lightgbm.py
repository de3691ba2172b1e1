"""LightGBM: lightgbm.train / cv and Booster.predict, per-iteration metrics through a callback.

The scikit-learn API (LGBMClassifier, ...) is patched by the scikit-learn integration, since those
classes are scikit-learn estimators; this plugin answers its model hooks first, with LightGBM's own
parameters, importances and model file, and adds its callback to their `fit` as to `train`/`cv`.

LightGBM is imported by nothing here at module level: everything looks it up in `sys.modules`,
where it is once the user has imported it (which is when any of this is called).
The callback, and what a training records, live in `lightgbm_callback`.
"""

from __future__ import annotations

import inspect
import sys

from autotrack.capture.eval_sets import describe_eval_sets, eval_pairs, training_function_name
from autotrack.integration import Integration, Target
from autotrack.integrations.lightgbm_callback import (
    CV_RUN, TRAIN_RUN, AutotrackCallback, _is_dataset, _is_instance, canonical_params, describe_lightgbm_dataset,
    feature_importances, given_label, model_artifact, record_evals_history, record_training_end,
)
from autotrack.plugins import hookimpl

__all__ = ["AutotrackCallback"]


# -- what to patch ----------------------------------------------------------------------------------
@hookimpl
def autotrack_register_integrations(register):
    register(Integration(name="lightgbm", modules=("lightgbm",), distribution="lightgbm",
                         supported=">=4,<5", targets=_targets))


def _targets(module):
    # `lightgbm.train` is `lightgbm.engine.train` re-exported: both names are patched (a separate
    # wrapper each, so neither call nests in the other). The scikit-learn API calls the name it
    # imported from lightgbm.engine before any patching, inside its own tracked fit, so its
    # training never makes a second run.
    for owner in (module, sys.modules.get("lightgbm.engine")):
        if owner is not None:
            yield Target(owner, "train", "fit", data_arguments=_training_data, run_name=TRAIN_RUN)
            yield Target(owner, "cv", "fit", data_arguments=_training_data, run_name=CV_RUN)
    yield Target(module.Booster, "predict", "predict", data_arguments=_prediction_data)


def _training_data(args, kwargs) -> dict:
    """train/cv(params, train_set, ...): the Dataset is `X`; its raw label and weight `y` and
    `sample_weight` (described before training, while LightGBM still holds the raw data)."""
    train_set = args[1] if len(args) > 1 else kwargs.get("train_set")
    if not _is_dataset(train_set):
        return {"X": train_set}
    return {"X": train_set, "y": given_label(train_set), "sample_weight": train_set.weight}


def _prediction_data(args, kwargs) -> dict:
    return {"X": args[0] if args else kwargs.get("data")}


# -- hooks ------------------------------------------------------------------------------------------
@hookimpl(tryfirst=True)
def autotrack_model_params(model, call):
    """What the user asked for, at the start; what the booster used is added when training ends."""
    if _is_sklearn_model(model):
        return canonical_params(model.get_params())
    if model is not None or not _is_engine_call(call):
        return None
    arguments = _arguments(call, with_defaults=True)
    # num_boost_round first: an alias in params wins over it, as LightGBM has it
    params = canonical_params({"num_boost_round": arguments.get("num_boost_round"), **(arguments.get("params") or {})})
    if call.target.run_name == CV_RUN:
        params.update({name: arguments.get(name) for name in ("nfold", "stratified", "shuffle", "seed")})
    return params


@hookimpl
def autotrack_run_name(model, call):
    """`lightgbm.train(binary)`: the training function and the objective (LightGBM's default,
    `regression`, when none is given), so that a script's several trainings read apart; `, continued`
    when it goes on from a model (`init_model=`)."""
    if model is not None or not _is_engine_call(call):
        return None
    arguments = _arguments(call)
    objective = canonical_params(dict(arguments.get("params") or {})).get("objective", "regression")
    return training_function_name(call.target.run_name, objective, arguments.get("init_model") is not None)


@hookimpl
def autotrack_prepare_call(call, run):
    if call.target.kind != "fit":
        return
    if _is_engine_call(call) or (call.target.attribute == "fit" and _is_sklearn_model(call.instance)):
        _add_callback(call, run)
    if call.target.run_name == TRAIN_RUN:
        _describe_valid_sets(call, run)
        train_set = call.data.get("X")
        if _is_dataset(train_set) and train_set.data is not None:  # freed by training (free_raw_data)
            call.notes["reference_X"] = train_set.data
    elif call.target.attribute == "fit" and _is_sklearn_model(call.instance):
        _describe_eval_set(call, run)


@hookimpl(tryfirst=True)
def autotrack_feature_importances(model, call):
    booster = _booster_of(model, call)
    return feature_importances(booster) if booster is not None else None


@hookimpl
def autotrack_fit_results(model, run, call):
    booster = _booster_of(model, call)
    if booster is None:
        return
    callback = _callback_in(call)
    training = callback.training if callback is not None else None
    if training is not None and training.run is not run:
        training = None  # the user's callback recorded into another run (a nested train)
    if callback is None and _is_sklearn_model(model):  # lightgbm.dask: trained on the workers
        record_evals_history(run, getattr(model, "evals_result_", None))
    record_training_end(run, booster, training, _best_iteration(booster))


@hookimpl(tryfirst=True)
def autotrack_model_artifact(model, call):
    booster = _booster_of(model, call)
    return model_artifact(booster) if booster is not None else None


@hookimpl
def autotrack_describe_dataset(data, role, name):
    return describe_lightgbm_dataset(data, role, name) if _is_dataset(data) else None


# -- datasets ---------------------------------------------------------------------------------------
def _describe_valid_sets(call, run) -> None:
    """train()'s valid_sets as `valid.<name>`, named as LightGBM names them in its metrics."""
    arguments = _arguments(call)
    train_set, valid_sets = arguments.get("train_set"), arguments.get("valid_sets")
    if _is_dataset(valid_sets):
        valid_sets = [valid_sets]
    names = arguments.get("valid_names")
    names = [names] if isinstance(names, str) else list(names or ())
    sets = []
    for index, valid_set in enumerate(valid_sets or ()):
        if valid_set is train_set or not _is_dataset(valid_set):
            continue  # the training data, evaluated as the "training" set: described as train.X
        sets.append((names[index] if index < len(names) else f"valid_{index}", valid_set))
    describe_eval_sets(run, sets)


def _describe_eval_set(call, run) -> None:
    """The scikit-learn API's `eval_set=[(X, y), ...]` as `valid.<name>.X` / `.y`, named as
    LightGBM names them in the metrics (`eval_names`, else `valid_<i>`); a pair that is the
    training data itself is LightGBM's `training` set, already train.X."""
    arguments = _arguments(call)
    eval_set = arguments.get("eval_set")
    if eval_set is None and arguments.get("eval_X") is not None:  # LightGBM 4.6's eval_X / eval_y
        eval_X, eval_y = arguments.get("eval_X"), arguments.get("eval_y")
        if not isinstance(eval_X, (list, tuple)):
            eval_X, eval_y = [eval_X], [eval_y]
        eval_set = list(zip(eval_X, eval_y or [None] * len(eval_X)))
    if eval_set is None:
        return
    if isinstance(eval_set, tuple):
        eval_set = [eval_set]
    names = list(arguments.get("eval_names") or ())
    X, y = call.data.get("X"), call.data.get("y")
    describe_eval_sets(run, eval_pairs(
        eval_set, lambda index: names[index] if index < len(names) else f"valid_{index}",
        arguments.get("eval_sample_weight"), skip=lambda pair: pair[0] is X and pair[1] is y))


# -- recognising LightGBM's objects and calls -------------------------------------------------------
def _is_sklearn_model(value) -> bool:
    return _is_instance(value, "lightgbm.sklearn", "LGBMModel")


def _is_engine_call(call) -> bool:
    return call is not None and call.target.run_name in (TRAIN_RUN, CV_RUN)


def _booster_of(model, call):
    """The Booster (or cv's CVBooster) a LightGBM fit produced; None for any other model."""
    if _is_instance(model, "lightgbm.basic", "Booster"):
        return model
    if _is_sklearn_model(model):
        return model.booster_
    if _is_engine_call(call):  # cv returns a dict: its CVBooster is the one the callback saw
        callback = _callback_in(call)
        if callback is not None and callback.training is not None:
            return callback.training.model
    return None


def _best_iteration(booster) -> int:
    """LightGBM's best_iteration (1-based); 0 when training set none (cv's -1 included)."""
    best = getattr(booster, "best_iteration", 0)
    return best if isinstance(best, int) and best > 0 else 0


def _callback_in(call):
    """Autotrack's callback among the call's callbacks (the one it added, or the user's)."""
    if call is None or call.target.kind != "fit":
        return None
    for callback in _arguments(call).get("callbacks") or ():
        if isinstance(callback, AutotrackCallback):
            return callback
    return None


def _add_callback(call, run) -> None:
    """A new callbacks list: autotrack's callback first (so each of the user's callbacks gets the
    default `order` LightGBM would give it without autotrack), then the user's."""
    signature = _signature(call)
    if "callbacks" not in signature.parameters:
        return  # a subclass's fit that takes none (the Dask estimators pass **kwargs on)
    try:
        given = signature.bind_partial(*call.args, **call.kwargs).arguments.get("callbacks")
    except TypeError:
        return  # arguments the original rejects: let it say so
    if isinstance(given, (list, tuple)) and any(isinstance(cb, AutotrackCallback) for cb in given):
        return  # the user's callback records into this call's run
    callbacks = [AutotrackCallback(run), *(given or ())]
    position = list(signature.parameters).index("callbacks")
    if len(call.args) > position:
        call.args = (*call.args[:position], callbacks, *call.args[position + 1:])
    else:
        call.kwargs = {**call.kwargs, "callbacks": callbacks}


def _signature(call) -> inspect.Signature:
    """The original's signature (the patched function keeps it in __wrapped__), without self."""
    owner = call.instance if call.instance is not None else call.target.owner
    return inspect.signature(getattr(owner, call.target.attribute))


def _arguments(call, with_defaults: bool = False) -> dict:
    try:
        bound = _signature(call).bind_partial(*call.args, **call.kwargs)
    except TypeError:
        return {}
    if with_defaults:
        bound.apply_defaults()
    return bound.arguments


# -- serving --------------------------------------------------------------------------------------
@hookimpl(tryfirst=True)
def autotrack_model_fingerprint(model):
    """The trees of the model as LightGBM saves them, without the parameters section: the same
    for the trained booster (up to its best iteration, as `save_model` writes) and one loaded
    from the file."""
    booster = _booster_of(model, None)
    if booster is None or not hasattr(booster, "model_to_string"):
        return None
    import hashlib

    text = booster.model_to_string().split("\nparameters:", 1)[0]
    return "lightgbm-" + hashlib.sha256(text.encode()).hexdigest()[:24]


@hookimpl
def autotrack_data_table(data):
    """A Dataset's raw data, while LightGBM still holds it."""
    return data.data if _is_dataset(data) and data.data is not None and not isinstance(data.data, str) else None


# -- the registry ---------------------------------------------------------------------------------
@hookimpl
def autotrack_model_loader(name, model_class):
    """model.txt: a Booster (also for an LGBMClassifier's run: LightGBM's own format holds its
    trees, not the estimator); cvbooster.json: lightgbm.cv's folds."""
    if name not in ("model.txt", "cvbooster.json"):
        return None

    def load(path: str):
        import lightgbm

        if name == "cvbooster.json":
            return lightgbm.CVBooster(model_file=path)
        return lightgbm.Booster(model_file=path)

    return load


@hookimpl
def autotrack_mlflow_flavor(model):
    module = type(model).__module__
    if module.split(".")[0] == "lightgbm" and type(model).__name__ != "CVBooster":
        return {"flavor": "lightgbm", "packages": ["lightgbm"]}
    return None
