"""LightGBM's AutotrackCallback and what a training records: metrics, params, model, datasets."""

from __future__ import annotations

import copy
import functools
import os
import sys
import weakref
from time import perf_counter

from autotrack.callbacks import RunHandle, guarded, tracked_call_run

TRAIN_RUN, CV_RUN = "lightgbm.train", "lightgbm.cv"
# Parameters recorded with the value the trained booster used even when the user left them at
# LightGBM's default; every other parameter is recorded only when the user set it (or an alias).
CORE_PARAMS = frozenset((
    "boosting", "objective", "metric", "num_class", "num_iterations", "learning_rate", "num_leaves",
    "max_depth", "min_data_in_leaf", "min_sum_hessian_in_leaf", "feature_fraction", "bagging_fraction",
    "bagging_freq", "lambda_l1", "lambda_l2", "min_gain_to_split", "max_bin", "seed", "num_threads",
    "early_stopping_round", "early_stopping_min_delta", "first_metric_only",
))
# After record_evaluation (20), before early_stopping (30): so the iteration on which early
# stopping fires is still recorded, as LightGBM evaluated it.
CALLBACK_ORDER = 25


# -- the callback -----------------------------------------------------------------------------------
class AutotrackCallback:
    """Records a LightGBM training: `lightgbm.train(..., callbacks=[AutotrackCallback()])`.

    Each iteration's evaluation results become metrics `<eval set>.<metric>` (cv: `.mean` and
    `.stdv`) with the 0-based iteration as step. When autotrack patched the training call, the
    call's run gets them and the core records the rest when the call returns; otherwise the
    callback records into the active `start_run` or a run of its own, and itself records the end
    of training (best iteration, importances, the model) on the last iteration it can see coming:
    the planned last one, or the one on which an early_stopping callback is about to fire.
    """

    def __init__(self, run=None):
        self._given = run  # the run autotrack's patched call started, when autotrack added us
        self.training: _Training | None = None
        # Instance attributes: LightGBM sets a default `order` in each callback's own __dict__.
        self.order = CALLBACK_ORDER
        self.before_iteration = False

    @guarded("the LightGBM callback")
    def __call__(self, env) -> None:
        training = self.training
        if training is None or env.iteration == env.begin_iteration or env.model is not training.model:
            training = self._start(env)
        if training.run is None:
            return  # a distributed job's process other than rank zero
        training.record(env)
        if training.finishes_itself:
            best_iteration = training.stops_at(env)
            if best_iteration is not None:
                self._finish(training, env.model, best_iteration)

    def _start(self, env) -> _Training:
        if self.training is not None:
            self._let_go(self.training)
        handle = RunHandle(self._given)
        tracked = self._given is not None or tracked_call_run() is not None
        run = handle.begin(CV_RUN if _is_cv_booster(env.model) else TRAIN_RUN)
        self.training = _Training(env, run, handle, finishes_itself=not tracked)
        if run is not None and not tracked:
            describe_booster_datasets(run, env.model)
        return self.training

    def _finish(self, training: _Training, booster, best_iteration: int) -> None:
        from autotrack.session import SESSION

        run = training.run
        record_training_end(run, booster, training, best_iteration)
        # Training has not yet set the booster's best_iteration: both are asked for it by number.
        run.set_importances(feature_importances(booster, best_iteration))
        if SESSION.configure().log_models:
            run.write_artifact(*model_artifact(booster, best_iteration))
        self.training = None
        training.handle.end()

    def _let_go(self, training: _Training) -> None:
        """A new training starts while the previous one is open: autotrack's call finished that
        one, or the callback never saw its end (an exception, or a stop it could not foresee)."""
        self.training = None
        error = None
        if training.finishes_itself and training.run is not None:
            error = RuntimeError("the training stopped before its last iteration, for a reason the "
                                 "LightGBM callback could not see (an exception?)")
        training.handle.end(error)


AutotrackCallback.__module__ = "autotrack.integrations.lightgbm"  # its public home: pickles name it


