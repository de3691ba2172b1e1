"""The autotrack Lightning callback's body: records a Trainer's fit, validate, test and predict."""

from __future__ import annotations

import weakref
from time import perf_counter

from autotrack.callbacks import RunHandle, guarded, tracked_call_run
from autotrack.integrations.lightning import (
    _callback_settings, _checkpoint_artifact, _hyperparameters, _rebuild_callback, _trainer_settings)

EPOCH_TIME_METRIC = "time.epoch_s"
# Attributes of a learning-rate scheduler that are its running state, not its settings.
SCHEDULER_STATE = {"optimizer", "last_epoch", "base_lrs", "verbose", "best", "num_bad_epochs",
                   "cooldown_counter", "mode_worse"}
_SETTING_TYPES = (bool, int, float, str, list, tuple)


# -- the callback ----------------------------------------------------------------------------------
class _Recorder:
    """Records a Lightning Trainer's fit, validate, test and predict into an autotrack run.

    `Trainer(callbacks=[AutotrackCallback()])`: without `autotrack.enable()` it records into the
    innermost `autotrack.start_run()`, else into a run of its own; with autotrack enabled it
    records into the run of the tracked call (one run, no duplicated metric). Only global rank
    zero records. `trainer.test()` after `trainer.fit()` records into the fit's run.
    """

    _packages: tuple[str, ...] = ()

    def __init__(self, run=None):
        self._given = run  # the run the core started for this call; None when the user added us
        self._recording: _StageRecording | None = None
        self._fit_runs = weakref.WeakKeyDictionary()  # module -> the run of its last fit here
        self._bound_elsewhere = False

    def __reduce__(self):
        # ddp_spawn sends the trainer, and its callbacks, to worker processes. A copy made while
        # the core tracks the call cannot reach this process's run: it records nothing there (the
        # run keeps what the main process knows) rather than starting a second run.
        bound = self._bound_elsewhere or self._given is not None or tracked_call_run() is not None
        return _rebuild_callback, (self._packages, bound)

    @guarded("the autotrack Lightning callback starting a stage")
    def setup(self, trainer, pl_module, stage):
        if self._bound_elsewhere or not trainer.is_global_zero:
            return
        stage = str(getattr(stage, "value", stage))
        joined = self._given if self._given is not None else (
            self._fit_runs.get(pl_module) if stage != "fit" else None)
        handle = RunHandle(joined)
        run = handle.begin(type(pl_module).__name__)
        if run is not None:
            self._recording = _StageRecording(handle, run, stage, trainer, pl_module)

    @guarded("the autotrack Lightning callback ending a stage")
    def teardown(self, trainer, pl_module, stage):
        recording, self._recording = self._recording, None
        if recording is not None:
            if recording.stage == "fit":
                self._fit_runs[pl_module] = recording.run
            recording.finish(trainer)

    @guarded("the autotrack Lightning callback ending a failed stage")
    def on_exception(self, trainer, pl_module, exception):
        recording, self._recording = self._recording, None
        if recording is not None:
            recording.fail(trainer, exception)


def _forwarding(hook: str, method: str):
    """A callback hook that hands the trainer to the stage being recorded, if any."""

    def forward(self, trainer, *args):
        recording = self._recording
        if recording is not None:
            getattr(recording, method)(trainer)

    forward.__name__ = forward.__qualname__ = hook
    return guarded(f"the autotrack Lightning callback's {hook}")(forward)


for _hook, _method in {
    "on_train_start": "train_started",
    "on_train_epoch_start": "epoch_started",
    "on_train_batch_start": "batch_started",
    "on_train_batch_end": "batch_ended",
    "on_train_epoch_end": "epoch_ended",
    "on_train_end": "train_ended",
    "on_validation_start": "validation_started",
    "on_validation_end": "validation_ended",
    "on_test_start": "evaluation_started",
    "on_predict_start": "evaluation_started",
}.items():
    setattr(_Recorder, _hook, _forwarding(_hook, _method))


