"""Fill a store with many realistic runs, fast: the 10,000-run store that benchmarks/ui.py reads.

Rows go straight into SQLite through autotrack's own connect(), which creates the schema of
autotrack/stores/local.py, so the store is exactly what tracked scripts would have written:
searches with children, failed runs, a few `running` runs whose process is gone, params, tags,
~5 metrics with a few points each, datasets, context, timings, exports; and one run with a long
training history (`points` points over training/valid loss and accuracy).

    python benchmarks/fill_store.py DIR [--runs 10000] [--points 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import sys
import time
import uuid
from pathlib import Path

from autotrack.stores.local import connect, store_dir

_EXPERIMENTS = ["churn", "fraud", "pricing", "ranking", "forecast", "images", "text", "baseline"]
_MODELS = ["RandomForestClassifier", "LGBMClassifier", "XGBClassifier", "LogisticRegression",
           "GradientBoostingRegressor", "Pipeline", "Ridge", "MLP"]
_METRICS = ["training_accuracy", "training_f1", "training_log_loss", "valid_0.auc", "valid_0.binary_logloss",
            "training_roc_auc", "training_precision"]
_PACKAGES = {f"package{i}": f"{i}.{i % 7}.{i % 3}" for i in range(60)}  # a context's usual bulk
_DEAD_PID = 2 ** 22 - 7  # beyond Linux's default pid_max: never a live process


def fill_store(directory, runs: int = 10_000, points_run: str | None = None, points: int = 100_000,
               seed: int = 0, curve_runs: int = 0, curve_points: int = 0) -> dict:
    """Write `runs` runs (one of them, id `points_run`, with `points` metric points) into the store
    at `directory`; `curve_runs` of the others get a learning curve too (training and valid loss
    and accuracy, `curve_points` points in all). Returns {"runs": n, "points_run": id, "seconds": s,
    "points": total points}."""
    started = time.perf_counter()
    rng = random.Random(seed)
    conn = connect(store_dir(str(directory)), create=True)
    conn.execute("PRAGMA synchronous = OFF")  # a benchmark fixture: durability does not matter
    host = socket.gethostname()
    now = time.time()
    points_run = points_run or uuid.UUID(int=rng.getrandbits(128)).hex
    tables: dict[str, list] = {name: [] for name in ("runs", "params", "tags", "series", "metrics",
                                                       "datasets", "exports")}
    series_id = _next_series_id(conn)
    made = 0
    while made < runs:
        # About one run in ten is a search: a parent with 4 to 12 candidate children.
        family = 1 + (rng.randint(4, 12) if rng.random() < 0.1 else 0)
        family = min(family, runs - made)
        parent = None
        experiment = rng.choice(_EXPERIMENTS)
        start = now - rng.uniform(0, 60 * 86400)
        for member in range(family):
            run_id = points_run if made == 0 else uuid.UUID(int=rng.getrandbits(128)).hex
            run_start = start + member * 0.5
            _add_run(tables, rng, run_id, experiment, parent, run_start, host, family > 1 and member == 0)
            for key in rng.sample(_METRICS, 5):
                series_id += 1
                tables["series"].append((series_id, run_id, key))
                for step in range(rng.randint(1, 4)):
                    tables["metrics"].append((series_id, step, rng.random(), run_start + step))
            if made and made <= curve_runs:
                series_id = _add_long_history(tables, run_id, curve_points, series_id, run_start)
            if len(tables["metrics"]) > 2_000_000:  # written as it goes: a 10 M point store fits in memory
                _insert(conn, tables)
            if member == 0 and family > 1:
                parent = run_id
            made += 1
    series_id = _add_long_history(tables, points_run, points, series_id, now)
    _insert(conn, tables)
    total = conn.execute("SELECT count(*) FROM metrics").fetchone()[0]
    conn.close()
    return {"runs": runs, "points_run": points_run, "seconds": round(time.perf_counter() - started, 2),
            "points": total}


def _add_run(tables, rng, run_id, experiment, parent, start, host, is_search) -> None:
    roll = rng.random()
    status, error, end, pid = "finished", None, start + rng.uniform(0.05, 600), None
    if roll < 0.05:
        status, error = "failed", "ValueError: Input X contains NaN."
    elif roll < 0.06:
        status, end, pid = "running", None, _DEAD_PID  # its process is gone: read as killed
    model = "GridSearchCV" if is_search else rng.choice(_MODELS)
    name = f"{model} #{rng.randint(0, 99)}" if parent else model
    context = {"python": {"version": "3.12.3"}, "host": host, "user": "me", "script": f"/home/me/{experiment}.py",
               "git": {"commit": f"{rng.getrandbits(160):040x}", "branch": "main", "dirty": roll < 0.3},
               "packages": _PACKAGES}
    timings = {"fit_s": rng.uniform(0.01, 60), "predict": {"count": 3, "total_s": 0.03, "mean_s": 0.01,
                                                          "p50_s": 0.01, "p95_s": 0.012}}
    tables["runs"].append((run_id, experiment, name, status, parent, "child" if parent else "auto", start, end,
                           error, pid, host if pid else None, None, json.dumps(context),
                           json.dumps(timings), "{}"))
    params = {"max_depth": rng.randint(2, 12), "n_estimators": rng.choice([50, 100, 200, 500]),
              "learning_rate": round(rng.uniform(0.01, 0.3), 3), "random_state": 0}
    params.update({f"param_{i}": rng.choice(["auto", "none", 1, 0.5, True]) for i in range(12)})
    tables["params"] += [(run_id, key, json.dumps(value)) for key, value in params.items()]
    tables["tags"] += [(run_id, "model.class", model), (run_id, "team", rng.choice(["a", "b"]))]
    for role, rows in (("train.X", 8000), ("train.y", 8000)):
        description = {"role": role, "name": role[-1] + "_train", "rows": rows,
                       "columns": 20 if role.endswith("X") else 1, "fingerprint": f"{rng.getrandbits(128):032x}"}
        tables["datasets"].append((run_id, role, description["name"], description["fingerprint"],
                                   json.dumps(description)))
    if rng.random() < 0.1:
        tables["exports"].append((run_id, "mlflow", json.dumps({"remote_id": uuid.uuid4().hex}), "done"))


def _add_long_history(tables, run_id, points, series_id, now) -> int:
    keys = ["training.loss", "valid.loss", "training.accuracy", "valid.accuracy"]
    steps = max(points // len(keys), 1)
    for index, key in enumerate(keys):
        series_id += 1
        tables["series"].append((series_id, run_id, key))
        falling = "loss" in key
        tables["metrics"] += [
            (series_id, step, (1 / (1 + step / 500) if falling else 1 - 0.5 / (1 + step / 500)) + index * 0.01,
             now + step * 0.01)
            for step in range(steps)]
    return series_id


def _next_series_id(conn) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) FROM series").fetchone()[0]


def _insert(conn, tables) -> None:
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO runs (id, experiment, name, status, parent_id, source, start_time, end_time,"
                     " error, pid, host, proc_token, context, timings, importances)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tables["runs"])
    conn.executemany("INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)", tables["params"])
    conn.executemany("INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)", tables["tags"])
    conn.executemany("INSERT INTO series (id, run_id, key) VALUES (?, ?, ?)", tables["series"])
    conn.executemany("INSERT INTO metrics (series, step, value, timestamp) VALUES (?, ?, ?, ?)",
                     tables["metrics"])
    conn.executemany("INSERT INTO datasets (run_id, role, name, fingerprint, description)"
                     " VALUES (?, ?, ?, ?, ?)", tables["datasets"])
    conn.executemany("INSERT INTO exports (run_id, backend, state, status) VALUES (?, ?, ?, ?)",
                     tables["exports"])
    conn.execute("COMMIT")
    for rows in tables.values():
        rows.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="store directory (created; runs are added to what is there)")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=100_000, help="metric points of the long run")
    parser.add_argument("--curve-runs", type=int, default=0, help="other runs that get a learning curve")
    parser.add_argument("--curve-points", type=int, default=0, help="points of each of those curves")
    args = parser.parse_args(argv)
    if Path(args.directory, "runs.db").exists():
        print(f"note: adding to the existing store in {args.directory}", file=sys.stderr)
    print(json.dumps(fill_store(args.directory, runs=args.runs, points=args.points, curve_runs=args.curve_runs,
                                curve_points=args.curve_points)))
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["fill_store"]