class _Training:
    """One training the callback watches: its run, its iterations, its early stopping."""

    __slots__ = ("model", "run", "handle", "finishes_itself", "stoppers", "early_stopping", "begin",
                 "end", "last", "count", "first_at", "last_at", "results", "training_set", "score_key",
                 "score_goal", "scheduled", "given")

    def __init__(self, env, run, handle: RunHandle, finishes_itself: bool):
        self.model, self.run, self.handle, self.finishes_itself = env.model, run, handle, finishes_itself
        self.begin, self.end = env.begin_iteration, env.end_iteration
        self.last, self.count, self.first_at, self.last_at = None, 0, 0.0, 0.0
        self.results: dict[int, dict] = {}  # iteration -> {metric name: value}, for the best one
        self.training_set = "train" if _is_cv_booster(env.model) else getattr(
            env.model, "_train_data_name", "training")
        self.score_key = self.score_goal = None
        self.stoppers = [cb for cb in _engine_callbacks() if hasattr(cb, "stopping_rounds")]
        self.early_stopping = _early_stopping_settings(self.stoppers, env.params)
        # Params a reset_parameter callback changes each iteration (a learning-rate schedule):
        # the run keeps the value the user set, and each iteration's value as `schedule.<name>`.
        self.scheduled = sorted({canonical_name(name) for cb in _engine_callbacks("callbacks_before_iter")
                                 for name in (getattr(cb, "kwargs", None) or {})})
        self.given = canonical_params({"num_boost_round": self.end - self.begin, **env.params})
        if run is not None:
            run.log_params({**self.given, **{f"early_stopping.{k}": v for k, v in self.early_stopping.items()}})
            if self.begin:  # init_model=: LightGBM numbers the iterations on from the model's
                run.set_tags({"continued_training": f"from round {self.begin}"})
            if self.scheduled:
                run.set_tags({"schedule": ",".join(self.scheduled)})
                run.set_metric_goals({f"schedule.{name}": "none" for name in self.scheduled})

    def record(self, env) -> None:
        """The per-iteration work: one dict of metrics, appended to the run."""
        now = perf_counter()
        if self.count == 0:
            self.first_at = now
            self.score_key = _first_validation_metric(env.evaluation_result_list, self.training_set)
            goals = iteration_goals(env.evaluation_result_list)
            self.score_goal = goals.get(self.score_key)
            self.run.set_metric_goals(goals)
        self.last, self.last_at, self.count = env.iteration, now, self.count + 1
        values = iteration_metrics(env.evaluation_result_list)
        if values:
            self.results[env.iteration] = values
            self.run.log_metrics(values, step=env.iteration)
        if self.scheduled:
            params = canonical_params(env.params)
            self.run.log_metrics({f"schedule.{name}": params[name] for name in self.scheduled
                                  if isinstance(params.get(name), (int, float))}, step=env.iteration)

    def stops_at(self, env) -> int | None:
        """None while training goes on; on its last iteration, the best iteration (1-based as
        LightGBM's `best_iteration`; 0 when no early stopping chose one)."""
        last = env.iteration == env.end_iteration - 1
        if not last and env.iteration == env.begin_iteration:
            return None  # early stopping never fires on the first iteration (it starts counting)
        for stopper in self.stoppers:
            best = _would_stop(stopper, env)
            if best is not None:
                return best
        return 0 if last else None

    def iteration_mean_s(self) -> float | None:
        # Callbacks run after each iteration, so the first iteration's start is not seen.
        return (self.last_at - self.first_at) / (self.count - 1) if self.count > 1 else None


def _would_stop(stopper, env) -> int | None:
    """Whether the early_stopping callback will stop training on this iteration, asked of a copy
    of it (LightGBM's own rule, on its own state; the user's callback is left untouched)."""
    from lightgbm.callback import EarlyStopException

    probe = copy.copy(stopper)
    for name, value in vars(stopper).items():
        if isinstance(value, list):  # the state it updates in place
            setattr(probe, name, list(value))
    probe.verbose = False
    try:
        probe(env)
    except EarlyStopException as stop:
        return stop.best_iteration + 1
    return None


