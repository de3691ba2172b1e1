"""What the run and compare pages show, computed from run dicts: tables' rows and charts' figures."""

from __future__ import annotations

import math

from autotrack.curves import downsample
from autotrack.terminal import duration, flat, long_time, number, text
from autotrack.ui.charts import (CURVE_POINTS, curve_figures, importance_figures, metric_bar_figures,
                                 overlaid_curve_figures)

CHILD_METRIC_COLUMNS = 4
CHILD_PARAM_COLUMNS = 6


def metric_rows(history: dict[str, list], goals: dict | None = None) -> list[dict]:
    """Goal, latest, best (for the goal), min, max and point count of each metric, over every
    stored point."""
    from autotrack.metric_goals import LABELS, best_value

    rows = []
    for key, points in history.items():
        values = [value for _, value in points if isinstance(value, (int, float)) and math.isfinite(value)]
        goal = (goals or {}).get(key)
        best = best_value(values, goal)
        rows.append({"key": key, "goal": LABELS.get(goal, ""), "latest": number(points[-1][1]) if points else "",
                     "best": number(best) if best is not None else "",
                     "min": number(min(values)) if values else "",
                     "max": number(max(values)) if values else "", "points": len(points)})
    return rows


def live_view(run: dict) -> dict:
    """`/api/runs/<id>`: the run with each series downsampled, plus what the live page redraws."""
    return {**{key: value for key, value in run.items() if key != "history_times"},
            "history": {key: downsample(points, CURVE_POINTS) for key, points in run["history"].items()},
            "points": {key: len(points) for key, points in run["history"].items()},
            "duration_text": duration(run["duration_s"]),
            "end_time_text": long_time(run.get("end_time")) or "",
            "charts": curve_figures(run["history"], run.get("history_times")),
            "metric_rows": metric_rows(run["history"], run.get("goals"))}


def run_view(run: dict, children: list[dict]) -> dict:
    """Everything the run page lays out, besides the run dict itself."""
    child_keys: dict[str, int] = {}
    for child in children:
        for key in child["metrics"]:
            child_keys[key] = child_keys.get(key, 0) + 1
    metric_columns = sorted(child_keys, key=lambda key: (-child_keys[key], key))[:CHILD_METRIC_COLUMNS]
    children, ranked_by = _best_first(children, metric_columns)
    return {
        "metric_rows": metric_rows(run["history"], run.get("goals")),
        "curves": curve_figures(run["history"], run.get("history_times")),
        "importances": importance_figures(run["importances"]),
        "timings": [(key, _timing(key, value)) for key, value in flat(run["timings"]).items()],
        "context": context_rows(run["context"]),
        "packages": sorted((run["context"].get("packages") or {}).items()),
        "children": children,
        "children_by": ranked_by,
        "child_params": _varied_params(children),
        "child_metrics": metric_columns,
        "params": [(key, text(value)) for key, value in run["params"].items()],
    }


def _best_first(children: list[dict], metric_keys: list[str]) -> tuple[list[dict], str | None]:
    """A search's candidates by rank (`rank_test_score`: 1 first), as scikit-learn ranks them;
    other children as they came."""
    ranks = [key for key in metric_keys if key.startswith("rank_")]
    if not ranks:
        ranks = [key for key in {key for child in children for key in child["metrics"]} if key.startswith("rank_")]
    if not ranks:
        return children, None
    key = sorted(ranks)[0]
    ranked = sorted(children, key=lambda child: (child["metrics"].get(key) is None, child["metrics"].get(key) or 0))
    return ranked, key


def _varied_params(children: list[dict]) -> list[str]:
    """The params whose values differ among the children: what a search tuned."""
    values: dict[str, set] = {}
    for child in children:
        for key, value in child.get("params", {}).items():
            values.setdefault(key, set()).add(text(value))
    return sorted(key for key, seen in values.items() if len(seen) > 1)[:CHILD_PARAM_COLUMNS]


def context_rows(context: dict) -> list[tuple[str, str]]:
    """Where and how the run ran, one (label, text) a line; packages get their own table."""
    rows = []
    git = context.get("git")
    if git:
        state = " (dirty: uncommitted changes)" if git.get("dirty") else ""
        rows += [("git commit", f"{git.get('commit') or ''}{state}"), ("git branch", git.get("branch") or ""),
                 ("git remote", git.get("remote") or ""), ("git root", git.get("root") or "")]
    elif "git" in context:
        rows.append(("git", "not a git repository"))
    python = context.get("python") or {}
    if python:
        rows.append(("python", f"{python.get('implementation') or ''} {python.get('version') or ''} "
                               f"({python.get('executable') or ''})".strip()))
    for key in ("platform", "machine", "host", "user", "pid", "cwd", "script", "module"):
        if context.get(key) not in (None, ""):
            rows.append((key, text(context[key])))
    if context.get("argv"):
        rows.append(("argv", " ".join(text(arg) for arg in context["argv"])))
    for key, value in (context.get("env") or {}).items():
        rows.append((f"env {key}", text(value)))
    notebook = context.get("notebook")
    if isinstance(notebook, dict):
        rows.append(("notebook", f"{notebook.get('path') or '(unknown path)'}, {notebook.get('cells')} cells run"
                                 " (their code: executed_cells.ipynb)"))
    process = context.get("process")
    if isinstance(process, dict):
        rows.append(("process", _process_text(process)))
    known = {"git", "python", "platform", "machine", "host", "user", "pid", "cwd", "script", "module",
             "argv", "env", "packages", "notebook", "process"}
    for key, value in context.items():  # sections added by plugins
        if key not in known:
            rows.append((key, text(value)))
    return rows


def _process_text(process: dict) -> str:
    """`failed at 2026-12-03 13:01:15 UTC after this run: OSError: disk full`."""
    from datetime import datetime, timezone

    outcome = process.get("outcome") or "unknown"
    ended = process.get("ended")
    when = ""
    if isinstance(ended, (int, float)):
        when = " at " + (long_time(datetime.fromtimestamp(ended, timezone.utc).isoformat()) or "")
    error = f": {process['error']}" if process.get("error") else ""
    return f"the script {outcome}{when}{error}"


def compare_view(comparison: dict, runs: list[dict]) -> dict:
    """The compare page's charts and the best marks of its metrics table."""
    return {
        "bars": metric_bar_figures(comparison),
        "curves": overlaid_curve_figures(runs),
        "metric_cells": {key: [{"text": number(value), "best": index in metric["best"]}
                               for index, value in enumerate(metric["values"])]
                         for key, metric in comparison["metrics"].items()},
    }


def _timing(key: str, value) -> str:
    if isinstance(value, float) and key.endswith("_s"):
        return f"{value:.4g}s"
    return text(value)


__all__ = ["metric_rows", "live_view", "run_view", "context_rows", "compare_view"]
