"""The `jsonl` plugin: a store that appends every record to AUTOTRACK_DIR/records.jsonl."""

import json
import math
import os

from autotrack import hookimpl

FILE_NAME = "records.jsonl"


class JsonLinesStore:
    """One JSON object per record: {"kind": ..., "run_id": ..., "data": [...]}.

    `write` is called on autotrack's writer thread only, with records in arrival order, so it
    needs no lock. Records are described in autotrack/stores/base.py.
    """

    name = "jsonl"

    def __init__(self, directory: str):
        # `directory` is what artifact paths are recorded relative to when this is the first store.
        self.directory = os.path.abspath(os.path.expanduser(directory))
        self.path = os.path.join(self.directory, FILE_NAME)

    def write(self, batch: list) -> None:
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        lines = "".join(json.dumps(_as_json(record), default=str, allow_nan=False) + "\n" for record in batch)
        # 0600, as the local store: runs may hold paths, hostnames and parameters.
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(lines)

    def artifact_path(self, run_id: str, name: str) -> str:
        folder = os.path.join(self.directory, "jsonl-artifacts", run_id)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        return os.path.join(folder, name)


def _as_json(record: tuple) -> dict:
    kind, run_id, *data = record
    return {"kind": kind, "run_id": run_id, "data": _finite(data)}


def _finite(value):
    """JSON has no NaN or infinity: such metric values are written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


@hookimpl
def autotrack_register_stores(register):
    register("jsonl", lambda settings: JsonLinesStore(settings.dir))
