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


def curve_figures(history: dict[str, list]) -> list[dict]:
    """One figure per metric group (train and validation overlaid), x = step, each series downsampled."""
    figures = []
    for group in group_curves(history):
        traces = []
        for key in group["keys"]:
            points = downsample(history[key], CURVE_POINTS)
            traces.append({"type": "scatter", "mode": "lines", "name": label(key),
                           "x": [point[0] for point in points], "y": [finite(point[1]) for point in points],
                           "line": {"dash": _DASH[role(key)]}})
        figures.append({"title": group["title"], "data": traces, "layout": _curve_layout(group["title"], traces)})
    return figures


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
        figures.append({
            "title": key,
            "data": [{"type": "bar", "x": names, "y": [finite(value) for value in metric["values"]],
                      "marker": {"color": colors}, "name": label(key)}],
            "layout": {"title": {"text": label(f"{key} ({_BETTER.get(metric['goal'], '')})")},
                       "xaxis": {"type": "category"}, "showlegend": False},
        })
    return figures


def overlaid_curve_figures(runs: list[dict]) -> list[dict]:
    """Compare page: one figure per metric group, a line per run and data set."""
    groups: dict[str, list[str]] = {}
    for run in runs:
        for group in group_curves(run["history"]):
            keys = groups.setdefault(group["title"], [])
            keys.extend(key for key in group["keys"] if key not in keys)
    figures = []
    for title, keys in groups.items():
        traces = []
        for index, run in enumerate(runs):
            color = _PALETTE[index % len(_PALETTE)]
            for key in keys:
                points = downsample(run["history"].get(key) or [], CURVE_POINTS)
                if len(points) > 1:
                    traces.append({"type": "scatter", "mode": "lines",
                                   "name": label(f"{run_name(run)} {key}"),
                                   "x": [point[0] for point in points],
                                   "y": [finite(point[1]) for point in points],
                                   "line": {"dash": _DASH[role(key)], "color": color}})
        figures.append({"title": title, "data": traces, "layout": _curve_layout(title, traces)})
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
