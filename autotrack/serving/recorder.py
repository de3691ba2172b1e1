"""Serving records: the predict calls of models this process did not fit (loaded from a file),
gathered per model and window off the calling thread.

The calling thread only appends `(method, data, result, seconds)` to the model's queue (a few
hundred nanoseconds); a background thread profiles what queued about once a second and closes a
window after `serving_window_s` seconds or `serving_window_rows` rows, whichever comes first.
Memory stays bounded: past MAX_QUEUED_CALLS waiting calls (or MAX_QUEUED_ROWS waiting rows) a
call is counted and timed but its data is not kept (`unprofiled_calls`). A killed process loses
the window it was filling, nothing written before.
"""

from __future__ import annotations

import collections
import itertools
import operator
import os
import random
import socket
import threading
import time
import uuid
import weakref
from operator import itemgetter
from typing import TYPE_CHECKING

from autotrack.capture.sampling import row_count
from autotrack.safety import guard, report_background

if TYPE_CHECKING:
    from autotrack.session import Session

FLUSH_INTERVAL_S = 1.0
MAX_QUEUED_CALLS = 20_000
MAX_QUEUED_ROWS = 200_000  # rows of the user's data held between passes (80 MB of 50 floats)
MAX_IDS_PER_WINDOW = 100_000
# Rows profiled per model and pass (about a second): a uniform sample of those that came. A cheap
# model predicts faster than any profile can be built (LogisticRegression: 1 G cells/s); 400 rows
# a second make 24,000 a one-minute window, plenty for the drift tests (docs/production.md). Not
# more: numpy releases the GIL in loops over more than 500 elements, and each release on this
# thread is a GIL hand-over that slows the user's predict loop (profile.py, _GIL).
PROFILED_ROWS_PER_DRAIN = 400  # predictions kept for labels that arrive later (serving_id_column)
_HOST = socket.gethostname()


class _Window:
    """What one model served in one window."""

    def __init__(self):
        from autotrack.serving.profile import ProfileBuilder

        self.id = uuid.uuid4().hex
        self.start = time.time()
        self.end = self.start
        self.calls: dict[str, int] = {}
        self.rows = self.errors = self.unprofiled_calls = 0
        self.latencies: list[float] = []
        self.inputs = ProfileBuilder()
        self.predictions: dict[str, ProfileBuilder] = {}
        self.sample: list[dict] = []
        self.sampled_rows = 0
        self.ids: list[tuple] = []
        self.metrics: dict[str, float] = {}


class _ServedMetrics:
    """Where metrics of a served model's predictions go (`model.score(X, y)`, `accuracy_score(y,
    model.predict(X))` in the serving process): its current window. Quacks like a run for the
    metric wrappers of tracked_calls.py."""

    __slots__ = ("logged",)

    def __init__(self, served):
        self.logged: collections.deque | None = collections.deque(maxlen=10_000) if served is not None else None

    def log_metrics(self, metrics: dict, step=None) -> None:
        if self.logged is not None:
            now = time.time()
            self.logged.extend((key, float(value), now) for key, value in metrics.items())


_NOWHERE = _ServedMetrics(None)  # metrics of a model whose calls are not recorded


class _ServedModel:
    __slots__ = ("ref", "held", "model_class", "ignored", "metrics", "queue", "queued_rows", "overflow", "overflow_calls",
                 "overflow_rows", "errors", "fingerprint", "shadow_stats", "shadowed",
                 "window", "reference", "monitor", "windows_closed", "__weakref__")

    def __init__(self, ref, model_class: str):
        self.ref, self.model_class = ref, model_class
        self.held = None  # the model itself until its fingerprint is taken: a model predicted once
        # and dropped at once (`pickle.loads(blob).predict(X)`) must still be known by what it learned
        self.ignored = False  # in a worker process: the model is a clone the work of another process made
        self.metrics = _ServedMetrics(self)
        self.queue: collections.deque = collections.deque()
        self.queued_rows = 0
        self.overflow: list[float] = []  # latencies of calls whose data was not kept
        self.overflow_calls = self.overflow_rows = 0
        self.errors = 0
        self.fingerprint: str | None = None
        self.window: _Window | None = None
        self.reference = None  # (run id, run name, experiment, reference profiles), read once
        self.monitor = None  # the monitoring run exported to MLflow (serving/monitor.py)
        self.windows_closed = 0
        self.shadow_stats = None  # a shadow model's agreement with its primary (serving/shadow.py)
        self.shadowed = None  # whether a shadow watches it: None until its fingerprint is known


