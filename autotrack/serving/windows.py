"""A closed serving window: its record, its drift against the training data, and what it sends
on (an alert when drift or schema changes appear, metrics on a monitoring run for MLflow)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autotrack.session import Session

_REFERENCE_RETRY_S = 60.0  # a model with no reference yet (its training not imported) is looked up again


def window_record(window, served, host: str, pid: int) -> dict:
    """The record written for `window`: counts, latency quantiles, the profiles as sketches."""
    import numpy

    from autotrack.serving.profile import profile_of

    seconds = numpy.asarray(window.latencies, dtype=float)
    latency = _latency_summary(seconds)
    latency_profile = profile_of([("seconds", seconds, "float64")]) if len(seconds) else None
    return {
        "id": window.id, "model": served.fingerprint, "model_class": served.model_class,
        "host": host, "pid": pid, "start": window.start, "end": window.end,
        "calls": dict(window.calls), "rows": window.rows, "errors": window.errors,
        "unprofiled_calls": window.unprofiled_calls, "latency": latency, "latency_profile": latency_profile,
        "inputs": window.inputs.to_dict(),
        "predictions": {method: builder.to_dict() for method, builder in window.predictions.items()},
        "sample": window.sample, "ids_kept": len(window.ids), "metrics": window.metrics,
        **({"mode": "shadow", "shadow": served.shadow_stats.take()} if served.shadow_stats is not None else {}),
    }


def _latency_summary(values) -> dict:
    if not len(values):
        return {}
    import numpy

    p50, p95, p99 = numpy.quantile(values, [0.5, 0.95, 0.99])
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99), "mean": float(values.mean()),
            "max": float(values.max())}


def reference_of(session: Session, served) -> dict | None:
    """The training run and reference profiles of `served`'s model, read from the store once
    (again after a minute when there was none: the training run may be imported later)."""
    cached = served.reference
    if cached is not None and (cached.get("run_id") or time.monotonic() - cached["looked"] < _REFERENCE_RETRY_S):
        return cached if cached.get("run_id") else None
    from autotrack.serving.queries import reference_for
    from autotrack.stores.reader import StoreError, StoreReader

    found = None
    try:
        reader = StoreReader(session.settings.dir)
    except StoreError:
        reader = None
    if reader is not None:
        try:
            found = reference_for(reader, served.fingerprint)
        finally:
            reader.close()
    served.reference = dict(found or {}, looked=time.monotonic())
    return found


def check_window(session: Session, served, record: dict) -> None:
    """Drift and schema changes against the training data, kept in the record; an alert when a
    feature drifted or the schema changed; metrics on the monitoring run when MLflow is on."""
    from autotrack.serving.drift import compare_profiles, has_schema_changes, schema_changes

    reference = reference_of(session, served)
    settings = session.settings
    if reference is not None:
        record["run_id"] = reference["run_id"]
        profiles = reference["profiles"]
        if profiles.get("inputs") and record["inputs"].get("rows"):
            drift = compare_profiles(profiles["inputs"], record["inputs"], settings.drift_alpha,
                                     settings.drift_min_effect)
            record["drift"] = _compact(drift)
            record["schema"] = schema_changes(profiles["inputs"], record["inputs"])
        predicted = record["predictions"].get("predict")
        if profiles.get("predictions") and predicted and predicted.get("rows"):
            record["prediction_drift"] = _compact(compare_profiles(
                profiles["predictions"], predicted, settings.drift_alpha, settings.drift_min_effect))
        if record.get("drift", {}).get("drifted") or has_schema_changes(record.get("schema") or {}):
            session.notifier.serving_changed(reference, record)
    if record.get("metrics"):
        from autotrack.serving.realised import check

        check(session, record["model"], record["id"], record["start"], record["metrics"], reference)
    if session.export_backends():
        from autotrack.serving.monitor import log_window

        log_window(session, served, reference, record)


def _compact(drift: dict) -> dict:
    """The statistics of each column, without what is the same for all."""
    keep = ("test", "p_value", "effect", "psi", "jensen_shannon", "wasserstein", "statistic", "drifted",
            "unseen_categories", "note")
    return {"drifted": drift["drifted"], "tested": drift["tested"], "alpha": drift["alpha"],
            "min_effect": drift["min_effect"],
            "columns": {name: {k: v for k, v in result.items() if k in keep and v is not None}
                        for name, result in drift["columns"].items()}}


__all__ = ["window_record", "check_window", "reference_of"]
