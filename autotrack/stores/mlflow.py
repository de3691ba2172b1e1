"""The MLflow backend: exports runs from the local store to an MLflow tracking server, idempotently.

The exporter (autotrack/export.py) calls `MlflowBackend.export_run(snapshot, state)` off the
training thread; this module maps one autotrack run onto one MLflow run:

| autotrack                     | MLflow                                                          |
| ----------------------------- | --------------------------------------------------------------- |
| experiment                    | experiment of the same name, created when missing               |
| run (id, name, start time)    | `create_run`, tag `autotrack.run_id`, `mlflow.runName`          |
| parent run                    | tag `mlflow.parentRunId` (the parent's MLflow run id)           |
| params (JSON text)            | params, as plain strings (`str()` of scalars, JSON of lists)    |
| tags                          | tags                                                            |
| metric points                 | metric history with step and timestamp, via `log_batch`         |
| context: user, script, git    | `mlflow.user`, `mlflow.source.name`, `mlflow.source.git.*`,     |
|                               | `autotrack.host`, `autotrack.git.branch`, `autotrack.git.dirty` |
| datasets                      | dataset inputs: digest = fingerprint, `code` source, colspec    |
|                               | schema, profile {num_rows, num_elements, ...}, context = role   |
| importances, timings          | artifacts `importances.json`, `timings.json`                    |
| artifacts (model.pkl, ...)    | artifacts of the same name                                      |
| status, end time, error       | `set_terminated(FINISHED/FAILED/KILLED)`, tag `autotrack.error` |

Environment variables (context `env`) and credentials are never sent.

Idempotency: the only call that is not idempotent on MLflow's side is `create_run`, so a run is
created with its `autotrack.run_id` tag in the same request, and found again by that tag when
`state` has no remote id (a push that succeeded while its state was not saved). Everything else
is safe to repeat: MLflow accepts a param logged again with the same value, overwrites tags and
artifacts, de-duplicates dataset inputs by (name, digest), and its SQL store drops a metric row
equal to one it holds (same key, value, step, timestamp).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import posixpath
import re
import shutil
import sys
import tempfile
import threading
from typing import Any

import autotrack
from autotrack.capture.redact import redact_text, redact_url

BACKEND_NAME = "mlflow"
RUN_ID_TAG = "autotrack.run_id"

# MLflow's request limits (mlflow/utils/validation.py): log_batch takes at most 1000 metrics,
# 100 params and 100 tags, 1000 entities and 1 MB in all. Params and tags go in their own calls,
# cut at half the byte limit to leave room for the JSON around them.
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_BATCH_TEXT_BYTES = 500_000
MAX_DATASETS_PER_CALL = 100
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_KEY = 250
MAX_DATASET_NAME = 500
MAX_DIGEST = 36

# MLflow's client retries a dead server 7 times with exponential backoff and waits 120 s for an
# answer: minutes before the exporter could hear that the server is down (it retries with its own
# backoff). And `set_terminated` prints two "View run" lines to stdout, the training script's.
# Unless the user set them, these apply while this backend talks to MLflow, and only then: a dead
# server fails in about 2 s, a hung one in 3 x 15 s at most.
CLIENT_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}

_TERMINAL_STATUS = {"finished": "FINISHED", "failed": "FAILED", "killed": "KILLED"}
_TRANSIENT_HTTP = {408, 429}
_BAD_KEY_CHARS = re.compile(r"[^/\w.\- :]")
# dtype (numpy / pandas names) -> MLflow column type, for the dataset schema the MLflow UI shows
_MLFLOW_TYPES = {"float64": "double", "float32": "float", "float16": "float", "int64": "long",
                 "int32": "integer", "int16": "integer", "int8": "integer", "uint8": "integer",
                 "uint16": "integer", "uint32": "long", "bool": "boolean", "boolean": "boolean",
                 "object": "string", "string": "string", "str": "string", "category": "string",
                 "bytes": "binary"}


def _log() -> logging.Logger:
    return logging.getLogger("autotrack")


class MlflowBackend:
    """Pushes runs to one MLflow tracking server; see the module docstring for the mapping."""

    name = BACKEND_NAME

    def __init__(self, tracking_uri: str | None = None):
        try:
            from mlflow import MlflowClient
        except ImportError as exc:  # the backend is selected but MLflow is not installed
            raise ImportError("the mlflow backend needs MLflow: pip install mlflow") from exc
        # None: MLflow's own default, i.e. MLFLOW_TRACKING_URI.
        self.client = MlflowClient(tracking_uri=tracking_uri)
        self.tracking_uri = self.client.tracking_uri
        # As stored and said: the URI without its credentials (`http://user:***@host`).
        self.server = redact_url(str(self.tracking_uri))
        self._experiment_ids: dict[str, str] = {}
        self._warned: set[str] = set()

    # -- the exporter's entry point -------------------------------------------------------------
    def export_run(self, run, state: dict) -> dict:
        """Push what `state` says MLflow has not received of `run`; return the new state.

        Raises `BackendUnavailable` when the server is down, times out or answers 5xx/429; any
        other exception means MLflow refused this run's data.
        """
        from autotrack.export import BackendUnavailable

        state = json.loads(json.dumps(state))  # ours to change, nested parts included
        try:
            with _client_defaults():
                self._export(run, state)
        except Exception as exc:
            if _is_transient(exc):
                raise BackendUnavailable(f"MLflow at {self.server}: {redact_text(_one_line(exc))}") from exc
            raise
        return state

    def _export(self, run, state: dict) -> None:
        # A user's own active `mlflow.start_run()` lives in the training process, which the export
        # may not run in. The exporter passes what it knows: the user's run id as
        # `run.parent_remote_id` nests this run under it; a state seeded with
        # {"remote_id": <user's run id>, "owned": False} logs into that run, which this backend
        # then never creates, renames nor terminates (its owner does).
        if state.get("server") not in (None, self.server, self.tracking_uri):
            raise ValueError(f"this run was exported to MLflow at {redact_url(state['server'])}, not "
                             f"{self.server}: set MLFLOW_TRACKING_URI to that server")
        run_id = state.get("remote_id") or self._find_or_create(run, state)
        state["remote_id"], state["server"] = run_id, self.server
        state.setdefault("owned", True)
        self._push_tags(run, run_id, state)
        self._push_params(run, run_id, state)
        self._push_points(run, run_id)
        self._push_datasets(run, run_id, state)
        self._push_json_files(run, run_id, state)
        self._push_artifacts(run, run_id, state)
        ended = run.status != "running"
        if ended and state["owned"]:
            status = _TERMINAL_STATUS.get(run.status, "FINISHED")
            end_ms = _ms(run.end_time) if run.end_time is not None else None
            if state.get("terminated") != [status, end_ms]:
                self.client.set_terminated(run_id, status=status, end_time=end_ms)
                state["terminated"] = [status, end_ms]
        # A child is complete once it points at its parent in MLflow: the exporter sends parents
        # first, and calls again while this is False.
        linked = run.parent_id is None or state.get("parent") is not None
        state["complete"] = ended and linked

    # -- models and the Model Registry (stores/mlflow_models.py) --------------------------------
    def export_model(self, remote_run_id: str, model, flavor: dict, run: dict) -> None:
        """Log `model` to the MLflow run as an MLflow model of its flavour, under `model/`."""
        from autotrack.stores.mlflow_models import log_model

        self._remote(log_model, self.client, remote_run_id, model, flavor, run)

    def mirror_version(self, name: str, version: int, remote_run_id: str, description: str | None) -> str:
        """The Model Registry's version of `name` for autotrack's `version`; its number there."""
        from autotrack.stores.mlflow_models import mirror_version

        return self._remote(mirror_version, self.client, name, version, remote_run_id, description)

    def mirror_aliases(self, name: str, aliases: dict[str, str]) -> None:
        from autotrack.stores.mlflow_models import mirror_aliases

        self._remote(mirror_aliases, self.client, name, aliases)

    def _remote(self, fn, *args):
        from autotrack.export import BackendUnavailable

        try:
            with _client_defaults():
                return fn(*args)
        except Exception as exc:
            if _is_transient(exc):
                raise BackendUnavailable(f"MLflow at {self.server}: {redact_text(_one_line(exc))}") from exc
            raise

    # -- the MLflow run -------------------------------------------------------------------------
    def _find_or_create(self, run, state: dict) -> str:
        from mlflow.entities import ViewType

        # Under a user's own active MLflow run (see autotrack_run_started): its experiment.
        experiment_id = run.tags.get(USER_EXPERIMENT_TAG) or self._experiment_id(run.experiment)
        found = self.client.search_runs(
            [experiment_id], filter_string=f"tags.`{RUN_ID_TAG}` = '{run.id}'",
            run_view_type=ViewType.ALL, max_results=2)
        if found:
            # Pushed before, but the state saying so was lost: take what MLflow holds as sent.
            remote = found[0]
            state["params"] = {key: _digest(value) for key, value in remote.data.params.items()}
            state["tags"] = {key: _digest(value) for key, value in remote.data.tags.items()}
            state["parent"] = remote.data.tags.get("mlflow.parentRunId")
            return remote.info.run_id
        tags = {RUN_ID_TAG: run.id}
        parent = run.parent_remote_id or run.tags.get(USER_PARENT_TAG)
        if parent:
            tags["mlflow.parentRunId"] = parent
        remote = self.client.create_run(experiment_id, start_time=_ms(run.start_time), tags=tags,
                                        run_name=_clip(run.name, MAX_TAG_VALUE) if run.name else None)
        state["tags"] = {key: _digest(value) for key, value in remote.data.tags.items()}
        state["parent"] = run.parent_remote_id
        return remote.info.run_id

    def _experiment_id(self, name: str) -> str:
        if name in self._experiment_ids:
            return self._experiment_ids[name]
        from mlflow.exceptions import MlflowException

        experiment = self.client.get_experiment_by_name(name)
        if experiment is None:
            try:
                experiment_id = self.client.create_experiment(name)
            except MlflowException as exc:  # created meanwhile by another process
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise
                experiment_id = self.client.get_experiment_by_name(name).experiment_id
        elif experiment.lifecycle_stage == "deleted":
            raise ValueError(f"MLflow experiment {name!r} is deleted: restore it (mlflow "
                             "experiments restore) or delete it for good (mlflow gc)")
        else:
            experiment_id = experiment.experiment_id
        self._experiment_ids[name] = experiment_id
        return experiment_id

    # -- params, tags, metrics ------------------------------------------------------------------
    def _push_params(self, run, run_id: str, state: dict) -> None:
        from mlflow.entities import Param

        sent = state.setdefault("params", {})
        new = []
        for key, text in sorted(run.params.items()):
            mlflow_key, value = _key(key), _clip(_param_text(text), MAX_PARAM_VALUE)
            digest = _digest(value)
            if mlflow_key not in sent:
                new.append((mlflow_key, value, digest))
            elif sent[mlflow_key] != digest:
                # MLflow refuses to change a logged param: keep the first value there, say it once.
                self._warn_once(f"{run.id}:{mlflow_key}", "autotrack: param %r of run %s changed "
                                "after it was exported; MLflow keeps the first value", key, run.id[:8])
        for chunk in _chunks(new, MAX_PARAMS_TAGS_PER_BATCH):
            self.client.log_batch(run_id, params=[Param(k, v) for k, v, _ in chunk], synchronous=True)
            sent.update((k, d) for k, _, d in chunk)

    def _push_tags(self, run, run_id: str, state: dict) -> None:
        from mlflow.entities import RunTag

        sent = state.setdefault("tags", {})
        tags = run_tags(run, owned=state.get("owned", True))
        changed = [(key, value, _digest(value)) for key, value in tags.items()
                   if sent.get(key) != _digest(value)]
        for chunk in _chunks(changed, MAX_PARAMS_TAGS_PER_BATCH):
            self.client.log_batch(run_id, tags=[RunTag(k, v) for k, v, _ in chunk], synchronous=True)
            sent.update((k, d) for k, _, d in chunk)
        if run.parent_remote_id:
            state["parent"] = run.parent_remote_id

    def _push_points(self, run, run_id: str) -> None:
        """Every point handed over, in `log_batch` calls of up to 1000: the exporter hands each
        point once, or again after a failed push, which MLflow's SQL store de-duplicates."""
        from mlflow.entities import Metric

        metrics = [Metric(_key(key), float("nan") if value is None else float(value),
                          _ms(run.start_time if timestamp is None else timestamp), int(step))
                   for key, value, step, timestamp in run.points]
        for start in range(0, len(metrics), MAX_METRICS_PER_BATCH):
            self.client.log_batch(run_id, metrics=metrics[start:start + MAX_METRICS_PER_BATCH],
                                  synchronous=True)

    # -- datasets and files ---------------------------------------------------------------------
    def _push_datasets(self, run, run_id: str, state: dict) -> None:
        from mlflow.entities import DatasetInput, InputTag

        sent = set(state.setdefault("datasets", []))
        new: dict[tuple[str, str], tuple[Any, list[str]]] = {}
        keys = []
        for description in run.datasets:
            key = f"{description.get('role')}|{description.get('fingerprint')}"
            if key in sent:
                continue
            keys.append(key)
            dataset = mlflow_dataset(description, run.context)
            # MLflow keeps one input per (name, digest) and run: one data set passed as train.X
            # and as score.X becomes one input whose context names both roles.
            entry = new.setdefault((dataset.name, dataset.digest), (dataset, []))
            entry[1].append(str(description.get("role") or ""))
        inputs = [DatasetInput(dataset, tags=[InputTag("mlflow.data.context", ",".join(roles)[:500])])
                  for dataset, roles in new.values()]
        for start in range(0, len(inputs), MAX_DATASETS_PER_CALL):
            self.client.log_inputs(run_id, datasets=inputs[start:start + MAX_DATASETS_PER_CALL])
        state["datasets"] = sorted(sent.union(keys))

    def _push_json_files(self, run, run_id: str, state: dict) -> None:
        sent = state.setdefault("files", {})
        for name, value in (("importances.json", run.importances), ("timings.json", run.timings)):
            if not value:
                continue
            text = json.dumps(value, indent=2, sort_keys=True, default=str)
            if sent.get(name) == _digest(text):
                continue
            with tempfile.TemporaryDirectory(prefix="autotrack-mlflow-") as folder:
                path = os.path.join(folder, name)
                with open(path, "w", encoding="utf-8") as file:
                    file.write(text)
                self.client.log_artifact(run_id, path)
            sent[name] = _digest(text)

    def _push_artifacts(self, run, run_id: str, state: dict) -> None:
        sent = state.setdefault("artifacts", {})
        for artifact in run.artifacts:
            name, path = artifact["name"], artifact["path"]
            if name in sent and sent[name] == artifact.get("bytes"):
                continue
            if not os.path.isfile(path):  # removed from the store by hand: nothing to retry
                self._warn_once(f"{run.id}:{name}", "autotrack: artifact %r of run %s is missing "
                                "(%s); not exported", name, run.id[:8], path)
                sent[name] = artifact.get("bytes")
                continue
            folder = posixpath.dirname(name.replace(os.sep, "/")) or None
            filename = posixpath.basename(name)
            if os.path.basename(path) == filename:
                self.client.log_artifact(run_id, path, artifact_path=folder)
            else:  # MLflow names the file after the local one
                with tempfile.TemporaryDirectory(prefix="autotrack-mlflow-") as tmp:
                    copy = os.path.join(tmp, filename)
                    shutil.copyfile(path, copy)
                    self.client.log_artifact(run_id, copy, artifact_path=folder)
            sent[name] = artifact.get("bytes")

    def _warn_once(self, key: str, message: str, *args) -> None:
        if key not in self._warned:
            self._warned.add(key)
            _log().warning(message, *args)


