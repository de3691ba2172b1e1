"""`autotrack import --from-mlflow`: the runs of an MLflow tracking server (all experiments, or some)
into the local store, so that a team can leave a server, or move to another, with its history.

Each MLflow run becomes a run with its params (numbers as numbers again: MLflow keeps every param
as text), every point of every metric's history, its tags (`mlflow.runName` its name,
`mlflow.parentRunId` its parent, `mlflow.note.content` its note) and, unless `--no-artifacts`, its
artifact files. A run autotrack once exported keeps its autotrack id (its `autotrack.run_id` tag);
any other keeps its MLflow id. A run the store has is left alone: importing twice adds nothing.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autotrack.capture.redact import redact_url
from autotrack.stores.local import LocalStore

SOURCE = "mlflow"
IMPORTED_TAG = "autotrack.imported_from"
_STATUSES = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "killed", "RUNNING": "running",
             "SCHEDULED": "running"}
# MLflow's own tags, read into the run's fields rather than kept as tags.
_FIELD_TAGS = ("mlflow.runName", "mlflow.parentRunId", "autotrack.run_id", "autotrack.parent_id")


class MlflowImportError(ValueError):
    """The server cannot be read as asked; the message says why."""


@dataclass
class Imported:
    runs: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    points: int = 0
    files: int = 0
    experiments: list[str] = field(default_factory=list)


def import_from_mlflow(directory: Path, uri: str, experiments: list[str] | None = None,
                       artifacts: bool = True, progress=None) -> Imported:
    from mlflow import MlflowClient

    from autotrack.stores.mlflow import _client_defaults

    server = redact_url(uri)
    client = MlflowClient(tracking_uri=uri)
    done = Imported()
    store = LocalStore(str(directory))
    try:
        with _client_defaults():
            chosen = _experiments(client, experiments, server)
            done.experiments = [experiment.name for experiment in chosen]
            runs = [(experiment.name, run) for experiment in chosen for run in _runs_of(client, experiment)]
            local_ids = {run.info.run_id: run.data.tags.get("autotrack.run_id") or run.info.run_id for _, run in runs}
            present = {row[0] for row in store.conn.execute("SELECT id FROM runs")}
            runs.sort(key=lambda item: item[1].info.start_time or 0)  # parents before their children
            for position, (experiment, run) in enumerate(runs, 1):
                run_id = local_ids[run.info.run_id]
                if run_id in present:
                    done.already.append(run_id)
                    continue
                records, points = _records(client, run, run_id, experiment, local_ids, server)
                if artifacts:
                    records += _artifacts(client, run, run_id, Path(store.directory))
                store.write(records)
                present.add(run_id)
                done.runs.append(run_id)
                done.points += points
                done.files += sum(record[0] == "artifact" for record in records)
                if progress:
                    progress(position, len(runs))
    except Exception as exc:
        from autotrack.stores.mlflow import _is_transient

        if _is_transient(exc):
            raise MlflowImportError(f"MLflow at {server} does not answer ({type(exc).__name__}): "
                               f"{len(done.runs)} run(s) imported so far; run the import again later") from None
        raise
    finally:
        if store._conn is not None:
            store._conn.close()
    return done


def _experiments(client, names: list[str] | None, server: str) -> list:
    every = client.search_experiments()
    if not names:
        return [experiment for experiment in every if experiment.lifecycle_stage == "active"]
    by_name = {experiment.name: experiment for experiment in every}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise MlflowImportError(f"MLflow at {server} has no experiment {missing[0]!r} (it has: "
                           f"{', '.join(sorted(by_name)) or 'none'})")
    return [by_name[name] for name in names]


def _runs_of(client, experiment) -> list:
    runs, token = [], None
    while True:
        page = client.search_runs([experiment.experiment_id], max_results=1000, page_token=token)
        runs += list(page)
        token = page.token
        if not token:
            return runs


def _records(client, run, run_id: str, experiment: str, local_ids: dict, server: str) -> tuple[list[tuple], int]:
    info, data = run.info, run.data
    tags = dict(data.tags)
    parent = tags.get("autotrack.parent_id") or (local_ids.get(tags["mlflow.parentRunId"], tags["mlflow.parentRunId"])
                                                 if tags.get("mlflow.parentRunId") else None)
    start = (info.start_time or 0) / 1000
    status = _STATUSES.get(info.status, "finished")
    records: list[tuple] = [
        ("run_start", run_id, {"experiment": experiment, "name": tags.get("mlflow.runName") or info.run_name,
                               "status": status, "parent_id": parent, "source": SOURCE, "start_time": start,
                               "pid": None, "host": None, "proc_token": None}),
        ("params", run_id, {key: _param_text(value) for key, value in data.params.items()}),
    ]
    kept = {key: value for key, value in tags.items() if key not in _FIELD_TAGS}
    if "mlflow.note.content" in kept:
        kept["autotrack.note"] = kept.pop("mlflow.note.content")
    kept[IMPORTED_TAG] = f"{server} run {info.run_id}"
    records.append(("tags", run_id, kept))
    points = 0
    for key in data.metrics:
        for metric in client.get_metric_history(info.run_id, key):
            value = metric.value
            records.append(("metric", run_id, key, None if isinstance(value, float) and math.isnan(value) else value,
                            metric.step, metric.timestamp / 1000))
            points += 1
    if info.end_time is not None or status != "running":
        records.append(("run_end", run_id, status, (info.end_time or info.start_time or 0) / 1000, None))
    return records, points


def _artifacts(client, run, run_id: str, directory: Path) -> list[tuple]:
    """The run's artifact files, downloaded into the store's folder for the run."""
    records = []
    with tempfile.TemporaryDirectory(prefix="autotrack-mlflow-") as scratch:
        try:
            local = client.download_artifacts(run.info.run_id, "", scratch)
        except Exception as exc:  # a run without artifacts, or a repository gone
            if "not found" in str(exc).lower() or "does not exist" in str(exc).lower():
                return records
            raise
        for folder, _, names in os.walk(local):
            for name in names:
                origin = Path(folder) / name
                relative = os.path.relpath(origin, local).replace(os.sep, "/")
                target = directory / "artifacts" / run_id / relative
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                shutil.move(str(origin), target)
                records.append(("artifact", run_id, relative, f"artifacts/{run_id}/{relative}", target.stat().st_size))
    return records


def _param_text(text: str) -> str:
    """A param as autotrack stores it (JSON text): MLflow's `"3"` is 3 again, `"True"` true."""
    if text in ("True", "False"):
        return json.dumps(text == "True")
    if text == "None":
        return "null"
    try:
        number = int(text)
    except (TypeError, ValueError):
        try:
            number = float(text)
        except (TypeError, ValueError):
            return json.dumps(text)
        if not math.isfinite(number):
            return json.dumps(text)
    return json.dumps(number)


__all__ = ["import_from_mlflow", "Imported", "MlflowImportError", "SOURCE", "IMPORTED_TAG"]
