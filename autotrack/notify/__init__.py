"""Failure alerts: what an alert is, when one fires, and its delivery to notifiers off the training thread.

Imported on first use (an alert, or `enable()` with notification settings), never at
`import autotrack`: `dataclasses` alone costs milliseconds that every start-up would pay.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import threading
import time
from typing import TYPE_CHECKING, Any

from autotrack.safety import logger, report_background, warn_once

if TYPE_CHECKING:
    from autotrack.config import Settings
    from autotrack.run import Run
    from autotrack.session import Session

RUN_FAILED, RUN_KILLED, METRIC_NOT_FINITE = "run_failed", "run_killed", "metric_not_finite"
SCRIPT_FAILED = "script_failed"  # the script failed or was killed after its runs finished
SERVING_DRIFT = "serving_drift"  # a served model's window: features drifted, or the schema changed
SERVING_REALISED = "serving_realised"  # a served model's realised metric broke a realised_alerts condition
EVENTS = (RUN_FAILED, RUN_KILLED, METRIC_NOT_FINITE, SCRIPT_FAILED, SERVING_DRIFT, SERVING_REALISED)
_TEXT_ERROR_CHARS = 300  # the human line stays one short line; `error` keeps the whole text


@dataclasses.dataclass(frozen=True)
class Alert:
    """One alert, as every `autotrack_notify` implementation receives it.

    `event` is `run_failed`, `run_killed` or `metric_not_finite`; `metric` is
    `{"key", "value", "step"}` for a metric event, else None; `time` is a Unix timestamp (the
    run's end, or when the metric was logged). Every text field may hold untrusted content (run
    names, error messages): escape it for whatever displays it.
    """

    event: str
    run_id: str
    run_name: str | None
    experiment: str
    status: str
    error: str | None
    metric: dict[str, Any] | None
    host: str
    user: str | None
    script: str | None
    time: float
    runs: tuple[str, ...] = ()  # script_failed: the ids of the runs that finished before it failed

    @property
    def text(self) -> str:
        """One human line: `autotrack: run "rf-depth-3" (iris) failed on host: ValueError: ...`."""
        run = f'run "{self.run_name}"' if self.run_name else f"run {self.run_id[:8]}"
        where = f"autotrack: {run} ({self.experiment})"
        if self.event == SCRIPT_FAILED:
            script = self.script or "the script"
            count = f"{len(self.runs)} finished run{'s' if len(self.runs) != 1 else ''}"
            shown = ", ".join(run_id[:8] for run_id in self.runs[:5]) + (", ..." if len(self.runs) > 5 else "")
            verb = "was killed" if self.status == "killed" else "failed"
            return (f"autotrack: {script} ({self.experiment}) {verb} on {self.host} after {count} "
                    f"({shown}): {_one_line(self.error or self.status)}")
        if self.event == SERVING_DRIFT and self.metric:
            drifted, schema = self.metric.get("drifted") or [], self.metric.get("schema") or []
            parts = ([f"drift in {', '.join(drifted[:8])}{', ...' if len(drifted) > 8 else ''}"] if drifted
                     else []) + ([f"schema changes ({', '.join(schema)})"] if schema else [])
            return (f"autotrack: the model of {run} ({self.experiment}) served on {self.host}: "
                    f"{'; '.join(parts)} in the window from {time.strftime('%H:%M', time.localtime(self.time))}")
        if self.event == SERVING_REALISED and self.metric:
            return (f"autotrack: the model of {run} ({self.experiment}) in production: realised "
                    f"{self.metric['key']} = {self.metric['value']:.4g} ({self.metric['condition']}) in the window "
                    f"from {time.strftime('%H:%M', time.localtime(self.time))}")
        if self.event == METRIC_NOT_FINITE and self.metric:
            return (f"{where} logged {self.metric['key']} = {self.metric['value']} "
                    f"at step {self.metric['step']} on {self.host}")
        verb = "was killed" if self.event == RUN_KILLED else "failed"
        error = _one_line(self.error or self.status)
        return f"{where} {verb} on {self.host}: {error}"

    def as_dict(self) -> dict[str, Any]:
        """Every field and `text`, JSON-safe (a NaN metric value becomes the string "nan")."""
        fields = dataclasses.asdict(self)
        if self.metric is not None:
            value = self.metric.get("value")
            if isinstance(value, float) and not math.isfinite(value):
                fields["metric"] = {**self.metric, "value": str(value)}
        fields["runs"] = list(self.runs)
        fields["text"] = self.text
        return fields


def _one_line(error: str) -> str:
    """The error's first line (`ValueError: Input X contains NaN.`), cut to a chat line's length."""
    line = error.strip().split("\n", 1)[0].strip().removesuffix(":")
    return line if len(line) <= _TEXT_ERROR_CHARS else line[:_TEXT_ERROR_CHARS - 1] + "…"


def check_settings(settings: Settings) -> None:
    """At enable(): unknown event names and an unusable URL are one warning each, never an error."""
    unknown = [name for name in settings.notify_on if name not in EVENTS]
    if unknown:
        warn_once("notify-on", "notify_on names %s, which is not an alert event (known: %s); ignored",
                  ", ".join(unknown), ", ".join(EVENTS))
    if settings.notify_url:
        from autotrack.notify.webhook import check_url

        check_url(settings.notify_url)


class Notifier:
    """Decides which runs and metrics raise alerts, and delivers them on one daemon thread (FIFO).

    The training thread only appends to a queue; building the alert and calling every
    `autotrack_notify` implementation happen on the `autotrack-notify` thread. Each
    implementation's exception is reported once per plugin and recorded for strict mode, as the
    writer thread's errors are; it never reaches the training script.
    """

    def __init__(self, session: Session):
        self._session = session
        self._queue: collections.deque = collections.deque()
        self._wake = threading.Condition()  # RLock inside: a signal handler may re-enter it
        self._pending = 0
        self._thread: threading.Thread | None = None
        self._metrics_alerted: set[tuple[str, str]] = set()
        self._origin = _origin()  # (host, user, script): the same for every alert of the process

    # -- training thread: cheap decisions and a queue append ----------------------------------
    def run_ended(self, run: Run, nested: bool) -> None:
        """A run ended failed or killed. A run nested in another open run of this process stays
        quiet: the outer run ends too, failed or killed with the same error, and fires once."""
        from autotrack.run import FAILED, KILLED

        event = {FAILED: RUN_FAILED, KILLED: RUN_KILLED}.get(run.status)
        if event is None or nested or run.source == "child" or not self._wanted(event):
            return
        self._put(event, run, run.error, None, run.end_time or time.time())

    def script_ended(self, outcome: str, error: str | None, runs: list) -> None:
        """The script failed or was killed after `runs` finished: one alert naming it and them."""
        if not self._wanted(SCRIPT_FAILED):
            return
        last = runs[-1]
        self._enqueue(dict(event=SCRIPT_FAILED, run_id=last.id, run_name=last.name, experiment=last.experiment,
                           status=outcome, error=error, metric=None, time=time.time(),
                           runs=tuple(run.id for run in runs)))

    def metric_not_finite(self, run: Run, key: str, value: float, step: int) -> None:
        """A metric logged as NaN or ±inf: one alert per run and key, for watched keys only."""
        seen = (run.id, key)
        if seen in self._metrics_alerted or run.source == "child":
            return
        self._metrics_alerted.add(seen)
        if not self._wanted(METRIC_NOT_FINITE) or not self._watched(key):
            return
        self._put(METRIC_NOT_FINITE, run, None, {"key": key, "value": value, "step": step}, time.time())

    def serving_changed(self, reference: dict, window: dict) -> None:
        """A serving window whose features drifted or whose schema changed: one alert per model
        and window (serving/windows.py), on the run that trained the model."""
        if not self._wanted(SERVING_DRIFT):
            return
        schema = [key for key, value in (window.get("schema") or {}).items() if value]
        self._enqueue(dict(event=SERVING_DRIFT, run_id=reference["run_id"], run_name=reference.get("run_name"),
                           experiment=reference.get("experiment") or "", status="serving", error=None,
                           metric={"drifted": list((window.get("drift") or {}).get("drifted", [])),
                                   "schema": schema, "window": window["id"], "model": window["model"]},
                           time=window["start"]))

    def realised_below(self, reference: dict, model: str, window: str, start: float, key: str, value: float,
                       condition: str) -> None:
        """A served model's realised metric broke a `realised_alerts` condition (serving/realised.py)."""
        if not self._wanted(SERVING_REALISED):
            return
        self._enqueue(dict(event=SERVING_REALISED, run_id=reference.get("run_id") or "",
                           run_name=reference.get("run_name"), experiment=reference.get("experiment") or "",
                           status="serving", error=None,
                           metric={"key": key, "value": value, "condition": condition, "window": window,
                                   "model": model}, time=start))

    def _wanted(self, event: str) -> bool:
        settings = self._session.settings
        return settings is not None and event in settings.notify_on and self._has_notifiers()

    def _watched(self, key: str) -> bool:
        from fnmatch import fnmatchcase

        return any(fnmatchcase(key, pattern) for pattern in self._session.settings.notify_metrics)

    def _has_notifiers(self) -> bool:
        plugins = self._session.plugins
        return plugins is not None and bool(plugins.hook.autotrack_notify.get_hookimpls())

    def _put(self, event: str, run: Run, error: str | None, metric: dict | None, when: float) -> None:
        self._enqueue(dict(event=event, run_id=run.id, run_name=run.name, experiment=run.experiment,
                           status=run.status, error=error, metric=metric, time=when))

    def _enqueue(self, fields: dict) -> None:
        with self._wake:
            self._queue.append(fields)
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="autotrack-notify", daemon=True)
                self._thread.start()
            self._wake.notify_all()

    def drain(self, timeout: float | None) -> bool:
        """Wait until every queued alert was handed to every notifier; False if `timeout` ran out."""
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        with self._wake:
            while self._pending:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._wake.wait(left)
        return True

    def pending(self) -> int:
        return self._pending

    # -- the notify thread ------------------------------------------------------------------
    def _loop(self) -> None:
        from autotrack.tracked_calls import mark_thread_internal

        mark_thread_internal()  # a notifier's own calls (a fit, a request) are never tracked
        while True:
            with self._wake:
                while not self._queue:
                    self._wake.wait()
                fields = self._queue.popleft()
            try:
                self._deliver(self._alert(fields))
            except Exception as exc:  # building the alert: ours, and the thread must live on
                report_background("building an alert", exc)
            finally:
                with self._wake:
                    self._pending -= 1
                    self._wake.notify_all()

    def _alert(self, fields: dict) -> Alert:
        host, user, script = self._origin
        return Alert(host=host, user=user, script=script, **fields)

    def _deliver(self, alert: Alert) -> None:
        """Every implementation, the last registered first (as pluggy calls them), each on its own:
        one notifier that raises does not keep the alert from the others."""
        for impl in reversed(self._session.plugins.hook.autotrack_notify.get_hookimpls()):
            if getattr(impl, "hookwrapper", False) or getattr(impl, "wrapper", False):
                continue
            try:
                impl.function(**{name: alert for name in impl.argnames if name == "alert"})
            except Exception as exc:
                report_background(f"the autotrack_notify hook of plugin {impl.plugin_name!r}", exc)


def _origin() -> tuple[str, str | None, str | None]:
    """Host, user and the script's absolute path (None for `python -c`, a notebook)."""
    import getpass
    import socket

    from autotrack.capture.context import script_path

    try:
        user = getpass.getuser()
    except Exception:  # a container's UID without a passwd entry
        user = None
    return socket.gethostname(), user, script_path()  # right after an os.chdir too


def warn_undelivered(notifier: Notifier, timeout: float) -> None:
    logger().warning("autotrack: %d alerts were not sent within exit_timeout=%ss",
                     notifier.pending(), timeout)


__all__ = ["Alert", "Notifier", "EVENTS", "RUN_FAILED", "RUN_KILLED", "METRIC_NOT_FINITE", "SCRIPT_FAILED",
           "check_settings"]