class ServingRecorder:
    def __init__(self, session: Session):
        self.session = session
        self.all_models = session.settings.serving == "all"  # else only models fitted elsewhere
        self.models: dict[int, _ServedModel] = {}
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._closed = False
        self._gone: list[_ServedModel] = []
        self._retired: list[_ServedModel] = []  # collected models replaced in `models` before their last pass
        from autotrack.serving.shadow import Shadows

        self.shadows = Shadows()  # challengers predicting on the same traffic (serving/shadow.py)
        # The `shadow` setting's models are loaded on the thread's first pass; the calls queued
        # before it are shadowed too (so their data is copied as for a shadow already loaded).
        self._shadows_set = not session.settings.shadow
        self.shadowing = not self._shadows_set  # a plain flag: read on every predict call
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork)

    # -- the calling thread ----------------------------------------------------------------------
    def observe(self, instance, method: str, data, result, seconds: float):
        """Queue one predict call; returns where metrics of these predictions go (see metrics_of)."""
        served = self.models.get(id(instance))
        if served is None or served.ref() is not instance:
            served = self._new_model(instance)
            if served is None:
                return None
        if served.ignored:
            return None
        if len(served.queue) < MAX_QUEUED_CALLS and served.queued_rows < MAX_QUEUED_ROWS:
            rows = _rows(data) if data is not None else 0
            served.queued_rows += rows
            if self.shadowing and data is not None and served.shadowed is not False and served.shadow_stats is None:
                from autotrack.serving.shadow import kept_copy

                data = kept_copy(data)  # a shadow predicts on it later: the caller may reuse its array
            served.queue.append((method, data, result, seconds, rows))
        else:  # counted; timed while there is room for the timings
            served.overflow_calls += 1
            served.overflow_rows += _rows(data) if data is not None else 0
            if len(served.overflow) < MAX_QUEUED_CALLS:
                served.overflow.append(seconds)
        return served.metrics

    def metrics_of(self, instance) -> _ServedMetrics:
        served = self.models.get(id(instance))
        if served is None or served.ref() is not instance:
            served = self._new_model(instance)
        return served.metrics if served is not None and not served.ignored else _NOWHERE

    def observe_error(self, instance) -> None:
        served = self.models.get(id(instance))
        if served is None or served.ref() is not instance:
            served = self._new_model(instance)
        if served is not None and not served.ignored:
            served.errors += 1

    def _new_model(self, instance) -> _ServedModel | None:
        key = id(instance)
        try:
            ref = weakref.ref(instance)
        except TypeError:
            return None  # no weak references: its calls go unrecorded rather than keep it alive
        from autotrack.tracked_calls import _in_worker_process

        served = _ServedModel(ref, f"{type(instance).__module__}.{type(instance).__qualname__}")
        served.ignored = _in_worker_process()
        if key in self.shadows.models:
            from autotrack.serving.shadow import Agreement

            served.shadow_stats = Agreement()
        if not served.ignored:
            served.held = instance
        with self._lock:
            previous = self.models.get(key)
            if previous is not None and previous.ref() is None:
                self._retired.append(previous)  # a model collected, its id reused: drained on the thread
            self.models[key] = served
            if not served.ignored and (self._thread is None or not self._thread.is_alive()):
                self._start()
        return served

    def add_shadow(self, shadow) -> None:
        self.shadows.add(shadow)
        self.shadowing = True
        for served in list(self.models.values()):
            served.shadowed = None  # a model served so far may be this shadow's primary

    def _start(self) -> None:
        _import_what_the_thread_needs()
        self._thread = threading.Thread(target=self._loop, name="autotrack-serving", daemon=True)
        self._thread.start()

    def _after_fork(self) -> None:
        self.models, self._thread, self._lock = {}, None, threading.Lock()

    # -- the background thread -------------------------------------------------------------------
    def _loop(self) -> None:
        from autotrack.tracked_calls import mark_thread_internal

        # No threadpoolctl limit here (the writer thread has one): this thread runs no OpenMP
        # code, and threadpoolctl's scan of the loaded libraries, made while the user's thread
        # predicts in a loop, waited for the GIL after each file it looked at and took seconds.
        mark_thread_internal()
        while not self._closed:
            self._wake.wait(FLUSH_INTERVAL_S)
            self._wake.clear()
            try:
                self.process(final=False)
            except Exception as exc:  # kept for strict mode, which fails the process at exit
                report_background("recording served predictions", exc)

    def process(self, final: bool) -> None:
        if not self._shadows_set:
            self._shadows_set = True
            from autotrack.serving.shadow import shadow

            for ref in self.session.settings.shadow:
                with guard(f"starting the shadow {ref}"):
                    shadow(ref)
        with self._lock:
            models = list(self.models.items())
            retired, self._retired = self._retired, []
        now = time.time()
        settings = self.session.settings
        for served in retired:
            self._drain(served, settings)
            self._close_window(served)
            if served.monitor is not None:
                self._gone.append(served)
        for key, served in models:
            if served.ignored:
                continue
            self._drain(served, settings)
            window = served.window
            gone = served.ref() is None
            if window is not None and (final or gone or now - window.start >= settings.serving_window_s
                                       or window.rows >= settings.serving_window_rows):
                self._close_window(served)
            if gone and not served.queue:
                with self._lock:
                    if self.models.get(key) is served:
                        del self.models[key]
                        if served.monitor is not None:
                            self._gone.append(served)  # its monitoring run ends at exit

    def close(self, timeout: float) -> None:
        """At exit: what is queued is profiled and every open window written."""
        self._closed = True
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout)
        self.process(final=True)
        from autotrack.serving.monitor import end_monitors

        end_monitors(list(self.models.values()) + self._gone)

    def _drain(self, served: _ServedModel, settings) -> None:
        queue = served.queue  # emptied at C speed: see _profile_calls
        calls = list(itertools.starmap(queue.popleft, itertools.repeat((), len(queue))))
        overflow, served.overflow = served.overflow, []
        overflow_calls, served.overflow_calls = served.overflow_calls, 0
        overflow_rows, served.overflow_rows = served.overflow_rows, 0
        errors, served.errors = served.errors, 0
        logged = served.metrics.logged
        metrics = [logged.popleft() for _ in range(len(logged))]
        if not calls and not overflow_calls and not errors and not metrics:
            return
        if served.fingerprint is None:
            model = served.ref()
            from autotrack.serving.lineage import model_fingerprint

            fingerprint = model_fingerprint(self.session.plugins.hook, model) if model is not None else None
            served.fingerprint = fingerprint or f"unknown-{uuid.uuid4().hex[:16]}"
            served.held = None
        if self.shadowing and calls:
            self._shadow(served, calls)
        window = self._window(served)
        for key, value, _when in metrics:  # the last value of each in the window
            window.metrics[key] = value
        window.errors += errors
        window.unprofiled_calls += overflow_calls
        window.rows += overflow_rows
        window.latencies += overflow
        if overflow_calls:
            window.calls["unprofiled"] = window.calls.get("unprofiled", 0) + overflow_calls
        # A window closes once it holds serving_window_rows rows: the calls after go to the next.
        limit, chunk, rows = settings.serving_window_rows, [], 0
        for call in calls:
            chunk.append(call)
            rows += call[4]
            if window.rows + rows >= limit:
                self._profile_calls(served, window, chunk, settings)
                self._close_window(served)
                window, chunk, rows = self._window(served), [], 0
        if chunk:
            self._profile_calls(served, window, chunk, settings)

    def _shadow(self, served: _ServedModel, calls: list) -> None:
        """The shadows of this model predict on what it was given (serving/shadow.py)."""
        from autotrack.serving.shadow import run_shadows

        shadows = self.shadows.of(served.fingerprint, served.ref())
        served.shadowed = bool(shadows)  # its later calls' data is copied only if so
        if not shadows:
            return
        for method, data, result, _seconds, _rows_of in calls:
            if data is not None and method in ("predict", "predict_proba"):
                run_shadows(self, shadows, method, data, result)

    @staticmethod
    def _window(served: _ServedModel) -> _Window:
        if served.window is None:
            served.window = _Window()
        return served.window

    def _profile_calls(self, served: _ServedModel, window: _Window, calls: list, settings) -> None:
        """Count every call and row; profile a uniform sample of at most PROFILED_ROWS_PER_DRAIN of
        the rows that came since the last pass (batches.sample_positions), inputs and predictions
        alike: the profile's cost stays bounded however cheap the model is to call."""
        from autotrack.serving.batches import as_table, sample_positions, stack_inputs, stack_results, take_rows
        from autotrack.serving.profile import ProfileBuilder, prediction_columns

        # Everything done per call here runs in C (map, Counter, compress): a Python loop over
        # thousands of calls kept this thread wanting the GIL while the user's thread predicts, and
        # every GIL hand-over then slowed the user's calls (profile.py, _GIL). Python code runs
        # only for the calls drawn.
        hook = self.session.plugins.hook
        window.end = time.time()
        count = len(calls)
        window.latencies += map(itemgetter(3), calls)
        methods, datas = list(map(itemgetter(0), calls)), list(map(itemgetter(1), calls))
        counts = window.calls
        for method, number in collections.Counter(methods).items():
            counts[method] = counts.get(method, 0) + number
        # predict then predict_proba of one X: its rows once (the same row predicted again: each time)
        repeated = [False, *map(operator.and_, map(operator.is_, datas[1:], datas[:-1]),
                                map(operator.ne, methods[1:], methods[:-1]))]
        sizes = list(map(itemgetter(4), calls))
        served.queued_rows -= sum(sizes)
        missing = list(map(operator.is_, datas, itertools.repeat(None)))
        for index in itertools.compress(range(count), map(operator.or_, repeated, missing)):
            sizes[index] = _rows(calls[index][2])  # sampled from its result: its input is counted, or out of reach
        window.rows += sum(itertools.compress(sizes, map(operator.not_, repeated)))
        picks = sample_positions(sizes, PROFILED_ROWS_PER_DRAIN)
        inputs, results = [], collections.defaultdict(list)
        for index, chosen in (picks.items() if picks is not None else zip(range(count), itertools.repeat(None))):
            method, data, result = calls[index][:3]
            if data is not None and not repeated[index]:
                inputs.append(take_rows(as_table(data, hook), chosen))
            results[method].append(take_rows(result, chosen))
        for columns, _count in stack_inputs(inputs, hook):
            if columns:
                window.inputs.add(columns)
        for method, taken in results.items():
            builder = window.predictions.get(method)
            if builder is None:
                builder = window.predictions[method] = ProfileBuilder()
            for result in stack_results(taken):
                builder.add(prediction_columns(result))
        if settings.serving_sample_rows or (settings.serving_id_column and "predict" in counts):
            by_method: dict[str, list] = collections.defaultdict(list)
            for method, data, result, _seconds, _rows_of in calls:
                by_method[method].append((data, result))
            if settings.serving_sample_rows:
                _sample_rows(window, by_method.get("predict") or next(iter(by_method.values()), []),
                             settings.serving_sample_rows, hook)
            if settings.serving_id_column and "predict" in by_method:
                _keep_ids(window, by_method["predict"], settings.serving_id_column)

    def _close_window(self, served: _ServedModel) -> None:
        window, served.window = served.window, None
        if window is None or (not window.calls and not window.errors and not window.metrics):
            return
        from autotrack.serving import windows

        record = windows.window_record(window, served, _HOST, os.getpid())
        served.windows_closed += 1
        with guard("comparing a serving window with its training data"):
            windows.check_window(self.session, served, record)
        self.session.writer.put(("serving_window", record["id"], record))
        if window.ids:
            self.session.writer.put(("serving_predictions", record["id"], served.fingerprint, window.ids))


