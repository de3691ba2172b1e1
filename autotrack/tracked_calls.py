"""How a patched call is tracked: fit runs a run, predict/transform add latency, score a metric.

Written once for every integration. The rule that matters most: the original's result and
exceptions reach the caller untouched, and tracking errors never do (see safety.guard).
"""

from __future__ import annotations

import contextvars
import sys
from time import perf_counter
from typing import TYPE_CHECKING, Any

from autotrack.safety import guard

if TYPE_CHECKING:
    from autotrack.integration import Target
    from autotrack.session import Session


class Call:
    """What hooks learn about the tracked call: the target, the instance and the arguments."""

    __slots__ = ("target", "instance", "args", "kwargs", "result", "data")

    def __init__(self, target, instance, args, kwargs):
        self.target, self.instance, self.args, self.kwargs = target, instance, args, kwargs
        self.result = None
        self.data = target.data_arguments(args, kwargs)


def call_data(target, args, kwargs) -> dict:
    return target.data_arguments(args, kwargs)


class _Frame:
    """The outermost tracked call of this thread/context; nested calls see it and stay quiet."""

    __slots__ = ("run", "steps", "step_times")

    def __init__(self, run=None, steps=None):
        self.run, self.steps, self.step_times = run, steps, {}


# Set while a tracked call runs, and for good on the writer thread, so that calls made inside a
# tracked call (a Pipeline's steps, a search's clones) or by autotrack itself are not tracked.
_current: contextvars.ContextVar[_Frame | None] = contextvars.ContextVar("autotrack_call", default=None)
_QUIET = _Frame()


def mark_thread_internal() -> None:
    """Calls made on this thread (autotrack's own) are never tracked."""
    _current.set(_QUIET)


def make_wrapper(session: Session, target: Target):
    kind = target.kind
    if kind == "fit":
        return _fit_wrapper(session, target)
    if kind == "score":
        return _score_wrapper(session, target)
    return _predict_wrapper(session, target)


def _fit_wrapper(session: Session, target: Target):
    def fit(wrapped, instance, args, kwargs):
        frame = _current.get()
        if frame is not None:
            return _nested_fit(frame, wrapped, instance, args, kwargs)
        if not session.tracks_fits():
            return wrapped(*args, **kwargs)
        run = call = None
        with guard(f"starting a run for {target.attribute}"):
            call = Call(target, instance, args, kwargs)
            run, steps = session.begin_fit(call, caller_frame())
        token = _current.set(_Frame(run, steps if run else None))
        started = perf_counter()
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            elapsed = perf_counter() - started
            frame = _current.get()
            _current.reset(token)
            if run is not None:
                with guard("ending a failed run"):
                    session.fail_fit(run, exc, elapsed, frame.step_times)
            raise
        elapsed = perf_counter() - started
        frame = _current.get()
        _current.reset(token)
        if run is not None:
            with guard(f"recording the fit of {type(instance or result).__name__}"):
                call.result = result
                session.end_fit(run, call, elapsed, frame.step_times)
        return result

    return fit


def _nested_fit(frame: _Frame, wrapped, instance, args, kwargs):
    steps = frame.steps
    name = steps.get(id(instance)) if steps else None
    if name is None:
        return wrapped(*args, **kwargs)
    started = perf_counter()
    try:
        return wrapped(*args, **kwargs)
    finally:
        frame.step_times[name] = frame.step_times.get(name, 0.0) + perf_counter() - started


def _predict_wrapper(session: Session, target: Target):
    method = target.attribute

    def predict(wrapped, instance, args, kwargs):
        if _current.get() is not None:
            return wrapped(*args, **kwargs)
        run = session.run_of(instance)
        if run is None:
            return wrapped(*args, **kwargs)
        token = _current.set(_QUIET)
        started = perf_counter()
        try:
            result = wrapped(*args, **kwargs)
        finally:
            elapsed = perf_counter() - started
            _current.reset(token)
        with guard(f"recording {method} latency"):
            run.latency(method).add(elapsed)
            if run.has_dataset_room(method, session.settings.max_predict_datasets):
                session.describe_inputs(run, call_data(target, args, kwargs), method)
        return result

    return predict


def _score_wrapper(session: Session, target: Target):
    def score(wrapped, instance, args, kwargs):
        if _current.get() is not None:
            return wrapped(*args, **kwargs)
        run = session.run_of(instance)
        if run is None:
            return wrapped(*args, **kwargs)
        token = _current.set(_QUIET)
        started = perf_counter()
        try:
            result = wrapped(*args, **kwargs)
        finally:
            elapsed = perf_counter() - started
            _current.reset(token)
        with guard("recording a score"):
            run.latency(target.attribute).add(elapsed)
            session.record_score(run, target, args, kwargs, result, caller_frame())
        return result

    return score


def caller_frame():
    """The first frame outside autotrack: where the user's code called the tracked method."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("autotrack"):
        frame = frame.f_back
    return frame


def variable_name(frame, value: Any) -> str | None:
    """The name the caller gave `value` (`X_test`), as MLflow names scores; None if unnamed."""
    if frame is None or value is None:
        return None
    try:
        for name, candidate in frame.f_locals.items():
            if candidate is value and not name.startswith("_"):
                return name
    except Exception:  # exotic frames (C-level callers) have nothing to offer
        return None
    return None


__all__ = ["make_wrapper", "mark_thread_internal", "caller_frame", "variable_name", "Call"]
