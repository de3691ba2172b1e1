"""The record kinds every store receives, and the Store interface a backend plugin implements."""

from __future__ import annotations

from typing import Protocol

# Records are tuples, cheap to build on the training thread. The first item names the kind:
#   ("run_start", run_id, fields)          fields: experiment, name, parent_id, start_time, status,
#                                          pid, host, proc_token, source
#   ("run_attach", run_id, fields)         a run of another process this one records into
#                                          (joined_runs.py): its row is made if the store has
#                                          none yet, for the owner's run_start to fill in
#   ("run_end", run_id, status, end_time, error)
#   ("params", run_id, {key: json_text})
#   ("tags", run_id, {key: text})
#   ("metric", run_id, key, value, step, timestamp)
#   ("merge", run_id, field, {..})         deep-merged into the run's JSON field:
#                                          "context", "timings" or "importances"
#   ("goals", run_id, {key: goal})          a framework's goal for metrics: "max", "min", "none"
#   ("dataset", run_id, description)
#   ("artifact", run_id, name, relative_path, size_bytes)
#   ("dropped", run_id, {"points": n, "records": n, "why": text})   what could not be kept of the
#                                          run (the writer's queue was full, the store failing)
RECORD_KINDS = ("run_start", "run_attach", "run_end", "params", "tags", "metric", "goals", "merge", "dataset",
                "artifact", "dropped")


class Store(Protocol):
    """A backend. `write` is called on the writer thread only, with records in arrival order."""

    name: str

    def write(self, batch: list[tuple]) -> None:
        """Persist the whole batch; the local store does it in one transaction."""

    # Optional fast path: `write_points(points)` with points `(run_id, key, value, step, ts)`.
    # Stores without it receive metric points inside `write` as ("metric", ...) records.

    def artifact_path(self, run_id: str, name: str) -> str:
        """Where the writer should put the bytes of an artifact before recording it."""


__all__ = ["Store", "RECORD_KINDS"]
