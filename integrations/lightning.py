"""PyTorch Lightning (`lightning.pytorch` and `pytorch_lightning`): a Trainer's fit, validate, test
and predict recorded by an autotrack Callback: params, epoch and step metrics, datasets, checkpoints.

This plugin says what to patch and answers the hooks; the callback that records each stage is in
`autotrack.integrations.lightning_recording`, imported when the callback class is first built."""

from __future__ import annotations

import sys

from autotrack.integration import Integration, Target
from autotrack.plugins import hookimpl


# The two distributions ship the same code under two package names: each has its own Trainer,
# Callback and LightningModule classes. Package -> (integration name, distribution).
PACKAGES = {
    "lightning.pytorch": ("lightning", "lightning"),
    "pytorch_lightning": ("pytorch_lightning", "pytorch-lightning"),
}
SUPPORTED = ">=2,<3"
EVALUATE_METHODS = ("validate", "test", "predict")
ARTIFACT_NAME = "model.ckpt"

__all__ = ["AutotrackCallback"]


# -- what to patch ---------------------------------------------------------------------------------
def _targets(module):
    trainer = getattr(module, "Trainer", None)
    if trainer is None:
        return
    yield Target(trainer, "fit", "fit", data_arguments=_no_data, model=_fitted_module)
    for method in EVALUATE_METHODS:
        yield Target(trainer, method, "evaluate", data_arguments=_no_data, model=_evaluated_module)


def _no_data(args, kwargs) -> dict:
    """Nothing for the core to describe: the callback describes the dataloaders Lightning really
    uses (those given to fit, a datamodule's, or the LightningModule's own)."""
    return {}


def _fitted_module(trainer, args, kwargs):
    return args[0] if args else kwargs.get("model")


def _evaluated_module(trainer, args, kwargs):
    """`trainer.test(model)`, or the module the trainer holds when none is passed (after fit)."""
    module = _fitted_module(trainer, args, kwargs)
    if module is None:
        try:
            module = trainer.lightning_module
        except Exception:  # a trainer that never had a strategy set up: no module to name
            module = None
    return module


@hookimpl
def autotrack_register_integrations(register):
    for package, (name, distribution) in PACKAGES.items():
        # LightningCLI calls trainer.fit for the user: that call is theirs, not Lightning's own.
        register(Integration(name=name, modules=(package,), distribution=distribution,
                             supported=SUPPORTED, targets=_targets,
                             user_entry_modules=(f"{package}.cli",)))


def _package_of(obj, class_name: str) -> str | None:
    """The Lightning package whose `class_name` (Trainer, LightningModule) `obj` is an instance of."""
    for package in PACKAGES:
        base = getattr(sys.modules.get(package), class_name, None)
        if base is not None and isinstance(obj, base):
            return package
    return None


@hookimpl
def autotrack_prepare_call(call, run):
    """Give the trainer a new callbacks list holding our callback (bound to `run`) for this call."""
    trainer = call.instance
    package = _package_of(trainer, "Trainer")
    if package is None:
        return
    from autotrack.integrations.lightning_recording import _Recorder  # it imports this module

    callbacks = trainer.callbacks
    if any(isinstance(callback, _Recorder) for callback in callbacks):
        return  # the user's own AutotrackCallback finds this run by itself
    ours = _callback_class((package,))(run)
    with_ours = [*callbacks, ours]
    trainer.callbacks = with_ours
    call.cleanups.append(lambda: _take_out(trainer, callbacks, with_ours, ours))


def _take_out(trainer, original: list, with_ours: list, ours) -> None:
    if trainer.callbacks is with_ours:
        trainer.callbacks = original
    else:  # Lightning rebuilt the list during the call (the module's configure_callbacks)
        trainer.callbacks = [callback for callback in trainer.callbacks if callback is not ours]


@hookimpl
def autotrack_model_params(model, call):
    """What is known before training starts. The callback logs it again from inside the call
    (with the datamodule's hparams and the module's own callbacks by then), but it cannot reach
    the run from ddp_spawn's worker processes: this way such a run still has its params."""
    trainer = call.instance
    if _package_of(model, "LightningModule") is None or _package_of(trainer, "Trainer") is None:
        return None
    params = _hyperparameters(trainer, model)
    if call.target.kind == "fit":
        params.update({**_trainer_settings(trainer), **_callback_settings(trainer)})
    return params


@hookimpl
def autotrack_model_artifact(model):
    if _package_of(model, "LightningModule") is None:
        return None
    return _checkpoint_artifact(model)


def _checkpoint_artifact(module):
    """`model.ckpt`: a checkpoint `YourModule.load_from_checkpoint()` reads (weights and
    hyperparameters). The weights are copied now, since training may go on changing them in
    place; torch.save runs later on the writer thread."""
    package = _package_of(module, "LightningModule")
    checkpoint = {
        "state_dict": {name: value.detach().clone() for name, value in module.state_dict().items()},
        "pytorch-lightning_version": getattr(sys.modules.get(package), "__version__", None),
    }
    if getattr(module, "hparams", None):
        checkpoint["hyper_parameters"] = dict(module.hparams)

    def write(path: str) -> None:
        import torch

        torch.save(checkpoint, path)

    return ARTIFACT_NAME, write


# -- params (the callback logs these too) ----------------------------------------------------------
def _hyperparameters(trainer, module) -> dict:
    """The LightningModule's `hparams` (and its datamodule's), as the user named them."""
    datamodule = getattr(trainer, "datamodule", None)
    return {**dict(getattr(datamodule, "hparams", None) or {}),
            **dict(getattr(module, "hparams", None) or {})}


