"""Exporting runs from the local store to other backends (MLflow): offline-first, resumable.

The local store is the durable record. A run recorded while `backends` names another backend
gets an `exports` row (`pending`) for it; the exporter reads the run back from SQLite and hands
the backend what it has not received yet: a `RunSnapshot` with the metric points after the last
exported one, and the backend's own `state` from the previous push. The backend returns its new
state, which is saved with the points watermark in one transaction; `"complete": True` for an
ended run marks the export `done`. A backend raises `BackendUnavailable` when its server is down
or slow: nothing is lost, the row stays `pending`, and the background exporter retries with
backoff; `autotrack sync` pushes whatever is pending later, from any process.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from autotrack.capture.redact import redact_text

PENDING, DONE, ERROR = "pending", "done", "error"
POINTS_PER_PUSH = 10_000  # a push that fails half-way re-sends at most this many points


class BackendUnavailable(Exception):
    """Transient: the server is down, slow or overloaded. The run stays pending and is retried."""


class BackendNotConfigured(Exception):
    """Raised by a backend's factory when a setting it needs is missing; the message says which.
    Nothing is exported until it is set: runs stay pending, `autotrack sync` reports it."""


@dataclass
class RunSnapshot:
    """One run as a backend receives it; `points` holds only what it has not received yet."""

    id: str
    experiment: str
    name: str | None
    status: str
    parent_id: str | None
    start_time: float
    end_time: float | None
    error: str | None
    params: dict[str, str] = field(default_factory=dict)  # key -> JSON text, as stored
    tags: dict[str, str] = field(default_factory=dict)
    context: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    importances: dict = field(default_factory=dict)
    datasets: list[dict] = field(default_factory=list)
    artifacts: list[dict] = field(default_factory=list)  # {name, path (absolute), bytes}
    points: list[tuple] = field(default_factory=list)  # (key, value or None, step, timestamp)
    parent_remote_id: str | None = None

    @property
    def ended(self) -> bool:
        return self.status != "running"


@dataclass
class ExportSummary:
    """What one pass did, per backend: runs completed, points sent, runs left pending or failed."""

    done: int = 0
    completed: list[str] = field(default_factory=list)  # ids of the runs now done
    points: int = 0
    pending: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)  # backend -> why
    busy: list[str] = field(default_factory=list)  # being exported by another process now


# An export claim lasts this long unless renewed (each push renews it); a claim whose process is
# gone (on this host) is free at once.
CLAIM_S = 600.0


def _claimer_token() -> str:
    import os
    import socket
    import uuid

    from autotrack.run import process_token

    return f"{socket.gethostname()}|{os.getpid()}|{process_token(os.getpid())}|{uuid.uuid4().hex[:8]}"


def _claimer_alive(token: str) -> bool:
    import socket

    from autotrack.run import process_token

    host, pid, started, _ = (token.split("|") + ["", "", "", ""])[:4]
    if host != socket.gethostname():
        return True  # another machine's: trusted until the claim runs out
    try:
        return process_token(int(pid)) == started
    except ValueError:
        return False


class Exporter:
    """Pushes pending exports of one store to the given backends ({name: backend})."""

    def __init__(self, directory: str | Path, backends: dict):
        from autotrack.stores.local import connect

        self.directory = Path(directory)
        self.backends = backends
        self._conn: sqlite3.Connection = connect(self.directory, create=True)
        self._token = _claimer_token()

    def close(self) -> None:
        self._conn.close()

    def backends_with_pending(self) -> list[str]:
        """The backends some run of this store is still pending (or refused) for."""
        return [name for (name,) in self._conn.execute(
            "SELECT DISTINCT backend FROM exports WHERE status != ? ORDER BY backend", (DONE,))]

    def pending(self, backend: str, experiment: str | None = None,
                run_ids: Iterable[str] | None = None) -> list[str]:
        """Run ids whose export to `backend` is not done, parents before their children."""
        query = ("SELECT r.id FROM exports e JOIN runs r ON r.id = e.run_id"
                 " WHERE e.backend = ? AND e.status != ?")
        args: list = [backend, DONE]
        if experiment is not None:
            query += " AND r.experiment = ?"
            args.append(experiment)
        query += " ORDER BY (r.parent_id IS NOT NULL), r.start_time"
        ids = [row[0] for row in self._conn.execute(query, args)]
        if run_ids is not None:
            wanted = set(run_ids)
            ids = [run_id for run_id in ids if run_id in wanted]
        return ids

    def export(self, backend_names: Iterable[str] | None = None, experiment: str | None = None,
               run_ids: Iterable[str] | None = None,
               progress: Callable[[str, int, int], None] | None = None) -> ExportSummary:
        """One pass over everything pending. A backend that is unavailable is left for later
        after its first failure; a run the backend rejects is marked `error` and skipped."""
        summary = ExportSummary()
        for name in backend_names or list(self.backends):
            backend = self.backends[name]
            ids = self.pending(name, experiment, run_ids)
            for index, run_id in enumerate(ids):
                if not self._claim(run_id, name):
                    summary.busy.append(run_id)
                    continue
                try:
                    points, complete = self._export_run(name, backend, run_id)
                except BackendUnavailable as exc:
                    message = redact_text(str(exc))
                    self._note_attempt(run_id, name, PENDING, message)
                    summary.unavailable[name] = message
                    summary.pending.extend(ids[index:])
                    break
                except Exception as exc:  # the backend refused this run's data: say why, go on
                    message = redact_text(f"{type(exc).__name__}: {exc}")
                    self._note_attempt(run_id, name, ERROR, message)
                    summary.errors[run_id] = message
                else:
                    summary.points += points
                    if complete:
                        summary.done += 1
                        summary.completed.append(run_id)
                    else:
                        summary.pending.append(run_id)
                finally:
                    self._release(run_id, name)
                if progress is not None:
                    progress(name, index + 1, len(ids))
        return summary

    def add_pending(self, run_ids: Iterable[str], backend: str) -> None:
        """Export these runs to `backend` too (runs recorded before it was set): pending unless
        an export row exists."""
        self._conn.executemany("INSERT OR IGNORE INTO exports (run_id, backend, status) VALUES (?, ?, ?)",
                               [(run_id, backend, PENDING) for run_id in run_ids])

    def remote_id(self, run_id: str, backend: str) -> str | None:
        return self._remote_id(run_id, backend)

    def state_value(self, run_id: str, backend: str, key: str):
        return self._state(run_id, backend)[0].get(key)

    def set_state_value(self, run_id: str, backend: str, key: str, value) -> None:
        """One key of the run's export state (a model logged to it), changed in one transaction."""
        from autotrack.stores.local import write_transaction

        with write_transaction(self._conn) as conn:
            state, _ = self._state(run_id, backend)
            state[key] = value
            conn.execute("UPDATE exports SET state = ? WHERE run_id = ? AND backend = ?",
                         (json.dumps(state, default=str), run_id, backend))

    def exported_runs(self, backend: str) -> list[str]:
        return [run_id for (run_id,) in self._conn.execute(
            "SELECT run_id FROM exports WHERE backend = ? AND status = ?", (backend, DONE))]

    # -- claims: one exporter per run at a time ---------------------------------------------------
    def _claim(self, run_id: str, backend: str) -> bool:
        """Take the run's export for this process, atomically in the store, unless another live
        process holds it: two exporters (a training process and `autotrack sync`, or several syncs)
        would each create the run in the backend before either saved its remote id."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT claim, claim_until FROM exports WHERE run_id = ? AND backend = ?",
                               (run_id, backend)).fetchone()
            holder, until = row if row else (None, None)
            if holder and holder != self._token and (until or 0) > time.time() and _claimer_alive(holder):
                conn.execute("ROLLBACK")
                return False
            conn.execute("UPDATE exports SET claim = ?, claim_until = ? WHERE run_id = ? AND backend = ?",
                         (self._token, time.time() + CLAIM_S, run_id, backend))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return True

    def _release(self, run_id: str, backend: str) -> None:
        self._conn.execute("UPDATE exports SET claim = NULL, claim_until = NULL WHERE run_id = ? AND backend = ?"
                           " AND claim = ?", (run_id, backend, self._token))

    # -- one run --------------------------------------------------------------------------------
    def _export_run(self, name: str, backend, run_id: str) -> tuple[int, bool]:
        """Push until the run has no unsent points; (points sent, whether the export is done)."""
        sent = 0
        while True:
            state, watermark = self._state(run_id, name)
            snapshot, last_rowid = self._snapshot(run_id, name, watermark)
            if snapshot is None:  # the run is gone from the store (deleted by hand)
                self._save(run_id, name, state, watermark, DONE)
                return sent, True
            new_state = backend.export_run(snapshot, dict(state))
            if not isinstance(new_state, dict):
                raise TypeError(f"backend {name!r} export_run returned {type(new_state).__name__}, "
                                "not its state dict")
            more = len(snapshot.points) >= POINTS_PER_PUSH
            complete = bool(new_state.get("complete")) and snapshot.ended and not more
            self._save(run_id, name, new_state, last_rowid, DONE if complete else PENDING)
            sent += len(snapshot.points)
            if not more:
                return sent, complete

    def _state(self, run_id: str, backend: str) -> tuple[dict, int]:
        row = self._conn.execute("SELECT state, points_done FROM exports WHERE run_id = ? AND backend = ?",
                                 (run_id, backend)).fetchone()
        if row is None:
            return {}, 0
        return json.loads(row[0] or "{}"), int(row[1] or 0)

    def _save(self, run_id: str, backend: str, state: dict, watermark: int, status: str) -> None:
        self._conn.execute(
            "INSERT INTO exports (run_id, backend, state, points_done, status, attempts, error, updated)"
            " VALUES (?, ?, ?, ?, ?, 0, NULL, ?) ON CONFLICT (run_id, backend) DO UPDATE SET"
            " state = excluded.state, points_done = excluded.points_done, status = excluded.status,"
            " error = NULL, updated = excluded.updated",
            (run_id, backend, json.dumps(state, default=str), watermark, status, time.time()))
        self._conn.execute("UPDATE exports SET claim_until = ? WHERE run_id = ? AND backend = ? AND claim = ?",
                           (time.time() + CLAIM_S, run_id, backend, self._token))

    def _note_attempt(self, run_id: str, backend: str, status: str, error: str) -> None:
        self._conn.execute(
            "UPDATE exports SET status = ?, error = ?, attempts = attempts + 1, updated = ?"
            " WHERE run_id = ? AND backend = ?", (status, error[:2000], time.time(), run_id, backend))

    def _snapshot(self, run_id: str, backend: str, watermark: int) -> tuple[RunSnapshot | None, int]:
        conn = self._conn
        row = conn.execute(
            "SELECT experiment, name, status, parent_id, start_time, end_time, error, context, timings,"
            " importances FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return None, watermark
        experiment, name, status, parent_id, start, end, error, context, timings, importances = row
        points = conn.execute(
            "SELECT m.rowid, s.key, m.value, m.step, m.timestamp FROM metrics m JOIN series s"
            " ON s.id = m.series WHERE s.run_id = ? AND m.rowid > ? ORDER BY m.rowid LIMIT ?",
            (run_id, watermark, POINTS_PER_PUSH)).fetchall()
        snapshot = RunSnapshot(
            id=run_id, experiment=experiment, name=name, status=status, parent_id=parent_id,
            start_time=start, end_time=end, error=error,
            params=dict(conn.execute("SELECT key, value FROM params WHERE run_id = ?", (run_id,))),
            tags=dict(conn.execute("SELECT key, value FROM tags WHERE run_id = ?", (run_id,))),
            context=json.loads(context or "{}"), timings=json.loads(timings or "{}"),
            importances=json.loads(importances or "{}"),
            datasets=[json.loads(text) for (text,) in conn.execute(
                "SELECT description FROM datasets WHERE run_id = ?", (run_id,))],
            artifacts=[{"name": artifact_name, "path": str(self.directory / path), "bytes": size}
                       for artifact_name, path, size in conn.execute(
                           "SELECT name, path, bytes FROM artifacts WHERE run_id = ?", (run_id,))],
            points=[(key, value, step, timestamp) for _rowid, key, value, step, timestamp in points],
            parent_remote_id=self._remote_id(parent_id, backend) if parent_id else None,
        )
        return snapshot, (points[-1][0] if points else watermark)

    def _remote_id(self, run_id: str, backend: str) -> str | None:
        state, _ = self._state(run_id, backend)
        return state.get("remote_id")


def export_states(conn: sqlite3.Connection, run_ids: list[str]) -> dict[str, dict]:
    """{run_id: {backend: {status, remote_id, error}}} for `autotrack runs` and `show`."""
    states: dict[str, dict] = {}
    if not run_ids:
        return states
    try:
        rows = conn.execute(
            f"SELECT run_id, backend, status, state, error FROM exports WHERE run_id IN "
            f"({','.join('?' * len(run_ids))})", run_ids).fetchall()
    except sqlite3.OperationalError:  # a store written before exports existed
        return states
    for run_id, backend, status, state, error in rows:
        remote = json.loads(state or "{}").get("remote_id")
        states.setdefault(run_id, {})[backend] = {"status": status, "remote_id": remote, "error": error}
    return states


class BackgroundExporter:
    """The training process's exporter thread: pushes this process's runs as they are written,
    retries with backoff while a backend is unavailable (one warning per outage), and is given
    what is left of `exit_timeout` at exit. Whatever it could not push stays pending."""

    MAX_BACKOFF_S = 60.0

    def __init__(self, make_exporter: Callable[[], Exporter], interval: float = 1.0):
        self._make_exporter = make_exporter
        self._interval = interval
        self._run_ids: set[str] = set()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stop = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._backoff = 0.0
        self._warned: set[str] = set()
        self._exiting = False

    def add_run(self, run_id: str) -> None:
        with self._lock:
            self._run_ids.add(run_id)
            self._idle.clear()
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="autotrack-export", daemon=True)
                self._thread.start()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    @property
    def warned(self) -> bool:
        """Whether a backend's outage was already reported to the user."""
        return bool(self._warned)

    def finish(self, timeout: float) -> bool:
        """At exit: one more pass, waiting at most `timeout` s; True when nothing is left."""
        if self._thread is None:
            return True
        self._exiting = True
        self._backoff = 0.0
        self._wake.set()
        done = self._idle.wait(max(0.0, timeout))
        self._stop = True
        self._wake.set()
        return done

    def _loop(self) -> None:
        from autotrack.safety import report_background
        from autotrack.tracked_calls import mark_thread_internal

        mark_thread_internal()
        exporter = None
        while not self._stop:
            self._wake.wait(self._backoff or self._interval)
            self._wake.clear()
            try:
                try:
                    exporter = exporter or self._make_exporter()
                except BackendNotConfigured as exc:
                    self._not_configured(exc)
                    return
                with self._lock:
                    run_ids = set(self._run_ids)
                summary = exporter.export(run_ids=run_ids)
                self._after(summary)
            except Exception as exc:  # never let the thread die: the runs stay pending
                if self._exiting or not threading.main_thread().is_alive():
                    # The interpreter is shutting down under us (an import refused: "can't register
                    # atexit after shutdown"), possibly before our exit handler said so: pending.
                    return
                report_background("exporting runs", exc)
                self._backoff = min(self.MAX_BACKOFF_S, max(1.0, self._backoff * 2))

    def _not_configured(self, exc: BackendNotConfigured) -> None:
        from autotrack.safety import logger

        logger().warning("autotrack: %s; runs are kept in the local store as pending until it is "
                         "set: then `autotrack sync` sends them", exc)
        self._warned.add("not configured")
        with self._lock:
            self._run_ids.clear()
            self._idle.set()

    def _after(self, summary: ExportSummary) -> None:
        from autotrack.safety import logger

        for backend, why in summary.unavailable.items():
            if backend not in self._warned:
                self._warned.add(backend)
                logger().warning("autotrack: the %s backend is unavailable (%s); runs are kept in the "
                                 "local store and exported when it answers again, or by `autotrack "
                                 "sync`", backend, why)
        for run_id, why in summary.errors.items():
            logger().warning("autotrack: the export of run %s failed and will not be retried until "
                             "`autotrack sync`: %s", run_id[:8], why)
        with self._lock:
            # Done or refused runs are finished with; the others (pending, or not yet written to
            # the store by the writer thread) are looked at again on the next pass.
            self._run_ids -= set(summary.completed) | set(summary.errors)
            if summary.unavailable:
                self._backoff = min(self.MAX_BACKOFF_S, max(1.0, self._backoff * 2))
            else:
                self._backoff = 0.0
                self._warned.clear()
            if not self._run_ids:
                self._idle.set()


__all__ = ["RunSnapshot", "BackendUnavailable", "BackendNotConfigured", "Exporter", "ExportSummary", "BackgroundExporter",
           "export_states", "PENDING", "DONE", "ERROR"]