# -- mapping helpers (pure: no MLflow calls) --------------------------------------------------------
def run_tags(run, owned: bool = True) -> dict[str, str]:
    """The MLflow tags of `run`: its own tags, then what its context says in MLflow's terms."""
    context = run.context or {}
    system = context.get("system") or context  # the context's sections may be flat or nested
    git = context.get("git") or {}
    tags = {_key(key): str(value) for key, value in (run.tags or {}).items()}
    ours = {
        RUN_ID_TAG: run.id,
        "mlflow.runName": run.name if owned else None,
        "mlflow.note.content": (run.tags or {}).get("autotrack.note"),  # `autotrack note`: MLflow's description
        "mlflow.user": system.get("user"),
        "mlflow.source.name": system.get("script") or system.get("module"),
        "mlflow.source.type": "LOCAL",
        "mlflow.source.git.commit": git.get("commit"),
        "mlflow.source.git.branch": git.get("branch"),
        "mlflow.source.git.repoURL": _without_credentials(git.get("remote")),
        "mlflow.parentRunId": run.parent_remote_id or (run.tags or {}).get(USER_PARENT_TAG),
        "autotrack.host": system.get("host"),
        "autotrack.git.branch": git.get("branch"),
        "autotrack.git.dirty": None if git.get("dirty") is None else str(bool(git["dirty"])).lower(),
        "autotrack.parent_id": run.parent_id,
        "autotrack.error": run.error,
    }
    tags.update((key, str(value)) for key, value in ours.items() if value not in (None, ""))
    return {key: _clip(value, MAX_TAG_VALUE) for key, value in tags.items()}


