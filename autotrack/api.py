"""The public functions: enable/disable, explicit runs, manual logging, and reading runs back."""

from __future__ import annotations

import os
TYPE_CHECKING = False  # avoid importing typing at `import autotrack`

from autotrack.session import SESSION, active_run as _active_run

if TYPE_CHECKING:
    from autotrack.run import Run

FINISHED = "finished"


def enable(**settings) -> None:
    """Track every supported framework from now on (and those imported later).

    Keyword arguments override every other source of settings (see `autotrack.config.Settings`).
    Calling it again only updates the settings.
    """
    SESSION.enable(**settings)


def disable() -> None:
    """Restore every patched attribute to its original object and write what is queued."""
    SESSION.disable()


class _StartedRun:
    """Returned by start_run: a context manager, or ended later with end_run()."""

    def __init__(self, run: Run):
        from autotrack.run_context import WITHIN_RUN

        self.run = run
        self._token = _active_run.set(run)
        SESSION.open_context(run, WITHIN_RUN)  # processes started meanwhile record under it

    def __enter__(self) -> Run:
        return self.run

    def __exit__(self, kind, exc, tb):
        from autotrack.run import status_for

        self.close(status_for(exc) if exc is not None else FINISHED, exc)
        return False

    def close(self, status: str = FINISHED, error=None) -> None:
        if self._token is not None:
            try:
                _active_run.reset(self._token)
            except ValueError:  # ended from another context: just unset it there
                _active_run.set(None)
            self._token = None
            SESSION.close_context(self.run)
        self.run.end(status, error)

    def __getattr__(self, name):
        return getattr(self.run, name)


_started: list[_StartedRun] = []


def start_run(name: str | None = None, tags: dict | None = None, experiment: str | None = None,
              params: dict | None = None) -> _StartedRun:
    """Start a run; models fitted until it ends become its child runs.

    Use as `with autotrack.start_run(name="baseline") as run:` or end it with `end_run()`.
    Works without `enable()`: only what you log explicitly is recorded then.
    """
    SESSION.configure()
    run = SESSION.new_run(name, "explicit", experiment=experiment)
    if tags:
        run.set_tags(tags)
    if params:
        run.log_params(params)
    started = _StartedRun(run)
    _started.append(started)
    return started


def end_run(status: str = FINISHED) -> None:
    """End the innermost run started with start_run()."""
    run = _active_run.get()
    for started in reversed(_started):
        if started.run is run or run is None:
            _started.remove(started)
            started.close(status)
            return


def active_run() -> Run | None:
    """The run that log_* calls go to now, if any."""
    return SESSION.last_run()


def _target_run() -> Run:
    run = SESSION.last_run()
    if run is None:
        # Nothing fitted or started yet: like MLflow, open a run that ends with the process.
        SESSION.configure()
        run = SESSION.new_run(None, "explicit")
    return run


def log_params(params: dict) -> None:
    """Add parameters to the active run (or the last model's run)."""
    _target_run().log_params(params)


def log_metrics(metrics: dict, step: int | None = None, goals: dict | None = None) -> None:
    """Add metric points; `step` defaults to the next step of each metric. Costs ~1 µs a point.

    `goals` says which way is better, `{"my_score": "max", "cost": "min", "n_rules": "none"}`,
    for names autotrack cannot read (docs/metrics.md); it needs saying once per run and metric.
    """
    run = _target_run()
    run.log_metrics(metrics, step)
    if goals:
        run.set_metric_goals(goals)


def log_metric(key: str, value: float, step: int | None = None, goal: str | None = None) -> None:
    """One metric point; `goal` as in log_metrics ("max", "min" or "none")."""
    run = _target_run()
    run.log_metrics({key: value}, step)
    if goal is not None:
        run.set_metric_goals({key: goal})


def set_tags(tags: dict) -> None:
    _target_run().set_tags(tags)


def log_artifact(path: str | os.PathLike, name: str | None = None) -> None:
    """Copy a file into the store as an artifact of the active run."""
    _target_run().log_artifact(path, name=name)


