"""Optuna: a study's `optimize` is a run, each trial a child run of it.

A trial's run holds its suggested params, its value(s) with the study's direction as their goal,
its intermediate values (`trial.report`) as a metric history, its state (complete, pruned,
failed) and duration. The models the objective fits record into the trial's run, not runs of
their own. With `n_jobs>1` each of Optuna's threads runs its trials in its own context; with
several processes optimizing one study in a shared database (SQLite, PostgreSQL, a journal
file), each process's run of the study has the same id (`autotrack_search_run_id`), so their
trials are children of one run: in a shared store at once, across stores after `autotrack
merge`, on MLflow where both export. The study's best trial, params and value end on its run.

Nothing here imports Optuna at start-up: it is called once the user has imported it.
"""

from __future__ import annotations

import functools
import hashlib
import threading

from autotrack.integration import Integration, Target, bound_arguments
from autotrack.plugins import hookimpl
from autotrack.safety import guard

RUN_NAME = "optuna.optimize"
TRIAL_STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}


@hookimpl
def autotrack_register_integrations(register):
    register(Integration(name="optuna", modules=("optuna",), distribution="optuna", supported=">=3,<6",
                         targets=_targets))


def _targets(module):
    yield Target(module.Study, "optimize", "search", data_arguments=lambda args, kwargs: {},
                 model=lambda instance, args, kwargs: None, run_name=RUN_NAME)


def _is_optimize(call) -> bool:
    return call.target.run_name == RUN_NAME and call.target.kind == "search"


# -- the study's run ------------------------------------------------------------------------------
@hookimpl
def autotrack_model_params(model, call):
    if model is not None or not _is_optimize(call):
        return None
    study, arguments = call.instance, _arguments(call)
    directions = [direction.name.lower() for direction in study.directions]
    params = {
        "study_name": study.study_name,
        ("direction" if len(directions) == 1 else "directions"): ",".join(directions),
        "sampler": type(study.sampler).__name__,
        "pruner": type(study.pruner).__name__,
        "storage": _storage_kind(study),
    }
    for name in ("n_trials", "timeout", "n_jobs"):
        if arguments.get(name) is not None:
            params[name] = arguments[name]
    if study.metric_names:
        params["metric_names"] = ",".join(study.metric_names)
    return params


@hookimpl
def autotrack_run_name(model, call):
    if model is not None or not _is_optimize(call):
        return None
    name = call.instance.study_name
    return "optuna study" if name.startswith("no-name-") else f"optuna study {name}"


@hookimpl
def autotrack_search_run_id(call):
    """For a study in a database, the same id in every process and machine that optimizes it:
    derived from where the study is kept (hashed: a URL's password never leaves it) and the
    study's name and id there. A study in memory lives in one process: a new id."""
    if not _is_optimize(call):
        return None
    study = call.instance
    where = _storage_location(study)
    if where is None:
        return None
    text = f"optuna\0{where}\0{study.study_name}\0{getattr(study, '_study_id', '')}"
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


@hookimpl
def autotrack_prepare_call(call, run):
    """The objective wrapped so that each trial is a child run its fits record into, and a
    callback (called after Optuna has told the trial's outcome) that ends the trial's run."""
    if not _is_optimize(call):
        return
    arguments = _arguments(call)
    if "func" not in arguments:
        return  # arguments Optuna rejects: let it say so
    trials = _Trials(run, call.instance)
    arguments["func"] = trials.objective(arguments["func"])
    arguments["callbacks"] = [*(arguments.get("callbacks") or ()), trials.told]
    call.args, call.kwargs = (), arguments
    call.cleanups.append(trials.study_ended)


