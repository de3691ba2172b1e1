"""Which way is better for a metric: maximised, minimised, or none (not a quality measure).

A metric's goal comes from whoever knows it, in this order: the framework integration that logged
it (LightGBM and XGBoost know each eval metric's direction, a Keras or Lightning monitor has a
`mode`, a scikit-learn scorer a sign), the user's `metric_goals` setting, and last the metric's
name. The first two are stored with the series; the name is read when nothing else is known.
"""

from __future__ import annotations

import fnmatch
import re

MAX, MIN, NONE = "max", "min", "none"
GOALS = (MAX, MIN, NONE)
ARROWS = {MAX: "↑", MIN: "↓", NONE: ""}
LABELS = {MAX: "↑ max", MIN: "↓ min", NONE: "none"}  # a goal in a table cell (show, the dashboard)

# Words of a metric name that mean lower is better: losses, errors, distances.
_LOWER_IS_BETTER = frozenset({
    "loss", "losses", "error", "errors", "err", "merror", "rmse", "mse", "mae", "mape", "smape",
    "rmsle", "msle", "medae", "mdae", "l1", "l2", "logloss", "mlogloss", "nloglik", "deviance",
    "hinge", "huber", "brier", "perplexity", "distance", "wer", "cer", "regret", "mphe", "rank",
    "quantile", "poisson", "gamma", "tweedie", "cross_entropy", "binary_logloss", "multi_logloss",
    "multi_error", "binary_error", "xentropy", "xentlambda", "kullback_leibler", "fair",
})
# Words that mean higher is better: scores, accuracies, areas under curves.
_HIGHER_IS_BETTER = frozenset({
    "score", "accuracy", "acc", "auc", "aucpr", "roc", "f1", "fbeta", "precision", "recall", "r2",
    "map", "ndcg", "pre", "ap", "iou", "dice", "bleu", "rouge", "jaccard", "kappa", "mcc",
    "specificity", "sensitivity", "tpr", "tnr", "explained", "variance_score", "balanced", "top",
    "average_precision", "d2", "coverage", "likelihood",
})
# Words that say the number describes the run rather than its quality: spreads, counts,
# positions in training, rates of the optimiser, timings.
_NOT_A_QUALITY = frozenset({
    "std", "stdv", "stddev", "var", "iteration", "iterations", "iter", "epoch", "epochs", "step",
    "steps", "count", "counts", "n", "num", "lr", "learning", "momentum", "time", "times",
    "seconds", "s", "ms", "duration", "latency", "per", "folds", "fold", "samples", "trees",
    "resources", "memory", "bytes",
})


def guess_goal(key: str) -> str:
    """The goal a metric's name suggests: `rank_test_score` min, `std_test_score` none,
    `valid.auc` max, `val_loss` min, `best_iteration` none, `neg_mean_squared_error` max, an
    unknown name none (compare marks no best, `--best` asks for --max or --min)."""
    words = [word for word in re.split(r"[^a-z0-9]+", str(key).lower()) if word]
    if not words:
        return NONE
    if any(word in _NOT_A_QUALITY for word in words) or words[-1].endswith(("_s", "count")):
        return NONE
    if "neg" in words:  # scikit-learn negates errors so that higher is better
        return MAX
    if "rank" in words:  # rank_test_score: 1 is the best
        return MIN
    if any(word in _LOWER_IS_BETTER for word in words):
        return MIN
    if any(word in _HIGHER_IS_BETTER or word.startswith(("ndcg", "map", "pre", "auc")) for word in words):
        return MAX
    return NONE


def goal_from_setting(key: str, metric_goals: dict | None) -> str | None:
    """The user's `metric_goals` setting for `key`: an exact name first, then fnmatch patterns."""
    if not metric_goals:
        return None
    metric_goals = dict(metric_goals)  # the setting holds (pattern, goal) pairs
    if key in metric_goals:
        return metric_goals[key]
    for pattern, goal in metric_goals.items():
        if fnmatch.fnmatchcase(key, pattern):
            return goal
    return None


def parse_goal(value) -> str:
    """`max`/`maximize`/`higher`, `min`/`minimize`/`lower`, `none`: one of GOALS; ValueError else."""
    text = str(value).strip().lower()
    if text in ("max", "maximize", "maximise", "higher", "up"):
        return MAX
    if text in ("min", "minimize", "minimise", "lower", "down"):
        return MIN
    if text in ("none", "", "n/a"):
        return NONE
    raise ValueError(f"{value!r} is not a metric goal (use max, min or none)")


def best_value(values, goal: str):
    """The best of finite `values` for `goal`; None when the goal is none or nothing is finite."""
    if goal not in (MAX, MIN):
        return None
    finite = [value for value in values if is_finite(value)]
    if not finite:
        return None
    return max(finite) if goal == MAX else min(finite)


def is_finite(value) -> bool:
    """A real number that is not NaN or ±inf (a bool is not a metric value)."""
    import math

    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


__all__ = ["MAX", "MIN", "NONE", "GOALS", "ARROWS", "LABELS", "guess_goal", "goal_from_setting", "parse_goal",
           "best_value", "is_finite"]