def flush(timeout: float | None = None) -> bool:
    """Wait until every queued record is written; False if `timeout` seconds ran out first."""
    return SESSION.flush(timeout)


def log_labels(ids, y_true) -> None:
    """The true outcome of served rows, as it arrives: `ids` are the values of the column (or
    DataFrame index) named by the `serving_id_column` setting when the rows were predicted; the
    predictions kept under those ids give the realised metrics of `autotrack drift`."""
    import time

    ids, labels = _as_list(ids, "ids"), _as_list(y_true, "y_true")
    if len(ids) != len(labels):
        raise ValueError(f"autotrack.log_labels: {len(ids)} ids but {len(labels)} labels")
    settings = SESSION.configure()
    now = time.time()
    rows = [(str(i), label, now) for i, label in zip(ids, labels)]
    SESSION.writer.put(("serving_labels", None, rows))
    if settings.realised_alerts:  # checked on the writer thread against the predictions kept
        from autotrack.serving.realised import check_labels
        from autotrack.writer import Job

        given = {identifier: label for identifier, label, _when in rows}
        SESSION.writer.put(Job(lambda: check_labels(SESSION, given), "checking realised metrics"))


def _as_list(values, name: str) -> list:
    tolist = getattr(values, "tolist", None)
    if callable(tolist):
        return tolist()
    try:
        return list(values)
    except TypeError:
        raise TypeError(f"autotrack.log_labels: {name} must be a list, array or Series, "
                        f"not {type(values).__name__}") from None


def _reader(store: str | None):
    from autotrack.stores.reader import StoreReader

    if store is None:
        SESSION.flush(SESSION.settings.exit_timeout if SESSION.settings else None)
        from autotrack.config import load_settings

        store = (SESSION.settings or load_settings()).dir
    return StoreReader(store)


def runs(experiment: str | None = None, store: str | None = None, limit: int | None = None,
         where: str | None = None) -> list[dict]:
    """Runs in the store, newest first, as dicts (see docs/schema.md); `where`: only those a query
    matches (docs/query.md)."""
    return _reader(store).runs(experiment=experiment, limit=limit, where=where)


def search_runs(where: str | None = None, experiment: str | list[str] | None = None,
                order_by: list[str] | str | None = None, max_results: int | None = None,
                store: str | None = None):
    """The runs a query matches (docs/query.md: `"metrics.auc > 0.9 and params.max_depth in (3, 5)"`)
    as a pandas DataFrame: one row a run, one column per run field, `params.NAME`, `metrics.NAME`
    (latest value), `best.NAME` (best by its goal), `tags.NAME` and `timings.NAME`; newest first
    unless `order_by` (`["metrics.auc desc"]`)."""
    from autotrack.query.search import search_runs as search

    reader = _reader(store)
    try:
        return search(reader, where, experiment, order_by, max_results)
    finally:
        reader.close()


def get_run(run_id: str, store: str | None = None) -> dict:
    """Everything recorded for one run; `run_id` may be a unique prefix."""
    return _reader(store).get_run(run_id)


def load_model(ref: str, store: str | None = None):
    """A registered model (`"churn@champion"`, `"churn/2"`, `"churn"` for its newest version) or a
    run's model (its id), loaded from the store in its framework's own format: the estimator for
    scikit-learn, a Booster for LightGBM and XGBoost, a Keras model, a LightningModule."""
    from autotrack.registry.loading import load_model as load

    return load(ref, store)


def shadow(ref: str, of: str | None = None) -> None:
    """Run the registered model `ref` (`"churn@challenger"`) in shadow of `of` (default: its
    name's champion) on this process's served traffic: recorded and compared, never returned."""
    from autotrack.serving.shadow import shadow as start

    start(ref, of)


__all__ = [
    "enable", "disable", "start_run", "end_run", "active_run", "log_params", "log_metrics",
    "log_metric", "set_tags", "log_artifact", "flush", "runs", "get_run", "log_labels",
    "load_model", "shadow", "search_runs",
]
