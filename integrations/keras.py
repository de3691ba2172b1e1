"""Keras 3: every model's fit/evaluate/predict, and AutotrackCallback for per-epoch logs and timings.

Keras is never imported here at module level: the callback class, which must subclass
`keras.callbacks.Callback`, is built on first use (`from autotrack.integrations.keras import
AutotrackCallback`, or the first tracked fit) from `autotrack.integrations.keras_callback`.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import shutil
import sys
import tempfile

from autotrack.integration import Integration, Target
from autotrack.plugins import hookimpl
from autotrack.safety import first_line, warn_once


# Method name -> what the core does with it.
METHODS = {"fit": "fit", "evaluate": "evaluate", "predict": "predict"}
# Keras's documented argument order, for overrides written as `fit(self, *args, **kwargs)`.
KERAS_ARGUMENTS = {
    "fit": ("x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split",
            "validation_data", "shuffle", "class_weight", "sample_weight", "initial_epoch",
            "steps_per_epoch", "validation_steps", "validation_batch_size", "validation_freq"),
    "evaluate": ("x", "y", "batch_size", "verbose", "sample_weight", "steps", "callbacks", "return_dict"),
    "predict": ("x", "batch_size", "verbose", "steps", "callbacks"),
}
# Role of a data argument (as the core names it) -> Keras's argument name.
DATA_ROLES = {"X": "x", "y": "y", "sample_weight": "sample_weight"}
DEFAULT_BATCH_SIZE = 32  # what Keras uses for arrays when fit() gets no batch_size
ARTIFACT_NAME = "model.keras"
WEIGHTS_NAME = "model.weights.h5"  # a subclassed model Keras cannot describe: its weights


# -- what to patch --------------------------------------------------------------------------------
def targets_in(module):
    """fit/evaluate/predict where Keras defines them for the active backend (for torch:
    `keras.src.backend.torch.trainer.TorchTrainer`), so every model class inherits the patch."""
    for attribute, kind in METHODS.items():
        owner = _defining_class(module.Model, attribute)
        if owner is not None:
            yield _target(owner, attribute, kind)


def subclass_roots(module):
    """Users' own models subclass keras.Model; those that override fit/evaluate/predict are
    patched too (their `super().fit(...)` is then a nested call, not a second run)."""
    yield module.Model


def class_targets(cls):
    for attribute, kind in METHODS.items():
        if attribute in cls.__dict__:
            yield _target(cls, attribute, kind)


def _defining_class(cls: type, attribute: str) -> type | None:
    return next((klass for klass in cls.__mro__ if attribute in vars(klass)), None)


def _target(owner: type, attribute: str, kind: str) -> Target:
    arguments = _arguments_of(owner, attribute)
    roles = {role: name for role, name in DATA_ROLES.items() if name in arguments.positions}
    pick = functools.partial(arguments.pick, roles)
    if attribute == "fit":
        pick = functools.partial(_training_part, arguments, pick)
    return Target(owner, attribute, kind, data_arguments=pick)


def _training_part(arguments, pick, args: tuple, kwargs: dict) -> dict:
    """fit's data; with `validation_split`, the rows Keras trains on (the first ones: Keras holds
    out the last `validation_split` of the arrays, before shuffling)."""
    data = pick(args, kwargs)
    split_at = _validation_split_at(arguments, args, kwargs, data.get("X"))
    return data if split_at is None else {role: _rows(value, 0, split_at) for role, value in data.items()}


def _validation_split_at(arguments, args: tuple, kwargs: dict, x) -> int | None:
    """The row where Keras splits arrays for `validation_split` (as Keras computes it); None when
    there is no split (or validation_data wins over it, or x is a dataset, which Keras refuses)."""
    split = arguments.get(args, kwargs, "validation_split", 0.0)
    if not split or arguments.get(args, kwargs, "validation_data") is not None or _is_batched_source(x):
        return None
    try:
        rows = len(x)
        return int(math.floor(rows * (1.0 - float(split))))
    except (TypeError, ValueError):
        return None


def _rows(value, start: int, stop: int | None):
    """Rows start:stop of an array or a DataFrame (a view, no copy); other values as they are."""
    if value is None or not hasattr(value, "shape"):
        return value
    iloc = getattr(value, "iloc", None)
    return iloc[start:stop] if iloc is not None else value[start:stop]


class _Arguments:
    """Finds a method's argument however it was passed (by position or by name) and replaces it
    in new args/kwargs objects, leaving the caller's untouched."""

    def __init__(self, names):
        self.positions = {name: index for index, name in enumerate(names)}

    def get(self, args: tuple, kwargs: dict, name: str, default=None):
        position = self.positions.get(name)
        if position is not None and position < len(args):
            return args[position]
        return kwargs.get(name, default)

    def pick(self, roles: dict, args: tuple, kwargs: dict) -> dict:
        return {role: self.get(args, kwargs, name) for role, name in roles.items()}

    def replace(self, args: tuple, kwargs: dict, name: str, value) -> tuple[tuple, dict]:
        position = self.positions.get(name)
        if position is not None and position < len(args):
            return args[:position] + (value,) + args[position + 1:], kwargs
        return args, {**kwargs, name: value}


