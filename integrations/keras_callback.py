"""The Keras AutotrackCallback and its recorder: per-epoch logs, timings and evaluate results."""

from __future__ import annotations

import weakref
from time import perf_counter

from autotrack.callbacks import RunHandle, current_run, guarded, tracked_call_run
from autotrack.integrations.keras import _architecture_params, _compile_params, _saved_model

# Evaluate calls recorded so far into each run: the step of the next `evaluate.<name>` points.
_evaluations: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _next_evaluation_step(run) -> int:
    step = _evaluations.get(run, 0)
    _evaluations[run] = step + 1
    return step


class _Recorder:
    """What an AutotrackCallback records, kept free of Keras so the callback class stays thin.

    One training (on_train_begin .. on_train_end) or one evaluate call outside training is
    recorded at a time; Keras's validation inside fit arrives as `val_*` logs at each epoch's end,
    so its on_test_begin/on_test_end are ignored.
    """

    def __init__(self, run=None):
        self.given_run = run  # the run of the call the core patched, when the core added us
        self.handle: RunHandle | None = None
        self.run = None
        self.core_tracked = False
        self.training = False
        self.started = self.epoch_started = 0.0
        self.epoch_seconds: list[float] = []
        self.model_ref = None
        self.last_fit: tuple | None = None  # (weakref to the model, run): evaluate joins that run

    def __deepcopy__(self, memo):
        # keras-tuner deep-copies the callbacks for every trial: a copy starts afresh, since a
        # Run holds the writer's thread and locks.
        return _Recorder(self.given_run)

    def new_call(self) -> None:
        """Keras passes its params to every callback at the start of each fit/evaluate/predict
        (never for the evaluate that fit runs for validation): a training still open here ended
        without on_train_end, by an exception."""
        if self.handle is not None:
            self.handle.end(RuntimeError("Keras training stopped before on_train_end"))
        self.handle, self.run, self.training = None, None, False

    def begin_training(self, model, keras_params: dict) -> None:
        self.new_call()  # a callback used without Keras's set_params (called by hand)
        self.training = True
        self.epoch_seconds = []
        self.model_ref = weakref.ref(model)  # its compiled metrics say which way is better
        if self._open(self.given_run, type(model).__name__) is None:
            return
        params = {**_architecture_params(model), "steps_per_epoch": keras_params.get("steps")}
        if not self.core_tracked:
            self.run.set_tags({"model.class": f"{type(model).__module__}.{type(model).__qualname__}"})
            params.update(_compile_params(model), epochs=keras_params.get("epochs"))
        self.run.log_params({key: value for key, value in params.items() if value is not None})
        self.started = perf_counter()

    def begin_epoch(self) -> None:
        self.epoch_started = perf_counter()

    def end_epoch(self, epoch: int, logs: dict | None) -> None:
        if self.run is None:
            return
        seconds = perf_counter() - self.epoch_started
        if not self.epoch_seconds:
            self.run.set_metric_goals(_metric_goals(self.model_ref() if self.model_ref else None, logs or {}))
        self.epoch_seconds.append(seconds)
        self.run.log_metrics({**(logs or {}), "time.epoch_s": seconds}, step=epoch)

    def end_training(self, model) -> None:
        self.training = False
        if self.run is None:
            return
        run = self.run
        timings = {}
        if self.epoch_seconds:
            timings["epoch_mean_s"] = sum(self.epoch_seconds) / len(self.epoch_seconds)
        if not self.core_tracked:
            timings["fit_s"] = perf_counter() - self.started
            self._save_model(model, run)
        run.set_timings(timings)
        self.last_fit = (weakref.ref(model), run)
        self._close()

    def begin_evaluation(self, model) -> None:
        if self.training:
            return  # fit's validation: recorded as val_* at the epoch's end
        run = self.given_run or current_run() or self._fit_run_of(model)
        self._open(run, f"evaluate({type(model).__name__})")  # as the core names an evaluate-only run
        self.started = perf_counter()

    def end_evaluation(self, logs: dict | None) -> None:
        if self.training or self.run is None:
            return
        metrics = {f"evaluate.{name}": value for name, value in (logs or {}).items()}
        self.run.log_metrics(metrics, step=_next_evaluation_step(self.run))
        if not self.core_tracked:
            self.run.set_timings({"evaluate_s": perf_counter() - self.started})
        self._close()

    def _open(self, run, name: str):
        """Take the run to record into; `name` names a run of our own (no run to join)."""
        self.core_tracked = self.given_run is not None or tracked_call_run() is not None
        self.handle = RunHandle(run)
        self.run = self.handle.begin(name)
        return self.run

    def _close(self) -> None:
        handle, self.handle, self.run = self.handle, None, None
        handle.end()

    def _fit_run_of(self, model):
        if self.last_fit is not None and self.last_fit[0]() is model:
            return self.last_fit[1]
        return None

    @staticmethod
    def _save_model(model, run) -> None:
        from autotrack.session import SESSION

        if SESSION.configure().log_models:
            artifact = _saved_model(model)
            if artifact:
                run.write_artifact(*artifact)