def _engine_callbacks(which: str = "callbacks_after_iter") -> list:
    """The callbacks lightgbm.train/cv runs after (or before) each iteration, from its frame: the
    early stopping callbacks among them (the user's, or the one `early_stopping_round` made) and
    reset_parameter's are not visible any other way. Empty if LightGBM's internals moved."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__") == "lightgbm.engine":
            found = frame.f_locals.get(which)
            return list(found) if isinstance(found, list) else []
        frame = frame.f_back
    return []


def _early_stopping_settings(stoppers: list, params: dict) -> dict:
    for stopper in stoppers:
        return {"stopping_rounds": stopper.stopping_rounds, "first_metric_only": stopper.first_metric_only,
                "min_delta": stopper.min_delta}
    rounds = params.get("early_stopping_round")
    if isinstance(rounds, int) and rounds > 0:
        return {"stopping_rounds": rounds, "first_metric_only": params.get("first_metric_only", False),
                "min_delta": params.get("early_stopping_min_delta", 0.0)}
    return {}


# -- what a training records ------------------------------------------------------------------------
def iteration_metrics(results) -> dict:
    """LightGBM's evaluation results as `<eval set>.<metric>`; cv's as `.mean` and `.stdv`."""
    values = {}
    for result in results or ():
        if len(result) > 4 and result[4] is not None:  # cv: (set, metric, mean, maximize, stdv)
            values[f"{result[0]}.{result[1]}.mean"] = result[2]
            values[f"{result[0]}.{result[1]}.stdv"] = result[4]
        else:
            values[f"{result[0]}.{result[1]}"] = result[2]
    return values


def iteration_goals(results) -> dict:
    """Each metric's goal as LightGBM states it (`is_higher_better`), under iteration_metrics'
    names, and as `best.<name>`; cv's spread (`.stdv`) is not a quality measure."""
    goals = {}
    for result in results or ():
        if len(result) < 4 or not isinstance(result[3], bool):
            continue
        goal = "max" if result[3] else "min"
        if len(result) > 4 and result[4] is not None:
            names = {f"{result[0]}.{result[1]}.mean": goal, f"{result[0]}.{result[1]}.stdv": "none"}
        else:
            names = {f"{result[0]}.{result[1]}": goal}
        for name, value in names.items():
            goals[name] = goals[f"best.{name}"] = value
    return goals


def _first_validation_metric(results, training_set: str) -> str | None:
    """The metric early stopping looks at first (and only, with first_metric_only)."""
    for result in results or ():
        if result[0] != training_set:
            return next(iter(iteration_metrics([result])))
    return None


def record_evals_history(run, evals_result) -> None:
    """A training the callback could not watch (lightgbm.dask's, run on the Dask workers): each
    iteration's results as the model keeps them, `<eval set>.<metric>` at the iteration's step,
    as the callback names them."""
    for set_name, metrics in (evals_result or {}).items():
        for metric, values in metrics.items():
            key = f"{set_name}.{metric}"
            for step, value in enumerate(values):
                run.log_metrics({key: value}, step=step)


def record_training_end(run, booster, training: _Training | None, best_iteration: int) -> None:
    """Parameters as the booster resolved them (those the user set keep the value they set: a
    schedule leaves the booster with its last iteration's); with the callback's record:
    iterations and their mean time, whether early stopping fired, and the best iteration's scores."""
    resolved = resolved_params(booster)
    if training is None:
        run.log_params(resolved)
        return
    run.log_params({name: value for name, value in resolved.items() if name not in training.given})
    timings = {"iterations": training.count}
    mean = training.iteration_mean_s()
    if mean is not None:
        timings["iteration_mean_s"] = mean
    run.set_timings(timings)
    stopped_early = training.last is not None and training.last < training.end - 1
    state = "fired" if stopped_early else "not fired" if training.early_stopping else "off"
    run.set_tags({"early_stopping": state})
    best = training.results.get(best_iteration - 1) if best_iteration > 0 else None
    if best:
        metrics = {"best_iteration": best_iteration, **{f"best.{k}": v for k, v in best.items()}}
        if training.score_key in best:
            metrics["best_score"] = best[training.score_key]
            run.set_tags({"best_score.metric": training.score_key})
            if training.score_goal:
                run.set_metric_goals({"best_score": training.score_goal})
        run.log_metrics(metrics, step=0)


