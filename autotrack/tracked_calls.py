"""How a patched call is tracked: fit runs a run, predict/transform add latency, score a metric.

Written once for every integration. The rule that matters most: the original's result and
exceptions reach the caller untouched, and tracking errors never do (see safety.guard).
"""

from __future__ import annotations

import collections
import contextvars
import os
import sys
from time import perf_counter
from typing import TYPE_CHECKING, Any

from autotrack.patching import hide_from_tracebacks
from autotrack.preprocessing import SOURCE as PREPROCESSING
from autotrack.safety import guard

if TYPE_CHECKING:
    from autotrack.integration import Integration, Target
    from autotrack.session import Session


class Call:
    """What hooks learn about the tracked call: the target, the instance, the arguments and the model.

    `autotrack_prepare_call` may replace `args`/`kwargs` (the original is called with them),
    append undo functions to `cleanups`, which run once the original returns or raises, and keep
    what later hooks need in `notes`.
    """

    __slots__ = ("target", "instance", "args", "kwargs", "result", "data", "model", "cleanups", "snapshot",
                 "notes")

    def __init__(self, target, instance, args, kwargs):
        self.target, self.instance, self.args, self.kwargs = target, instance, args, kwargs
        self.result = None
        self.snapshot = None  # after a fit: autotrack_model_snapshot's answer, shared by the hooks
        self.data = target.data_arguments(args, kwargs)
        self.model = target.model(instance, args, kwargs)
        self.cleanups: list = []
        # What a plugin noted on the training thread for its own later hooks, background ones
        # included (scikit-learn's thread-local config, applied when training metrics run).
        self.notes: dict = {}

    def run_cleanups(self) -> None:
        for cleanup in reversed(self.cleanups):
            with guard("undoing a change made for the tracked call"):
                cleanup()
        self.cleanups.clear()


def call_data(target, args, kwargs) -> dict:
    return target.data_arguments(args, kwargs)


class _Frame:
    """The outermost tracked call of this thread/context; nested calls see it and stay quiet."""

    __slots__ = ("run", "steps", "step_times", "timing")

    def __init__(self, run=None, steps=None):
        self.run, self.steps, self.step_times = run, steps, {}
        self.timing: set[str] = set()  # steps being timed now: their inner fit() is not added again


# Set while a tracked call runs, and for good on the writer thread, so that calls made inside a
# tracked call (a Pipeline's steps, a search's clones) or by autotrack itself are not tracked.
_current: contextvars.ContextVar[_Frame | None] = contextvars.ContextVar("autotrack_call", default=None)
_QUIET = _Frame()


def mark_thread_internal() -> None:
    """Calls made on this thread (autotrack's own) are never tracked."""
    _current.set(_QUIET)


def make_wrapper(session: Session, target: Target, integration: Integration):
    """The wrapper for `target` of `integration`, whose framework's own calls made for its own
    purposes are not the user's."""
    kind = target.kind
    framework = _FrameworkCode(integration.package, integration.user_entry_modules)
    if kind in ("fit", "evaluate"):
        return _fit_wrapper(session, target, framework)
    if kind == "score":
        return _score_wrapper(session, target, framework)
    if kind == "metric":
        return _metric_wrapper(target)
    if kind == "scorer":
        return _scorer_wrapper(session, target)
    if kind == "read":
        return _read_wrapper(session, target)
    if kind == "search":
        from autotrack.search_calls import search_wrapper

        return search_wrapper(session, target)
    return _predict_wrapper(session, target)


class _FrameworkCode:
    """Which modules are the framework's own code: its package, less its users' entry points."""

    __slots__ = ("package", "user_entry_modules")

    def __init__(self, package: str, user_entry_modules: tuple[str, ...]):
        self.package, self.user_entry_modules = package, user_entry_modules

    def owns(self, module: str) -> bool:
        package = self.package
        if not package or (module != package and not module.startswith(package + ".")):
            return False
        return module not in self.user_entry_modules