# -- trials ---------------------------------------------------------------------------------------
class _Trials:
    """The trials of one `optimize` call: their runs, from the objective's start to Optuna's
    callback; what no callback saw (an exception that stopped the study) is ended with the
    study's run."""

    def __init__(self, study_run, study):
        self.study_run, self.study = study_run, study
        self.goals = _goals(study)
        self.open: dict[int, object] = {}  # trial number -> its run
        self.errors: dict[int, str] = {}
        self._lock = threading.Lock()

    def objective(self, func):
        from autotrack.session import SESSION, active_run

        @functools.wraps(func)
        def tracked_objective(trial):
            run = None
            with guard("starting a trial's run"):
                run = SESSION.new_run(f"trial {trial.number}", "auto", parent=self.study_run)
                run.joins_fits = True
                run.set_tags({"optuna.trial": str(trial.number), "optuna.study": self.study.study_name})
                with self._lock:
                    self.open[trial.number] = run
            if run is None:
                return func(trial)
            token = active_run.set(run)  # the objective's fits and log_* calls go to the trial
            try:
                return func(trial)
            except BaseException as exc:
                self.errors[trial.number] = f"{type(exc).__name__}: {exc}"
                raise
            finally:
                active_run.reset(token)

        return tracked_objective

    def told(self, study, frozen_trial) -> None:
        """Optuna's callback, on the thread that ran the trial, once its state is known."""
        with guard("recording an Optuna trial"):
            with self._lock:
                run = self.open.pop(frozen_trial.number, None)
            if run is not None:
                self._record(run, frozen_trial)

    def study_ended(self) -> None:
        """After `optimize` returned or raised: trials no callback saw, then the study's best."""
        with self._lock:
            left, self.open = self.open, {}
        if left:
            with guard("recording Optuna trials"):
                frozen = {trial.number: trial for trial in self.study.get_trials(deepcopy=False)}
                for number, run in left.items():
                    if number in frozen:
                        self._record(run, frozen[number])
                    else:
                        run.end("failed", self.errors.get(number))
        with guard("recording the Optuna study's best trial"):
            _record_best(self.study_run, self.study, self.goals)

    def _record(self, run, trial) -> None:
        from autotrack.run import FAILED, FINISHED

        state = TRIAL_STATES.get(trial.state.name, trial.state.name.lower())
        if trial.params:
            run.log_params(trial.params)
        values = _named_values(self.study, trial.values)
        if values:
            run.log_metrics(values, step=0)
            self.study_run.log_metrics(values, step=trial.number)  # the study's optimization history
        if trial.intermediate_values:
            for step, value in sorted(trial.intermediate_values.items()):
                run.log_metrics({"intermediate_value": value}, step=step)
        if self.goals:
            run.set_metric_goals(self.goals)
        tags = {"optuna.state": state}
        tags.update({f"optuna.user_attrs.{key}": str(value) for key, value in trial.user_attrs.items()})
        run.set_tags(tags)
        if trial.duration is not None:
            run.set_timings({"trial_s": trial.duration.total_seconds()})
        if state == "failed":
            reason = self.errors.pop(trial.number, None) or trial.system_attrs.get("fail_reason")
            run.end(FAILED, reason or "the trial failed")
        else:
            self.errors.pop(trial.number, None)
            run.end(FINISHED)


def _record_best(run, study, goals: dict) -> None:
    from optuna.trial import TrialState

    states = {}
    for trial in study.get_trials(deepcopy=False):
        state = TRIAL_STATES.get(trial.state.name, trial.state.name.lower())
        states[state] = states.get(state, 0) + 1
    run.set_tags({f"optuna.trials.{state}": str(count) for state, count in states.items()})
    if not states.get("complete"):
        return
    if len(study.directions) == 1:
        best = study.best_trial
        run.log_params({f"best.{name}": value for name, value in best.params.items()})
        run.log_metrics({"best_value": best.value}, step=0)
        run.set_metric_goals({"best_value": goals["value"], **goals})
        run.set_tags({"optuna.best_trial": str(best.number)})
    else:  # the Pareto front: each objective's value of each of its trials is on that trial's run
        front = [trial.number for trial in study.best_trials if trial.state == TrialState.COMPLETE]
        run.set_tags({"optuna.best_trials": ",".join(map(str, sorted(front)))})
        run.set_metric_goals(goals)


# -- reading a study ------------------------------------------------------------------------------
def _named_values(study, values) -> dict:
    if not values:
        return {}
    return dict(zip(_value_names(study), values))


def _value_names(study) -> list[str]:
    """`value` for one objective; `study.set_metric_names` names, else `value_0`, `value_1`, ..."""
    count = len(study.directions)
    names = study.metric_names
    if names and len(names) == count:
        return list(names)
    return ["value"] if count == 1 else [f"value_{index}" for index in range(count)]


def _goals(study) -> dict:
    """Each objective's direction is its metric's goal; intermediate values share the first's."""
    goals = {name: ("max" if direction.name == "MAXIMIZE" else "min")
             for name, direction in zip(_value_names(study), study.directions)}
    if len(goals) == 1:
        goals["intermediate_value"] = next(iter(goals.values()))
    return goals


def _inner_storage(study):
    storage = study._storage
    return getattr(storage, "_backend", storage)  # _CachedStorage wraps the RDB storage


def _storage_location(study) -> str | None:
    """Where the study is kept, as text; None when in this process's memory."""
    storage = _inner_storage(study)
    url = getattr(storage, "url", None)  # RDBStorage
    if url:
        return str(url)
    backend = getattr(storage, "_backend", None)  # JournalStorage: a file, Redis
    for attribute in ("_file_path", "_url"):
        if getattr(backend, attribute, None):
            return f"{type(backend).__name__}:{getattr(backend, attribute)}"
    return None


def _storage_kind(study) -> str:
    """`sqlite`, `postgresql`, `journal`, `memory`: never the URL, which may hold a password."""
    storage = _inner_storage(study)
    url = getattr(storage, "url", None)
    if url:
        return str(url).split(":", 1)[0].split("+", 1)[0]
    name = type(storage).__name__
    return {"InMemoryStorage": "memory", "JournalStorage": "journal"}.get(name, name)


def _arguments(call) -> dict:
    return bound_arguments(call.instance.optimize, call)