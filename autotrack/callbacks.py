"""What every framework's explicit callback shares: which run it records into, and safety.

A framework callback (Lightning, Keras, XGBoost, LightGBM) works in three situations:

- autotrack is enabled and patched the training call: the core started a run and the
  integration's `autotrack_prepare_call` added the callback with that run (`RunHandle(run)`);
- the user passed the callback themselves while autotrack is enabled: the callback finds the
  tracked call's run (`current_run()`), so there is still one run and no duplicated metric;
- the user passed the callback without `enable()`: it records into the innermost `start_run`,
  or starts a run of its own when training begins and ends it when training ends.
"""

from __future__ import annotations

import functools

from autotrack.run import FAILED, FINISHED, Run
from autotrack.safety import guard
from autotrack.tracked_calls import current_run, is_rank_zero, tracked_call_run

__all__ = ["RunHandle", "guarded", "current_run", "tracked_call_run", "is_rank_zero"]


class RunHandle:
    """The run a callback records into, taken when training begins and let go when it ends."""

    __slots__ = ("_given", "run", "owned", "_depth")

    def __init__(self, run: Run | None = None):
        self._given = run  # the run the core started for this call, when the core added us
        self.run: Run | None = None
        self.owned = False
        self._depth = 0

    def begin(self, name: str | None) -> Run | None:
        """The run to record into (None on a distributed job's processes other than rank zero).
        Nested begin/end pairs (Keras's evaluate inside fit) share the outer one's run."""
        self._depth += 1
        if self.run is not None:
            return self.run
        if not is_rank_zero():
            return None
        run = self._given or current_run()
        if run is None:
            from autotrack.session import SESSION

            SESSION.configure()
            run = SESSION.new_run(name, "callback")
            self.owned = True
        self.run = run
        return run

    def end(self, error: BaseException | None = None) -> None:
        """Let go of the run; a run the callback started is ended (failed when `error` is set)."""
        self._depth = max(0, self._depth - 1)
        if self._depth or self.run is None:
            return
        run, owned = self.run, self.owned
        self.run, self.owned = None, False
        if owned:
            run.end(FAILED if error is not None else FINISHED, error)


def guarded(where: str):
    """Decorator for a callback method: a tracking error in it never stops the user's training
    (logged once; raised under AUTOTRACK_STRICT=1). The method's result is dropped on error."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            with guard(where):
                return method(*args, **kwargs)
            return None

        return wrapper

    return decorate