# -- what a stage records --------------------------------------------------------------------------
class _StageRecording:
    """One `fit`, `validate`, `test` or `predict` call being recorded into `run`.

    Metric series never mix numberings: a metric logged with `on_epoch=True` (and every validation
    metric) is recorded once per epoch with the epoch as step, under the name it was logged with;
    one logged with `on_step=True` is recorded at the steps Lightning's loggers write (every
    `log_every_n_steps`), and at the last step of an epoch where that interval wrote nothing (an
    epoch shorter than the interval, which Lightning's loggers leave empty), with the global step
    as `training_step` saw it, under Lightning's name for it (`<name>_step` when logged on both).
    """

    def __init__(self, handle: RunHandle, run, stage: str, trainer, module):
        self.handle, self.run, self.stage = handle, run, stage
        self.started = perf_counter()
        self.described: set[str] = set()
        self.step_keys: set[str] = set()  # metrics logged per step: never in the epoch series
        self.validation_keys: set[str] = set()  # what the latest validation logged
        self.validated = False  # since the last epoch was recorded
        self.pending_epoch: int | None = None
        self.epoch_start_time = 0.0
        self.epoch_times: list[float] = []
        self.batch_step = -1
        self.steps_recorded_in_epoch = False
        self.log_every = getattr(trainer, "log_every_n_steps", 50) or 0
        if handle.owned:
            run.set_tags({"model.class": f"{type(module).__module__}.{type(module).__qualname__}"})
        run.log_params(_hyperparameters(trainer, module))
        if stage == "fit":
            run.log_params({**_trainer_settings(trainer), **_callback_settings(trainer)})

    # fit
    def train_started(self, trainer) -> None:
        module = trainer.lightning_module
        self.run.log_params({**_optimizer_settings(trainer), **_model_summary(module)})
        self._describe("train", trainer.train_dataloader, [trainer.num_training_batches])

    def epoch_started(self, trainer) -> None:
        self._record_epoch(trainer)  # the previous one: what its on_train_epoch_end hooks logged too
        self.epoch_start_time = perf_counter()
        self.steps_recorded_in_epoch = False

    def batch_started(self, trainer) -> None:
        self.batch_step = trainer.global_step

    def batch_ended(self, trainer) -> None:
        step = self.batch_step
        if not self.log_every or (step + 1) % self.log_every or trainer.global_step == step:
            return  # not a logging step, or a batch that only accumulated gradients
        self._record_steps(trainer, step)

    def _record_steps(self, trainer, step: int) -> None:
        values = _logged_now(trainer, on_step=True)
        self.step_keys.update(values)
        self.run.log_metrics(values, step=step)
        self.steps_recorded_in_epoch = self.steps_recorded_in_epoch or bool(values)

    def epoch_ended(self, trainer) -> None:
        elapsed = perf_counter() - self.epoch_start_time
        self.epoch_times.append(elapsed)
        self.pending_epoch = trainer.current_epoch
        self.run.log_metrics({EPOCH_TIME_METRIC: elapsed}, step=self.pending_epoch)
        if not self.steps_recorded_in_epoch and self.batch_step >= 0:
            # log_every_n_steps longer than the epoch: its last step's values, rather than none.
            self._record_steps(trainer, self.batch_step)

    def train_ended(self, trainer) -> None:
        self._record_epoch(trainer)
        if self.epoch_times:
            self.run.set_timings({"epoch_mean_s": sum(self.epoch_times) / len(self.epoch_times)})

    def validation_started(self, trainer) -> None:
        role = "valid" if self.stage == "fit" else self.stage  # as the other integrations name it
        self._describe(role, trainer.val_dataloaders, trainer.num_val_batches)

    def validation_ended(self, trainer) -> None:
        if self.stage == "fit" and not trainer.sanity_checking:
            self.validation_keys = set(_logged_now(trainer, on_step=False))
            self.validated = True

    def _record_epoch(self, trainer) -> None:
        epoch, self.pending_epoch = self.pending_epoch, None
        if epoch is None:
            return
        metrics = trainer.callback_metrics
        stale = set() if self.validated else self.validation_keys  # no validation this epoch
        self.validated = False
        self.run.log_metrics({key: value for key, value in metrics.items()
                              if key not in self.step_keys and key not in stale
                              and not _is_alias(key, "_epoch", value, metrics)}, step=epoch)

    # validate, test, predict
    def evaluation_started(self, trainer) -> None:
        loaders = trainer.test_dataloaders if self.stage == "test" else trainer.predict_dataloaders
        batches = trainer.num_test_batches if self.stage == "test" else trainer.num_predict_batches
        self._describe(self.stage, loaders, batches)

    def _describe(self, role: str, loaders, batches) -> None:
        if role in self.described or loaders is None:
            return
        self.described.add(role)
        counts = list(batches or [])
        for index, loader in enumerate(_each_loader(loaders)):
            count = counts[index] if index < len(counts) else None
            for description in _describe_loader(loader, role, count):
                if self.run.wants_dataset(role, description.get("fingerprint") or id(loader), 1_000):
                    self.run.log_dataset(description)

    # the end of the stage
    def finish(self, trainer) -> None:
        try:
            if self.stage == "fit":
                self._record_fit_results(trainer)
            elif self.stage in ("validate", "test"):
                metrics = trainer.callback_metrics
                # Step left to the run: the first test call is step 0, a second one step 1.
                self.run.log_metrics({f"{self.stage}.{key}": value for key, value in metrics.items()
                                      if not _is_alias(key, "_epoch", value, metrics)})
            self._record_what_the_core_does_not(trainer)
        finally:
            self.handle.end()

    def fail(self, trainer, exception: BaseException) -> None:
        try:
            if self.stage == "fit":
                self._record_epoch(trainer)
        finally:
            self.handle.end(exception)

    def _record_fit_results(self, trainer) -> None:
        self.run.set_metric_goals(_monitor_goals(trainer))
        checkpoint = trainer.checkpoint_callback
        best_path = getattr(checkpoint, "best_model_path", None)
        if best_path:
            self.run.set_tags({"checkpoint.best_path": best_path})
        best_score = getattr(checkpoint, "best_model_score", None)
        if best_score is not None:
            self.run.log_metrics({"checkpoint.best_score": best_score}, step=0)
        stopped_epoch = getattr(trainer.early_stopping_callback, "stopped_epoch", 0)
        if stopped_epoch:
            self.run.set_tags({"early_stopping.stopped_epoch": stopped_epoch})

    def _record_what_the_core_does_not(self, trainer) -> None:
        """A run the core does not track (the explicit callback without `enable()`, or inside a
        `start_run`) gets the duration and, after a fit, the model artifact from here."""
        if self.run.source == "auto":
            return
        self.run.set_timings({f"{self.stage}_s": perf_counter() - self.started})
        if self.stage == "fit":
            from autotrack.session import SESSION

            if SESSION.configure().log_models:
                self.run.write_artifact(*_checkpoint_artifact(trainer.lightning_module))