def resolved_params(booster) -> dict:
    """Every parameter the user set (under LightGBM's main name, as the booster resolved it) and
    the core parameters with their defaults: the `parameters:` section of LightGBM's model file."""
    import lightgbm

    first = _fold_boosters(booster)[0]
    used = first._get_loaded_param()  # filled once the booster was reloaded from its model text,
    if not used:  # which train() does unless keep_training_booster; else from one tree's text
        used = lightgbm.Booster(model_str=first.model_to_string(num_iteration=1))._get_loaded_param()
    given = set(first.params)
    return {name: value for name, value in used.items() if name in CORE_PARAMS or _aliases(name) & given}


@functools.lru_cache(maxsize=1)
def _primary_names() -> dict:
    """LightGBM's alias -> primary name (`n_estimators`, `num_boost_round` -> `num_iterations`)."""
    try:
        from lightgbm.basic import _ConfigAliases

        table = _ConfigAliases._get_all_param_aliases()
    except (ImportError, AttributeError):
        return {}
    return {alias: primary for primary, aliases in table.items() for alias in aliases}


def canonical_name(name: str) -> str:
    return _primary_names().get(name, name)


def canonical_params(params: dict) -> dict:
    """Each parameter once, under LightGBM's primary name, so that one setting is one key and one
    change one line of a diff (the scikit-learn API's `n_estimators`, `subsample`, `reg_alpha` are
    `num_iterations`, `bagging_fraction`, `lambda_l1`); what LightGBM does not know (a wrapper's
    `class_weight`, `importance_type`) keeps its name. A later alias wins, as in LightGBM."""
    return {canonical_name(name): value for name, value in params.items()}


def _aliases(name: str) -> set:
    try:
        from lightgbm.basic import _ConfigAliases

        return set(_ConfigAliases.get(name)) | {name}
    except (ImportError, AttributeError):
        return {name}


def feature_importances(booster, best_iteration: int | None = None) -> dict:
    """`{"gain": {...}, "split": {...}}` by feature name (cv: the mean over the folds), up to the
    best iteration when there is one, as LightGBM's own feature_importance() counts them."""
    import numpy

    boosters = _fold_boosters(booster)
    names = boosters[0].feature_name()
    importances = {}
    for kind in ("gain", "split"):
        values = numpy.mean([b.feature_importance(importance_type=kind, iteration=best_iteration or None)
                             for b in boosters], axis=0)
        importances[kind] = {name: float(value) for name, value in zip(names, values)}
    return importances


def model_artifact(booster, best_iteration: int | None = None):
    """`model.txt` (LightGBM's text format; cv: `cvbooster.json`, every fold), snapshot now as a
    string (~13 ms for 200 trees of 31 leaves), written on the writer thread."""
    # Up to the best iteration, as LightGBM saves a booster by default once training has set it.
    text = booster.model_to_string(num_iteration=best_iteration or None)
    name = "cvbooster.json" if _is_cv_booster(booster) else "model.txt"
    return name, lambda path: _write_text(path, text)


def _write_text(path: str, text: str) -> None:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


