"""How the process a run belongs to ended: recorded on its runs at exit, and one alert when the
script failed or was killed after its fits (its runs all say `finished`, but the script did not)."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autotrack.session import Session

MAX_RUNS = 10_000  # runs of one process whose record is updated at exit; a sweep past it keeps the first
_STARTED = time.time()


def note_run(session: Session, run) -> None:
    """A top-level or explicit run of this process (not a search candidate)."""
    if len(session.process_runs) < MAX_RUNS:
        session.process_runs.append(run)


def record(session: Session, outcome: str, error: BaseException | str | None) -> None:
    """At exit (or SIGTERM): the process's record on each of its runs, and a `script_failed` alert
    when it failed or was killed while none of its runs was open (an open run fails with it and
    alerts for itself)."""
    if not session.process_runs or session.settings is None:
        return
    from autotrack.capture.context import program_argv
    from autotrack.capture.redact import redact_text

    if isinstance(error, BaseException):
        error = f"{type(error).__name__}: {error}"
    error = redact_text(error) if error else error  # as the runs' own errors are (run.py)
    process = {"pid": os.getpid(), "argv": program_argv(), "started": _STARTED,
               "ended": time.time(), "outcome": outcome, "error": error}
    runs = session.process_runs
    for run in runs:
        session.writer.put(("merge", run.id, "context", {"process": process}))
    if outcome == "finished":
        return
    after = [run for run in runs if run.status == "finished"]
    ended_with_it = any(run.status != "finished" and run.error == error for run in runs)
    if after and not ended_with_it:
        session.notifier.script_ended(outcome, error, after)


__all__ = ["note_run", "record", "MAX_RUNS"]