def _trainer_settings(trainer) -> dict:
    accelerator = type(trainer.accelerator).__name__
    return {
        "trainer.max_epochs": trainer.max_epochs,
        "trainer.max_steps": trainer.max_steps,
        "trainer.precision": trainer.precision,
        "trainer.accelerator": accelerator.removesuffix("Accelerator").lower() or accelerator,
        "trainer.devices": trainer.num_devices,
        "trainer.num_nodes": trainer.num_nodes,
        "trainer.strategy": type(trainer.strategy).__name__,
        "trainer.accumulate_grad_batches": trainer.accumulate_grad_batches,
        "trainer.gradient_clip_val": trainer.gradient_clip_val,
        "trainer.gradient_clip_algorithm": trainer.gradient_clip_algorithm,
    }


def _callback_settings(trainer) -> dict:
    settings = {}
    stopping = trainer.early_stopping_callback
    if stopping is not None:
        settings.update({"early_stopping.monitor": stopping.monitor,
                         "early_stopping.patience": stopping.patience, "early_stopping.mode": stopping.mode,
                         # kept negative internally when mode is "min": the user gave its size
                         "early_stopping.min_delta": abs(float(stopping.min_delta))})
    checkpoint = trainer.checkpoint_callback
    if checkpoint is not None and hasattr(checkpoint, "save_top_k"):
        settings.update({"checkpoint.monitor": checkpoint.monitor, "checkpoint.mode": checkpoint.mode,
                         "checkpoint.save_top_k": checkpoint.save_top_k})
    return settings


# -- the explicit callback -------------------------------------------------------------------------
def __getattr__(name):
    """`AutotrackCallback` is built on first use (PEP 562): it subclasses a Lightning Callback, and
    importing this module must not import Lightning."""
    if name == "AutotrackCallback":
        return _callback_class(_packages_for_user_callback())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _packages_for_user_callback() -> tuple[str, ...]:
    """The Lightning package(s) the user's script works with: those already imported, else every
    installed one (a class that subclasses both Callbacks fits either Trainer)."""
    imported = tuple(package for package in PACKAGES if package in sys.modules)
    if imported:
        return imported
    import importlib.util

    installed = tuple(package for package in PACKAGES
                      if importlib.util.find_spec(package.partition(".")[0]) is not None)
    return installed or ("lightning.pytorch",)


_CLASSES: dict[tuple[str, ...], type] = {}


def _callback_class(packages: tuple[str, ...]) -> type:
    cls = _CLASSES.get(packages)
    if cls is None:
        import importlib

        from autotrack.integrations.lightning_recording import _Recorder

        bases = tuple(importlib.import_module(package).Callback for package in packages)
        cls = type("AutotrackCallback", (_Recorder, *bases), {
            "__module__": __name__, "__qualname__": "AutotrackCallback", "_packages": packages,
            "__doc__": _Recorder.__doc__,
        })
        _CLASSES[packages] = cls
    return cls


def _rebuild_callback(packages: tuple[str, ...], bound_elsewhere: bool):
    callback = _callback_class(packages)()
    callback._bound_elsewhere = bound_elsewhere
    return callback


# -- serving --------------------------------------------------------------------------------------
@hookimpl
def autotrack_model_fingerprint(model):
    """The state dict, tensor by tensor in key order: the same for the trained module and one
    loaded with `load_from_checkpoint`."""
    if not any(_is_module(model, package) for package in PACKAGES):
        return None
    import hashlib

    digest = hashlib.sha256()
    for key, tensor in sorted(model.state_dict().items()):
        array = tensor.detach().cpu().numpy()
        digest.update(f"{key}{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return "torch-" + digest.hexdigest()[:24]


def _is_module(model, package: str) -> bool:
    module = sys.modules.get(package)
    cls = getattr(module, "LightningModule", None) if module is not None else None
    return cls is not None and isinstance(model, cls)


# -- the registry ---------------------------------------------------------------------------------
@hookimpl
def autotrack_model_loader(name, model_class):
    """model.ckpt, through `load_from_checkpoint` of the module's class: imported by its name, or
    found in `__main__` when the training script defined it (define or import it first)."""
    if name != ARTIFACT_NAME:
        return None

    def load(path: str):
        from autotrack.registry.loading import import_class

        module_class = import_class(model_class)
        if module_class is None or not hasattr(module_class, "load_from_checkpoint"):
            raise ValueError(f"loading this checkpoint needs the class {model_class}: import or define it "
                             f"first (or call YourModule.load_from_checkpoint({path!r}))")
        return module_class.load_from_checkpoint(path)

    return load


@hookimpl
def autotrack_mlflow_flavor(model):
    if any(_is_module(model, package) for package in PACKAGES):
        package = _package_of(model, "LightningModule") or "lightning.pytorch"
        # The whole module pickled: MLflow's default (pt2) traces forward() and needs an input.
        return {"flavor": "pytorch", "packages": ["torch", PACKAGES[package][1]],
                "options": {"serialization_format": "pickle"}}
    return None


@hookimpl
def autotrack_predict(model, data):
    """The module's forward pass on the data as a float tensor, in eval mode, without gradients."""
    if not any(_is_module(model, package) for package in PACKAGES):
        return None
    import numpy
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            output = model(torch.as_tensor(numpy.asarray(data, dtype="float32")))
    finally:
        model.train(was_training)
    return output.detach().cpu().numpy()