def mlflow_dataset(description: dict, context: dict | None = None):
    """An MLflow `Dataset` for one of autotrack's dataset descriptions."""
    from mlflow.entities import Dataset

    fingerprint = description.get("fingerprint")
    if not fingerprint:  # data autotrack could not hash: its description stands in
        fingerprint = hashlib.sha256(json.dumps(description, sort_keys=True, default=str)
                                     .encode()).hexdigest()
    role = description.get("role")
    system = (context or {}).get("system") or context or {}
    # MLflow's "code" source: data made in code, no URI to load it from (as mlflow.data.from_numpy).
    source = {"tags": {k: v for k, v in {"mlflow.source.name": system.get("script"),
                                         "autotrack.role": role,
                                         "autotrack.variable": description.get("name"),
                                         "autotrack.type": description.get("type")}.items() if v}}
    schema = None
    if description.get("schema"):
        schema = json.dumps({"mlflow_colspec": [
            {"type": _mlflow_type(column.get("dtype")), "name": str(column.get("name")), "required": True}
            for column in description["schema"]]})
    profile = {"num_rows": description.get("rows"), "num_elements": None}
    if description.get("rows") is not None and description.get("columns") is not None:
        profile["num_elements"] = description["rows"] * description["columns"]
    profile.update({k: description[k] for k in ("columns", "bytes", "target", "schema_truncated")
                    if k in description})
    return Dataset(name=_clip(str(description.get("name") or role or "dataset"), MAX_DATASET_NAME),
                   digest=fingerprint[:MAX_DIGEST], source_type="code", source=json.dumps(source),
                   schema=schema, profile=json.dumps(profile, default=str))


