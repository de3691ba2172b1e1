"""Turn hyperparameters of any type into flat, JSON-safe, redacted values."""

from __future__ import annotations

import json
import math
import os
import re

from autotrack.capture.redact import MASK, is_secret_name, redact_url
from autotrack.safety import warn_once

MAX_VALUE_CHARS = 2_000  # longer values are cut (a huge list, a big repr) with a warning
_SCALARS = (bool, int, float, str, type(None))


def json_safe(value, _depth: int = 0):
    """A JSON-safe stand-in for `value`: scalars as they are, numpy scalars as Python ones, small
    arrays and lists/dicts recursively, NaN/inf as strings, functions and classes as their
    qualified names, estimators and other objects as their repr."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf": JSON has no NaN, and None would hide that it was set
    if isinstance(value, _SCALARS):
        return value
    if _depth > _MAX_DEPTH:  # a structure that contains itself, or absurdly deep
        return _repr(value)
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item) and getattr(value, "ndim", None) == 0:
        try:
            return json_safe(item(), _depth + 1)
        except Exception:  # an object whose item() is something else
            pass
    if isinstance(value, (list, tuple)):
        return [json_safe(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}".lstrip(".")
    if _is_small_array(value):  # class weights, priors, layer sizes given as a numpy array
        try:
            return json_safe(value.tolist(), _depth + 1)
        except Exception:  # a tolist() that is not numpy's
            pass
    described = _describe_object(value)
    return described if described is not None else _repr(value)


def _describe_object(value) -> str | None:
    """Objects whose repr is a memory address, told by what they are: a frozen scipy distribution
    by its family and parameters (`loguniform(0.001, 10)`), numpy's random state by its kind (its
    seed is not kept by numpy)."""
    kind = type(value)
    module = kind.__module__ or ""
    if module.startswith("scipy.stats") and hasattr(value, "dist") and hasattr(value, "args"):
        name = getattr(value.dist, "name", type(value.dist).__name__)
        arguments = [_short(argument) for argument in value.args]
        arguments += [f"{key}={_short(argument)}" for key, argument in (getattr(value, "kwds", None) or {}).items()]
        return f"{name}({', '.join(arguments)})"
    if module.startswith("numpy.random"):
        if kind.__name__ == "RandomState":
            return "RandomState"
        bit_generator = getattr(value, "bit_generator", None)
        if bit_generator is not None:
            return f"{kind.__name__}({type(bit_generator).__name__})"
    return None


def _short(value) -> str:
    safe = json_safe(value, _MAX_DEPTH)
    return safe if isinstance(safe, str) else json.dumps(safe)


_MAX_DEPTH = 20
_MAX_ARRAY_ITEMS = 1_000


def _is_small_array(value) -> bool:
    size = getattr(value, "size", None)
    return (callable(getattr(value, "tolist", None)) and isinstance(getattr(value, "ndim", None), int)
            and isinstance(size, int) and size <= _MAX_ARRAY_ITEMS)


# ` at 0x7f3a...`: an address differs from run to run and says nothing about the value.
_ADDRESS = re.compile(r" (?:object )?at 0x[0-9a-fA-F]+")


def _repr(value) -> str:
    """One line, without memory addresses: `<Foo object at 0x7f..>` becomes `<Foo>`."""
    try:
        text = repr(value)
    except Exception:
        return f"<{type(value).__name__}>"
    if "\n" in text:
        text = " ".join(text.split())
    return _ADDRESS.sub("", text) if " at 0x" in text else text


# `name=value` inside a repr (`Client(api_token='abc')`): the value of a secret-looking name.
_ASSIGNMENT_IN_TEXT = re.compile(
    r"""\b(?P<name>[A-Za-z_]\w*)\s*=\s*(?P<value>'[^']*'|"[^"]*"|[^\s,)\]}]+)""")


def _mask_assignment(match: re.Match) -> str:
    if not is_secret_name(match.group("name")):
        return match.group(0)
    return f"{match.group('name')}={MASK}"


def _redact_text(text: str) -> str:
    text = redact_url(text)
    return _ASSIGNMENT_IN_TEXT.sub(_mask_assignment, text) if "=" in text else text


def _redact(value):
    """Mask credentials inside a JSON-safe value: URL passwords and secret-named `name=value`
    assignments (an estimator's repr shows its params so) in every string, and the values of dict
    keys that look like secrets."""
    if isinstance(value, str):
        return _redact_text(value)
    if isinstance(value, list):
        return [_redact(v) for v in value]
    if isinstance(value, dict):
        return {k: MASK if is_secret_name(k) else _redact(v) for k, v in value.items()}
    return value


def param_value_text(key: str, value) -> str:
    """The stored form of one parameter: JSON text, redacted, cut to MAX_VALUE_CHARS."""
    if is_secret_name(key):
        return json.dumps(MASK)
    safe = _redact(json_safe(value))
    text = json.dumps(safe, ensure_ascii=False, default=str)
    if len(text) > MAX_VALUE_CHARS:
        warn_once(f"param-size:{key}", "parameter %r is %d characters; storing the first %d",
                  key, len(text), MAX_VALUE_CHARS)
        text = json.dumps(text[:MAX_VALUE_CHARS] + "...", ensure_ascii=False)
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