def _logged_now(trainer, on_step: bool) -> dict:
    """What the running loop's results hold now, named as `trainer.callback_metrics` names them:
    its step values (without the unsuffixed twin of a `<name>_step`), or its epoch values.

    Lightning tells step from epoch metrics only in the loop's private result collection; where
    that is missing (a future version), no step series is recorded and every callback metric
    goes into the epoch series."""
    results = getattr(trainer, "_results", None)
    metrics = getattr(results, "metrics", None)
    logged = metrics(on_step).get("callback") if metrics is not None else None
    if not isinstance(logged, dict):
        return {}
    if not on_step:
        return dict(logged)
    # Lightning stores a metric logged on both under `<name>` and `<name>_step`, one object.
    return {key: value for key, value in logged.items() if logged.get(key + "_step") is not value}


def _is_alias(key: str, suffix: str, value, metrics: dict) -> bool:
    """`train_loss_epoch` beside `train_loss` holding the same value: one metric, two names."""
    return key.endswith(suffix) and metrics.get(key[: -len(suffix)]) is value


# -- params only the callback sees -----------------------------------------------------------------
def _optimizer_settings(trainer) -> dict:
    """`optimizer.class` and its settings (first parameter group), `scheduler.class` and its own;
    a second optimizer or scheduler as `optimizer_1.*`, `scheduler_1.*`."""
    settings = {}
    for index, optimizer in enumerate(trainer.optimizers):
        prefix = "optimizer" if index == 0 else f"optimizer_{index}"
        group = optimizer.param_groups[0] if optimizer.param_groups else {}
        settings[f"{prefix}.class"] = type(optimizer).__name__
        for key, default in optimizer.defaults.items():
            settings[f"{prefix}.{key}"] = group.get(key, default)
    for index, config in enumerate(trainer.lr_scheduler_configs):
        prefix = "scheduler" if index == 0 else f"scheduler_{index}"
        scheduler = config.scheduler
        settings.update({f"{prefix}.class": type(scheduler).__name__, f"{prefix}.interval": config.interval,
                         f"{prefix}.frequency": config.frequency})
        if config.monitor:
            settings[f"{prefix}.monitor"] = config.monitor
        for key, value in vars(scheduler).items():
            if not key.startswith("_") and key not in SCHEDULER_STATE and isinstance(value, _SETTING_TYPES):
                settings[f"{prefix}.{key}"] = value
    return settings


