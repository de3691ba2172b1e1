"""A model's fingerprint: a digest of what it learned, the same for the model fit returned and for
the copy another process loads from the user's pickle, joblib or framework file.

Integrations answer `autotrack_model_fingerprint` for models whose own format says what they
learned (a LightGBM or XGBoost booster's trees, a Keras model's weights, a torch module's state
dict). Any other Python object gets `canonical_digest`: its state walked in a fixed order, arrays
by dtype, shape and bytes. The pickle's own bytes would not do: unpickling changes how shared
objects are memoised, so a reloaded HistGradientBoosting or Pipeline pickles to other bytes.
"""

from __future__ import annotations

import hashlib
import types

_MAX_DEPTH = 40
_SCALARS = (type(None), bool, int, float, complex, str, bytes)


def canonical_digest(model) -> str | None:
    """A hex digest of `model`'s state, or None when it holds what cannot be walked."""
    digest = hashlib.sha256()
    try:
        _feed(digest, model, 0, set())
    except RecursionError:
        return None
    return digest.hexdigest()[:32]


def _feed(digest, value, depth: int, active: set) -> None:
    update = digest.update
    if depth > _MAX_DEPTH:
        update(b"<deep>")
        return
    if isinstance(value, _SCALARS):
        update(type(value).__name__.encode() + b":" + repr(value).encode() + b";")
        return
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type, types.MethodType)):
        update(b"callable:" + _qualified(value).encode() + b";")  # never repr: it holds an address
        return
    if id(value) in active:  # a cycle
        update(b"<cycle>")
        return
    array = _as_array(value)
    if array is not None:
        update(f"array:{array.dtype.str}:{array.shape};".encode())
        if array.dtype.kind == "O":
            active.add(id(value))
            for item in array.ravel().tolist():
                _feed(digest, item, depth + 1, active)
            active.discard(id(value))
        elif array.dtype.names:  # a structured array: field by field, never its padding bytes
            for name in array.dtype.names:
                update(name.encode() + b"=" + array[name].tobytes(order="C"))
        else:
            update(array.tobytes(order="C"))
        return
    active.add(id(value))
    try:
        if isinstance(value, dict):
            update(b"dict{")
            for key in sorted(value, key=repr):
                _feed(digest, key, depth + 1, active)
                _feed(digest, value[key], depth + 1, active)
            update(b"}")
        elif isinstance(value, (list, tuple, set, frozenset)):
            items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
            update(type(value).__name__.encode() + b"[")
            for item in items:
                _feed(digest, item, depth + 1, active)
            update(b"]")
        else:
            update(b"object:" + _qualified(type(value)).encode() + b"(")
            _feed(digest, _state_of(value), depth + 1, active)
            update(b")")
    finally:
        active.discard(id(value))


def _as_array(value):
    """A numpy array (or numpy scalar) as an array; anything else None. numpy is not imported
    here: a value can only be numpy's when numpy is loaded."""
    if type(value).__module__ != "numpy" or not hasattr(value, "dtype"):
        return None
    import numpy

    return numpy.asarray(value)


def _state_of(value):
    """What pickle would save of `value`: its reduce arguments and state, without the memo."""
    getstate = getattr(value, "__getstate__", None)
    try:
        reduced = value.__reduce_ex__(4)
    except Exception:
        reduced = None
    if isinstance(reduced, tuple) and len(reduced) >= 2 and not _is_default_reduce(reduced):
        return tuple(reduced[1:3])
    if getstate is not None:
        try:
            return getstate()
        except Exception:
            pass
    return getattr(value, "__dict__", None)


def _is_default_reduce(reduced) -> bool:
    """copyreg's reconstructor for plain objects: their state is what counts, not the class."""
    constructor = reduced[0]
    return getattr(constructor, "__name__", "") in ("__newobj__", "_reconstructor", "__newobj_ex__")


def _qualified(value) -> str:
    return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', type(value).__name__)}"


def model_fingerprint(hook, model) -> str | None:
    """The plugins' answer for `model` (the core's canonical digest comes last)."""
    return hook.autotrack_model_fingerprint(model=model)


__all__ = ["canonical_digest", "model_fingerprint"]
