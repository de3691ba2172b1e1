"""Ray Tune and Ray Train: a tuning (`Tuner.fit`, `tune.run`) is a run, each trial a child run.

In the driver, a Tune callback added to the tuning's callbacks records each trial as Tune sees
it: its config as params, every reported result as metrics at the step of its
`training_iteration` (the tuning's `metric` with its `mode` as goal), its status, error and
duration; the best trial's config and metric end on the tuning's run.

In the trial's worker process (an actor Ray started), a model the trainable fits is recorded into
the trial's run (`autotrack_enclosing_run`): both sides derive the trial run's id from the
experiment's name and the trial's id. The worker writes into the driver's store when Ray was
started by the tuning (Tune's own `ray.init`, which hands the workers autotrack's run context) or
when AUTOTRACK_DIR names an absolute path; a worker that knows no such store records nothing. In a
Ray Train job only the worker of world rank zero records.

Nothing here imports Ray at start-up: every hook is called once the user has imported Ray Tune.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading

from autotrack.integration import Integration, Target, bound_arguments
from autotrack.plugins import hookimpl
from autotrack.safety import guard

RUN_NAME = "ray.tune"
# What Tune adds to every result: bookkeeping, not the trainable's metrics.
AUTO_RESULT_KEYS = frozenset({
    "timestamp", "checkpoint_dir_name", "done", "training_iteration", "trial_id", "date",
    "time_this_iter_s", "time_total_s", "pid", "hostname", "node_ip", "time_since_restore",
    "iterations_since_restore", "experiment_tag", "config", "should_checkpoint", "episodes_total",
    "timesteps_total", "timesteps_since_restore", "experiment_id", "warmup_time",
})


@hookimpl
def autotrack_register_integrations(register):
    register(Integration(name="ray", modules=("ray.tune",), distribution="ray", supported=">=2.9,<3",
                         targets=_targets))


def _targets(module):
    # `Tuner.fit` calls the `run` that tuner_internal imported from ray.tune.tune; `tune.run` (the
    # older API) is that same function under two more names. Each name gets its own wrapper.
    for name in ("ray.tune.impl.tuner_internal", "ray.tune.tune", "ray.tune"):
        owner = sys.modules.get(name)
        if owner is not None and callable(getattr(owner, "run", None)):
            yield Target(owner, "run", "search", data_arguments=lambda args, kwargs: {},
                         model=lambda instance, args, kwargs: None, run_name=RUN_NAME)


def _is_tuning(call) -> bool:
    return call.target.run_name == RUN_NAME and call.target.kind == "search"


def _arguments(call) -> dict:
    return bound_arguments(call.target.owner.run, call)


def _trainable_name(arguments: dict) -> str:
    trainable = arguments.get("run_or_experiment")
    return getattr(trainable, "__name__", None) or type(trainable).__name__ if trainable is not None else "trainable"


# -- the tuning's run (driver) --------------------------------------------------------------------
@hookimpl
def autotrack_model_params(model, call):
    if model is not None or not _is_tuning(call):
        return None
    arguments = _arguments(call)
    params = {"trainable": _trainable_name(arguments)}
    for name in ("metric", "mode", "num_samples", "max_concurrent_trials", "time_budget_s"):
        if arguments.get(name) is not None:
            params[name] = arguments[name]
    for name in ("scheduler", "search_alg"):
        if arguments.get(name) is not None:
            params[name] = type(arguments[name]).__name__
    return params


@hookimpl
def autotrack_run_name(model, call):
    if model is not None or not _is_tuning(call):
        return None
    return f"ray.tune {_trainable_name(_arguments(call))}"


@hookimpl
def autotrack_prepare_call(call, run):
    """Our Tune callback after the user's (a new list), and a cleanup that records the best trial."""
    if not _is_tuning(call):
        return
    arguments = _arguments(call)
    trials = _Trials(run, arguments.get("metric"), arguments.get("mode"))
    callbacks = [*(arguments.get("callbacks") or ()), _callback_class()(trials)]
    call.args, call.kwargs = (), {**arguments, "callbacks": callbacks}
    call.cleanups.append(trials.tuning_ended)


