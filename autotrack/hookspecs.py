"""Every hook a plugin can implement: when it fires and what it must return."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:
    from autotrack.integration import Integration
    from autotrack.notify import Alert
    from autotrack.run import Run
    from autotrack.stores.base import Store
    from autotrack.tracked_calls import Call

hookspec = pluggy.HookspecMarker("autotrack")


@hookspec
def autotrack_register_integrations(register: Callable[[Integration], None]) -> None:
    """Called once when autotrack is enabled.

    Call `register(Integration(...))` for each framework the plugin instruments. The core checks
    the framework's installed version against `Integration.supported` and patches the targets the
    integration names when (and only when) the user imports the framework.
    """


@hookspec
def autotrack_register_stores(register: Callable[[str, Callable[[Any], Store]], None]) -> None:
    """Called once when plugins are loaded.

    Call `register(name, factory)`; `factory(settings)` returns a `Store` that receives batches of
    records on the background writer thread.
    """


@hookspec
def autotrack_register_backends(register: Callable[[str, Callable[[Any], Any]], None]) -> None:
    """Called once when plugins are loaded.

    Call `register(name, factory)`; `factory(settings)` returns a backend with a `name` and
    `export_run(run: autotrack.export.RunSnapshot, state: dict) -> dict`, to which the runs in the
    local store are exported when `backends` names it (see autotrack/export.py): off the training
    thread, retried while it raises `autotrack.export.BackendUnavailable`, and by `autotrack sync`.
    """


@hookspec
def autotrack_collect_context(run_id: str) -> dict | None:
    """Called on the background writer thread for each new run (`run_id`: what
    `autotrack_run_started` saw of it, for a collector that notes something as a run starts).

    Return a dict of context sections (e.g. `{"git": {...}}`); every plugin's dicts are merged into
    the run's `context`. Return `{"artifacts": {name: text}}` to attach text files (a git diff).
    Cache what is expensive: it runs for every run, while a training script is busy.
    """


@hookspec(firstresult=True)
def autotrack_model_params(model: Any, call: Call) -> dict | None:
    """Called at the start of an outermost fit. Return the model's hyperparameters as a dict.

    `model` is None for a plain training function (`lightgbm.train`): its settings are in
    `call.args` / `call.kwargs`.
    First non-None answer wins. Values need not be JSON-safe: the core flattens nested dicts,
    converts values and masks secrets. `call` holds the target, instance, args and kwargs.
    """


@hookspec(firstresult=True)
def autotrack_run_name(model: Any, call: Call) -> str | None:
    """Called at the start of an outermost fit (and of an evaluate call that starts a run of its
    own); `model` is None for a plain training function. Return a short name that says what the
    model is (`Pipeline(LogisticRegression)`, `GridSearchCV(Pipeline(SVC))`,
    `lightgbm.train(binary)`); None leaves the core's name: the model's class, or the training
    function. First non-None answer wins. The core adds, after the first run of a name in a
    process, the params that differ from the previous run of that name (`... C=1`).
    """


@hookspec(firstresult=True)
def autotrack_search_run_id(call: Call) -> str | None:
    """Called at the start of a `search` call (Optuna's `optimize`). Return a run id (32 hex
    characters) that names the search wherever it runs — an Optuna study in a shared database,
    optimized by several processes or machines —, so that each process's run of it is one run
    and its trials one run's children, in a shared store, after `autotrack merge`, and on a
    backend. None: a new id. First non-None answer wins.
    """


@hookspec(firstresult=True)
def autotrack_enclosing_run() -> dict | None:
    """Called at the start of an outermost fit when no run is active on its thread: is this
    process doing the work of a run another process owns (a Ray Tune trial's worker)?

    Return `{"run_id": ..., "experiment": ...}` to record the fit into that run (its params,
    metrics, model join the run under its id; this process neither starts nor ends it), or
    `{"part_of": "why"}` without a run id when the fit is part of work whose run this process
    cannot reach (rank 1 of a Ray Train job): it is then not tracked. None: a run of its own.
    Called for nearly every fit: answer in microseconds. First non-None answer wins.
    """


@hookspec(firstresult=True)
def autotrack_fit_steps(model: Any, call: Call) -> dict[str, Any] | None:
    """Called at the start of an outermost fit. Return `{step_name: step_object}` for the parts of
    a composite model (a Pipeline's steps); their nested fit times are stored as
    `timings.steps.<step_name>`. First non-None answer wins.
    """


@hookspec(firstresult=True)
def autotrack_model_role(model: Any, call: Call) -> str | None:
    """Called at the start of an outermost fit when the setting `runs_for` is `models`. Return
    `"preprocessing"` for a model that only transforms data for another (a scaler, an encoder,
    PCA, a pipeline of those): its run is then a preprocessing record, left out of run lists and
    folded into the model later fitted on its output. `"model"` or None: a model, a run of its
    own. First non-None answer wins.
    """


@hookspec
def autotrack_prepare_call(call: Call, run: Run) -> None:
    """Called on the training thread right before an outermost fit or evaluate call runs, once its
    run is known (`run` may be a fit's run that an evaluate call joins).

    Add what the framework needs to report into `run` as it trains (its own callback) by setting
    `call.args` / `call.kwargs` to new objects: never mutate the user's lists or objects in place.
    Append undo functions to `call.cleanups`; they run after the call, however it ends. Leave the
    call alone when the user already passed autotrack's callback: one run, no duplicated metric.
    """


@hookspec(firstresult=True)
def autotrack_feature_importances(model: Any, call: Call) -> dict[str, dict[str, float]] | None:
    """Called after an outermost fit returned. Return `{kind: {feature_name: importance}}`.

    `kind` names the measure (`impurity`, `coef`, `gain`, `split`). First non-None answer wins.
    """


@hookspec(firstresult=True)
def autotrack_model_snapshot(model: Any, call: Call) -> Callable[[], Any] | None:
    """Called after an outermost fit returned, on the training thread, before anything else reads
    the model. Return a function that gives a copy of the model as it is now (take what the copy
    needs now, cheaply; make the copy when called, on the background thread), so that what is
    computed later (training metrics, the saved model) describes the model that was fitted even if
    the user changes it meanwhile (refits a Pipeline's step). The core keeps it in `call.snapshot`
    for the other hooks. First non-None answer wins; None: later work reads the live model.
    """


@hookspec(firstresult=True)
def autotrack_training_metrics(model: Any, X: Any, y: Any, call: Call) -> dict[str, float] | None:
    """Called on the background thread after an outermost fit, with a bounded sample of the
    training data (see `metrics_sample_rows`); `model` is the snapshot of the fitted model when an
    `autotrack_model_snapshot` answered; `call.notes` holds what plugins noted on the training
    thread (the user's thread-local settings, to apply here). The thread runs native code on one
    OpenMP thread at low priority (background.py). Return metric name -> value; the core stores them as
    `training_<name>` (never a framework's `<eval set>.<metric>` name). First non-None answer wins.
    Never called when y is None. A metric that is undefined for the data is left out, not NaN.
    """


@hookspec
def autotrack_fit_results(model: Any, run: Run, call: Call) -> None:
    """Called after an outermost fit or evaluate call returned, on the training thread (`run` is
    the run the call joined for an evaluate of an already tracked model; `call.result` holds
    what the call returned: cross-validation scores, test metrics).

    Record what only the framework knows (a search's best params and its candidates as child runs
    via `run.child(...)`), through `run`'s logging methods. Must be cheap: it runs inside the fit.
    """


@hookspec(firstresult=True)
def autotrack_model_artifact(model: Any, call: Call) -> tuple[str, Callable[[str], None]] | None:
    """Called after an outermost fit when `log_models` is on, on the training thread.

    Return `(file_name, write)`: take any snapshot the model needs now (cheaply), and let
    `write(path)` do the slow serialisation; it runs on the background thread. First answer wins.
    """


@hookspec(firstresult=True)
def autotrack_model_loader(name: str, model_class: str | None) -> Callable[[str], Any] | None:
    """Called off any training, when a stored model is loaded (`autotrack.load_model`, the
    registry, exports to a backend). `name` is a run's artifact file name as the plugin's
    `autotrack_model_artifact` wrote it, `model_class` the run's `model.class` tag. Return a
    function that loads the model from that file's path, in its framework's own format, or None
    for files the plugin does not know. Must not load anything itself. First answer wins.
    """


@hookspec(firstresult=True)
def autotrack_predict(model: Any, data: Any) -> Any | None:
    """Called by autotrack's own commands that score a stored model on a user's data
    (`autotrack backtest`), never in a training process. `data` is a DataFrame of the columns the
    model was trained on. Return the model's predictions (an array; class probabilities as 2-D)
    when `model.predict(data)` would not give them (an XGBoost Booster wants a DMatrix, a torch
    module a tensor), else None. First answer wins.
    """


@hookspec(firstresult=True)
def autotrack_mlflow_flavor(model: Any) -> dict | None:
    """Called by the MLflow backend, in a process that is not the user's (`autotrack sync`, the
    registry's commands), for a model `autotrack_model_loader` loaded. Return
    `{"flavor": "sklearn", "packages": ["scikit-learn"]}`: the `mlflow.<flavor>` module whose
    `save_model(model, path, ...)` writes it, and the pip packages (as the run recorded them) it
    needs, and optionally `"options"`: keyword arguments for `save_model`; None for models the
    plugin does not know. First answer wins.
    """


@hookspec(firstresult=True)
def autotrack_describe_dataset(data: Any, role: str, name: str | None) -> dict | None:
    """Called for each X/y/sample_weight passed to a tracked call.

    Return `{role, name, rows, columns, bytes, fingerprint, schema}` for data types the plugin
    knows (a DMatrix, a Dataset), else None. The core's numpy/pandas/scipy answer comes last.
    """


@hookspec
def autotrack_model_fitted(model: Any, run: Run, call: Call) -> None:
    """Called on the training thread after an outermost fit, once the core has captured what it
    captures (`call.snapshot` is set; `call.notes["training_sample"]` holds the bounded `(X, y)`
    sample the training metrics use, when there is one). Must be cheap: queue slow work with
    `run.in_background(fn, where)`, which runs it on the writer thread.
    """


@hookspec(firstresult=True)
def autotrack_model_fingerprint(model: Any) -> str | None:
    """Called off the training thread, for a fitted model (after its fit) and for a model whose
    predictions are watched (a served model). Return a digest of what the model learned that is
    the same for the fitted model and for a copy loaded from any file the user saved it to (a
    booster's trees, a network's weights), or None for models the plugin does not know. The
    core's answer for any Python object comes last (serving/lineage.py). First answer wins.
    """


@hookspec(firstresult=True)
def autotrack_data_table(data: Any) -> Any | None:
    """Called off the training thread for data a model was fitted on or predicted on that is not
    a numpy array, pandas object or list: return it as a DataFrame or 2-D array (a DMatrix's
    values), or None. Its columns are profiled for drift (serving/profile.py).
    """


@hookspec
def autotrack_run_started(run: Run) -> None:
    """Called on the caller's thread when a run starts (automatic or `start_run`). Keep it cheap."""


@hookspec
def autotrack_run_finished(run: Run) -> None:
    """Called on the caller's thread when a run ends; `run.status` is finished, failed or killed."""


@hookspec
def autotrack_notify(alert: Alert) -> None:
    """Called on autotrack's background notify thread, never the training thread, for each alert:
    a run that failed or was killed, or a watched metric logged as NaN/inf (`notify_on`,
    `notify_metrics`). `alert` is an `autotrack.notify.Alert` (frozen: event, run_id, run_name,
    experiment, status, error, metric, host, user, script, time, and `text`, one human line).

    Every implementation is called, one after another, in the order alerts were raised. Deliver
    it (a chat message, a page); slow is fine, but an exit waits at most `exit_timeout`. An
    exception is logged once per plugin and never reaches the training script.
    """