@functools.lru_cache(maxsize=None)
def _arguments_of(owner: type, attribute: str) -> _Arguments:
    """The argument names of `owner.attribute` in order, read once from its signature."""
    function = inspect.unwrap(owner.__dict__[attribute])
    parameters = list(inspect.signature(function).parameters.values())[1:]  # without self
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):  # `fit(self, *args, **kwargs)`
        return _Arguments(KERAS_ARGUMENTS[attribute])
    return _Arguments(p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


@hookimpl
def autotrack_register_integrations(register):
    register(Integration(
        name="keras",
        modules=("keras",),
        distribution="keras",
        supported=">=3,<4",
        targets=targets_in,
        subclass_roots=subclass_roots,
        class_targets=class_targets,
    ))


def _is_keras_model(model) -> bool:
    keras = sys.modules.get("keras")  # never imported by us: a model exists only if keras does
    model_class = getattr(keras, "Model", None)
    return model_class is not None and isinstance(model, model_class)


# -- params ---------------------------------------------------------------------------------------
@hookimpl(tryfirst=True)  # a Keras model is also a torch Module: ours is the native answer
def autotrack_model_params(model, call):
    if not _is_keras_model(model):
        return None
    params = {**_compile_params(model), **_architecture_params(model)}
    if call.target.kind == "fit":
        params.update(_fit_params(call))
    return params


def _compile_params(model) -> dict:
    """What compile() was given: optimizer class and config, loss and metric names."""
    params: dict = {}
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        params["optimizer.class"] = type(optimizer).__name__
        params.update({f"optimizer.{key}": value for key, value in optimizer.get_config().items()})
    config = model.get_compile_config() or {}  # None until compiled
    if config.get("loss") is not None:
        params["loss"] = _config_names(config["loss"])
    metrics = [name for key in ("metrics", "weighted_metrics")
               for name in _as_list(_config_names(config.get(key)))]
    if metrics:
        params["metrics"] = metrics
    return params


def _config_names(entry):
    """The names in a serialised loss/metric entry: a string stays; a Keras object's config
    gives its `name`; a function its name; lists and per-output dicts keep their shape."""
    if entry is None or isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        if "class_name" in entry:  # one serialised object
            config = entry.get("config")
            if isinstance(config, str):  # a plain function: config is its name
                return config
            return (config or {}).get("name") or entry["class_name"]
        return {str(output): _config_names(value) for output, value in entry.items()}
    if isinstance(entry, (list, tuple)):
        return [_config_names(value) for value in entry]
    return getattr(entry, "__name__", None) or str(entry)


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _architecture_params(model) -> dict:
    """Layer count and weight counts; the counts only once the model is built (a subclassed
    model is built by its first batch: the callback records them when training begins)."""
    params = {"model.layers": len(model.layers)}
    if model.built:
        params["model.params_total"] = model.count_params()
        params["model.params_trainable"] = sum(math.prod(weight.shape) for weight in model.trainable_weights)
    return params


def _fit_params(call) -> dict:
    arguments = _arguments_of(call.target.owner, call.target.attribute)

    def given(name, default=None):
        return arguments.get(call.args, call.kwargs, name, default)

    params = {"epochs": given("epochs", 1)}
    batch_size = given("batch_size")
    if batch_size is None and not _is_batched_source(given("x")):
        batch_size = DEFAULT_BATCH_SIZE
    if batch_size is not None:
        params["batch_size"] = batch_size
    for optional in ("validation_split", "initial_epoch"):
        if given(optional):
            params[optional] = given(optional)
    return params


def _is_batched_source(x) -> bool:
    """A dataset, generator or PyDataset yields its own batches: fit's batch_size does not apply."""
    return x is not None and not hasattr(x, "shape") and not isinstance(x, (list, tuple, dict))


# -- the call: our callback, validation data ------------------------------------------------------
@hookimpl
def autotrack_prepare_call(call, run):
    if call.target.kind not in ("fit", "evaluate") or not _is_keras_model(call.model):
        return
    _add_callback(call, run)
    if call.target.kind == "fit":
        _describe_validation_data(call, run)


def _add_callback(call, run) -> None:
    """A new callbacks list with ours appended; the user's list is left as it was."""
    arguments = _arguments_of(call.target.owner, call.target.attribute)
    callbacks = arguments.get(call.args, call.kwargs, "callbacks")
    callback_class = _callback_class()
    if isinstance(callbacks, _callback_list_class()):
        warn_once("keras-callback-list", "fit/evaluate got a keras CallbackList: autotrack cannot add its "
                  "callback, so no per-epoch metrics are recorded; pass a plain list instead")
        return
    if any(isinstance(callback, callback_class) for callback in _flattened(callbacks)):
        return  # the user passed ours: it finds this run itself
    call.args, call.kwargs = arguments.replace(
        call.args, call.kwargs, "callbacks", [*_as_list(callbacks), callback_class(run=run)])


def _callback_list_class():
    from keras.callbacks import CallbackList

    return CallbackList


def _flattened(callbacks):
    """Keras accepts one callback, a list, or nested lists (it flattens them)."""
    for callback in _as_list(callbacks):
        if isinstance(callback, (list, tuple)):
            yield from _flattened(callback)
        else:
            yield callback


def _describe_validation_data(call, run) -> None:
    """`validation_data=(x, y[, sample_weight])` as the datasets valid.X / valid.y / valid.sample_weight."""
    from autotrack.session import SESSION

    arguments = _arguments_of(call.target.owner, call.target.attribute)
    validation = arguments.get(call.args, call.kwargs, "validation_data")
    if isinstance(validation, (tuple, list)) and validation:  # a dataset yields its own batches
        from autotrack.tracked_calls import user_frame

        SESSION.describe_inputs(run, dict(zip(DATA_ROLES, validation)), "valid", user_frame())
        return
    full = arguments.pick(DATA_ROLES, call.args, call.kwargs)
    split_at = _validation_split_at(arguments, call.args, call.kwargs, full.get("X"))
    if split_at is not None:  # validation_split: the last rows, held out by Keras
        held_out = {role: _rows(value, split_at, None) for role, value in full.items()}
        SESSION.describe_inputs(run, held_out, "valid", None)
        run.set_tags({"validation": f"validation_split={arguments.get(call.args, call.kwargs, 'validation_split')}"})


@hookimpl(tryfirst=True)
def autotrack_describe_dataset(data, role, name):
    """A keras PyDataset: described without reading it (the core's fallback would turn it into
    an array, loading every batch on the training thread before fit starts)."""
    keras = sys.modules.get("keras")
    dataset_class = getattr(getattr(keras, "utils", None), "PyDataset", None)
    if dataset_class is None or not isinstance(data, dataset_class):
        return None
    return {"role": role, "name": name, "type": f"{type(data).__module__}.{type(data).__qualname__}",
            "batches": _batch_count(data), "rows": None, "columns": None, "bytes": None,
            "fingerprint": None, "schema": None}


def _batch_count(dataset) -> int | None:
    try:
        return len(dataset)
    except (TypeError, NotImplementedError):  # an endless PyDataset has no length
        return None


# -- the model ------------------------------------------------------------------------------------
@hookimpl(tryfirst=True)  # a Keras model is also a torch Module: ours is the native answer
def autotrack_model_artifact(model):
    if not _is_keras_model(model):
        return None
    return _saved_model(model)


def _saved_model(model):
    """`model.save()` into a private temporary file now, on the training thread; the writer thread
    only moves the file into the store. Saving on the writer thread would race with the user's
    code, which may go on training the same model (a torn mix of weights, or an optimizer state
    from another step), and would compete for the GIL all the same. Saving here costs 11-23 ms
    for the benchmark's 5,569-weight model with its Adam state: under 1 % of its ~2.9 s fit."""
    folder = tempfile.mkdtemp(prefix="autotrack-keras-")
    name = ARTIFACT_NAME
    saved = os.path.join(folder, name)
    try:
        model.save(saved)
    except (NotImplementedError, TypeError, ValueError):
        # A subclassed model whose __init__ takes objects Keras cannot describe (no get_config):
        # the whole model cannot be saved, its weights can (rebuild the class, then load_weights).
        # Keras's 20-line explanation is the user's to read when they save it themselves.
        name = WEIGHTS_NAME
        saved = os.path.join(folder, name)
        try:
            model.save_weights(saved)
        except Exception as exc:
            shutil.rmtree(folder, ignore_errors=True)
            warn_once(f"keras-save:{type(model).__qualname__}", "the trained %s cannot be saved (%s: %s); "
                      "no model artifact is stored", type(model).__name__, type(exc).__name__,
                      first_line(str(exc)))
            return None
        warn_once(f"keras-save:{type(model).__qualname__}", "%s has no get_config(), so Keras cannot save "
                  "it whole; its weights are stored as %s", type(model).__name__, WEIGHTS_NAME)

    def write(path: str) -> None:
        try:
            shutil.move(saved, path)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return name, write


# -- the callback ---------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _callback_class() -> type:
    from autotrack.integrations.keras_callback import _build_callback_class  # it imports this module

    return _build_callback_class()


def __getattr__(name: str):
    # PEP 562: `from autotrack.integrations.keras import AutotrackCallback` imports keras only then.
    if name == "AutotrackCallback":
        return _callback_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["AutotrackCallback"]


# -- serving --------------------------------------------------------------------------------------
@hookimpl(tryfirst=True)  # a Keras model is also a torch Module: ours is the native answer
def autotrack_model_fingerprint(model):
    """The weights, in order: the same for the trained model and one loaded from `.keras`."""
    if not _is_keras_model(model):
        return None
    import hashlib

    import numpy

    digest = hashlib.sha256()
    for weights in model.get_weights():
        array = numpy.ascontiguousarray(weights)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return "keras-" + digest.hexdigest()[:24]


# -- the registry ---------------------------------------------------------------------------------
@hookimpl
def autotrack_model_loader(name, model_class):
    if name == ARTIFACT_NAME:
        def load(path: str):
            import keras

            return keras.saving.load_model(path)

        return load
    if name == WEIGHTS_NAME:  # a subclassed model Keras could not save whole
        def load_weights(path: str):
            raise ValueError(f"this run stored only its weights ({WEIGHTS_NAME}): Keras could not save "
                             f"{model_class or 'the model'} whole; build it, then model.load_weights({path!r})")

        return load_weights
    return None


@hookimpl(tryfirst=True)  # a Keras model is also a torch Module
def autotrack_mlflow_flavor(model):
    return {"flavor": "keras", "packages": ["keras"]} if _is_keras_model(model) else None


@hookimpl
def autotrack_predict(model, data):
    """Without Keras's progress bar; a single sigmoid output read as the probability of class 1."""
    if not _is_keras_model(model):
        return None
    import numpy

    values = numpy.asarray(data, dtype="float32")
    predictions = numpy.asarray(model.predict(values, verbose=0))
    return predictions[:, 0] if predictions.ndim == 2 and predictions.shape[1] == 1 else predictions
