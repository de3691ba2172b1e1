"""Which of a run's metrics says how good its model is on data it did not train on, and whether one
version is worse than another by it (the metric's goal decides)."""

from __future__ import annotations

import math

# Metric names a validation score goes by, best first: the frameworks' own (`valid_0.auc`,
# `val_loss`, `validation_0.logloss`) and the user's (`test_accuracy`, `eval_f1`, `holdout_rmse`).
_VALIDATION_WORDS = ("valid", "val_", "val.", "test", "eval", "holdout")
_TRAINING_WORDS = ("training", "train")


def validation_metrics(run: dict) -> list[str]:
    """The run's metrics measured on held-out data, the likeliest validation metric first; the
    training metrics autotrack computes (`training_*`) and a fit's own training set are left out."""
    goals = run.get("goals") or {}
    keys = [key for key, value in (run.get("metrics") or {}).items()
            if goals.get(key) in ("max", "min") and isinstance(value, (int, float)) and math.isfinite(value)
            and not key.lower().startswith(_TRAINING_WORDS)]

    def rank(key: str) -> int:
        lowered = key.lower()
        return next((index for index, word in enumerate(_VALIDATION_WORDS) if word in lowered),
                    len(_VALIDATION_WORDS))

    return sorted(keys, key=rank)


def shared_metric(candidate: dict, holder: dict, metric: str | None = None) -> str | None:
    """The metric to compare two runs by: `metric` when both have it, else the first validation
    metric of the candidate's that the holder has too; None when they share none."""
    if metric:
        return metric if metric in (candidate.get("metrics") or {}) and metric in (holder.get("metrics") or {}) \
            else None
    theirs = set(validation_metrics(holder))
    return next((key for key in validation_metrics(candidate) if key in theirs), None)


def is_worse(candidate: dict, holder: dict, key: str) -> bool:
    goal = candidate["goals"].get(key) or holder["goals"].get(key)
    mine, theirs = candidate["metrics"][key], holder["metrics"][key]
    return (mine < theirs) if goal == "max" else (mine > theirs) if goal == "min" else False


__all__ = ["validation_metrics", "shared_metric", "is_worse"]
