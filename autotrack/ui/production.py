"""The dashboard's production pages: served models, and one model's traffic, drift map and
distributions (reference against serving), built from serving/queries.py."""

from __future__ import annotations

from autotrack.serving import queries
from autotrack.serving.profile import merge_profiles, summarise_column
from autotrack.stores.reader import iso_time
from autotrack.ui.charts import finite, label

DRIFT_MAP_WINDOWS = 48  # the latest windows shown as columns of the drift map


def models_view(reader) -> list[dict]:
    return queries.served_models(reader)


def model_view(reader, model: str, alpha: float, min_effect: float, feature: str | None = None) -> dict | None:
    """Everything the model page shows; None when the store never saw this model served."""
    windows = queries.windows(reader, model)
    if not windows:
        return None
    reference = queries.reference_for(reader, model)
    run = None if reference is None else {key: reference[key] for key in ("run_id", "run_name", "experiment")}
    report = queries.drift_report(reader, reference["run_id"], alpha, min_effect) if reference else None
    view = {"model": model, "model_class": windows[-1].get("model_class") or "", "run": run,
            "windows": len(windows), "calls": sum(sum(w.get("calls", {}).values()) for w in windows),
            "rows": sum(w.get("rows", 0) for w in windows), "errors": sum(w.get("errors", 0) for w in windows),
            "first": iso_time(windows[0]["start"]), "last": iso_time(windows[-1]["end"]),
            "hosts": sorted({w.get("host") or "" for w in windows}),
            "traffic": traffic_figures(windows), "drift_map": None, "features": [], "feature": None,
            "distribution": [], "schema": None, "realised": [], "alpha": alpha, "min_effect": min_effect}
    if report and report.get("windows"):
        view["drift_map"] = drift_map(report["windows"][-DRIFT_MAP_WINDOWS:])
        overall = report.get("overall") or {}
        view["features"] = [{"name": name, **result, "since": report["features"].get(name, {}).get("since")}
                            for name, result in (overall.get("columns") or {}).items()]
        view["schema"] = overall.get("schema")
        view["realised"] = report.get("realised") or []
        names = [entry["name"] for entry in view["features"]]
        chosen = feature if feature in names else next(
            (entry["name"] for entry in view["features"] if entry["drifted"]), names[0] if names else None)
        if chosen is not None:
            served = merge_profiles([w["inputs"] for w in windows])
            view["feature"] = chosen
            view["distribution"] = distribution_figures(chosen, reference["profiles"]["inputs"]["columns"][chosen],
                                                        served["columns"].get(chosen))
    return view


def traffic_figures(windows: list[dict]) -> list[dict]:
    """Rows and calls per window, and latency quantiles, over time."""
    x = [_local(w["start"]) for w in windows]
    rows = {"type": "bar", "name": "rows", "x": x, "y": [w.get("rows", 0) for w in windows]}
    calls = {"type": "scatter", "mode": "lines+markers", "name": "calls", "x": x,
             "y": [sum(w.get("calls", {}).values()) for w in windows], "yaxis": "y2"}
    latency = [{"type": "scatter", "mode": "lines+markers", "name": f"{q} (ms)", "x": x,
                "y": [finite((w.get("latency") or {}).get(q, float("nan")) * 1000) for w in windows]}
               for q in ("p50", "p95", "p99")]
    return [
        {"title": "traffic", "data": [rows, calls],
         "layout": {"title": {"text": "traffic per window"}, "yaxis": {"title": {"text": "rows"}},
                    "yaxis2": {"title": {"text": "calls"}, "overlaying": "y", "side": "right"}}},
        {"title": "latency", "data": latency,
         "layout": {"title": {"text": "latency per call"}, "yaxis": {"title": {"text": "ms"}}}},
    ]


def drift_map(entries: list[dict]) -> dict:
    """Feature x window: each cell the change's size (normalised Wasserstein or Jensen-Shannon),
    marked where the feature drifted; the shade grows with the size, capped at 1."""
    names = list(dict.fromkeys(name for entry in entries for name in (entry.get("columns") or {})))
    rows = []
    for name in names:
        cells = []
        for entry in entries:
            result = (entry.get("columns") or {}).get(name)
            if result is None:
                cells.append(None)
                continue
            effect = result.get("effect") or 0.0
            cells.append({"effect": effect, "drifted": bool(result.get("drifted")), "p_value": result.get("p_value"),
                          "shade": min(effect, 1.0)})
        rows.append({"name": name, "cells": cells})
    return {"windows": [{"id": e["id"], "start": e["start"], "rows": e["rows"]} for e in entries], "rows": rows}


def distribution_figures(name: str, reference: dict, served: dict | None) -> list[dict]:
    """One figure: the reference's distribution against what was served (quantile curves for
    numbers, shares of each category for categories)."""
    if served is None:
        return []
    ref, cur = summarise_column(reference), summarise_column(served)
    if reference["kind"] == "numeric":
        from autotrack.serving.profile import kll_of

        levels = [i / 50 for i in range(1, 50)]
        traces = []
        for title, column in (("training", reference), ("serving", served)):
            if column["count"]:
                kll = kll_of(column)
                traces.append({"type": "scatter", "mode": "lines", "name": title,
                               "x": [finite(kll.get_quantile(q)) for q in levels], "y": levels})
        layout = {"title": {"text": label(f"{name}: cumulative share")},
                  "xaxis": {"title": {"text": label(name)}}, "yaxis": {"title": {"text": "share of rows"}}}
        return [{"title": name, "data": traces, "layout": layout}]
    categories = list(dict.fromkeys([item for item, _ in [*ref.get("top", []), *cur.get("top", [])]]))
    traces = []
    for title, summary in (("training", ref), ("serving", cur)):
        counts = dict(summary.get("top", []))
        total = summary["count"] or 1
        traces.append({"type": "bar", "name": title, "x": [label(c) for c in categories],
                       "y": [counts.get(c, 0) / total for c in categories]})
    layout = {"title": {"text": label(f"{name}: share of rows")}, "barmode": "group",
              "xaxis": {"type": "category"}, "yaxis": {"title": {"text": "share of rows"}}}
    return [{"title": name, "data": traces, "layout": layout}]


def _local(timestamp: float) -> str:
    """A plotly date axis: local time, as the pages show times."""
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


__all__ = ["models_view", "model_view", "traffic_figures", "drift_map", "distribution_figures"]
