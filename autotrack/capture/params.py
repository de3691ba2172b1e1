"""Turn hyperparameters of any type into flat, JSON-safe, redacted values."""

from __future__ import annotations

import json
import math

from autotrack.capture.redact import MASK, is_secret_name, redact_url
from autotrack.safety import warn_once

MAX_VALUE_CHARS = 2_000  # longer values are cut (a huge list, a big repr) with a warning
_SCALARS = (bool, int, float, str, type(None))


def json_safe(value):
    """A JSON-safe stand-in for `value`: scalars as they are, numpy scalars as Python ones,
    lists/dicts recursively, NaN/inf as strings, estimators and other objects as their repr."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf": JSON has no NaN, and None would hide that it was set
    if isinstance(value, _SCALARS):
        return value
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item) and getattr(value, "ndim", None) == 0:
        try:
            return json_safe(item())
        except Exception:  # an object whose item() is something else
            pass
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}".lstrip(".")
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__}>"


def param_value_text(key: str, value) -> str:
    """The stored form of one parameter: JSON text, redacted, cut to MAX_VALUE_CHARS."""
    if is_secret_name(key):
        return json.dumps(MASK)
    safe = json_safe(value)
    if isinstance(safe, str):
        safe = redact_url(safe)
    text = json.dumps(safe, ensure_ascii=False, default=str)
    if len(text) > MAX_VALUE_CHARS:
        warn_once(f"param-size:{key}", "parameter %r is %d characters; storing the first %d",
                  key, len(text), MAX_VALUE_CHARS)
        text = json.dumps(text[:MAX_VALUE_CHARS] + "...")
    return text


def flatten(params: dict, prefix: str = "") -> dict:
    """{"a": {"b": 1}} -> {"a.b": 1}; keys already flat (scikit-learn's `step__param`) stay."""
    flat = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and all(isinstance(k, str) for k in value):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


__all__ = ["json_safe", "param_value_text", "flatten", "MAX_VALUE_CHARS"]
