"""Which open run an outermost fit records into instead of starting a run of its own.

- An Optuna trial (integrations/optuna.py) is the active run of the thread that runs it, with
  `joins_fits` set: the model the objective fits is the trial's.
- In a process that works for a run of another process (a Ray Tune trial's worker), a plugin's
  `autotrack_enclosing_run` names that run: the fit's records go to it, under its id, in this
  process's store (the other process's, when it started this one: run_context.py). This process
  neither starts nor ends it (`Run(attached=True)`), and writes what it recorded as each fit
  ends, since such workers are often ended without their exit handlers.
- The plugin may instead say the fit is part of work whose run this process cannot reach (rank
  one of a distributed job, a worker that knows no store of its driver's): the fit is not tracked.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from autotrack.safety import guard

if TYPE_CHECKING:
    from autotrack.run import Run
    from autotrack.session import Session

NOT_TRACKED = object()  # the fit is part of another process's work, out of reach


class JoinedRuns:
    def __init__(self, session: Session):
        self._session = session
        self._attached: dict[str, Run] = {}
        self._lock = threading.Lock()

    def run_to_join(self, active: Run | None):
        """The open run this fit records into, NOT_TRACKED, or None (a run of its own)."""
        if active is not None:
            return active if active.joins_fits and active.end_time is None else None
        answer = None
        with guard("the autotrack_enclosing_run hook"):
            answer = self._session.plugins.hook.autotrack_enclosing_run()
        if not answer:
            return None
        run_id = answer.get("run_id")
        if not run_id:
            return NOT_TRACKED
        with self._lock:
            run = self._attached.get(run_id)
            if run is None:
                from autotrack import config
                from autotrack.run import Run

                experiment = answer.get("experiment") or config.experiment_name(self._session.settings)
                run = self._attached[run_id] = Run(self._session, None, experiment, run_id=run_id, attached=True)
                run.joins_fits = True
        return run


__all__ = ["JoinedRuns", "NOT_TRACKED"]