def _fit_wrapper(session: Session, target: Target, framework: _FrameworkCode):
    """fit: the outermost call is a run of its own. evaluate: the outermost call joins the run of
    the model it evaluates (a new run when that model has none); a `predict` evaluate call of a
    model this process did not fit is a served model's (serving/recorder.py)."""
    serves = target.kind == "evaluate" and target.attribute == "predict"

    @hide_from_tracebacks
    def tracked_fit(wrapped, instance, args, kwargs):
        frame = _current.get()
        if frame is not None:
            return _nested_fit(frame, wrapped, instance, args, kwargs)
        if not session.tracks_fits() or _in_worker_process():
            return wrapped(*args, **kwargs)
        if serves and session.serving is not None:  # `trainer.predict(model)` of a model fitted elsewhere
            model = target.model(instance, args, kwargs)
            if model is not None and session.run_of(model) is None:
                return _served(session.serving, target, wrapped, model, args, kwargs, "predict")
        caller = caller_frame()
        if _called_by_framework(caller, framework, instance):
            token = _current.set(_QUIET)  # and what it fits in turn is part of it
            try:
                return wrapped(*args, **kwargs)
            finally:
                _current.reset(token)
        tracked = None
        with guard(f"starting a run for {target.attribute}"):
            tracked = session.begin_call(Call(target, instance, args, kwargs), caller)
        if tracked is None:
            return wrapped(*args, **kwargs)
        call = tracked.call
        token = _current.set(_Frame(tracked.run, tracked.steps))
        started = perf_counter()
        try:
            result = wrapped(*call.args, **call.kwargs)
        except BaseException as exc:
            elapsed = perf_counter() - started
            frame = _current.get()
            _current.reset(token)
            call.run_cleanups()
            with guard("ending a failed run"):
                session.fail_call(tracked, exc, elapsed, frame.step_times)
            raise
        elapsed = perf_counter() - started
        frame = _current.get()
        _current.reset(token)
        call.run_cleanups()
        try:
            with guard(f"recording the {target.attribute} call"):
                call.result = result
                session.end_call(tracked, elapsed, frame.step_times)
        finally:
            # a failing hook must not leave the run open
            if tracked.owned and not tracked.joined and tracked.run.end_time is None:
                with guard("ending a run"):
                    tracked.run.end()
        return result

    return tracked_fit


def _called_by_framework(caller, framework: _FrameworkCode, instance) -> bool:
    """True when the framework's own code made this call for its own purposes, outside any tracked
    call: a LabelBinarizer that `log_loss` fits, the folds of `cross_val_score`. Such a fit is not
    an outermost one of the user's, as it is not when it runs in a worker process. A framework
    method forwarding to one of the same object's (scikit-learn's set_output wrapper calling
    `fit_transform`) still counts as the user's call."""
    if caller is None or not framework.owns(caller.f_globals.get("__name__") or ""):
        return False
    try:
        return instance is None or caller.f_locals.get("self") is not instance
    except Exception:  # an exotic frame: treat the call as the user's
        return False


_POOL_MODULES = ("joblib.externals.loky.process_executor", "loky.process_executor")
# Set by torch.distributed launchers (torchrun, Lightning's DDP) in every process of a job.
_RANK_VARIABLES = ("RANK", "LOCAL_RANK", "SLURM_PROCID", "PMI_RANK", "OMPI_COMM_WORLD_RANK")


def _in_worker_process() -> bool:
    """True inside a joblib/loky worker process, or in a distributed job's process other than
    rank zero. The work there belongs to a call in another process, whose run covers it, so a fit
    here is never an outermost one. (The environment flag the session sets for child processes
    misses workers started before that call and reused.) Other engines' workers (Dask's, Ray's)
    say so through their plugins' `autotrack_enclosing_run`."""
    for name in _POOL_MODULES:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "_CURRENT_DEPTH", 0) > 0:
            return True
    return not is_rank_zero()


def is_rank_zero() -> bool:
    """False in a distributed job's processes other than global rank zero (local rank zero of
    another node included): only rank zero writes."""
    environ = os.environ
    for name in _RANK_VARIABLES:
        value = environ.get(name)
        if value and value.strip() != "0":
            return False
    return True


def _nested_fit(frame: _Frame, wrapped, instance, args, kwargs):
    steps = frame.steps
    name = steps.get(id(instance)) if steps else None
    if name is None or name in frame.timing:  # fit_transform calling fit: counted once
        return wrapped(*args, **kwargs)
    frame.timing.add(name)
    started = perf_counter()
    try:
        return wrapped(*args, **kwargs)
    finally:
        frame.step_times[name] = frame.step_times.get(name, 0.0) + perf_counter() - started
        frame.timing.discard(name)


# Inputs to predict/transform are described (and fingerprinted, ~30 µs for one row) during the
# first calls of each method only: a loop predicting the same row must not pay for it every time.
DESCRIBED_CALLS = 100


