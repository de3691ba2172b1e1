"""Plotly figures (data and layout, as JSON-ready dicts) for the run and compare pages."""

from __future__ import annotations

import html
import math

from autotrack.curves import downsample, group_curves, role

CURVE_POINTS = 2000  # points per series sent to the browser; the store keeps every one
TOP_FEATURES = 30
_DASH = {"train": "dot", "validation": "solid", "other": "dash"}
_BETTER = {"min": "lower is better", "max": "higher is better", "none": "not a quality measure"}
# plotly's own colours; on the compare page a run keeps one colour, its data sets differ by dash.
_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf"]


def label(text) -> str:
    """Text for plotly: it reads a few HTML tags in labels, so `<` `>` `&` go as entities and a
    run named `<b>x</b>` shows those characters instead of bold text."""
    return html.escape("" if text is None else str(text), quote=False)


def curve_figures(history: dict[str, list], times: dict[str, list] | None = None) -> list[dict]:
    """One figure per metric group (train and validation overlaid), x = step, each series downsampled.
    With `times` (history_times), each figure's `wall` holds every trace's seconds since the run's
    first point, for the page's "x: wall time" option."""
    start = _first_time(times)
    figures = []
    for group in group_curves(history):
        traces, wall = [], []
        for key in group["keys"]:
            points = downsample(_with_times(history[key], (times or {}).get(key)), CURVE_POINTS)
            traces.append({"type": "scatter", "mode": "lines", "name": label(key),
                           "x": [point[0] for point in points], "y": [finite(point[1]) for point in points],
                           "line": {"dash": _DASH[role(key)]}})
            wall.append(_seconds(points, start))
        figure = {"title": group["title"], "data": traces, "layout": _curve_layout(group["title"], traces)}
        if times is not None:
            figure["wall"] = wall
        figures.append(figure)
    return figures


def _with_times(points: list, times: list | None) -> list:
    """[step, value, time] points when the times match the history, else the points as they are."""
    if times is None or len(times) != len(points):
        return points
    return [[step, value, when] for (step, value), when in zip(points, times)]


def _first_time(times: dict[str, list] | None) -> float | None:
    firsts = [values[0] for values in (times or {}).values() if values and values[0] is not None]
    return min(firsts) if firsts else None


def _seconds(points: list, start: float | None) -> list:
    return [round(point[2] - start, 3) if start is not None and len(point) > 2 and point[2] is not None else None
            for point in points]


def importance_figures(importances: dict[str, dict]) -> list[dict]:
    """A horizontal bar chart per importance kind: the top features by magnitude, largest on top."""
    figures = []
    for kind, values in importances.items():
        top = sorted(values.items(), key=lambda item: -abs(finite(item[1]) or 0))[:TOP_FEATURES]
        top.reverse()  # plotly draws the first bar at the bottom
        figures.append({
            "title": kind,
            "data": [{"type": "bar", "orientation": "h", "name": label(kind),
                      "x": [finite(value) for _, value in top], "y": [label(feature) for feature, _ in top]}],
            "layout": {"title": {"text": label(f"importance ({kind})")}, "height": 140 + 22 * len(top),
                       "margin": {"l": 140, "r": 20, "t": 48, "b": 40}, "showlegend": False,
                       "yaxis": {"automargin": True, "type": "category"}},
        })
    return figures


def metric_bar_figures(comparison: dict) -> list[dict]:
    """Compare page: for each metric, one bar per run (the best ones highlighted)."""
    names = [label(run_name(run)) for run in comparison["runs"]]
    figures = []
    for key, metric in comparison["metrics"].items():
        colors = ["#2f9e44" if index in metric["best"] else "#868e96" for index in range(len(names))]
        values = [finite(value) for value in metric["values"]]
        yaxis, note = _close_values_axis(values)
        figures.append({
            "title": key,
            "data": [{"type": "bar", "x": names, "y": values, "marker": {"color": colors}, "name": label(key)}],
            "layout": {"title": {"text": label(f"{key} ({_BETTER.get(metric['goal'], '')}){note}")},
                       "xaxis": {"type": "category"}, "yaxis": yaxis, "showlegend": False},
        })
    return figures


CLOSE_VALUES = 0.2  # bars whose spread is under this share of their size do not start at zero


def _close_values_axis(values: list) -> tuple[dict, str]:
    """A y axis around the values when they are close (0.912 and 0.915 would be two equal bars from
    zero), said in the title; from zero otherwise."""
    present = [value for value in values if isinstance(value, (int, float))]
    if len(present) < 2:
        return {}, ""
    low, high = min(present), max(present)
    size = max(abs(low), abs(high))
    if low * high <= 0 or size == 0 or high - low >= CLOSE_VALUES * size:
        return {}, ""
    pad = (high - low) * 0.5 or size * 0.01
    bottom, top = low - pad, high + pad
    # never across zero: the bars keep their side
    return {"range": [max(bottom, 0.0) if low > 0 else bottom, min(top, 0.0) if high < 0 else top]}, \
        " · axis not from zero"


def overlaid_curve_figures(runs: list[dict]) -> list[dict]:
    """Compare page: one figure per metric group, a line per run and data set; each run's
    `history_times`, when given, makes the figure's `wall` (seconds since that run's first point)."""
    groups: dict[str, list[str]] = {}
    for run in runs:
        for group in group_curves(run["history"]):
            keys = groups.setdefault(group["title"], [])
            keys.extend(key for key in group["keys"] if key not in keys)
    figures = []
    timed = all("history_times" in run for run in runs)
    for title, keys in groups.items():
        traces, wall = [], []
        for index, run in enumerate(runs):
            color = _PALETTE[index % len(_PALETTE)]
            times = run.get("history_times") or {}
            for key in keys:
                points = downsample(_with_times(run["history"].get(key) or [], times.get(key)), CURVE_POINTS)
                if len(points) > 1:
                    traces.append({"type": "scatter", "mode": "lines",
                                   "name": label(f"{run_name(run)} {key}"),
                                   "x": [point[0] for point in points],
                                   "y": [finite(point[1]) for point in points],
                                   "line": {"dash": _DASH[role(key)], "color": color}})
                    wall.append(_seconds(points, _first_time(times)))
        figure = {"title": title, "data": traces, "layout": _curve_layout(title, traces)}
        if timed:
            figure["wall"] = wall
        figures.append(figure)
    return figures


def _curve_layout(title: str, traces: list[dict]) -> dict:
    """Steps (epochs, iterations) are whole numbers: plotly's own ticks for a short run would
    be 0, 0.5, 1, ..., so up to 10 steps get a tick per step, longer runs integer-formatted ones."""
    last = max((max(trace["x"], default=0) for trace in traces), default=0)
    axis = {"title": {"text": "step"}, "tickformat": "d"}
    if last <= 10:
        axis.update(tickmode="linear", tick0=0, dtick=1)
    return {"title": {"text": label(title)}, "xaxis": axis}


def run_name(run: dict) -> str:
    """How a run is named in a legend or on an axis: its short id (unique) and its name."""
    return f"{run['id'][:8]} {run.get('name') or ''}".strip()


def finite(value):
    """JSON has no NaN or infinity: plotly gets a gap (null) there."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


__all__ = ["CURVE_POINTS", "TOP_FEATURES", "label", "curve_figures", "importance_figures",
           "metric_bar_figures", "overlaid_curve_figures", "run_name", "finite"]
