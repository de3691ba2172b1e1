"""A model's audit ("model card"): who trained it, when and where; on which data, code, params and
packages; its metrics, how it ranked against the runs it was compared with, its registry history,
where and since when it served, and what autotrack did not capture. For a registered model
(`churn@champion`), a run id, or a model file a user saved."""

from __future__ import annotations

import os

from autotrack.registry.models import Registry, RegistryError


def audit(reader, ref: str) -> dict:
    """The audit of what `ref` names: a registered model, a run id, or a model file's path."""
    if os.path.isfile(ref):
        run_id, how = run_of_file(reader, ref)
        version = None
    else:
        from autotrack.registry.loading import resolve_model

        run_id, version = resolve_model(reader, ref)
        how = f"registered as {version.ref}" if version is not None else "run id"
    run = reader.get_run(run_id)
    context = run.get("context") or {}
    git = context.get("git") or {}
    sources = context.get("sources") or {}
    card = {
        "model": {"ref": ref, "found_by": how, "run_id": run_id, "name": run["name"],
                  "class": run["tags"].get("model.class"), "status": run["status"]},
        "trained": {"user": context.get("user"), "host": context.get("host"), "started": run["start_time"],
                    "ended": run["end_time"], "duration_s": run["duration_s"], "script": context.get("script"),
                    "cwd": context.get("cwd"), "argv": context.get("argv"), "experiment": run["experiment"]},
        "data": [{key: dataset.get(key) for key in ("role", "name", "rows", "columns", "bytes", "fingerprint",
                                                     "type", "target")} | {"schema": _schema_text(dataset)}
                 for dataset in run["datasets"]],
        "data_files": context.get("data_files") or [],
        "code": {"commit": git.get("commit"), "branch": git.get("branch"), "dirty": git.get("dirty"),
                 "remote": git.get("remote"), "diff_kept": any(a["name"] == "git.diff" for a in run["artifacts"]),
                 "snapshot": sources.get("files") or [], "snapshot_mode": sources.get("mode")},
        "params": run["params"],
        "packages": context.get("packages") or {},
        "python": (context.get("python") or {}).get("version"),
        "metrics": {key: {"value": value, "goal": run["goals"].get(key)} for key, value in run["metrics"].items()},
        "compared_with": compared_with(reader, run),
        "registry": registry_history(reader, run_id),
        "serving": serving_history(reader, run_id),
        "capture": context.get("capture"),
    }
    return card


def run_of_file(reader, path: str) -> tuple[str, str]:
    """The run whose model a file holds: an exact copy of a run's model artifact, else a model the
    file loads as whose fingerprint (what it learned) matches a run's."""
    from autotrack.capture.data_files import file_digest
    from autotrack.serving.queries import reference_for

    size = os.path.getsize(path)
    digest = file_digest(path)
    for run_id, stored in reader.fetch("SELECT run_id, path FROM artifacts WHERE bytes = ?", (size,)):
        full = reader.directory / stored
        if full.is_file() and file_digest(str(full)) == digest:
            return run_id, "the file is a copy of the run's saved model"
    fingerprint = _fingerprint_of_file(path)
    found = reference_for(reader, fingerprint)  # the newest run with it
    if found is not None:
        return found["run_id"], f"the model in the file has the run's fingerprint {fingerprint}"
    raise RegistryError(f"{path}: no run in {reader.directory} made this model (neither a copy of a saved "
                        f"model nor a model with the same learned state)")


_NAMES_BY_SUFFIX = {".pkl": "model.pkl", ".pickle": "model.pkl", ".joblib": "model.pkl", ".txt": "model.txt",
                    ".ubj": "model.ubj", ".keras": "model.keras", ".ckpt": "model.ckpt"}


def _fingerprint_of_file(path: str) -> str | None:
    from autotrack.registry.loading import plugin_hook
    from autotrack.serving.lineage import model_fingerprint

    name = _NAMES_BY_SUFFIX.get(os.path.splitext(path)[1].lower())
    if name is None:
        return None
    hook = plugin_hook()
    loader = hook.autotrack_model_loader(name=name, model_class=None)
    try:
        model = _joblib_load(path) if path.endswith(".joblib") else loader(path) if loader else None
    except Exception:
        return None
    return model_fingerprint(hook, model) if model is not None else None


def _joblib_load(path: str):
    import joblib

    return joblib.load(path)


def _schema_text(dataset: dict) -> str | None:
    schema = dataset.get("schema")
    if not isinstance(schema, list):
        return None
    names = [f"{column.get('name')}:{column.get('dtype')}" for column in schema[:12]]
    return ", ".join(names) + (f", ... ({len(schema)} columns)" if len(schema) > 12 else "")


def compared_with(reader, run: dict) -> dict:
    """The runs it was chosen among: its search's other candidates (same parent) or its
    experiment's runs, and its rank by its validation metric there."""
    from autotrack.registry.key_metric import validation_metrics

    if run.get("parent_id"):
        scope, rows = "its search", reader.fetch("SELECT id FROM runs WHERE parent_id = ?", (run["parent_id"],))
    else:
        scope, rows = f"experiment {run['experiment']!r}", reader.fetch(
            "SELECT id FROM runs WHERE experiment = ? AND parent_id IS NULL AND (source IS NULL OR source NOT IN"
            " ('preprocessing', 'serving'))", (run["experiment"],))
    ids = [row[0] for row in rows]
    result: dict = {"scope": scope, "runs": len(ids)}
    keys = validation_metrics(run)
    if keys and len(ids) > 1:
        key, goal = keys[0], run["goals"][keys[0]]
        values = [summary["metrics"].get(key) for summary in reader.summaries(ids).values()]
        values = [value for value in values if isinstance(value, (int, float))]
        better = sum(1 for value in values if (value > run["metrics"][key] if goal == "max" else value < run["metrics"][key]))
        result.update(metric=key, goal=goal, rank=better + 1, ranked=len(values))
    return result


def registry_history(reader, run_id: str) -> list[dict]:
    with Registry(str(reader.directory)) as registry:
        versions = registry.versions_of_run(run_id)
        history = []
        for version in versions:
            aliases = sorted(alias for alias, number in registry.aliases(version.name).items()
                             if number == version.version)
            history.append({"version": version.ref, "registered": version.as_dict()["created"],
                            "by": version.user, "aliases": aliases, "description": version.description,
                            "events": registry.events(version.name, version.version)})
    return history


def serving_history(reader, run_id: str) -> dict | None:
    from autotrack.serving.queries import models_of_run, served_models

    models = set(models_of_run(reader, run_id))
    served = [model for model in served_models(reader) if model["model"] in models] if models else []
    if not served:
        return None
    model = served[0]
    return {key: model[key] for key in ("first", "last", "calls", "rows", "errors", "windows", "hosts",
                                        "processes", "drifted")}


__all__ = ["audit", "run_of_file"]
