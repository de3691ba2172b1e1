"""The bounded background writer: callers append records, one thread writes them in batches."""

from __future__ import annotations

import collections
import os
import threading
import time

from autotrack.safety import report_background

# Past this many queued metric points (or records) what is logged is dropped, newest first, and
# counted on its run: the caller never waits for the writer, and memory stays bounded (a point
# queued takes ~150 bytes). Below it, queuing is one deque.append on the caller's thread.
MAX_QUEUED = 1_000_000
WAKE_AT = 50_000  # wake the writer early when this many items are waiting
_IDLE_INTERVAL_S = 0.25
_BATCH = 50_000
# Jobs wait while the user's training runs (see Writer): at most this many, for at most this long.
MAX_HELD_JOBS = 32
MAX_HOLD_S = 2.0
# The durability bound (README): a run's records are committed, and survive kill -9, within this
# long of the run's end: MAX_HOLD_S, an idle tick, and the pass that writes them. Not when the store
# cannot be written, nor while a job of autotrack's own (a large model's file) runs longer.
DURABLE_WITHIN_S = 3.0
# A store that cannot be written (locked, full, read-only) is tried again this often; what was
# taken from the queues meanwhile waits in memory, not lost.
RETRY_INTERVAL_S = 1.0
# Records a caller may always queue, full or not: one or two per run, and without them a run
# would be missing, or read as killed though it ended.
_ALWAYS_QUEUED = ("run_start", "run_attach", "run_end", "dropped")


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

    def __init__(self, sink, on_idle=None, on_thread_start=None, user_busy=None, store_problem=None):
        self._sink = sink
        self.max_queued = MAX_QUEUED
        # store_problem(exc) -> one line when `exc` means the store cannot be written now (a lock,
        # a full disk, no permission): the batch is kept and tried again; None: a bug, reported.
        self._store_problem = store_problem
        self.failing: str | None = None  # why the store cannot be written, while it cannot
        self._unwritten: tuple[list, list] | None = None  # the batch waiting for the store
        self._in_flight: tuple[list, list] | None = None  # the batch the store is writing now
        self._retry_at = 0.0
        # Counted per run id while the queues were full; the run's end records the count.
        self.dropped_points: collections.Counter = collections.Counter()
        self.dropped_records: collections.Counter = collections.Counter()
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
        queue = self.records
        if len(queue) > WAKE_AT:
            self._wake.set()
            if len(queue) >= self.max_queued and not (type(record) is tuple and record[0] in _ALWAYS_QUEUED):
                self.drop_record(record)
                return
        queue.append(record)
        if self._thread is None:
            self.start()

    def drop_record(self, record) -> None:
        run_id = record[1] if type(record) is tuple else getattr(record, "run_id", None)
        self.dropped_records[run_id] += 1

    def why_dropped(self) -> str:
        if self.failing:
            return f"the store could not be written ({self.failing})"
        return f"the store did not keep up ({self.max_queued:,} waiting)"

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
        return len(self.records) + len(self.points) + sum(map(len, self._unwritten or ()))

    def unwritten(self) -> tuple[int, int, int]:
        """Metric points, other records and runs still in memory, not in the store."""
        records = [item for item in list(self.records) if type(item) is tuple]
        points = list(self.points)
        for batch in (self._unwritten, self._in_flight):
            if batch is not None:
                records += batch[0]
                points += batch[1]
        runs = {record[1] for record in records} | {point[0] for point in points}
        return len(points), len(records), len(runs)

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
        self._unwritten, self._in_flight, self.failing = None, None, None
        self.dropped_points.clear()
        self.dropped_records.clear()
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
            if self._unwritten is not None and not self._retry_unwritten(bool(markers) or self._flushes > 0):
                # The store still cannot be written: what is queued stays queued (bounded), and a
                # flush waiting for it is answered now; `failing` says why.
                markers.extend(item for item in self.records if isinstance(item, _FlushMarker))
                break
            if self._held and not self._holding():
                self._release_held()
            # Points first: records taken after them (a flush marker) must not overtake them.
            points = self._take_points()
            records = self._take_records(markers)
            if self._on_idle and not self.records:
                records.extend(self._run_guarded(self._on_idle, "the writer's idle work") or ())
            if records or points:
                self._write(records, points)
            if self._unwritten is not None or (not self.records and not self.points):
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
                self._run_job(record)
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
                self._run_job(item)
            else:
                ends.append(item)
        points = [self.points.popleft() for _ in range(len(self.points))]
        if ends or points:
            self._write(ends, points)

    def _write(self, records: list, points: list) -> None:
        """Hand a batch to the store; when the store cannot be written now, keep it for a retry."""
        if self._unwritten is not None:  # an earlier batch goes first
            self._unwritten[0].extend(records)
            self._unwritten[1].extend(points)
            return
        self._in_flight = (records, points)
        try:
            self._sink(records, points)
        except Exception as exc:
            problem = self._store_problem(exc) if self._store_problem else None
            if problem is None:  # not the store's state: a tracking error, reported and dropped
                report_background("writing to the store", exc)
                return
            self._unwritten = (records, points)
            self._retry_at = time.monotonic() + RETRY_INTERVAL_S
            if self.failing is None:
                from autotrack.safety import logger

                logger().warning("autotrack: the store cannot be written (%s); what is logged is kept in "
                                 "memory and written when it can be (past %s queued points the newest "
                                 "are dropped and counted on their runs)", problem, f"{self.max_queued:,}")
            self.failing = problem
        finally:
            self._in_flight = None

    def _retry_unwritten(self, now: bool) -> bool:
        """Try the kept batch again (at most every RETRY_INTERVAL_S unless `now`); True once written."""
        if not now and time.monotonic() < self._retry_at:
            return False
        records, points = self._unwritten
        self._unwritten = None
        self._write(records, points)
        if self._unwritten is None:
            if self.failing is not None:
                from autotrack.safety import logger

                logger().warning("autotrack: the store can be written again; what was kept is written")
            self.failing = None
            return True
        return False

    def _run_job(self, job: Job) -> None:
        try:
            job.fn()
        except Exception as exc:
            problem = self._store_problem(exc) if self._store_problem else None
            if problem is None:
                report_background(job.where, exc)
            else:  # a file the job writes (a model) meets a full disk: the store's state, not a bug
                from autotrack.safety import warn_once

                warn_once(f"job-store:{problem}", "%s failed: %s; the run is kept without it",
                          job.where, problem)
                if job.run_id is not None:
                    self.dropped_records[job.run_id] += 1

    @staticmethod
    def _run_guarded(fn, where):
        try:
            return fn()
        except Exception as exc:  # the writer thread must survive anything a job or store does
            report_background(where, exc)
            return None


__all__ = ["Writer", "Job", "MAX_QUEUED", "WAKE_AT", "DURABLE_WITHIN_S"]