def _build_callback_class():
    import keras

    class AutotrackCallback(keras.callbacks.Callback):
        """Records a Keras training into autotrack: per-epoch logs (training and `val_*`) with the
        epoch as step, `time.epoch_s`, `epoch_mean_s`, and evaluate() results as `evaluate.<name>`.

        `model.fit(x, y, callbacks=[AutotrackCallback()])` records into the run autotrack is
        tracking for this fit (one run, no duplicated point), else into the innermost
        `autotrack.start_run()`, else into a run of its own (with params, `fit_s` and the model).
        Passed to `evaluate` after `fit`, the same callback adds the results to the fit's run.
        """

        def __init__(self, run=None):
            super().__init__()
            self._recorder = _Recorder(run)

        def set_params(self, params):
            super().set_params(params)
            self._begin_call()

        @guarded("resetting the Keras callback")
        def _begin_call(self):
            self._recorder.new_call()

        @guarded("recording the start of a Keras training")
        def on_train_begin(self, logs=None):
            self._recorder.begin_training(self.model, self.params or {})

        @guarded("timing a Keras epoch")
        def on_epoch_begin(self, epoch, logs=None):
            self._recorder.begin_epoch()

        @guarded("recording a Keras epoch")
        def on_epoch_end(self, epoch, logs=None):
            self._recorder.end_epoch(epoch, logs)

        @guarded("recording the end of a Keras training")
        def on_train_end(self, logs=None):
            self._recorder.end_training(self.model)

        @guarded("recording the start of a Keras evaluation")
        def on_test_begin(self, logs=None):
            self._recorder.begin_evaluation(self.model)

        @guarded("recording Keras evaluation results")
        def on_test_end(self, logs=None):
            self._recorder.end_evaluation(logs)

    # Named where users import it from, not after this module.
    AutotrackCallback.__module__ = "autotrack.integrations.keras"
    AutotrackCallback.__qualname__ = "AutotrackCallback"
    return AutotrackCallback


def _metric_goals(model, logs: dict) -> dict:
    """Goals as Keras states them: a metric's `_direction` ("up"/"down", what keras-tuner reads),
    for its log name and its `val_` twin; the loss is minimised; the epoch time is no quality."""
    goals = {"time.epoch_s": "none"}
    if "loss" in logs:
        goals["loss"] = "min"
    for metric in _metrics_of(model):
        direction = getattr(metric, "_direction", None)
        if direction in ("up", "down"):
            goals[metric.name] = "max" if direction == "up" else "min"
    goals.update({f"val_{name}": goal for name, goal in list(goals.items()) if name != "time.epoch_s"})
    return {name: goal for name, goal in goals.items() if name in logs or name == "time.epoch_s"}


def _metrics_of(model):
    """The compiled metrics, those nested in Keras's CompileMetrics container included."""
    pending = list(getattr(model, "metrics", None) or ())
    while pending:
        metric = pending.pop(0)
        yield metric
        pending.extend(getattr(metric, "metrics", None) or ())
