"""`autotrack du`: how much of the store each experiment and run takes.

A run's share of the database is its metric points (what grows) at the bytes a point takes in this
store (the metrics table and its index over the points they hold, from SQLite's dbstat where it is
compiled in), plus its own artifact files; files several runs share are counted once, apart."""

from __future__ import annotations

import os
from pathlib import Path

from autotrack.stores.local import DB_NAME

POINT_BYTES_GUESS = 40  # a point with its index entry, where dbstat is missing


def usage(reader, experiment: str | None = None, top: int = 10) -> dict:
    directory = Path(reader.directory)
    where, args = ("WHERE r.experiment = ?", [experiment]) if experiment else ("", [])
    runs = {run_id: {"id": run_id, "experiment": exp, "name": name, "points": 0, "artifact_bytes": 0}
            for run_id, exp, name in reader.fetch(f"SELECT r.id, r.experiment, r.name FROM runs r {where}", args)}
    for run_id, points in reader.fetch(
            f"SELECT s.run_id, count(*) FROM series s JOIN metrics m ON m.series = s.id "
            f"{'WHERE s.run_id IN (SELECT r.id FROM runs r ' + where + ')' if where else ''} GROUP BY s.run_id", args):
        if run_id in runs:
            runs[run_id]["points"] = points
    for run_id, path, size in reader.fetch("SELECT run_id, path, bytes FROM artifacts"):
        if run_id in runs and not path.startswith("artifacts/shared/"):
            runs[run_id]["artifact_bytes"] += size or 0
    point_bytes = _bytes_per_point(reader)
    for run in runs.values():
        run["bytes"] = int(run["points"] * point_bytes) + run["artifact_bytes"]
    experiments: dict[str, dict] = {}
    for run in runs.values():
        entry = experiments.setdefault(run["experiment"], {"experiment": run["experiment"], "runs": 0, "points": 0,
                                                           "artifact_bytes": 0, "bytes": 0})
        for key in ("points", "artifact_bytes", "bytes"):
            entry[key] += run[key]
        entry["runs"] += 1
    shared_folder = directory / "artifacts" / "shared"
    shared = tree_size(shared_folder) if shared_folder.is_dir() else 0
    return {
        "store": str(directory),
        "database_bytes": database_size(directory),
        "artifacts_bytes": tree_size(directory / "artifacts"),
        "shared_artifact_bytes": shared,
        "trash_bytes": tree_size(directory / "trash"),
        "bytes_per_point": round(point_bytes, 1),
        "experiments": sorted(experiments.values(), key=lambda entry: -entry["bytes"]),
        "runs": sorted(runs.values(), key=lambda run: -run["bytes"])[:top] if top else
        sorted(runs.values(), key=lambda run: -run["bytes"]),
    }


def _bytes_per_point(reader) -> float:
    try:
        rows = reader.fetch("SELECT sum(pgsize) FROM dbstat WHERE name IN ('metrics', 'metrics_by_series')")
        total = reader.fetch("SELECT count(*) FROM metrics")[0][0]
    except Exception:  # dbstat is not compiled into every SQLite
        return POINT_BYTES_GUESS
    if not total or not rows or not rows[0][0]:
        return POINT_BYTES_GUESS
    return rows[0][0] / total


def database_size(directory: Path) -> int:
    """The store's database file with its write-ahead log."""
    return sum(file_size(directory / (DB_NAME + suffix)) for suffix in ("", "-wal"))


def tree_size(path: Path) -> int:
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


__all__ = ["usage", "tree_size", "file_size", "database_size"]