def _predict_wrapper(session: Session, target: Target):
    method = target.attribute
    recording = guard(f"recording {method} latency")
    model_runs = session.model_runs
    remembers = target.kind == "predict"
    transforms = target.kind == "transform"  # a preprocessing run's output may feed a model

    @hide_from_tracebacks
    def tracked_predict(wrapped, instance, args, kwargs):
        if _current.get() is not None:
            return wrapped(*args, **kwargs)
        entry = model_runs.get(id(instance))  # session.run_of, inlined
        run = entry[1] if entry is not None and entry[0]() is instance else None
        serving = session.serving if remembers else None
        if run is None:
            if serving is None:
                return wrapped(*args, **kwargs)
            return _served(serving, target, wrapped, instance, args, kwargs, method)
        result, elapsed = _timed_quietly(wrapped, args, kwargs)
        try:  # what `with guard(...)` does, without its two method calls on this hottest path
            if serving is not None and serving.all_models:  # serving=all: fitted here, served too
                serving.observe(instance, method, call_data(target, args, kwargs).get("X"), result, elapsed)
            if remembers:  # a metric function given this result records on this run (note_predictions, inlined)
                PREDICTIONS.append((result, run, id(args[0]) if args else None))
            elif transforms and run.source == PREPROCESSING:
                session.preprocessing_output(run, result)
            stats = run.latency(method)
            stats.add(elapsed)
            if stats.count <= DESCRIBED_CALLS and run.has_dataset_room(
                    method, session.settings.max_predict_datasets):
                session.describe_inputs(run, call_data(target, args, kwargs), method, caller_frame())
        except Exception as exc:
            recording.handle(exc)
        return result

    return tracked_predict


def _read_wrapper(session: Session, target: Target):
    """A data file read by the user's code (not inside a tracked call): its path is noted."""
    noting = guard("noting a data file read")

    @hide_from_tracebacks
    def tracked_read(wrapped, instance, args, kwargs):
        result = wrapped(*args, **kwargs)
        if _current.get() is None and session.tracks_fits():
            try:
                path = target.data_arguments(args, kwargs).get("path")
                if isinstance(path, (str, os.PathLike)):
                    session.data_files.note(path)
            except Exception as exc:
                noting.handle(exc)
        return result

    return tracked_read


def _served(serving, target, wrapped, instance, args, kwargs, method: str):
    """A served model's predict call (serving/recorder.py): timed, and handed over as it is."""
    token = _current.set(_QUIET)
    started = perf_counter()
    try:
        result = wrapped(*args, **kwargs)
    except BaseException:
        _current.reset(token)
        with guard("counting a failed predict call"):
            serving.observe_error(instance)
        raise
    elapsed = perf_counter() - started
    _current.reset(token)
    try:
        data = target.data_arguments(args, kwargs).get("X")
        metrics = serving.observe(instance, method, data, result, elapsed)
        if metrics is not None:  # `accuracy_score(y, model.predict(X))` then counts for this model
            PREDICTIONS.append((result, metrics, id(data) if data is not None else None))
    except Exception as exc:
        guard("recording a served prediction").handle(exc)
    return result


def _timed_quietly(wrapped, args, kwargs):
    """Call the original with nested tracking off; its result (or exception) and its duration."""
    token = _current.set(_QUIET)
    started = perf_counter()
    try:
        result = wrapped(*args, **kwargs)
    finally:
        elapsed = perf_counter() - started
        _current.reset(token)
    return result, elapsed


def _score_wrapper(session: Session, target: Target, framework: _FrameworkCode):

    @hide_from_tracebacks
    def tracked_score(wrapped, instance, args, kwargs):
        if _current.get() is not None:
            return wrapped(*args, **kwargs)
        run = session.run_of(instance)
        if run is None:
            serving = session.serving
            if serving is None:
                return wrapped(*args, **kwargs)
            result, _elapsed = _timed_quietly(wrapped, args, kwargs)  # evaluation, not traffic
            if _is_number(result):
                with guard("recording a served model's score"):
                    data = variable_name(caller_frame(), target.data_arguments(args, kwargs).get("X")) or "data"
                    serving.metrics_of(instance).log_metrics({f"{target.attribute}.{data}": float(result)})
            return result
        result, elapsed = _timed_quietly(wrapped, args, kwargs)
        with guard("recording a score"):
            run.latency(target.attribute).add(elapsed)
            caller = caller_frame()
            # permutation_importance scores the model once per feature and repeat: that is
            # latency, not a score on the user's data.
            if not _called_by_framework(caller, framework, instance):
                session.record_score(run, target, args, kwargs, result, caller)
        return result

    return tracked_score


# The last results of tracked models' predict-type calls, with their run and the id of the data
# predicted on: `roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])` finds its model here.
# A few strong references (a metric is computed right after predicting); ids alone could be reused.
PREDICTIONS: collections.deque = collections.deque(maxlen=8)


def note_predictions(result, run, data) -> None:
    """`result` is what `run`'s model predicted on `data` (kept by id only): a metric function
    given it records its value on that run."""
    PREDICTIONS.append((result, run, id(data) if data is not None else None))


