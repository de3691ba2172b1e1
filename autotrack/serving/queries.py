"""Reading production records back: served models, their windows, drift and realised metrics.

Every function takes a `StoreReader` (read-only). A store written before version 5 has none of
the production tables: it answers with nothing served rather than an error.
"""

from __future__ import annotations

import json
import math
import sqlite3

from autotrack.serving.drift import compare_profiles, schema_changes
from autotrack.serving.profile import merge_profiles, summarise_column
from autotrack.stores.reader import iso_time  # times leave as ISO 8601 in UTC, as runs' do


def _rows(reader, sql: str, args=()) -> list:
    try:
        return reader.fetch(sql, args)
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise


def reference_for(reader, fingerprint: str | None) -> dict | None:
    """The newest training run whose model has this fingerprint: `{run_id, run_name, experiment,
    profiles}`; None for a model nobody tracked."""
    if not fingerprint:
        return None
    rows = _rows(reader, "SELECT r.run_id, r.profiles, runs.name, runs.experiment FROM model_references r"
                         " LEFT JOIN runs ON runs.id = r.run_id WHERE r.fingerprint = ?"
                         " ORDER BY r.created DESC LIMIT 1", (fingerprint,))
    if not rows:
        return None
    run_id, profiles, name, experiment = rows[0]
    return {"run_id": run_id, "run_name": name, "experiment": experiment, "profiles": json.loads(profiles)}


def fingerprint_of_run(reader, run_id: str) -> str | None:
    """The fingerprint of the model `run_id` fitted (its training reference), or None."""
    rows = _rows(reader, "SELECT fingerprint FROM model_references WHERE run_id = ?", (run_id,))
    return rows[0][0] if rows else None


def reference_of_run(reader, run_id: str) -> dict | None:
    rows = _rows(reader, "SELECT fingerprint, profiles FROM model_references WHERE run_id = ?", (run_id,))
    if not rows:
        return None
    return {"fingerprint": rows[0][0], "profiles": json.loads(rows[0][1])}


def windows(reader, model: str, since: float | None = None) -> list[dict]:
    sql = "SELECT body FROM serving_windows WHERE model = ?"
    args: list = [model]
    if since is not None:
        sql += " AND end >= ?"
        args.append(since)
    return [json.loads(row[0]) for row in _rows(reader, sql + " ORDER BY start", args)]


def served_models(reader, since: float | None = None) -> list[dict]:
    """One entry per model served: where, how much, since when, its training run (or none)."""
    sql = ("SELECT model, max(model_class), min(start), max(end), sum(calls), sum(rows), sum(errors),"
           " count(*), group_concat(DISTINCT host), count(DISTINCT host || ':' || pid)"
           " FROM serving_windows" + (" WHERE end >= ?" if since is not None else "") +
           " GROUP BY model ORDER BY max(end) DESC")
    out = []
    for model, model_class, first, last, calls, rows, errors, count, hosts, processes in \
            _rows(reader, sql, (since,) if since is not None else ()):
        reference = reference_for(reader, model)
        latest = windows(reader, model)[-1:]
        latest = latest[0] if latest else {}
        out.append({
            "model": model, "model_class": model_class, "first": iso_time(first), "last": iso_time(last),
            "calls": calls,
            "rows": rows, "errors": errors, "windows": count, "hosts": sorted((hosts or "").split(",")),
            "processes": processes,
            "run": None if reference is None else {key: reference[key] for key in ("run_id", "run_name",
                                                                                  "experiment")},
            "latency": latest.get("latency", {}),
            "drifted": (latest.get("drift") or {}).get("drifted", []),
        })
    return out


def models_of_run(reader, run_id: str) -> list[str]:
    """The fingerprints served that belong to `run_id`'s model."""
    reference = reference_of_run(reader, run_id)
    if reference is None or not reference["fingerprint"]:
        return []
    return [reference["fingerprint"]] if _rows(reader, "SELECT 1 FROM serving_windows WHERE model = ? LIMIT 1",
                                                (reference["fingerprint"],)) else []


