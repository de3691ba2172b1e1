"""A run and what it records: params, metrics, tags, timings, datasets, importances, artifacts."""

from __future__ import annotations

import math
import os
import shutil
import socket
import time
import uuid
from typing import TYPE_CHECKING, Callable

from autotrack.capture.params import flatten, param_value_text
from autotrack.capture.redact import redact_text, redact_value
from autotrack.capture.timing import LatencyStats
from autotrack.preprocessing import SOURCE as PREPROCESSING
from autotrack.stores.spool import in_fork_child
from autotrack.safety import warn_once
from autotrack.writer import WAKE_AT, Job

if TYPE_CHECKING:
    from autotrack.session import Session

FINISHED, FAILED, KILLED, RUNNING = "finished", "failed", "killed", "running"
_HOST = socket.gethostname()


def process_token(pid: int) -> str | None:
    """Start time of a process (Linux): tells a live run's process from a new one with its pid."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
        return stat[stat.rindex(b")") + 2:].split()[19].decode()
    except (OSError, ValueError, IndexError):
        return None


_PROC_TOKEN = {"pid": None, "token": None}


def _own_process_token() -> str | None:
    pid = os.getpid()
    if _PROC_TOKEN["pid"] != pid:  # recomputed after fork
        _PROC_TOKEN.update(pid=pid, token=process_token(pid))
    return _PROC_TOKEN["token"]


class Run:
    """One tracked unit of work. Every method queues records and returns at once."""

    def __init__(self, session: Session, name: str | None, experiment: str,
                 parent_id: str | None = None, source: str = "auto", start_time: float | None = None,
                 run_id: str | None = None, attached: bool = False):
        self.id = run_id or uuid.uuid4().hex
        self.name = redact_text(name) if name else name
        self.experiment = experiment
        self.parent_id = parent_id
        self.source = source
        self.start_time = time.time() if start_time is None else start_time
        self.end_time: float | None = None
        self.status = RUNNING
        self.error: str | None = None
        # A run the user's fits record into instead of starting runs of their own (an Optuna
        # trial: the model it fits is the trial's).
        self.joins_fits = False
        # A run of another process that this one records into (joined_runs.py): never started or
        # ended here, so it writes no start or end record and is exported by its owner.
        self.attached = attached
        self._session = session
        self._writer = session.writer
        self._put = self._writer.put
        self._append_point = self._writer.points.append
        self._steps: dict[str, int] = {}
        self._latency: dict[str, LatencyStats] = {}
        self._described: dict[str, set] = {}
        if attached:
            self._put(("run_attach", self.id, {"experiment": experiment, "start_time": self.start_time,
                                               "pid": os.getpid(), "host": _HOST, "proc_token": _own_process_token()}))
            return
        # A preprocessing record stays local, as run lists leave it out: the model it feeds carries
        # its params, and a team server would otherwise show one top-level run per scaler fitted.
        exports = () if source == PREPROCESSING else session.export_backends()
        self._put(("run_start", self.id, {
            "experiment": experiment, "name": self.name, "parent_id": parent_id, "status": RUNNING,
            "source": source, "start_time": self.start_time, "pid": os.getpid(), "host": _HOST,
            "proc_token": _own_process_token(), "exports": exports,
        }))
        if exports and not in_fork_child():  # a fork child's runs are exported by their importer
            session.exporter.add_run(self.id)
        session.note_run_for_context(self.id)

    def __repr__(self):
        return f"<autotrack.Run {self.id[:8]} {self.name!r} {self.status}>"

    # -- what users and integrations log -------------------------------------------------------
    def log_params(self, params: dict) -> None:
        flat = flatten(dict(params))
        self._put(("params", self.id, {str(k): param_value_text(str(k), v) for k, v in flat.items()}))

    def log_metric(self, key: str, value, step: int | None = None) -> None:
        self.log_metrics({key: value}, step)

    def log_metrics(self, metrics: dict, step: int | None = None) -> None:
        # The hot path of a training loop: one tuple and one deque.append per point.
        now = time.time()
        append, run_id = self._append_point, self.id
        # Never wait for the store: past the bound the newest points are dropped, and counted.
        if len(self._writer.points) >= self._writer.max_queued:
            self._writer.dropped_points[run_id] += len(metrics)
            return
        for key, value in metrics.items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                warn_once(f"metric-type:{key}", "metric %r has a non-numeric value %r; skipped",
                          key, value)
                continue
            if step is None:
                at = self._steps.get(key, -1) + 1
                self._steps[key] = at
            else:
                at = int(step)
            if not math.isfinite(number):
                warn_once(f"metric-finite:{key}", "metric %r is %s; stored as such (NaN reads back "
                          "as null)", key, number)
                self._session.metric_not_finite(self, key, number, at)
            append((run_id, key if type(key) is str else str(key), number, at, now))
        writer = self._writer
        if writer._thread is None:
            writer.start()
        if len(writer.points) > WAKE_AT:
            writer.wake()

    def set_metric_goals(self, goals: dict) -> None:
        """Say which way is better for metrics of this run: {key: "max" | "min" | "none"}. Stored
        with each series; wins over the `metric_goals` setting and the name (metric_goals.py)."""
        from autotrack.metric_goals import parse_goal

        parsed = {}
        for key, goal in goals.items():
            try:
                parsed[str(key)] = parse_goal(goal)
            except ValueError as exc:
                warn_once(f"metric-goal:{key}", "metric %r: %s; its goal is read from its name", key, exc)
        if parsed:
            self._put(("goals", self.id, parsed))

    def set_tags(self, tags: dict) -> None:
        self._put(("tags", self.id, {str(k): str(redact_value(str(k), v)) for k, v in tags.items()}))

    def set_timings(self, timings: dict) -> None:
        self._put(("merge", self.id, "timings", timings))

    def set_context(self, sections: dict) -> None:
        """Sections merged into the run's context (`{"capture": {...}}`)."""
        self._put(("merge", self.id, "context", sections))

    def set_importances(self, importances: dict) -> None:
        self._put(("merge", self.id, "importances", importances))

    def log_dataset(self, description: dict | None) -> None:
        if description:
            self._put(("dataset", self.id, description))

    def has_dataset_room(self, key: str, limit: int) -> bool:
        """Cheap check before describing an input: fewer than `limit` kept under `key` so far."""
        seen = self._described.get(key)
        return seen is None or len(seen) < limit

    def wants_dataset(self, key: str, fingerprint: str | None, limit: int) -> bool:
        """True for the first `limit` distinct inputs seen under `key` (a method, a role)."""
        seen = self._described.setdefault(key, set())
        if fingerprint in seen or len(seen) >= limit:
            return False
        seen.add(fingerprint)
        return True

    def log_artifact(self, source: str | os.PathLike | None = None, name: str | None = None,
                     data: bytes | str | None = None) -> None:
        """Copy a file (or store `data`) as an artifact of this run, on the writer thread."""
        if source is None and data is None:
            raise ValueError("log_artifact needs a file path or data=")
        if source is not None:
            source = os.fspath(source)
            if not os.path.isfile(source):
                raise FileNotFoundError(f"log_artifact: no such file: {source}")
            name = name or os.path.basename(source)
            self.write_artifact(name, lambda path: shutil.copyfile(source, path))
        else:
            payload = data.encode() if isinstance(data, str) else bytes(data)
            self.write_artifact(name or "artifact.bin", lambda path: _write_bytes(path, payload))

    def write_artifact(self, name: str, write: Callable[[str], None], holdable: bool = False) -> None:
        """Queue `write(path)` for the writer thread, then record the file it wrote. `holdable`:
        `write` works on a copy taken now (a model's snapshot), so it may wait while the user's
        training runs (writer.Job); a file of the user's is copied as soon as the writer can."""
        safe_name = os.path.basename(name.replace("\\", "/")) or "artifact"
        self._session.writer.put(Job(lambda: self._session.store_artifact(self.id, safe_name, write),
                                     f"writing artifact {safe_name}", self.id, holdable))

    def put_record(self, kind: str, payload: dict) -> None:
        """Queue a record `(kind, run id, payload)` for the stores: each writes it with its
        `_write_<kind>` method (a plugin's own kind needs a store that knows it)."""
        self._put((kind, self.id, payload))

    def in_background(self, fn: Callable[[], None], where: str) -> None:
        """Run `fn` on the writer thread (it may wait while the user's training runs); an error
        in it is reported as one in `where`."""
        self._session.writer.put(Job(fn, where, self.id, holdable=True))

    def latency(self, method: str) -> LatencyStats:
        stats = self._latency.get(method)
        if stats is None:
            stats = self._latency[method] = LatencyStats()
            self._session.watch_latency(self.id, method, stats)
        return stats

    def child(self, name: str | None = None, params: dict | None = None, metrics: dict | None = None,
              timings: dict | None = None, tags: dict | None = None, goals: dict | None = None) -> Run:
        """A finished child run (a search candidate): everything given is logged at once."""
        run = Run(self._session, name, self.experiment, parent_id=self.id, source="child",
                  start_time=self.start_time)
        if params:
            run.log_params(params)
        if metrics:
            run.log_metrics(metrics, step=0)
        if goals:
            run.set_metric_goals(goals)
        if timings:
            run.set_timings(timings)
        if tags:
            run.set_tags(tags)
        # A candidate's duration is its fit time, not the time until the search reported it.
        fit_seconds = (timings or {}).get("fit_s")
        run.end(end_time=run.start_time + fit_seconds if isinstance(fit_seconds, float) else None)
        return run

    def end(self, status: str = FINISHED, error: BaseException | str | None = None,
            end_time: float | None = None) -> None:
        if self.end_time is not None or self.attached:
            return
        self.end_time = time.time() if end_time is None else end_time
        self.status = status
        if isinstance(error, BaseException):
            error = f"{type(error).__name__}: {error}"
        self.error = error = redact_text(error) if error else error
        writer = self._writer
        if self.id in writer.dropped_points or self.id in writer.dropped_records:
            self._put(("dropped", self.id, {"points": writer.dropped_points.pop(self.id, 0),
                                            "records": writer.dropped_records.pop(self.id, 0),
                                            "why": writer.why_dropped()}))
        self._put(("run_end", self.id, status, self.end_time, error))
        self._session.run_ended(self)


def _write_bytes(path: str, payload: bytes) -> None:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(payload)


def status_for(exc: BaseException) -> str:
    return KILLED if isinstance(exc, (KeyboardInterrupt, SystemExit)) else FAILED


__all__ = ["Run", "FINISHED", "FAILED", "KILLED", "RUNNING", "process_token", "status_for"]
