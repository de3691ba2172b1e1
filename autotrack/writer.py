"""The bounded background writer: callers append records, one thread writes them in batches."""

from __future__ import annotations

import collections
import os
import threading
import time

from autotrack.safety import report_background

# Past this many queued items a caller waits for the writer (backpressure keeps memory bounded);
# below it, queuing is one deque.append on the caller's thread.
MAX_QUEUED = 1_000_000
WAKE_AT = 50_000  # wake the writer early when this many items are waiting
_IDLE_INTERVAL_S = 0.25
_BATCH = 50_000
# Jobs wait while the user's training runs (see Writer): at most this many, for at most this long.
MAX_HELD_JOBS = 32
MAX_HOLD_S = 10.0


class Job:
    """Work to run on the writer thread (training metrics, serialising a model) before writing.

    `run_id`: the run it records on. `holdable`: it may wait while the user's training runs (it
    works on a copy of what it records), and its run's end is then written after it. A job that
    reads live state (the run context: working directory, environment) is not: it runs at once.
    """

    __slots__ = ("fn", "where", "run_id", "holdable")

    def __init__(self, fn, where: str, run_id: str | None = None, holdable: bool = False):
        self.fn, self.where, self.run_id, self.holdable = fn, where, run_id, holdable


class _FlushMarker:
    __slots__ = ("done",)

    def __init__(self):
        self.done = threading.Event()


class Writer:
    """Owns two queues and the thread that empties them.

    `records` holds tuples whose first item names the record kind (see stores/base.py), Jobs and
    flush markers. `points` holds metric points `(run_id, key, value, step, timestamp)` only: the
    hot path of `log_metrics` appends there directly, and the store inserts them as they are.
    `sink(records, points)` persists one batch; `on_idle()` returns records to add after each
    pass (aggregated predict latency).

    `user_busy()`, when given, says whether the user's training is running: holdable Jobs (CPU
    work of autotrack's own) are then held, with the end of their run, until it pauses, a flush
    asks for them, MAX_HELD_JOBS wait or the oldest has waited MAX_HOLD_S. A core taken from a
    multi-threaded fit (OpenMP, BLAS) slows all its threads, not one. Records flow on meanwhile:
    a run's start and params are written while it trains.
    """

    def __init__(self, sink, on_idle=None, on_thread_start=None, user_busy=None):
        self._sink = sink
        self._on_idle = on_idle
        self._on_thread_start = on_thread_start
        self._user_busy = user_busy
        self._held: list = []  # Jobs, and the run_end records of their runs, in queue order
        self._held_runs: set[str] = set()
        self._held_jobs = 0
        self._held_since = 0.0
        self._flushes = 0  # flushes waiting: nothing is held for the user's training then
        self.records: collections.deque = collections.deque()
        self.points: collections.deque = collections.deque()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork)

    # -- caller side -------------------------------------------------------------------------
    def put(self, record) -> None:
        self.records.append(record)
        if self._thread is None:
            self.start()
        if len(self.records) > WAKE_AT:
            self.backpressure()

    def backpressure(self) -> None:
        """Called when a queue is long: wake the writer, and wait while it is over the bound."""
        self._wake.set()
        while len(self.records) + len(self.points) > MAX_QUEUED and self._thread_alive():
            time.sleep(0.001)

    def wake(self) -> None:
        self._wake.set()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is written; False when `timeout` ran out first."""
        if not self._thread_alive():
            if not self.records and not self.points:
                return True
            self.start()
        marker = _FlushMarker()
        with self._lock:
            self._flushes += 1
        self.records.append(marker)
        self._wake.set()
        try:
            return marker.done.wait(timeout)
        finally:
            with self._lock:
                self._flushes -= 1

    def pending(self) -> int:
        return len(self.records) + len(self.points)

    def _thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="autotrack-writer", daemon=True)
                self._thread.start()

    def _after_fork(self) -> None:
        # The child has no writer thread, and the parent's queued items are the parent's to write.
        self.records.clear()
        self.points.clear()
        self._thread = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._held.clear()
        self._held_runs.clear()
        self._held_jobs, self._flushes = 0, 0

    # -- writer thread -----------------------------------------------------------------------
    def _loop(self) -> None:
        if self._on_thread_start:
            self._on_thread_start()
        while True:
            self._wake.wait(_IDLE_INTERVAL_S)
            self._wake.clear()
            self._drain()

    def _drain(self) -> None:
        markers: list[_FlushMarker] = []
        while True:
            if self._held and not self._holding():
                self._release_held()
            # Points first: records taken after them (a flush marker) must not overtake them.
            points = self._take_points()
            records = self._take_records(markers)
            if self._on_idle and not self.records:
                records.extend(self._run_guarded(self._on_idle, "latency statistics") or ())
            if records or points:
                self._run_guarded(lambda: self._sink(records, points), "writing to the store")
            if not self.records and not self.points:
                break
        if self._held and (markers or not self._holding()):  # a flush waits for held jobs too
            self._release_held()
        for marker in markers:
            marker.done.set()

    def _take_points(self) -> list:
        queue = self.points
        return [queue.popleft() for _ in range(min(len(queue), _BATCH))]

    def _take_records(self, markers: list) -> list:
        batch = []
        queue = self.records
        for _ in range(min(len(queue), _BATCH)):
            record = queue.popleft()
            if type(record) is tuple:
                if self._held_runs and record[0] == "run_end" and record[1] in self._held_runs:
                    self._held.append(record)  # after its run's held jobs
                else:
                    batch.append(record)
            elif isinstance(record, Job):
                if record.holdable:
                    if self._holding():
                        self._hold(record)
                        continue
                    if self._held:  # the held jobs run first, in order: _drain releases them next
                        queue.appendleft(record)
                        break
                # A job may queue more; they are taken in this same drain. Nothing queued after
                # the job goes into this batch: the points it logged (training metrics) are
                # written first, so a run's end never reaches the store (and an exporter that
                # takes an ended run as complete) before them.
                self._run_guarded(record.fn, record.where)
                break
            else:
                markers.append(record)
        return batch

    def _holding(self) -> bool:
        """Whether a Job taken now waits for the user's training to pause."""
        if self._user_busy is None or self._flushes or self._held_jobs >= MAX_HELD_JOBS:
            return False
        if self._held and time.monotonic() - self._held_since > MAX_HOLD_S:
            return False
        return bool(self._run_guarded(self._user_busy, "checking whether training runs"))

    def _hold(self, job: Job) -> None:
        if not self._held:
            self._held_since = time.monotonic()
        self._held.append(job)
        self._held_jobs += 1
        if job.run_id is not None:
            self._held_runs.add(job.run_id)

    def _release_held(self) -> None:
        """Run the held jobs in order, then write what they logged with the held run ends."""
        held, self._held, self._held_jobs = self._held, [], 0
        self._held_runs = set()
        ends = []
        for item in held:
            if isinstance(item, Job):
                self._run_guarded(item.fn, item.where)
            else:
                ends.append(item)
        points = [self.points.popleft() for _ in range(len(self.points))]
        if ends or points:
            self._run_guarded(lambda: self._sink(ends, points), "writing to the store")

    @staticmethod
    def _run_guarded(fn, where):
        try:
            return fn()
        except Exception as exc:  # the writer thread must survive anything a job or store does
            report_background(where, exc)
            return None


__all__ = ["Writer", "Job", "MAX_QUEUED", "WAKE_AT"]