# -- datasets ---------------------------------------------------------------------------------------
# Dataset -> its description from the raw data: a Dataset trained on again after LightGBM freed
# that data (free_raw_data, the default) keeps its fingerprint, so runs on it compare as same data.
_with_raw_data: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def given_label(dataset):
    """The label as the user gave it: once built, a Dataset holds it as float32, which would
    fingerprint as other data on a second fit. Kept while the Dataset's label stays equal to it."""
    label, given = dataset.label, _given_labels.get(dataset)
    if given is not None and label is not None and label is not given:
        import numpy as np

        try:
            if np.array_equal(np.asarray(given, dtype=np.float32), np.asarray(label, dtype=np.float32)):
                return given
        except (TypeError, ValueError):
            pass
    if label is not None:
        _given_labels[dataset] = label
    return label


_given_labels: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def describe_lightgbm_dataset(dataset, role: str, name: str | None) -> dict:
    """A Dataset by the raw data it was built from (rows, columns, fingerprint, as the core
    describes arrays and frames), with LightGBM's feature names; once LightGBM freed the raw data
    (free_raw_data, after construction), by its shape and names only, without a fingerprint."""
    from autotrack.capture.datasets import describe_dataset, fingerprint, summarize_target

    raw = dataset.data
    if raw is not None and not isinstance(raw, (str, os.PathLike)):
        description = describe_dataset(raw, role, name)
        _with_raw_data[dataset] = dict(description)
    elif dataset in _with_raw_data:  # its raw data was freed after an earlier fit described it
        description = {**_with_raw_data[dataset], "role": role, "name": name}
    else:
        constructed = getattr(dataset, "_handle", None) is not None
        description = {"role": role, "name": name, "fingerprint": None,
                       "rows": dataset.num_data() if constructed else None,
                       "columns": dataset.num_feature() if constructed else None,
                       "schema": [{"name": n, "dtype": None} for n in _feature_names(dataset, None) or ()]}
        if raw is not None:
            description["source"] = os.fspath(raw)
    names = _feature_names(dataset, description.get("columns"))
    if names and description.get("schema"):
        description["schema"] = [{**field, "name": n} for field, n in zip(description["schema"], names)]
    description["type"] = "lightgbm.Dataset"
    label = dataset.label
    if label is not None and not role.startswith("train."):  # train.y describes the training label
        description["target"] = summarize_target(label)
        description["label_fingerprint"] = fingerprint(label)
    return description


def _feature_names(dataset, columns: int | None) -> list[str] | None:
    """The names LightGBM gives the features: the user's, a DataFrame's columns, else Column_<i>."""
    if getattr(dataset, "_handle", None) is not None:
        return dataset.get_feature_name()
    given = dataset.feature_name
    if isinstance(given, (list, tuple)):
        return [str(n) for n in given]
    if hasattr(dataset.data, "columns"):
        return [str(c) for c in dataset.data.columns]
    return [f"Column_{i}" for i in range(columns)] if columns else None


def describe_booster_datasets(run, booster) -> None:
    """Without autotrack's patched call (explicit callback): the datasets the booster trains on.
    By then LightGBM has usually freed their raw data: shape and feature names, no fingerprint."""
    if _is_cv_booster(booster):
        return  # its folds are subsets of the one Dataset given to cv()
    train_set = getattr(booster, "train_set", None)
    if _is_dataset(train_set):
        run.log_dataset(describe_lightgbm_dataset(train_set, "train.X", None))
    for valid_set, name in zip(getattr(booster, "valid_sets", ()), getattr(booster, "name_valid_sets", ())):
        run.log_dataset(describe_lightgbm_dataset(valid_set, f"valid.{name}", name))


# -- recognising LightGBM's objects -----------------------------------------------------------------
def _lightgbm_class(module: str, name: str):
    found = sys.modules.get(module)
    return getattr(found, name, None) if found is not None else None


def _is_instance(value, module: str, name: str) -> bool:
    cls = _lightgbm_class(module, name)
    return cls is not None and isinstance(value, cls)


def _is_dataset(value) -> bool:
    return _is_instance(value, "lightgbm.basic", "Dataset")


def _is_cv_booster(value) -> bool:
    return _is_instance(value, "lightgbm.engine", "CVBooster")


def _fold_boosters(booster) -> list:
    return list(booster.boosters) if _is_cv_booster(booster) else [booster]

