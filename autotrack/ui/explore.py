"""The explore page: how params drive a metric over an experiment, a search's candidates or any
query's runs, as parallel coordinates (params → metric) and a param-vs-metric scatter whose
brushing and selection filter the table below them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from autotrack.query import where_sql
from autotrack.query.sql import SERIES_LATEST_SQL
from autotrack.stores.reader import UNLISTED_SOURCES, stored_value
from autotrack.terminal import text

MAX_RUNS = 5000  # lines the browser draws; the newest runs when more match
MAX_PARAMS = 12  # axes of the params that vary most
MAX_METRICS = 12


@dataclass(frozen=True)
class ExploreQuery:
    experiment: str | None = None
    parent: str | None = None  # a search: its candidates
    filter: str = ""
    metric: str | None = None
    runs: tuple[str, ...] = ()  # runs picked on the runs page (ids or unique prefixes): compared here

    @classmethod
    def from_params(cls, params) -> "ExploreQuery":
        return cls(experiment=params.get("experiment") or None, parent=params.get("parent") or None,
                   filter=(params.get("filter") or "").strip(), metric=params.get("metric") or None,
                   runs=tuple(part.strip() for part in (params.get("runs") or "").split(",") if part.strip()))


def explore_data(conn: sqlite3.Connection, query: ExploreQuery, goal_of) -> dict:
    """{runs, params, metrics, metric, goal, total, error}: `goal_of(key)` gives a metric's goal."""
    data = {"runs": [], "params": [], "metrics": [], "metric": None, "goal": None, "total": 0, "error": None,
            "ranked_by": None}
    try:
        condition, args = where_sql(query.filter)
    except ValueError as exc:
        data["error"] = str(exc)
        return data
    clauses, arguments = [condition], list(args)
    if query.runs:
        # ids or prefixes: a prefix matches the ids that start with it
        clauses.append("(" + " OR ".join("(r.id >= ? AND r.id < ?)" for _ in query.runs) + ")")
        arguments += [bound for run_id in query.runs for bound in (run_id.lower(), run_id.lower() + "\uffff")]
    elif query.parent:
        clauses.append("r.parent_id = ?")
        arguments.append(query.parent)
    else:
        clauses.append("(r.source IS NULL OR r.source NOT IN (?, ?))")
        arguments += list(UNLISTED_SOURCES)
    if query.experiment:
        clauses.append("r.experiment = ?")
        arguments.append(query.experiment)
    where = " AND ".join(clauses)
    data["total"] = conn.execute(f"SELECT count(*) FROM runs r WHERE {where}", arguments).fetchone()[0]
    rows = conn.execute(f"SELECT r.id, r.name, r.status FROM runs r WHERE {where} "
                        f"ORDER BY r.start_time DESC, r.rowid DESC LIMIT {MAX_RUNS}", arguments).fetchall()
    runs = {run_id: {"id": run_id, "name": name or "", "status": status, "params": {}, "metrics": {}}
            for run_id, name, status in rows}
    if not runs:
        return data
    ids = list(runs)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for run_id, key, value in conn.execute(
                f"SELECT run_id, key, value FROM params WHERE run_id IN ({marks})", chunk):
            runs[run_id]["params"][key] = stored_value(value)
        for run_id, key, value in conn.execute(
                f"SELECT s.run_id, s.key, {SERIES_LATEST_SQL} FROM series s WHERE s.run_id IN ({marks})", chunk):
            runs[run_id]["metrics"][key] = value
    listed = list(runs.values())
    data["params"] = _varied_params(listed)
    data["metrics"] = _common_metrics(listed)
    chosen = query.metric if query.metric in data["metrics"] else _default_metric(data["metrics"], goal_of)
    data["metric"], data["goal"] = chosen, goal_of(chosen) if chosen else None
    kept = set(data["params"]) | set(data["metrics"])
    for run in listed:
        run["params"] = {key: _plain(value) for key, value in run["params"].items() if key in kept}
        run["metrics"] = {key: value for key, value in run["metrics"].items() if key in kept}
    rank = next((key for key in data["metrics"] if key.startswith("rank_")), None)
    if rank:  # a search's candidates by scikit-learn's rank: 1 first
        listed.sort(key=lambda run: (run["metrics"].get(rank) is None, run["metrics"].get(rank) or 0))
        data["ranked_by"] = rank
    elif chosen and data["goal"] in ("max", "min"):
        listed.sort(key=lambda run: (run["metrics"].get(chosen) is None,
                                     -(run["metrics"].get(chosen) or 0) if data["goal"] == "max"
                                     else run["metrics"].get(chosen) or 0))
    data["runs"] = listed
    return data


def _varied_params(runs: list[dict]) -> list[str]:
    """Params whose values differ among the runs (what was tuned), the most varied first."""
    seen: dict[str, set] = {}
    for run in runs:
        for key, value in run["params"].items():
            seen.setdefault(key, set()).add(text(value))
    varied = [key for key, values in seen.items() if len(values) > 1]
    return sorted(varied, key=lambda key: (-len(seen[key]), key))[:MAX_PARAMS]


def _common_metrics(runs: list[dict]) -> list[str]:
    counts: dict[str, int] = {}
    for run in runs:
        for key, value in run["metrics"].items():
            if value is not None:
                counts[key] = counts.get(key, 0) + 1
    return sorted(counts, key=lambda key: (-counts[key], key))[:MAX_METRICS]


def _default_metric(metrics: list[str], goal_of) -> str | None:
    """A quality measure people tune for: validation before training, a score before a rank."""
    quality = [key for key in metrics if goal_of(key) in ("max", "min") and not key.startswith(("rank_", "std_"))]
    validation = [key for key in quality if not key.startswith("training_")]
    return (validation or quality or metrics or [None])[0]


def _plain(value):
    """Numbers stay numbers (a numeric axis); anything else is its text (a category)."""
    if isinstance(value, bool) or value is None:
        return text(value)
    if isinstance(value, (int, float)):
        return value
    return text(value)


__all__ = ["ExploreQuery", "explore_data", "MAX_RUNS"]
