"""The run context child processes inherit, as the environment variable AUTOTRACK_RUN_CONTEXT.

While a run is open in a process (an explicit `start_run`, or a tracked fit), the variable holds
`{"run_id", "experiment", "dir", "within"}`. Processes started meanwhile — joblib/loky workers,
`multiprocessing` children, subprocesses — read it when autotrack starts in them:

- `within: "fit"`: the work belongs to that fit (a search's candidates fitted in workers); their
  fits are not runs of their own.
- `within: "run"`: their runs become children of that run, in its experiment and store, instead
  of top-level runs of an experiment named after the child's script.
"""

from __future__ import annotations

import json
import os
import threading

from autotrack.config import ENV_RUN_CONTEXT as ENV
WITHIN_FIT, WITHIN_RUN = "fit", "run"


class ContextStack:
    """The open runs of this process, innermost last; the variable names the innermost."""

    def __init__(self):
        self._entries: list[tuple[str, str]] = []  # (run id, JSON text)
        self._lock = threading.Lock()

    def push(self, run_id: str, experiment: str, directory: str, within: str) -> None:
        text = json.dumps({"run_id": run_id, "experiment": experiment, "dir": directory, "within": within})
        with self._lock:
            self._entries.append((run_id, text))
            os.environ[ENV] = text

    def pop(self, run_id: str) -> None:
        with self._lock:
            for index in range(len(self._entries) - 1, -1, -1):
                if self._entries[index][0] == run_id:
                    del self._entries[index]
                    break
            if self._entries:
                os.environ[ENV] = self._entries[-1][1]
            else:
                os.environ.pop(ENV, None)

    def reset(self) -> None:
        """After fork: the child's own runs start from the context it inherited. A new lock: the
        parent's may have been held by another thread at the instant of the fork."""
        self._lock = threading.Lock()
        self._entries = []


def inherited(environ=None) -> dict | None:
    """The context this process was started in, or None. A malformed value (set by hand) is
    ignored: the process then records as if it had been started on its own."""
    text = (environ if environ is not None else os.environ).get(ENV)
    if not text:
        return None
    try:
        context = json.loads(text)
    except ValueError:
        return None
    if not isinstance(context, dict) or not isinstance(context.get("run_id"), str):
        return None
    return context


__all__ = ["ContextStack", "inherited", "ENV", "WITHIN_FIT", "WITHIN_RUN"]
