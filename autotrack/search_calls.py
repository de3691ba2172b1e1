"""How a `search` call is tracked: Optuna's `study.optimize`, which runs the user's objective.

The call is a run of its own, open while it runs and the active run of the calling thread (what
`autotrack.log_*` writes to, what processes started meanwhile record under). Unlike a fit, what
runs inside it is the user's code: the models it fits are tracked, not hidden as the framework's
internals. The integration makes each trial a child run from `autotrack_prepare_call` (wrapping
the objective, so that the trial's fits join the trial's run: `Run.joins_fits`) and records the
search's outcome from a cleanup, which runs once the call returns or raises.
"""

from __future__ import annotations

from time import perf_counter
from typing import TYPE_CHECKING

from autotrack.patching import hide_from_tracebacks
from autotrack.safety import guard
from autotrack.tracked_calls import Call, _current, _in_worker_process

if TYPE_CHECKING:
    from autotrack.integration import Target
    from autotrack.session import Session


def search_wrapper(session: Session, target: Target):
    @hide_from_tracebacks
    def tracked_search(wrapped, instance, args, kwargs):
        if _current.get() is not None or not session.tracks_fits() or _in_worker_process():
            return wrapped(*args, **kwargs)  # inside a tracked fit, or autotrack's own thread
        search = None
        with guard(f"starting a run for {target.attribute}"):
            search = _Search(session, Call(target, instance, args, kwargs))
        if search is None:
            return wrapped(*args, **kwargs)
        call = search.call
        started = perf_counter()
        try:
            result = wrapped(*call.args, **call.kwargs)
        except BaseException as exc:
            search.finish(perf_counter() - started, exc)
            raise
        call.result = result
        search.finish(perf_counter() - started, None)
        return result

    return tracked_search


class _Search:
    """The run of one search call, from its start to its end."""

    def __init__(self, session: Session, call: Call):
        from autotrack.run_context import WITHIN_RUN
        from autotrack.session import active_run

        hook = session.plugins.hook
        self.session, self.call = session, call
        session.configure()
        params = name = run_id = None
        with guard("the autotrack_model_params hook"):
            params = hook.autotrack_model_params(model=None, call=call)
        with guard("the autotrack_run_name hook"):
            name = hook.autotrack_run_name(model=None, call=call)
        with guard("the autotrack_search_run_id hook"):
            run_id = hook.autotrack_search_run_id(call=call)
        self.run = run = session.new_run(name or call.target.attribute, "auto", run_id=run_id)
        if params:
            with guard("recording the params"):
                run.log_params(params)
        self._token = active_run.set(run)
        session.open_context(run, WITHIN_RUN)
        try:
            with guard("the autotrack_prepare_call hook"):
                hook.autotrack_prepare_call(call=call, run=run)
        except BaseException as exc:  # strict mode re-raised a tracking error: leave nothing open
            self.finish(0.0, exc)
            raise

    def finish(self, elapsed: float, exc: BaseException | None) -> None:
        from autotrack.run import FINISHED, status_for
        from autotrack.session import active_run

        run, call = self.run, self.call
        try:
            active_run.reset(self._token)
        except ValueError:  # the call ended in another context (it never does in Optuna)
            active_run.set(None)
        self.session.close_context(run)
        call.run_cleanups()  # the integration records the search's outcome here
        with guard("ending a search's run"):
            run.set_timings({f"{call.target.attribute}_s": elapsed})
        run.end(FINISHED if exc is None else status_for(exc), exc)


__all__ = ["search_wrapper"]