def _param_text(text: str) -> str:
    """A stored param (JSON text) as MLflow shows params: `str()` of a scalar, as MLflow's own
    autologging logs them (True, None, 0.1, lbfgs), and JSON for lists and dicts."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return str(text)
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _mlflow_type(dtype: Any) -> str:
    name = str(dtype or "").lower()
    if name.startswith("datetime"):
        return "datetime"
    return _MLFLOW_TYPES.get(name, "string")


def _key(key: str) -> str:
    """A key MLflow accepts: its characters, at most 250 of them, not a path that normalizes."""
    key = _BAD_KEY_CHARS.sub("_", str(key))[:MAX_KEY] or "_"
    normalized = posixpath.normpath(key)
    if normalized != key or normalized == "." or key.startswith(("..", "/")):
        key = key.replace("/", "_")
        if key in (".", ".."):
            key = "_" + key
    return key


def _without_credentials(url: str | None) -> str | None:
    return re.sub(r"(?<=://)[^/@]*@", "", url) if url else None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _digest(text: str) -> str:
    return hashlib.sha1(str(text).encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def _chunks(items: list, size: int):
    """Lists of at most `size` items and about MAX_BATCH_TEXT_BYTES of text each."""
    chunk: list = []
    total = 0
    for item in items:
        length = len(item[0]) + len(item[1])
        if chunk and (len(chunk) >= size or total + length > MAX_BATCH_TEXT_BYTES):
            yield chunk
            chunk, total = [], 0
        chunk.append(item)
        total += length
    if chunk:
        yield chunk


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:500] or type(exc).__name__


# -- transient or not -----------------------------------------------------------------------------
def _is_transient(exc: BaseException) -> bool:
    """True when MLflow could not be reached or was overloaded (connection refused or reset,
    timeout, retries of a 5xx/429 exhausted), False when it answered that the data is wrong."""
    import requests
    from mlflow.exceptions import MlflowException, RestException

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (requests.ConnectionError, requests.Timeout,
                            requests.exceptions.RetryError, requests.exceptions.ChunkedEncodingError,
                            ConnectionError, TimeoutError)):
            return True
        status = None
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            status = exc.response.status_code  # artifact uploads and downloads
        elif isinstance(exc, RestException) or (
                isinstance(exc, MlflowException) and str(exc.message).startswith("API request to")):
            status = exc.get_http_status_code()  # the server answered (REST API calls)
        if status is not None:
            return status in _TRANSIENT_HTTP or status >= 500
        exc = exc.__cause__ or exc.__context__
    return False


_http_lock = threading.Lock()
_http_users = 0
_http_set: dict[str, str] = {}


def _reset_after_fork() -> None:
    # The export thread may hold the lock at the instant of a fork(); it does not exist in the child.
    global _http_lock, _http_users
    _http_lock, _http_users = threading.Lock(), 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


@contextlib.contextmanager
def _client_defaults():
    """CLIENT_DEFAULTS in os.environ (where MLflow reads them, per request) while any backend call
    is in flight, for the variables the user has not set; removed again afterwards."""
    global _http_users
    with _http_lock:
        if _http_users == 0:
            _http_set.clear()
            for name, value in CLIENT_DEFAULTS.items():
                if name not in os.environ:
                    os.environ[name] = _http_set[name] = value
        _http_users += 1
    try:
        yield
    finally:
        with _http_lock:
            _http_users -= 1
            if _http_users == 0:
                for name, value in _http_set.items():
                    if os.environ.get(name) == value:
                        del os.environ[name]
                _http_set.clear()


# A user's own `mlflow.start_run()`, active when an autotrack run starts in the same process:
# the autotrack run is nested under it, in its experiment, rather than beside it.
USER_PARENT_TAG = "autotrack.mlflow.parent_run_id"
USER_EXPERIMENT_TAG = "autotrack.mlflow.experiment_id"


@autotrack.hookimpl
def autotrack_run_started(run):
    """On the training thread, where the user's active MLflow run is visible (the export is not)."""
    mlflow = sys.modules.get("mlflow")  # never imported here: no user run unless the user did
    if run.parent_id is not None or mlflow is None:
        return
    if getattr(getattr(mlflow, "__spec__", None), "_initializing", False):
        return  # being imported (by our export thread, or the user's): no run can be active yet
    from autotrack.session import SESSION

    if BACKEND_NAME not in SESSION.export_backends():
        return
    active = mlflow.active_run()
    if active is not None:
        run.set_tags({USER_PARENT_TAG: active.info.run_id, USER_EXPERIMENT_TAG: active.info.experiment_id})


def create_backend(settings) -> MlflowBackend:
    """The factory: the tracking URI from autotrack's settings, else MLFLOW_TRACKING_URI. Without
    either, MLflow would write to a local ./mlruns: runs meant for the team's server would land
    there (and be marked exported), so the backend refuses instead."""
    from autotrack.export import BackendNotConfigured

    uri = getattr(settings, "mlflow_tracking_uri", None) or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise BackendNotConfigured("the mlflow backend has no tracking server: set MLFLOW_TRACKING_URI "
                                   "(or AUTOTRACK_MLFLOW_TRACKING_URI)")
    return MlflowBackend(uri)


create_backend.requires = ("mlflow",)  # `autotrack plugins` and the session check it is installed


@autotrack.hookimpl
def autotrack_register_backends(register):
    register(BACKEND_NAME, create_backend)


__all__ = ["MlflowBackend", "create_backend", "run_tags", "mlflow_dataset", "CLIENT_DEFAULTS",
           "autotrack_register_backends", "autotrack_run_started"]
