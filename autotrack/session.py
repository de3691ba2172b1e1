"""The process-wide tracking session: settings, plugins, writer, patches and the models' runs."""

from __future__ import annotations

import atexit
import contextvars
import os
import sys
import threading
import time
TYPE_CHECKING = False  # typing itself costs ~2 ms at enable(); annotations are strings here

from autotrack import config, preprocessing, sigterm
from autotrack.joined_runs import NOT_TRACKED, JoinedRuns
from autotrack.stores.spool import in_fork_child
from autotrack.patching import Patch, PostImportHooks, all_subclasses, patch_attribute, watch_subclasses
from autotrack.safety import (background_errors, guard, is_strict, logger, report, report_background, set_strict,
                              warn_once)

if TYPE_CHECKING:
    from typing import Any

    from autotrack.integration import Integration, Target
    from autotrack.run import Run
    from autotrack.tracked_calls import Call
    from autotrack.writer import Writer

# The innermost explicit `start_run` of this context: automatic runs become its children.
active_run: contextvars.ContextVar[Run | None] = contextvars.ContextVar("autotrack_run", default=None)


# After a fit, autotrack's own CPU work waits this long for the next one (a loop of fits): see
# _user_busy.
QUIET_AFTER_FIT_S = 0.05


class Session:
    """Everything tracking needs in one process. There is one, `autotrack.session.SESSION`.

    enable() stays cheap: it reads the settings and watches the frameworks' imports. Plugins,
    the writer thread and the store are set up on first use (a framework import, a run).
    """

    def __init__(self):
        self.settings: config.Settings | None = None
        self.plugins = None  # plugins.LoadedPlugins, loaded once
        self.enabled = False
        self._writer: Writer | None = None
        self._import_hooks = PostImportHooks()
        self._patches: list[Patch] = []
        self._integration_versions: dict[str, bool] = {}
        # What each integration did in this process, for the runs' capture manifest
        # (capture/manifest.py): its framework's version, tracked or skipped and why, targets patched.
        self.integration_states: dict[str, dict] = {}
        self._stores: list | None = None
        self._export_backends: tuple[str, ...] | None = None
        self._exporter = None  # export.BackgroundExporter, started with the first exported run
        self._notifier = None  # notify.Notifier, made with the first alert
        self._store_path_for: tuple | None = None  # (settings, absolute store path)
        # id(model) -> (weak reference, run): predict calls find their model's run here.
        self.model_runs: dict[int, tuple[Any, Run]] = {}
        self._latency: list[tuple[str, str, Any]] = []
        self._open_runs: dict[str, Run] = {}
        self.joined_runs = JoinedRuns(self)
        self.process_runs: list[Run] = []  # this process's top-level runs: process_outcome.py
        self._sibling_names = None  # run_names.SiblingNames, made with the first automatic run
        self._fits_running = 0  # tracked calls in progress, all threads: the writer holds its jobs
        self._last_fit_end = 0.0  # time.monotonic() when the latest one ended
        self.preprocessing = None  # preprocessing.PreprocessingOutputs, made with the first such fit
        self.serving = None  # serving.recorder.ServingRecorder, made when a framework is imported
        from autotrack.capture.data_files import DataFiles

        self.data_files = DataFiles()  # the data files the user's code read (capture/data_files.py)
        self._last_run: contextvars.ContextVar[Run | None] = contextvars.ContextVar(
            "autotrack_last_run", default=None)
        self._lock = threading.RLock()
        self._exit_registered = False
        self._uncaught: BaseException | None = None
        self._killed = False  # SIGTERM recorded how the process ended
        # Started by a process while one of its runs was open (run_context.py): inside a tracked
        # fit (a search's joblib worker) fits here are part of it; inside a run they are children.
        from autotrack import run_context

        self._inherited = run_context.inherited()
        self._inside_parent_run = (self._inherited or {}).get("within") == run_context.WITHIN_FIT
        self.contexts = run_context.ContextStack()

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def writer(self) -> Writer:
        if self._writer is None:
            from autotrack.tracked_calls import mark_thread_internal
            from autotrack.writer import Writer

            with self._lock:
                if self._writer is None:
                    self._writer = Writer(self._write, on_idle=self._on_writer_idle,
                                          on_thread_start=mark_thread_internal, user_busy=self._user_busy,
                                          store_problem=self._store_problem)
        return self._writer

    def configure_settings(self, overrides: dict | None = None) -> config.Settings:
        with self._lock:
            if self.settings is None or overrides:
                self.settings = self._with_inherited(config.load_settings(overrides), overrides or {})
                self._export_backends = None
                set_strict(self.settings.strict or is_strict())
            self._register_exit()
        return self.settings

    @property
    def started_by_a_run(self) -> bool:
        """This process was started inside another process's tracked run (a worker, a subprocess)."""
        return self._inherited is not None

    def _with_inherited(self, settings: config.Settings, overrides: dict) -> config.Settings:
        """A child process records into its parent's store and experiment, unless this process
        was given its own (enable() or its own AUTOTRACK_DIR / AUTOTRACK_EXPERIMENT)."""
        context = self._inherited
        if context is None:
            return settings
        changes = {}
        for name in ("dir", "experiment"):
            if context.get(name) and name not in overrides and config.FIELDS[name].env not in os.environ:
                changes[name] = context[name]
        return settings.replace(**changes) if changes else settings

    def configure(self, overrides: dict | None = None) -> config.Settings:
        """Settings and plugins (loaded once). Used by enable() and by the explicit API."""
        settings = self.configure_settings(overrides)
        with self._lock:
            if self.plugins is None:
                from autotrack import plugin_cache
                from autotrack.plugins import load_plugins

                self.plugins = load_plugins(settings)
                plugin_cache.save(settings, self._watch_from_plugins(),
                                  self.plugins.manager.get_plugins())
        return settings

    def enable(self, **overrides) -> None:
        settings = self.configure_settings(overrides)
        with self._lock:
            if self.enabled:
                return
            self.enabled = True
            self._import_hooks.install()
            sigterm.install(self)
            if settings.notify_url or settings.notify_on != config.FIELDS["notify_on"].default:
                from autotrack import notify

                notify.check_settings(settings)
            from autotrack import plugin_cache

            watch = None if self.plugins is not None else plugin_cache.load(settings)
            if watch is None:
                self.configure()
                watch = self._watch_from_plugins()
            for integration_name, module, submodules in watch:
                self._import_hooks.when_imported(
                    module, lambda mod, name=integration_name: self._framework_imported(name, mod),
                    submodules=submodules)

    def _watch_from_plugins(self) -> list[list]:
        return [[integration.name, module, integration.include_submodules]
                for integration in self.plugins.integrations for module in integration.modules]

    def _framework_imported(self, integration_name: str, module) -> None:
        self.configure()  # the first framework import loads the plugins for real
        if self.serving is None and self.settings.serving != "off":
            from autotrack.serving.recorder import ServingRecorder

            self.serving = ServingRecorder(self)
        for integration in self.plugins.integrations:
            if integration.name == integration_name:
                self._instrument(integration, module)

    def disable(self) -> None:
        with self._lock:
            if not self.enabled:
                return
            self.enabled = False
            self._import_hooks.uninstall()
            sigterm.uninstall(self)
            for patch in reversed(self._patches):
                patch.restore()
            self._patches.clear()
            self._integration_versions.clear()
            self.integration_states.clear()
        if self._writer is not None:
            self.flush(self.settings.exit_timeout if self.settings else None)

    def tracks_fits(self) -> bool:
        return self.enabled and not self._inside_parent_run

    def _instrument(self, integration: Integration, module) -> None:
        if not self.enabled or not self._version_supported(integration, module):
            return
        for target in integration.targets(module):
            self._patch(target, integration)
        if integration.subclass_roots is None or integration.class_targets is None:
            return
        for root in integration.subclass_roots(module):
            self._patches.append(watch_subclasses(root, lambda cls, i=integration: self._instrument_class(i, cls)))
            for cls in all_subclasses(root):
                self._instrument_class(integration, cls)

    def _instrument_class(self, integration: Integration, cls: type) -> None:
        if self.enabled:
            for target in integration.class_targets(cls):
                self._patch(target, integration)

    def _patch(self, target: Target, integration: Integration) -> None:
        from autotrack.tracked_calls import make_wrapper

        patch = patch_attribute(target.owner, target.attribute, make_wrapper(self, target, integration))
        if patch is not None:
            self._patches.append(patch)
            state = self.integration_states.get(integration.name)
            if state is not None:
                state["patched"] = state.get("patched", 0) + 1

    def _version_supported(self, integration: Integration, module) -> bool:
        known = self._integration_versions.get(integration.name)
        if known is None:
            from autotrack.integration import version_supported
            from autotrack.plugins import framework_version

            version = framework_version(integration, module)
            known = version is None or version_supported(version, integration.supported)
            state = {"framework": integration.distribution, "version": version, "state": "tracked"}
            if not known:
                logger().warning("autotrack: %s %s is outside the supported range %s; not tracking it",
                                 integration.distribution, version, integration.supported)
                state.update(state="skipped", why=f"{integration.distribution} {version} is outside the "
                                                  f"supported range {integration.supported}")
            self._integration_versions[integration.name] = known
            self.integration_states[integration.name] = state
        return known

    # -- runs -----------------------------------------------------------------------------------
    def new_run(self, name: str | None, source: str, parent: Run | None = None,
                experiment: str | None = None, run_id: str | None = None) -> Run:
        from autotrack.run import Run

        settings = self.configure()
        parent = parent if parent is not None else active_run.get()
        parent_id = parent.id if parent else None
        if parent is None and self._inherited is not None:  # a run of the process that started us
            parent_id = self._inherited["run_id"]
        run = Run(self, name, experiment or (parent.experiment if parent else config.experiment_name(settings)),
                  parent_id=parent_id, source=source, run_id=run_id)
        if source != "child":
            self._open_runs[run.id] = run
            self._last_run.set(run)
            if parent is None:
                from autotrack import process_outcome

                process_outcome.note_run(self, run)
            # Not woken here: the writer would compete with a short fit for the GIL. Its idle
            # tick (0.25 s) writes the start record, so a process killed in a long fit still
            # leaves a run to show as killed.
            with guard("run_started hooks"):
                self.plugins.hook.autotrack_run_started(run=run)
        return run

    def run_ended(self, run: Run) -> None:
        from autotrack.run import FINISHED

        self._open_runs.pop(run.id, None)
        if self._exporter is not None:
            self._exporter.wake()
        if run.source == "child":
            return
        with guard("run_finished hooks"):
            self.plugins.hook.autotrack_run_finished(run=run)
        if run.status != FINISHED:
            with guard("raising an alert"):
                self.notifier.run_ended(run, nested=run.parent_id in self._open_runs)
        if self._inherited is not None or in_fork_child():
            # A worker process is often ended without its exit handlers (Pool.terminate(), a fork
            # child's os._exit): what it recorded is written before its caller gets the result.
            self.writer.flush(self.settings.exit_timeout)
        else:
            self.writer.wake()

    @property
    def notifier(self):
        """The alert dispatcher (autotrack/notify): imported and made on the first alert."""
        if self._notifier is None:
            from autotrack.notify import Notifier

            with self._lock:
                if self._notifier is None:
                    self._notifier = Notifier(self)
        return self._notifier

    def metric_not_finite(self, run: Run, key, value: float, step: int) -> None:
        """A metric point was NaN or ±inf (called from run.log_metrics, off its fast path)."""
        with guard("raising an alert"):
            self.notifier.metric_not_finite(run, str(key), value, step)

    def last_run(self) -> Run | None:
        return active_run.get() or self._last_run.get()

    def note_run_for_context(self, run_id: str) -> None:
        from autotrack.writer import Job

        self.writer.put(Job(lambda: self._attach_context(run_id), "collecting run context"))

    def _attach_context(self, run_id: str) -> None:
        sections: dict = {}
        artifacts: dict = {}
        for part in self.plugins.hook.autotrack_collect_context(run_id=run_id):
            if part:
                part = dict(part)
                artifacts.update(part.pop("artifacts", None) or {})
                sections.update(part)
        self.writer.put(("merge", run_id, "context", sections))
        for name, text in artifacts.items():
            self._attach_shared_text(run_id, name, text)

    def _attach_shared_text(self, run_id: str, name: str, text: str) -> None:
        """Context files (a git diff) are the same for many runs: store once, link from each."""
        import hashlib

        stores = self._active_stores()
        if not stores:
            return
        payload = text.encode("utf-8", "replace")
        digest = hashlib.sha256(payload).hexdigest()[:16]
        path = stores[0].artifact_path("shared", f"{digest}-{name}")
        if not os.path.exists(path):
            _write_private(path, payload)
        self.writer.put(("artifact", run_id, name, _stored_path(stores[0], path), len(payload)))

    # -- the fit of a model -------------------------------------------------------------------
    def begin_call(self, call: Call, caller) -> Tracked:
        """Start tracking an outermost fit (a new run, or the open run it joins: joined_runs.py) or
        evaluate (the model's run, or a new one); None when the fit is another process's work.
        Each capture step is guarded on its own, so a failing plugin costs only its own part of
        the record; then integrations may prepare the call (add their callback)."""
        model = call.model
        if call.target.kind == "evaluate":
            run = self.run_of(model) if model is not None else None
            if run is not None:
                tracked = Tracked(call, run, None, owned=False)
                self._prepare(tracked)
                return tracked
        joining = self.joined_runs.run_to_join(active_run.get())
        if joining is NOT_TRACKED:
            return None
        params = self._model_params(call)
        if joining is not None:
            run, joined = joining, True  # an Optuna trial's fit, a Ray Tune trial's: the trial's run
        else:
            run, joined = self.new_run(self._run_name(call, params), self._source(call)), False
        self._enter_tracked_call(run)
        try:
            tracked = Tracked(call, run, self._capture_fit_start(run, call, caller, params), owned=True,
                              joined=joined)
            self._prepare(tracked)
        except BaseException:  # strict mode re-raised a tracking error: leave nothing half-open
            self._leave_tracked_call(run)
            call.run_cleanups()
            if not joined:
                run.end("failed", "autotrack: tracking error when the fit started")
            raise
        return tracked

    def _model_params(self, call: Call) -> dict | None:
        with guard("the autotrack_model_params hook"):
            return self.plugins.hook.autotrack_model_params(model=call.model, call=call)
        return None

    def _source(self, call: Call) -> str:
        """`preprocessing` for a transformer fitted on its own under `runs_for = "models"`."""
        if self.settings.runs_for != "models" or call.model is None:
            return "auto"
        with guard("the autotrack_model_role hook"):
            if self.plugins.hook.autotrack_model_role(model=call.model, call=call) == "preprocessing":
                return preprocessing.SOURCE
        return "auto"

    def _fold_preprocessing(self, run: Run, call: Call, params: dict | None) -> None:
        """A preprocessing run remembers what it starts from; a model fitted on a preprocessing's
        output records it (preprocessing.py)."""
        X = call.data.get("X")
        if run.source == preprocessing.SOURCE:
            if self.preprocessing is None:
                self.preprocessing = preprocessing.PreprocessingOutputs()
            self.preprocessing.started(run.id, call.model, params, X)
        elif self.preprocessing is not None and call.target.kind == "fit":
            steps = self.preprocessing.feeding(X)
            if steps:
                folded, tags = preprocessing.params_and_tags(steps, params)
                run.log_params(folded)
                run.set_tags(tags)

    def preprocessing_output(self, run: Run, output) -> None:
        """A preprocessing run's fit_transform or transform returned `output`."""
        if self.preprocessing is not None:
            self.preprocessing.produced(run.id, output)

    def _run_name(self, call: Call, params: dict | None) -> str:
        """An integration's name for the model, else the core's; after the first run of that
        name in this process, with the params that differ from the previous one (run_names.py)."""
        model_name = None
        with guard("the autotrack_run_name hook"):
            model_name = self.plugins.hook.autotrack_run_name(model=call.model, call=call)
        if self._sibling_names is None:
            from autotrack.run_names import SiblingNames  # not at start-up: it imports the params code

            self._sibling_names = SiblingNames()
        return self._sibling_names.name(_run_name(call, model_name), params)

    def _prepare(self, tracked: Tracked) -> None:
        with guard("the autotrack_prepare_call hook"):
            self.plugins.hook.autotrack_prepare_call(call=tracked.call, run=tracked.run)

    def _capture_fit_start(self, run: Run, call: Call, caller, params: dict | None) -> dict | None:
        hook, model = self.plugins.hook, call.model
        steps = None
        if model is not None:
            run.set_tags({"model.class": f"{type(model).__module__}.{type(model).__qualname__}"})
        if params:
            with guard("recording the params"):
                run.log_params(params)
        with guard("recording the preprocessing"):
            self._fold_preprocessing(run, call, params)
        if model is not None:
            with guard("the autotrack_fit_steps hook"):
                named = hook.autotrack_fit_steps(model=model, call=call)
                steps = {id(step): name for name, step in named.items()} if named else None
        with guard("describing the training data"):
            # `train.X` for a fit; `evaluate.X`, `test.X` for what an evaluate call was given.
            prefix = "train" if call.target.kind == "fit" else call.target.attribute
            self.describe_inputs(run, call.data, prefix, caller)
        return steps

    def end_call(self, tracked: Tracked, elapsed: float, step_times: dict) -> None:
        """Record what the fitted model holds; each hook guarded on its own, an owned run ended."""
        from autotrack.run import FINISHED

        if not tracked.owned:  # an evaluate call inside the model's existing run
            tracked.run.set_timings({_time_key(tracked.call): elapsed})
            with guard("the autotrack_fit_results hook"):
                self.plugins.hook.autotrack_fit_results(model=tracked.call.model, run=tracked.run,
                                                        call=tracked.call)
            return
        self._leave_tracked_call(tracked.run)
        if tracked.run.source == preprocessing.SOURCE and tracked.call.target.attribute == "fit_transform":
            with guard("recording the preprocessing"):
                self.preprocessing_output(tracked.run, tracked.call.result)
        try:
            self._capture_fit_end(tracked.run, tracked.call, elapsed, step_times)
        finally:
            if not tracked.joined:
                tracked.run.end(FINISHED)
            elif tracked.run.attached:  # a worker of another process's run: written before it goes
                self.writer.flush(self.settings.exit_timeout)

    def _capture_fit_end(self, run: Run, call: Call, elapsed: float, step_times: dict) -> None:
        hook, settings = self.plugins.hook, self.settings
        if call.model is None:
            of_result = call.target.model_of_result
            call.model = call.result if of_result is None else of_result(call.result)
        model = call.model
        run.set_timings({_time_key(call): elapsed, **({"steps": step_times} if step_times else {})})
        call.notes["fit_seconds"] = elapsed  # what the background work may cost is sized on it
        if model is None:
            return
        self._remember_model(model, run)
        with guard("the autotrack_feature_importances hook"):
            importances = hook.autotrack_feature_importances(model=model, call=call)
            if importances:
                run.set_importances(importances)
        with guard("the autotrack_fit_results hook"):
            hook.autotrack_fit_results(model=model, run=run, call=call)
        y = call.data.get("y")
        wants_metrics = settings.training_metrics and y is not None and call.target.kind == "fit"
        if wants_metrics or (settings.log_models and call.target.kind == "fit"):
            with guard("the autotrack_model_snapshot hook"):
                call.snapshot = hook.autotrack_model_snapshot(model=model, call=call)
        if wants_metrics:
            with guard("sampling the training data"):
                self._queue_training_metrics(run, model, call.data.get("X"), y, call)
        if settings.log_models and call.target.kind == "fit":
            with guard("the autotrack_model_artifact hook"):
                artifact = hook.autotrack_model_artifact(model=model, call=call)
                if artifact:
                    run.write_artifact(*artifact, holdable=True)
        if call.target.kind == "fit":
            with guard("the autotrack_model_fitted hook"):
                hook.autotrack_model_fitted(model=model, run=run, call=call)

    def fail_call(self, tracked: Tracked, exc: BaseException, elapsed: float, step_times: dict) -> None:
        from autotrack.run import status_for

        run = tracked.run
        if not tracked.owned:  # a failed evaluate does not make the model's fit a failure
            run.set_timings({_time_key(tracked.call): elapsed})
            return
        self._leave_tracked_call(run)
        run.set_timings({_time_key(tracked.call): elapsed, **({"steps": step_times} if step_times else {})})
        if not tracked.joined:  # a joined run's owner (the trial) ends it, seeing the exception
            run.end(status_for(exc), exc)
        elif run.attached:
            self.writer.flush(self.settings.exit_timeout)

    def open_context(self, run: Run, within: str) -> None:
        """Processes started from now until close_context (joblib workers, subprocesses)
        inherit `run` as their context (run_context.py)."""
        self.contexts.push(run.id, run.experiment, self._store_path(), within)

    def _store_path(self) -> str:
        """The store's absolute path, resolved once per settings: it is on every tracked fit's path."""
        settings = self.settings
        cached = self._store_path_for
        if cached is None or cached[0] is not settings:
            from autotrack.stores.local import store_dir

            cached = self._store_path_for = (settings, str(store_dir(settings.dir)))
        return cached[1]

    def close_context(self, run: Run) -> None:
        self.contexts.pop(run.id)

    def _enter_tracked_call(self, run: Run) -> None:
        from autotrack.run_context import WITHIN_FIT

        self.open_context(run, WITHIN_FIT)
        with self._lock:
            self._fits_running += 1

    def _leave_tracked_call(self, run: Run) -> None:
        self.close_context(run)
        with self._lock:
            self._fits_running -= 1
            self._last_fit_end = time.monotonic()

    def _user_busy(self) -> bool:
        """The user's training runs, or ran a moment ago (the next fit of a loop is about to
        start): autotrack's own CPU work waits (writer.Writer)."""
        return self._fits_running > 0 or time.monotonic() - self._last_fit_end < QUIET_AFTER_FIT_S

    def _queue_training_metrics(self, run: Run, model, X, y, call: Call) -> None:
        from autotrack.capture.sampling import evenly_spaced_rows
        from autotrack.writer import Job

        limit = self.settings.metrics_sample_rows
        X_sample, y_sample = evenly_spaced_rows(X, limit), evenly_spaced_rows(y, limit)
        if X_sample is None or y_sample is None:
            return  # data of a kind we cannot sample: no training metrics, the rest is recorded
        call.notes["training_sample"] = (X_sample, y_sample)  # copies: the reference profile's too

        snapshot = call.snapshot

        def compute():
            if snapshot is not None:
                fitted = snapshot()  # the model as fit returned it, whatever was done to it since
            elif self.run_of(model) is run:
                fitted = model
            else:
                return  # refit since, and no snapshot: these metrics would describe another model
            from autotrack.background import NATIVE_THREADS

            NATIVE_THREADS.limit()
            metrics = self.plugins.hook.autotrack_training_metrics(model=fitted, X=X_sample, y=y_sample,
                                                                   call=call)
            if metrics:
                run.log_metrics({f"training_{name}": value for name, value in metrics.items()}, step=0)

        self.writer.put(Job(compute, "computing training metrics", run.id, holdable=True))

    # -- predict and score ----------------------------------------------------------------------
    def _remember_model(self, model, run: Run) -> None:
        import weakref

        key = id(model)
        try:
            ref = weakref.ref(model, lambda _ref, k=key: self.model_runs.pop(k, None))
        except TypeError:
            return  # no weak references (a builtin result): predict calls simply go untracked
        self.model_runs[key] = (ref, run)

    def run_of(self, model) -> Run | None:
        entry = self.model_runs.get(id(model))
        if entry is not None and entry[0]() is model:
            return entry[1]
        return None

    def describe_inputs(self, run: Run, data: dict, prefix: str, caller=None) -> None:
        from autotrack.tracked_calls import variable_name

        limit = self.settings.max_predict_datasets
        for role, value in data.items():
            if value is None:
                continue
            name = variable_name(caller, value)
            description = self.plugins.hook.autotrack_describe_dataset(
                data=value, role=f"{prefix}.{role}", name=name)
            if description and run.wants_dataset(prefix, description.get("fingerprint") or id(value),
                                                 limit if prefix != "train" else 1_000):
                run.log_dataset(description)

    def record_score(self, run: Run, target: Target, args, kwargs, result, caller) -> None:
        from autotrack.tracked_calls import variable_name

        data = target.data_arguments(args, kwargs)
        X = data.get("X")
        name = variable_name(caller, X)
        if name is None:
            from autotrack.capture.datasets import fingerprint

            name = f"data_{fingerprint(X)[:8]}" if X is not None else "data"
        run.log_metric(f"{name}.{target.attribute}", result)
        if run.has_dataset_room(target.attribute, self.settings.max_predict_datasets):
            self.describe_inputs(run, data, target.attribute, caller)

    def watch_latency(self, run_id: str, method: str, stats) -> None:
        self._latency.append((run_id, method, stats))

    def _store_problem(self, exc: BaseException) -> str | None:
        """Why the store cannot be written now (its lock, a full disk, no permission), or None."""
        from autotrack.stores.local import store_dir, store_problem

        return store_problem(exc, store_dir(self.settings.dir) if self.settings else None)

    def _on_writer_idle(self) -> list:
        """After each pass of the writer: fork children's spooled runs are imported (and exported
        where this process exports), and the aggregated predict latencies are written."""
        for store in self._active_stores():
            importer = getattr(store, "import_spool", None)
            try:
                exported = importer() if importer is not None else ()
            except Exception as exc:
                if self._store_problem(exc) is None:
                    raise
                continue  # the store cannot be written now: the spool waits for the next pass
            if exported and self.export_backends():
                for run_id in exported:
                    self.exporter.add_run(run_id)
        return self._latency_records()

    def _latency_records(self) -> list:
        records = []
        for run_id, method, stats in list(self._latency):
            if stats.count != stats.written_count:
                stats.written_count = stats.count
                records.append(("merge", run_id, "timings", {method: stats.summary()}))
        return records

    # -- writing --------------------------------------------------------------------------------
    def _write(self, records: list, points: list) -> None:
        for store in self._active_stores():
            if points and (records or getattr(store, "write_points", None) is None):
                # One transaction for both: a run's end is never committed before the points
                # logged ahead of it (an exporter would take the run as complete without them).
                # The fast path below is for points alone.
                store.write(records + [("metric", *point) for point in points])
                continue
            if records:
                store.write(records)
            if points:
                store.write_points(points)

    def _active_stores(self) -> list:
        if self._stores is None:
            self._stores = [factory(self.settings) for _name, factory in self.plugins.stores]
            if not self._stores:
                warn_once("no-store", "no store plugin is active (AUTOTRACK_DISABLE?); nothing is recorded")
        return self._stores

    def store_artifact(self, run_id: str, name: str, write) -> None:
        """On the writer thread: let `write(path)` fill the file, then record it in every store."""
        stores = self._active_stores()
        if not stores:
            return
        path = stores[0].artifact_path(run_id, name)
        write(path)
        os.chmod(path, 0o600)
        size = os.path.getsize(path)
        if size > self.settings.max_artifact_mb * 1024 * 1024:
            os.remove(path)
            warn_once(f"artifact-size:{name}", "artifact %r is %.0f MB, over max_artifact_mb; not kept",
                      name, size / 1e6)
            return
        self.writer.put(("artifact", run_id, name, _stored_path(stores[0], path), size))

    # -- export to other backends -----------------------------------------------------------
    def export_backends(self) -> tuple[str, ...]:
        """The backends runs are exported to besides the local store (`backends` setting)."""
        if self._export_backends is None:
            from autotrack.plugins import missing_requirements

            wanted = [name for name in self.settings.backends if name != "local"]
            factories = dict(self.plugins.backends)
            usable = []
            for name in wanted:
                missing = missing_requirements(factories[name]) if name in factories else None
                if name not in factories:
                    warn_once(f"backend:{name}", "backends names %r, which no plugin provides (known: "
                              "%s); runs are not exported there", name, ", ".join(sorted(factories)) or "none")
                elif missing:
                    warn_once(f"backend:{name}", "backends names %r, which needs %s: it is not installed "
                              "(pip install 'autotrack[%s]'); runs are not exported there", name,
                              ", ".join(missing), name)
                else:
                    usable.append(name)
            self._export_backends = tuple(usable)
        return self._export_backends

    @property
    def exporter(self):
        if self._exporter is None:
            from autotrack.export import BackgroundExporter

            with self._lock:
                if self._exporter is None:
                    self._exporter = BackgroundExporter(self._make_exporter)
        return self._exporter

    def _make_exporter(self):
        """On the export thread: the Exporter over the local store, with each backend built once."""
        from autotrack.export import Exporter
        from autotrack.stores.local import store_dir

        factories = dict(self.plugins.backends)
        return Exporter(store_dir(self.settings.dir),
                        {name: factories[name](self.settings) for name in self.export_backends()})

    def flush(self, timeout: float | None = None) -> bool:
        done = self._writer.flush(timeout) if self._writer is not None else True
        if self._notifier is not None:
            done = self._notifier.drain(timeout) and done
        if background_errors and is_strict():
            errors = "\n".join(background_errors)
            background_errors.clear()
            raise RuntimeError(f"autotrack: tracking errors on the writer thread:\n{errors}")
        return done

    # -- process exit ---------------------------------------------------------------------------
    def _register_exit(self) -> None:
        if self._exit_registered:
            return
        self._exit_registered = True
        atexit.register(self._at_exit)
        previous = sys.excepthook

        def excepthook(kind, value, tb):
            self._uncaught = value
            previous(kind, value, tb)

        sys.excepthook = excepthook
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork, after_in_parent=self._after_fork_in_parent)

    def _end_open_runs(self) -> None:
        """At exit: runs still open end as finished, or as failed with the uncaught exception."""
        from autotrack.run import FINISHED, status_for

        # Innermost first: a nested run ends while its outer run is open, so only the outer alerts.
        for run in reversed(list(self._open_runs.values())):
            if self._uncaught is not None:
                run.end(status_for(self._uncaught), self._uncaught)
            else:
                run.end(FINISHED)

    def end_open_runs_killed(self, why: str, grace: float, since: float) -> None:
        """SIGTERM (autotrack/sigterm.py): open runs end as killed; their records and alerts go
        out within `grace` seconds of `since`, and never longer than exit_timeout."""
        from autotrack.run import KILLED

        for run in reversed(list(self._open_runs.values())):
            run.end(KILLED, why)
        with guard("recording how the process ended"):
            from autotrack import process_outcome

            self._killed = True
            process_outcome.record(self, KILLED, f"killed by {why}")
        deadline = since + min(grace, self.settings.exit_timeout if self.settings else 10.0)
        if self._writer is not None:
            self._writer.flush(max(0.0, deadline - time.monotonic()))
        if self._notifier is not None:
            self._notifier.drain(max(0.0, deadline - time.monotonic()))

    def _after_fork(self) -> None:
        # The parent's queued records, runs and database connection belong to the parent. The
        # child writes to a spool file of its own (stores/spool.py), never to SQLite.
        self._stores = None  # the parent's database connection must not be used here
        self._exporter = None  # nor its export thread, which does not exist in the child
        self._notifier = None  # nor its alerts and notify thread
        self.contexts.reset()
        self._latency = []
        self._open_runs = {}
        self.process_runs = []
        self._fits_running, self._last_fit_end = 0, 0.0  # fits of the parent's other threads
        self._lock = threading.RLock()

    def _after_fork_in_parent(self) -> None:
        # The writer's idle tick imports what the child spools: make sure it runs.
        if self.settings is not None:
            self.writer.start()

    def _warn_unwritten(self, flushed: bool, timeout: float) -> None:
        """At exit: one line when something stays unwritten (lost with the process), with counts."""
        writer = self._writer
        if flushed and writer.failing is None:
            return
        points, records, runs = writer.unwritten()
        if not points and not records:
            return
        why = f"the store cannot be written: {writer.failing}" if writer.failing else \
            f"not written within exit_timeout={timeout}s"
        logger().warning("autotrack: %s metric points and %s other records of %s runs are lost (%s)",
                         f"{points:,}", f"{records:,}", runs, why)

    def _at_exit(self) -> None:
        try:
            if self.serving is not None:  # the windows being filled are written with the rest
                try:
                    self.serving.close(self.settings.exit_timeout / 2)
                except Exception as exc:
                    report_background("writing the last serving windows", exc)
            if self._open_runs:
                self._end_open_runs()
            if not self._killed:
                from autotrack import process_outcome
                from autotrack.run import status_for

                uncaught = self._uncaught
                process_outcome.record(self, status_for(uncaught) if uncaught is not None else "finished", uncaught)
            timeout = self.settings.exit_timeout if self.settings else 10.0
            deadline = time.monotonic() + timeout
            if self._writer is not None:
                self._warn_unwritten(self._writer.flush(timeout), timeout)
            # Alerts were being sent meanwhile; those of runs the exit just ended are sent now.
            if self._notifier is not None and not self._notifier.drain(deadline - time.monotonic()):
                from autotrack.notify import warn_undelivered

                warn_undelivered(self._notifier, timeout)
            if self._exporter is not None and not self._exporter.finish(deadline - time.monotonic()) \
                    and not self._exporter.warned:  # an outage is reported once, not again here
                logger().warning("autotrack: some runs were not exported to %s within exit_timeout="
                                 "%ss; they are kept in the local store: `autotrack sync` sends them",
                                 ", ".join(self.export_backends()), timeout)
        except Exception as exc:
            report("exit", exc)
        if isinstance(self._uncaught, KeyboardInterrupt) and not hasattr(sys, "ps1"):
            _rearm_sigint_exit()
        if background_errors and is_strict():
            sys.stderr.write("autotrack STRICT: tracking errors on the writer thread:\n")
            sys.stderr.write("\n".join(background_errors) + "\n")
            sys.stderr.flush()
            os._exit(70)