def _predicted_by(value):
    """(run, id of the data predicted on) when `value` is, or is a view of (a column of
    predict_proba's result), what a tracked model predicted last; else None. A result that is
    itself a view (XGBoost's predict_proba is a transposed stack) matches views of its base."""
    candidates = [value]
    base = getattr(value, "base", None)
    if base is not None:
        candidates.append(base)
    for result, run, data_id in reversed(PREDICTIONS):
        owner = getattr(result, "base", None)
        for candidate in candidates:
            if candidate is result or (owner is not None and candidate is owner):
                return run, data_id
    return None


def _metric_wrapper(target: Target):
    """A metric function: computed as it is; when one of its arguments is what a tracked model
    predicted, its value is also a metric of that model's run, named `<function>.<data>` after the
    variable the predictions were made on (`roc_auc_score.X_test`), as MLflow names them."""
    name = target.attribute

    @hide_from_tracebacks
    def tracked_metric(wrapped, instance, args, kwargs):
        result = wrapped(*args, **kwargs)
        if not PREDICTIONS or _current.get() is not None:  # unused, or inside a tracked call / autotrack
            return result
        with guard(f"recording {name}"):
            found = None
            for value in (*args, *kwargs.values()):
                found = _predicted_by(value)
                if found is not None:
                    break
            if found is not None and _is_number(result):
                run, data_id = found
                data_name = _name_of_id(caller_frame(), data_id) or "data"
                run.log_metrics({f"{name}.{data_name}": float(result)})
        return result

    return tracked_metric


def _scorer_wrapper(session: Session, target: Target):
    """A scorer (`get_scorer("roc_auc")(model, X_test, y_test)`) called by the user on a tracked
    model: its value is a metric of the model's run, `<scorer>.<data>` (`roc_auc_score.X_test`),
    to be maximised (scikit-learn negates errors). Scorers called inside a tracked call (a
    search's, cross_validate's) are that call's business."""

    @hide_from_tracebacks
    def tracked_scorer(wrapped, instance, args, kwargs):
        if _current.get() is not None:
            return wrapped(*args, **kwargs)
        model = target.model(instance, args, kwargs)
        run = session.run_of(model) if model is not None else None
        result = wrapped(*args, **kwargs)
        if run is None or not _is_number(result):
            return result
        with guard("recording a scorer's value"):
            data_name = variable_name(caller_frame(), target.data_arguments(args, kwargs).get("X")) or "data"
            key = f"{target.metric_name(instance) if target.metric_name else target.attribute}.{data_name}"
            run.log_metrics({key: float(result)})
            run.set_metric_goals({key: "max"})
        return result

    return tracked_scorer


def _is_number(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return getattr(value, "ndim", None) == 0 and callable(getattr(value, "__float__", None))


def tracked_call_run():
    """The run of the outermost call autotrack is tracking on this thread, or None. The core
    records that call's params, timings and model itself: a callback inside it need not."""
    frame = _current.get()
    return frame.run if frame is not None else None


def current_run():
    """The run of the tracked call running on this thread (autotrack enabled), else the innermost
    explicit `start_run`; None when neither. Explicit framework callbacks record into it."""
    run = tracked_call_run()
    if run is not None:
        return run
    from autotrack.session import active_run

    return active_run.get()


def caller_frame():
    """The first frame outside autotrack: where the user's code called the tracked method."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("autotrack"):
        frame = frame.f_back
    return frame


_NOT_USERS = ("autotrack", "pluggy")  # top-level packages whose frames lie between a hook and the user


def user_frame():
    """From inside a hook: the frame of the user's call (outside autotrack and pluggy), whose
    variables name the data the user passed (`X_valid`)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] in _NOT_USERS:
        frame = frame.f_back
    return frame


def variable_name(frame, value: Any) -> str | None:
    """The name the caller gave `value` (`X_test`), as MLflow names scores; None if unnamed."""
    return None if value is None else _name_of_id(frame, id(value))


def _name_of_id(frame, object_id: int | None) -> str | None:
    """The caller's variable holding the object with id `object_id` (a metric function knows only
    the id of the data a model predicted on: it does not keep that data alive)."""
    if frame is None or object_id is None:
        return None
    try:
        # The globals too: a comprehension at a script's top level sees X_test only there.
        for names in (frame.f_locals, frame.f_globals):
            for name, candidate in names.items():
                if id(candidate) == object_id and not name.startswith("_"):
                    return name
    except Exception:  # exotic frames (C-level callers) have nothing to offer
        return None
    return None


__all__ = ["make_wrapper", "mark_thread_internal", "caller_frame", "user_frame", "variable_name", "Call",
           "note_predictions",
           "current_run",
           "tracked_call_run",
           "is_rank_zero"]
