"""The bounded background writer: callers append records, one thread writes them in batches."""

from __future__ import annotations

import collections
import os
import threading
import time
from typing import Callable

from autotrack.safety import report_background

# Past this many queued records a caller waits for the writer (backpressure keeps memory bounded);
# below it, appending a record is one deque.append on the caller's thread.
MAX_QUEUED = 1_000_000
_WAKE_AT = 50_000  # wake the writer early when this many records are waiting
_IDLE_INTERVAL_S = 0.25
_BATCH = 20_000


class Job:
    """Work to run on the writer thread (training metrics, serialising a model) before writing."""

    __slots__ = ("fn", "where")

    def __init__(self, fn: Callable[[], None], where: str):
        self.fn, self.where = fn, where


class _FlushMarker:
    __slots__ = ("done",)

    def __init__(self):
        self.done = threading.Event()


class Writer:
    """Owns the queue and the thread; `sink(batch)` persists a list of records in one go.

    Records are plain tuples whose first item names the record kind (see stores/base.py).
    `on_idle()` runs after each pass, so aggregates (predict latency) can be written periodically.
    """

    def __init__(self, sink: Callable[[list], None], on_idle: Callable[[], list] | None = None,
                 on_thread_start: Callable[[], None] | None = None):
        self._sink = sink
        self._on_idle = on_idle
        self._on_thread_start = on_thread_start
        self._queue: collections.deque = collections.deque()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = False
        self._pid = os.getpid()

    # -- caller side -------------------------------------------------------------------------
    def put(self, record) -> None:
        self._queue.append(record)
        if self._thread is None or self._pid != os.getpid():
            self._start()
        if len(self._queue) > _WAKE_AT:
            self._wake.set()
            while len(self._queue) > MAX_QUEUED and self._thread_alive():
                time.sleep(0.001)

    def wake(self) -> None:
        self._wake.set()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is written; False when `timeout` ran out first."""
        if self._thread is None or not self._thread_alive():
            if not self._queue:
                return True
            self._start()
        marker = _FlushMarker()
        self._queue.append(marker)
        self._wake.set()
        return marker.done.wait(timeout)

    def pending(self) -> int:
        return len(self._queue)

    def _thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _start(self) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's thread does not exist here
                self._pid, self._thread = os.getpid(), None
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="autotrack-writer", daemon=True)
                self._thread.start()

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
            batch = self._take(_BATCH, markers)
            if self._on_idle and not self._queue:
                batch.extend(self._run_guarded(self._on_idle, "latency statistics") or ())
            if batch:
                self._run_guarded(lambda: self._sink(batch), "writing to the store")
            if not self._queue:
                break
        for marker in markers:
            marker.done.set()

    def _take(self, limit: int, markers: list) -> list:
        batch = []
        queue = self._queue
        while queue and len(batch) < limit:
            record = queue.popleft()
            if isinstance(record, Job):
                # A job may put more records; they are taken in this same drain.
                self._run_guarded(record.fn, record.where)
            elif isinstance(record, _FlushMarker):
                markers.append(record)
            else:
                batch.append(record)
        return batch

    @staticmethod
    def _run_guarded(fn, where):
        try:
            return fn()
        except Exception as exc:  # the writer thread must survive anything a job or store does
            report_background(where, exc)
            return None


__all__ = ["Writer", "Job", "MAX_QUEUED"]