def drift_report(reader, run_id: str, alpha: float, min_effect: float, since: float | None = None) -> dict:
    """Drift of every feature and of the predictions, per window and over the whole period, for
    the model of `run_id` (and where the reference is missing, say so)."""
    reference = reference_of_run(reader, run_id)
    report: dict = {"run_id": run_id, "alpha": alpha, "min_effect": min_effect, "windows": [],
                    "overall": None, "features": {}, "model": None, "reference_rows": None}
    if reference is None:
        report["error"] = "this run has no training-data reference (fitted before autotrack 0.1's serving records, " \
                          "or with serving=off)"
        return report
    fingerprint, profiles = reference["fingerprint"], reference["profiles"]
    report["model"] = fingerprint
    inputs_reference = profiles.get("inputs") or {}
    report["reference_rows"] = inputs_reference.get("rows")
    served = windows(reader, fingerprint, since)
    for window in served:
        entry = {"id": window["id"], "start": iso_time(window["start"]), "end": iso_time(window["end"]),
                 "rows": window["rows"], "calls": sum(window.get("calls", {}).values()), "host": window.get("host"),
                 "metrics": window.get("metrics") or {}}
        if inputs_reference and window["inputs"].get("rows"):
            drift = compare_profiles(inputs_reference, window["inputs"], alpha, min_effect)
            entry["drifted"] = drift["drifted"]
            entry["columns"] = _statistics(drift)
            entry["schema"] = schema_changes(inputs_reference, window["inputs"])
        predicted = window.get("predictions", {}).get("predict")
        if profiles.get("predictions") and predicted and predicted.get("rows"):
            entry["prediction_drift"] = _statistics(compare_profiles(profiles["predictions"], predicted,
                                                                     alpha, min_effect))
        report["windows"].append(entry)
    if served:
        merged_inputs = merge_profiles([w["inputs"] for w in served])
        overall: dict = {"rows": merged_inputs["rows"] if merged_inputs else 0}
        if inputs_reference and merged_inputs and merged_inputs.get("rows"):
            drift = compare_profiles(inputs_reference, merged_inputs, alpha, min_effect)
            overall.update(drifted=drift["drifted"], columns=_statistics(drift),
                           schema=schema_changes(inputs_reference, merged_inputs))
        merged_predictions = merge_profiles([w.get("predictions", {}).get("predict") for w in served])
        if profiles.get("predictions") and merged_predictions:
            overall["prediction_drift"] = _statistics(compare_profiles(profiles["predictions"],
                                                                       merged_predictions, alpha, min_effect))
        report["overall"] = overall
        report["features"] = _since(report["windows"])
    report["realised"] = realised_metrics(reader, fingerprint)
    return report


def _statistics(drift: dict) -> dict:
    return {name: {key: _finite(value) for key, value in result.items() if key != "threshold_p"}
            for name, result in drift["columns"].items()}


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _since(entries: list[dict]) -> dict:
    """Per feature: drifted in the latest window, and since which window it has been without a break."""
    features: dict = {}
    for entry in entries:
        for name, result in (entry.get("columns") or {}).items():
            state = features.setdefault(name, {"drifted": False, "since": None, "windows_drifted": 0})
            if result.get("drifted"):
                state["windows_drifted"] += 1
                if not state["drifted"]:
                    state["since"] = entry["start"]
                state["drifted"] = True
            else:
                state["drifted"], state["since"] = False, None
    return features


def realised_metrics(reader, fingerprint: str) -> list[dict]:
    """Per window: the predictions whose label arrived (`log_labels`), and how right they were:
    accuracy for classes, MAE and RMSE for numbers."""
    rows = _rows(reader, "SELECT p.window_id, p.prediction, l.label, w.start FROM serving_predictions p"
                         " JOIN serving_labels l ON l.id = p.id LEFT JOIN serving_windows w ON w.id = p.window_id"
                         " WHERE p.model = ? ORDER BY w.start", (fingerprint,))
    by_window: dict = {}
    for window_id, prediction, label, start in rows:
        by_window.setdefault((start or 0, window_id), []).append((json.loads(prediction), json.loads(label)))
    out = []
    for (start, window_id), pairs in sorted(by_window.items(), key=lambda item: item[0][0]):
        out.append({"window": window_id, "start": iso_time(start) if start else None, "labelled": len(pairs),
                    **_score(pairs)})
    return out


def _score(pairs: list[tuple]) -> dict:
    numeric = all(isinstance(p, (int, float)) and isinstance(t, (int, float)) and not isinstance(p, bool)
                  for p, t in pairs)
    classes = numeric and all(float(p).is_integer() and float(t).is_integer() for p, t in pairs)
    if numeric and not classes:
        errors = [float(p) - float(t) for p, t in pairs]
        return {"mae": sum(abs(e) for e in errors) / len(errors),
                "rmse": math.sqrt(sum(e * e for e in errors) / len(errors))}
    return {"accuracy": sum(str(p) == str(t) if not numeric else float(p) == float(t) for p, t in pairs) / len(pairs)}


def window_starts(reader, window_ids: list[str]) -> dict[str, float]:
    """Window id -> its start (a Unix time)."""
    starts: dict[str, float] = {}
    ids = list(dict.fromkeys(window_ids))
    for begin in range(0, len(ids), 500):
        chunk = ids[begin:begin + 500]
        starts.update(_rows(reader, f"SELECT id, start FROM serving_windows WHERE id IN ({','.join('?' * len(chunk))})",
                            chunk))
    return starts


def profile_summary(profile: dict | None) -> dict:
    """Each column's readable summary (counts, quantiles, top categories)."""
    if not profile:
        return {}
    return {name: summarise_column(column) for name, column in profile.get("columns", {}).items()}


__all__ = ["reference_for", "reference_of_run", "fingerprint_of_run", "windows", "served_models", "drift_report",
           "realised_metrics", "profile_summary", "models_of_run"]