def _rearm_sigint_exit() -> None:
    """After an uncaught KeyboardInterrupt, CPython exits by SIGINT (status -2, 130 in a shell)
    only while a flag of its own is set, and every exec() of a string clears it: a namedtuple or
    dataclass made at exit (an import by a notifier) would turn the status into 1. Executing a
    string that raises KeyboardInterrupt sets the flag again."""
    try:
        exec("raise KeyboardInterrupt")
    except KeyboardInterrupt:
        pass


class Tracked:
    """An outermost call being tracked: its Call, its run, the composite model's steps, and
    whether the call owns the run (records its fit there) or joins the model's run (evaluate);
    a `joined` fit records into an open run that someone else ends (an Optuna trial's)."""

    __slots__ = ("call", "run", "steps", "owned", "joined")

    def __init__(self, call: Call, run: Run, steps: dict | None, owned: bool, joined: bool = False):
        self.call, self.run, self.steps, self.owned, self.joined = call, run, steps, owned, joined


def _run_name(call: Call, model_name: str | None = None) -> str:
    """The model's name (an integration's, else its class: `LGBMClassifier`) for a fit, the
    function for a plain training function (`lightgbm.train`), and what evaluated what for an
    evaluate call (`cross_val_score(SVC)`)."""
    target, model = call.target, call.model
    function = target.run_name or target.attribute
    if model is None:
        return model_name or function
    model_name = model_name or type(model).__name__
    if target.kind == "evaluate":
        return f"{function}({model_name})"
    return model_name


def _time_key(call: Call) -> str:
    """`fit_s` for a fit, `<method>_s` for an evaluate call (`test_s`, `evaluate_s`)."""
    return "fit_s" if call.target.kind == "fit" else f"{call.target.attribute}_s"


def _stored_path(store, path: str) -> str:
    """Relative to a store that has a directory (the store can move), else as the store gave it."""
    directory = getattr(store, "directory", None)
    return os.path.relpath(path, directory) if directory else path


def _write_private(path: str, payload: bytes) -> None:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(payload)


SESSION = Session()

__all__ = ["Session", "SESSION", "Tracked", "active_run"]