class _Trials:
    """The trials of one tuning, from Tune's callbacks in the driver."""

    def __init__(self, tuning_run, metric: str | None, mode: str | None):
        self.tuning_run, self.metric, self.mode = tuning_run, metric, mode
        self.goal = {"min": "min", "max": "max"}.get(mode or "")
        self.runs: dict[str, object] = {}
        self.last: dict[str, dict] = {}  # trial id -> its last result
        self._lock = threading.Lock()

    def started(self, trial) -> None:
        from autotrack.session import SESSION

        run_id = trial_run_id(trial.storage.experiment_dir_name, trial.trial_id)
        run = SESSION.new_run(str(trial), "auto", parent=self.tuning_run, run_id=run_id)
        run.log_params(dict(trial.config or {}))
        run.set_tags({"ray.trial_id": trial.trial_id})
        if self.metric and self.goal:
            run.set_metric_goals({self.metric: self.goal})
        with self._lock:
            self.runs[trial.trial_id] = run
        # Written now, before the trial's worker (seconds away) adds what its fits record.
        SESSION.writer.wake()

    def result(self, trial, result: dict) -> None:
        run = self.runs.get(trial.trial_id)
        if run is None:
            return
        step = result.get("training_iteration")
        from autotrack.metric_goals import is_finite
        from autotrack.terminal import flat

        reported = {key: value for key, value in result.items() if key not in AUTO_RESULT_KEYS}
        metrics = {key: value for key, value in flat(reported, separator="/").items() if is_finite(value)}
        if metrics:
            run.log_metrics(metrics, step=int(step) if isinstance(step, int) else None)
        self.last[trial.trial_id] = result

    def ended(self, trial, failed: bool) -> None:
        with self._lock:
            run = self.runs.pop(trial.trial_id, None)
        if run is None:
            return
        last = self.last.get(trial.trial_id) or {}
        if isinstance(last.get("time_total_s"), (int, float)):
            run.set_timings({"trial_s": float(last["time_total_s"]), "iterations": last.get("training_iteration")})
        run.set_tags({"ray.status": "ERROR" if failed else "TERMINATED"})
        run.end("failed" if failed else "finished", _error_of(trial) if failed else None)

    def tuning_ended(self) -> None:
        with self._lock:
            left, self.runs = self.runs, {}
        for run in left.values():  # the tuning stopped before Tune reported these trials' end
            run.end("killed", "the tuning ended before the trial did")
        with guard("recording the Ray Tune best trial"):
            self._record_best()

    def _record_best(self) -> None:
        from autotrack.metric_goals import is_finite

        metric, goal = self.metric, self.goal
        if not metric or not goal:
            return
        # Tune's last result of each trial; on a tie the first trial wins, as in Tune's own
        # `get_best_result` (trial ids sort in the order Tune made the trials).
        best = None
        for trial_id in sorted(self.last):
            value = self.last[trial_id].get(metric)
            if is_finite(value) and (best is None or (value < best[0] if goal == "min" else value > best[0])):
                best = (value, trial_id)
        if best is None:
            return
        value, trial_id = best
        config = self.last[trial_id].get("config") or {}
        run = self.tuning_run
        run.log_params({f"best.{key}": item for key, item in config.items()})  # nested: best.a.b, as the trial's a.b
        run.log_metrics({f"best.{metric}": value}, step=0)
        run.set_metric_goals({f"best.{metric}": goal})
        run.set_tags({"ray.best_trial": trial_id})


def _callback_class():
    """A `ray.tune.Callback` subclass, made once Ray Tune is imported (it is, by then)."""
    global _CALLBACK
    if _CALLBACK is None:
        from ray.tune import Callback

        class AutotrackTuneCallback(Callback):
            def __init__(self, trials: _Trials):
                self.trials = trials

            def on_trial_start(self, iteration, trials, trial, **info):
                with guard("recording a Ray Tune trial's start"):
                    self.trials.started(trial)

            def on_trial_result(self, iteration, trials, trial, result, **info):
                with guard("recording a Ray Tune result"):
                    self.trials.result(trial, result)

            def on_trial_complete(self, iteration, trials, trial, **info):
                with guard("recording a Ray Tune trial's end"):
                    self.trials.ended(trial, failed=False)

            def on_trial_error(self, iteration, trials, trial, **info):
                with guard("recording a Ray Tune trial's error"):
                    self.trials.ended(trial, failed=True)

        _CALLBACK = AutotrackTuneCallback
    return _CALLBACK


_CALLBACK = None


def _error_of(trial) -> str:
    """The last line of the trial's error file (`ValueError: ...`), as the run's error."""
    path = getattr(trial, "error_file", None)
    try:
        with open(path, errors="replace") as handle:
            lines = [line.strip() for line in handle if line.strip()]
        return lines[-1] if lines else "the trial failed"
    except (OSError, TypeError):
        return "the trial failed"


# -- the trial's worker -----------------------------------------------------------------------------
def trial_run_id(experiment: str, trial_id: str) -> str:
    """The trial's run id, the same in the driver and in the trial's workers."""
    return hashlib.sha256(f"ray.tune\0{experiment}\0{trial_id}".encode()).hexdigest()[:32]


@hookimpl
def autotrack_enclosing_run():
    """In a Ray Tune trial's worker, the trial's run; in a Ray Train worker other than world rank
    zero, nothing. Asked before nearly every fit in every process that imported Ray Train, so it
    uses what answers silently outside a trial: Tune's `get_context().get_trial_id()` warns there,
    the session it reads (`ray.train._internal.session.get_session()`) is simply None."""
    train = sys.modules.get("ray.train")
    if train is None:
        return None
    rank = _world_rank(train)
    if rank not in (None, 0):
        return {"part_of": f"rank {rank} of a Ray Train job: rank 0 records"}
    sessions = sys.modules.get("ray.train._internal.session")
    session = sessions.get_session() if sessions is not None and hasattr(sessions, "get_session") else None
    trial_id = getattr(session, "trial_id", None) if session is not None else None
    if not trial_id:
        return None
    from autotrack.session import SESSION

    if not SESSION.started_by_a_run and not os.path.isabs(SESSION.settings.dir):
        return {"part_of": "a Ray Tune trial whose driver's store this worker does not know"}
    return {"run_id": trial_run_id(session.experiment_name, trial_id)}


def _world_rank(train):
    try:
        return train.get_context().get_world_rank()
    except Exception:  # not in a Ray Train worker: raised at once, silently
        return None