def _import_what_the_thread_needs() -> None:
    """Imported here, once, on the thread of the first served call (a few milliseconds): an import
    on the serving thread while the user's thread predicts in a loop waits for the GIL after each
    file it reads (the convoy effect) and took seconds, the queue filling meanwhile."""
    import importlib

    for name in ("datasketches", "autotrack.serving.batches", "autotrack.serving.profile",
                 "autotrack.serving.windows", "autotrack.serving.lineage"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def _rows(data) -> int:
    if isinstance(data, list) and data and hasattr(data[0], "shape"):  # Lightning's predictions: batches
        return sum(int(item.shape[0]) if getattr(item, "shape", None) else 1 for item in data)
    rows = row_count(data)
    if rows is not None:
        return rows
    count = getattr(data, "num_row", None)  # an XGBoost DMatrix
    return int(count()) if callable(count) else 1


def _sample_rows(window: _Window, pairs: list, limit: int, hook) -> None:
    """A uniform sample (reservoir) of input rows with their prediction, redacted."""
    from autotrack.serving.batches import rows_as_dicts

    for data, result in pairs:
        for row in rows_as_dicts(data, result, hook):
            window.sampled_rows += 1
            if len(window.sample) < limit:
                window.sample.append(_redacted(row))
            else:
                slot = random.randrange(window.sampled_rows)
                if slot < limit:
                    window.sample[slot] = _redacted(row)


def _redacted(row: dict) -> dict:
    """Secret-named columns masked; credentials inside text values masked (capture/redact.py)."""
    from autotrack.capture.redact import MASK, is_secret_name, redact_text

    return {name: MASK if is_secret_name(name) else redact_text(value) if isinstance(value, str) else value
            for name, value in row.items()}


def _keep_ids(window: _Window, pairs: list, id_column: str) -> None:
    from autotrack.serving.batches import ids_of

    for data, result in pairs:
        ids = ids_of(data, id_column)
        if ids is None:
            continue
        predictions = getattr(result, "tolist", lambda: list(result))()
        for identifier, prediction in zip(ids, predictions):
            if len(window.ids) >= MAX_IDS_PER_WINDOW:
                return
            window.ids.append((str(identifier), prediction if not isinstance(prediction, list) else
                               prediction[-1], window.end))


__all__ = ["ServingRecorder"]
