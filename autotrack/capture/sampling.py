"""Bounded, evenly spaced row samples, copied so later changes to the user's data cannot leak in."""

from __future__ import annotations


def evenly_spaced_rows(data, limit: int):
    """At most `limit` rows of `data` taken at a fixed stride (deterministic, covers all of it).

    None for data that is not array-like (a framework's own dataset type): nothing to sample.
    """
    if data is None:
        return None
    rows = _row_count(data)
    if rows is None:
        return None
    step = max(1, -(-rows // max(1, limit)))  # ceiling division
    if hasattr(data, "iloc"):  # pandas
        return data.iloc[::step].copy()
    if hasattr(data, "tocsr"):  # scipy sparse
        return data.tocsr()[::step].copy()
    import numpy

    array = numpy.asarray(data)
    if array.ndim == 0:  # numpy wrapped an arbitrary object: it has no rows to take
        return None
    return numpy.array(array[::step], copy=True)


def _row_count(data) -> int | None:
    shape = getattr(data, "shape", None)
    if shape:
        return int(shape[0])
    try:
        return len(data)
    except TypeError:
        return None
