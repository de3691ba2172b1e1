"""A served model's monitoring run, for the backends runs are exported to (MLflow): one run per
model and serving process, its metrics one step per window, tagged with the training run's id,
so that a team's central server sees traffic, latency and drift beside the training run."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autotrack.session import Session

SOURCE = "serving"
TRAINING_RUN_TAG = "autotrack.serving.training_run_id"
MODEL_TAG = "autotrack.serving.model"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-/ ]")  # MLflow's metric names allow these characters only


def log_window(session: Session, served, reference: dict | None, record: dict) -> None:
    run = served.monitor
    if run is None:
        short = served.model_class.rsplit(".", 1)[-1]
        run = served.monitor = session.new_run(f"serving {short}", SOURCE,
                                               experiment=(reference or {}).get("experiment"))
        run.set_tags({MODEL_TAG: served.fingerprint, "model.class": served.model_class,
                      TRAINING_RUN_TAG: (reference or {}).get("run_id") or ""})
    metrics = {"serving.calls": float(sum(record["calls"].values())), "serving.rows": float(record["rows"]),
               "serving.errors": float(record["errors"])}
    for name, value in record.get("latency", {}).items():
        metrics[f"serving.latency_{name}_ms"] = value * 1000
    for key, value in record.get("metrics", {}).items():  # the served model's score, accuracy_score, ...
        metrics[f"realised.{_UNSAFE.sub('_', key)}"] = value
    drift = record.get("drift")
    if drift:
        metrics["drift.features_drifted"] = float(len(drift["drifted"]))
        for column, result in drift["columns"].items():
            name = _UNSAFE.sub("_", column)
            for statistic in ("psi", "jensen_shannon", "wasserstein"):
                if result.get(statistic) is not None:
                    metrics[f"drift.{name}.{statistic}"] = float(result[statistic])
    if record.get("prediction_drift"):
        metrics["drift.predictions_drifted"] = float(bool(record["prediction_drift"]["drifted"]))
    run.log_metrics(metrics, step=served.windows_closed)


def end_monitors(served_models) -> None:
    for served in served_models:
        if served.monitor is not None and served.monitor.end_time is None:
            served.monitor.end()


__all__ = ["log_window", "end_monitors", "SOURCE", "TRAINING_RUN_TAG"]
