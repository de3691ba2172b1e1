"""Realised performance checks: the `realised_alerts` setting's conditions (`accuracy<0.8`,
`rmse>12`, `score.*<0.7`) against a served model's realised metrics, one `serving_realised` alert
per model, window and metric when one holds."""

from __future__ import annotations

import math
import re
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autotrack.session import Session

_CONDITION = re.compile(r"^\s*([^<>]+?)\s*([<>])\s*(-?[0-9.eE+-]+)\s*$")
_ALERTED: set[tuple] = set()  # (model, window, metric): once each in this process


def parse_conditions(texts) -> list[tuple[str, str, float]]:
    """`["accuracy<0.8", "rmse>12"]` as (pattern, "<" or ">", threshold); what does not parse is
    left out with one warning."""
    from autotrack.safety import warn_once

    conditions = []
    for text in texts:
        match = _CONDITION.match(text)
        if match is None:
            warn_once(f"realised-alert:{text}", "realised_alerts: %r is not `metric<number` or "
                      "`metric>number`; ignored", text)
            continue
        conditions.append((match.group(1), match.group(2), float(match.group(3))))
    return conditions


def breached(metrics: dict, conditions: list[tuple[str, str, float]]) -> list[tuple[str, float, str]]:
    """The (metric, value, condition text) of each condition a metric breaks."""
    found = []
    for key, value in metrics.items():
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        for pattern, sign, threshold in conditions:
            if fnmatchcase(key, pattern) and (value < threshold if sign == "<" else value > threshold):
                found.append((key, float(value), f"{pattern}{sign}{threshold:g}"))
    return found


def check(session: Session, model: str, window: str, start: float, metrics: dict,
          reference: dict | None) -> None:
    """Alert once per model, window and metric whose value breaks a `realised_alerts` condition."""
    conditions = parse_conditions(session.settings.realised_alerts)
    if not conditions or not metrics:
        return
    for key, value, condition in breached(metrics, conditions):
        seen = (model, window, key)
        if seen in _ALERTED:
            continue
        _ALERTED.add(seen)
        session.notifier.realised_below(reference or {}, model, window, start, key, value, condition)


def check_labels(session: Session, labels: dict) -> None:
    """After `log_labels`: the predictions kept under these ids (serving_id_column), scored per
    model and window on these labels, checked against `realised_alerts`."""
    if not session.settings.realised_alerts:
        return
    from autotrack.serving.queries import _score, reference_for, window_starts
    from autotrack.stores.reader import StoreError, StoreReader

    try:
        reader = StoreReader(session.settings.dir)
    except StoreError:
        return
    try:
        pairs: dict[tuple, list] = {}
        ids = list(labels)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for model, identifier, window, prediction in reader.fetch(
                    "SELECT model, id, window_id, prediction FROM serving_predictions WHERE id IN "
                    f"({','.join('?' * len(chunk))})", chunk):
                import json

                pairs.setdefault((model, window), []).append((json.loads(prediction), labels[identifier]))
        starts = window_starts(reader, [window for _model, window in pairs])
        for (model, window), scored in pairs.items():
            check(session, model, window, starts.get(window) or 0.0, _score(scored), reference_for(reader, model))
    finally:
        reader.close()


__all__ = ["parse_conditions", "breached", "check", "check_labels"]
