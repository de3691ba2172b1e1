"""Learning curves from a run's metric history: which series to draw together, and few enough
points to draw (the store keeps every point; a screen shows a couple of thousand)."""

from __future__ import annotations

import re

# `val_loss`, `train_accuracy`, `test_f1`: Keras, Lightning and scikit-learn's cv_results_ names.
_PREFIXED = re.compile(r"^(train|training|val|valid|validation|test|eval)_(.+)$")
_VALIDATION = re.compile(r"^(val|valid|validation|eval|test|holdout|dev)", re.IGNORECASE)
_TRAINING = re.compile(r"^(train|training)", re.IGNORECASE)


def split_key(key: str) -> tuple[str, str]:
    """(set, metric) of a metric key: `valid_0.l2` -> (valid_0, l2), `val_loss` -> (val, loss),
    `cv.test_accuracy` -> (cv test, accuracy), `loss` -> ("", loss)."""
    head, dot, rest = key.partition(".")
    if dot and rest:
        prefixed = _PREFIXED.match(rest)
        if prefixed:
            return f"{head} {prefixed.group(1)}", prefixed.group(2)
        return head, rest
    prefixed = _PREFIXED.match(key)
    if prefixed:
        return prefixed.group(1), prefixed.group(2)
    return "", key


def role(key: str) -> str:
    """`train`, `validation` or `other`: how a curve is labelled and styled."""
    data_set, _ = split_key(key)
    last = data_set.split(" ")[-1] if data_set else "train"  # Keras: `loss` beside `val_loss`
    if _VALIDATION.match(last):
        return "validation"
    if _TRAINING.match(last):
        return "train"
    return "other"


def group_curves(history: dict[str, list]) -> list[dict]:
    """Series with more than one point, grouped by metric so that train and validation overlay:
    [{"title": "l2", "keys": ["training.l2", "valid_0.l2"]}, ...], in the order first seen."""
    groups: dict[str, list[str]] = {}
    for key, points in history.items():
        if len(points) > 1:
            groups.setdefault(split_key(key)[1], []).append(key)
    return [{"title": title, "keys": keys} for title, keys in groups.items()]


def downsample(points: list, limit: int = 2000) -> list:
    """At most about `limit` [step, value] points, keeping each bucket's first, lowest and highest
    point so that spikes (and the NaN gaps, as None) survive; fewer points are returned as they are."""
    if limit < 4 or len(points) <= limit:
        return list(points)
    buckets = limit // 3
    size = len(points) / buckets
    out: list = []
    for index in range(buckets):
        bucket = points[int(index * size):int((index + 1) * size)]
        if not bucket:
            continue
        values = [point for point in bucket if point[1] is not None]
        chosen = {id(bucket[0]): bucket[0]}
        if len(values) < len(bucket):  # a NaN in the bucket: keep one, so the line shows a gap
            gap = next(point for point in bucket if point[1] is None)
            chosen[id(gap)] = gap
        if values:
            low = min(values, key=_value)
            high = max(values, key=_value)
            chosen[id(low)] = low
            chosen[id(high)] = high
        out.extend(sorted(chosen.values(), key=_step))
    if out[-1] is not points[-1]:
        out.append(points[-1])
    return out


def _value(point) -> float:
    return point[1]


def _step(point) -> float:
    return point[0]


__all__ = ["split_key", "role", "group_curves", "downsample"]
