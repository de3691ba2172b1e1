"""Models and the registry in the backends set besides the local store: each run's saved model
logged as the backend's own kind of model (an MLflow model of its flavour), and the registry's
names, versions and aliases mirrored (MLflow's Model Registry). Run by autotrack's commands, never
in a training process: loading a model may change its framework's global state."""

from __future__ import annotations

from dataclasses import dataclass, field

MODEL_STATE = "model"  # the key of a run's export state that says what became of its model


@dataclass
class ModelExports:
    logged: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # run id -> why its model was not logged


def backends_that_mirror(settings) -> tuple[dict, dict[str, str]]:
    """({name: backend} for the backends set that take models, {name: why not} for the others)."""
    from autotrack.export import BackendNotConfigured
    from autotrack.plugins import load_plugins

    wanted = [name for name in settings.backends if name != "local"]
    if not wanted:
        return {}, {}
    factories = dict(load_plugins(settings, raise_errors=False).backends)
    backends, errors = {}, {}
    for name in wanted:
        if name not in factories:
            errors[name] = "not installed"
            continue
        try:
            backend = factories[name](settings)
        except BackendNotConfigured as exc:
            errors[name] = str(exc)
            continue
        if hasattr(backend, "export_model"):
            backends[name] = backend
    return backends, errors


def export_models(exporter, reader, name: str, backend, run_ids) -> ModelExports:
    """Log each run's saved model to `backend` once (runs already exported to it)."""
    from autotrack.registry.loading import model_artifact, plugin_hook
    from autotrack.registry.models import RegistryError

    done = ModelExports()
    hook = plugin_hook()
    for run_id in run_ids:
        remote = exporter.remote_id(run_id, name)
        if remote is None or exporter.state_value(run_id, name, MODEL_STATE) is not None:
            continue
        try:
            artifact, path, loader = model_artifact(reader, run_id, hook)
        except RegistryError:
            exporter.set_state_value(run_id, name, MODEL_STATE, {"none": "no saved model"})
            continue
        try:
            model = loader(path)
        except Exception as exc:  # a class the training script defined, a framework not installed here
            done.skipped[run_id] = f"cannot load {artifact}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            continue
        flavor = hook.autotrack_mlflow_flavor(model=model)
        if flavor is None:
            why = f"no plugin names an MLflow flavour for {type(model).__module__}.{type(model).__qualname__}"
            exporter.set_state_value(run_id, name, MODEL_STATE, {"none": why})
            done.skipped[run_id] = why
            continue
        backend.export_model(remote, model, flavor, reader.get_run(run_id))
        exporter.set_state_value(run_id, name, MODEL_STATE, {"flavor": flavor["flavor"], "artifact": artifact})
        done.logged += 1
    return done


def mirror_registry(directory: str, backends: dict | None = None) -> dict[str, dict]:
    """Make each backend's registry match the local one: the registered runs exported (with their
    models), a version per registered version, the aliases. {backend: {"versions": n} or
    {"error": why}}; a backend that is down keeps its error for `autotrack sync` to retry."""
    from autotrack.config import load_settings
    from autotrack.export import BackendUnavailable

    errors: dict[str, str] = {}
    if backends is None:
        backends, errors = backends_that_mirror(load_settings({"dir": directory}))
    outcome: dict[str, dict] = {name: {"error": why} for name, why in errors.items()}
    for name, backend in backends.items():
        if not hasattr(backend, "mirror_version"):
            continue
        try:
            outcome[name] = _mirror_to(directory, name, backend)
        except BackendUnavailable as exc:
            outcome[name] = {"error": str(exc)}
    return outcome


def _mirror_to(directory: str, name: str, backend) -> dict:
    from autotrack.export import BackendUnavailable, Exporter
    from autotrack.registry.models import Registry
    from autotrack.stores.reader import StoreReader

    with Registry(directory, writable=True) as registry:
        versions = registry.versions()
        if not versions:
            return {"versions": 0}
        exporter = Exporter(directory, {name: backend})
        reader = StoreReader(directory)
        try:
            run_ids = sorted({version.run_id for version in versions})
            exporter.add_pending(run_ids, name)
            summary = exporter.export([name], run_ids=run_ids)
            if summary.unavailable:
                raise BackendUnavailable(summary.unavailable[name])
            models = export_models(exporter, reader, name, backend, run_ids)
            remote_versions: dict[tuple[str, int], str] = {}
            unmirrored: dict[str, str] = {}
            for version in versions:
                remote_run = exporter.remote_id(version.run_id, name)
                logged = exporter.state_value(version.run_id, name, MODEL_STATE) or {}
                if remote_run is None or "flavor" not in logged:
                    unmirrored[version.ref] = models.skipped.get(version.run_id) or logged.get("none") or \
                        "its run is not exported yet"
                    continue
                remote = registry.mirrored(version.name, version.version).get(name)
                if remote is None:
                    remote = backend.mirror_version(version.name, version.version, remote_run, version.description)
                    registry.set_mirrored(version.name, version.version, name, remote)
                remote_versions[(version.name, version.version)] = remote
            for model_name in {version.name for version in versions}:
                backend.mirror_aliases(model_name, {
                    alias: remote_versions[(model_name, number)]
                    for alias, number in registry.aliases(model_name).items()
                    if (model_name, number) in remote_versions})
        finally:
            reader.close()
            exporter.close()
    return {"versions": len(remote_versions), "models_logged": models.logged, "unmirrored": unmirrored}


__all__ = ["mirror_registry", "export_models", "backends_that_mirror", "MODEL_STATE"]