def _model_summary(module) -> dict:
    """Parameter counts and the number of leaf modules (layers holding no other module)."""
    from torch.nn.parameter import is_lazy

    parameters = [p for p in module.parameters() if not is_lazy(p)]
    return {
        "model.params_total": sum(p.numel() for p in parameters),
        "model.params_trainable": sum(p.numel() for p in parameters if p.requires_grad),
        "model.layers": sum(1 for layer in module.modules()
                            if layer is not module and next(layer.children(), None) is None),
    }


# -- datasets --------------------------------------------------------------------------------------
def _each_loader(loaders) -> list:
    """A trainer's dataloaders as a flat list: one loader, or a list or dict of them."""
    if isinstance(loaders, dict):
        return list(loaders.values())
    if isinstance(loaders, (list, tuple)):
        return list(loaders)
    return [loaders]


def _describe_loader(loader, role: str, batches) -> list[dict]:
    """A TensorDataset's tensors as `<role>.X`, `<role>.y` (fingerprinted as numpy arrays are);
    any other dataset as `<role>.dataset` with its length. Each with batches and batch size."""
    from autotrack.capture.datasets import describe_dataset

    dataset = getattr(loader, "dataset", None)
    extra = {"batches": batches if batches != float("inf") else None,  # inf: an iterable dataset
             "batch_size": getattr(loader, "batch_size", None)}
    arrays = _tensor_arrays(dataset)
    if arrays is not None:
        names = ["X", "y", *[f"tensor{i}" for i in range(2, len(arrays))]]
        return [{**describe_dataset(array, f"{role}.{name}"), **extra} for name, array in zip(names, arrays)]
    try:
        rows = len(dataset)
    except TypeError:  # an IterableDataset: no length
        rows = None
    kind = type(dataset if dataset is not None else loader)
    return [{"role": f"{role}.dataset", "name": None, "type": f"{kind.__module__}.{kind.__qualname__}",
             "rows": rows, "fingerprint": None, **extra}]


def _tensor_arrays(dataset) -> list | None:
    """numpy views of a TensorDataset's tensors when they are on the CPU, else None."""
    tensors = getattr(dataset, "tensors", None)
    if not isinstance(tensors, tuple) or not tensors:
        return None
    if any(getattr(tensor, "device", None) is None or tensor.device.type != "cpu" for tensor in tensors):
        return None  # copying GPU tensors back to fingerprint them would cost the user time
    try:
        return [tensor.detach().numpy() for tensor in tensors]
    except (TypeError, RuntimeError):  # bfloat16 and other dtypes numpy lacks
        return None


def _monitor_goals(trainer) -> dict:
    """Goals the user stated: the `mode` of each callback monitoring a metric (ModelCheckpoint,
    EarlyStopping), and the checkpoint's best score, which follows its monitor's mode."""
    goals = {}
    for callback in getattr(trainer, "callbacks", None) or ():
        monitor, mode = getattr(callback, "monitor", None), getattr(callback, "mode", None)
        if isinstance(monitor, str) and mode in ("min", "max"):
            goals[monitor] = mode
            if callback is trainer.checkpoint_callback:
                goals["checkpoint.best_score"] = mode
    return goals
