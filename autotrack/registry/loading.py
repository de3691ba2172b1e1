"""Find a run's saved model among its artifacts and load it, in its framework's own format, through
the plugins' `autotrack_model_loader` answers."""

from __future__ import annotations

import importlib
import sys
from typing import Any

from autotrack.registry.models import Registry, RegistryError, parse_ref


def plugin_hook():
    """The hooks of the session when tracking is on, else of plugins loaded once for this process."""
    from autotrack.session import SESSION

    if SESSION.plugins is not None:
        return SESSION.plugins.hook
    global _HOOK
    if _HOOK is None:
        from autotrack.config import load_settings
        from autotrack.plugins import load_plugins

        _HOOK = load_plugins(load_settings()).hook
    return _HOOK


_HOOK = None


def model_artifact(reader, run_id: str, hook=None) -> tuple[str, str, Any]:
    """(artifact name, its path, the loader a plugin gave) for the run's saved model."""
    hook = hook or plugin_hook()
    model_class = model_class_of(reader, run_id)
    artifacts = reader.fetch("SELECT name, path FROM artifacts WHERE run_id = ? ORDER BY name", (run_id,))
    for name, path in artifacts:
        loader = hook.autotrack_model_loader(name=name, model_class=model_class)
        if loader is not None:
            return name, str(reader.directory / path), loader
    saved = ", ".join(name for name, _ in artifacts) or "none"
    raise RegistryError(f"run {run_id[:8]} has no saved model autotrack can load (its artifacts: {saved}); "
                        f"models are saved while the setting log_models is on")


def model_class_of(reader, run_id: str) -> str | None:
    row = reader.fetch("SELECT value FROM tags WHERE run_id = ? AND key = 'model.class'", (run_id,))
    return row[0][0] if row else None


def resolve_model(reader, ref: str) -> tuple[str, Any]:
    """(run id, the registered ModelVersion or None) for a reference: a registered `name@alias`,
    `name/version` or `name`, or else a run id (or a unique prefix)."""
    name, version, alias = parse_ref(ref)
    registry = Registry(str(reader.directory))
    try:
        if alias is not None or version is not None or name in registry.names():
            found = registry.resolve(ref)
            return found.run_id, found
    finally:
        registry.close()
    from autotrack.stores.reader import RunNotFound

    try:
        return reader.resolve_id(ref), None
    except RunNotFound as exc:
        raise RunNotFound(f"{exc} (nor is it a registered model: name@alias, name/version or name)") from None


def load_model(ref: str, store: str | None = None) -> Any:
    """The model `ref` names (`churn@champion`, `churn/2`, `churn`, or a run id), loaded from the
    store in its framework's own format: the estimator for scikit-learn, a Booster for LightGBM
    and XGBoost, a Keras model, a LightningModule."""
    from autotrack.api import _reader

    reader = _reader(store)
    try:
        run_id, version = resolve_model(reader, ref)
        if version is not None:
            model_class = model_class_of(reader, run_id)
            loader = plugin_hook().autotrack_model_loader(name=version.artifact, model_class=model_class)
            path = _artifact_path(reader, run_id, version.artifact)
            if loader is None:
                raise RegistryError(f"no plugin can load {version.artifact} of {version.ref} "
                                    f"(is its framework's integration disabled?)")
        else:
            _, path, loader = model_artifact(reader, run_id)
    finally:
        reader.close()
    return loader(path)


def _artifact_path(reader, run_id: str, name: str) -> str:
    row = reader.fetch("SELECT path FROM artifacts WHERE run_id = ? AND name = ?", (run_id, name))
    if not row:
        raise RegistryError(f"run {run_id[:8]} no longer has its artifact {name}")
    path = reader.directory / row[0][0]
    if not path.is_file():
        raise RegistryError(f"the model file of run {run_id[:8]} is missing from the store ({path})")
    return str(path)


def import_class(qualified: str | None):
    """The class a `model.class` tag names (`pkg.module.Class`); one defined in the training
    script (`__main__.Class`) is looked up in this process's `__main__`. None when not found."""
    if not qualified or "." not in qualified:
        return None
    module_name, _, qualname = qualified.rpartition(".")
    while module_name:
        try:
            module = sys.modules.get(module_name) or importlib.import_module(module_name)
        except ImportError:
            module_name, _, head = module_name.rpartition(".")
            qualname = f"{head}.{qualname}"
            continue
        value = module
        for part in qualname.split("."):
            value = getattr(value, part, None)
            if value is None:
                return None
        return value
    return None


__all__ = ["load_model", "model_artifact", "resolve_model", "import_class", "plugin_hook"]
