"""Bounded, evenly spaced row samples, copied so later changes to the user's data cannot leak in."""

from __future__ import annotations

from collections.abc import Iterator


def evenly_spaced_rows(data, limit: int):
    """At most `limit` rows of `data` taken at a fixed stride (deterministic, covers all of it).

    Data whose rows cannot be taken (a framework's own dataset type) is returned as it is, for that
    framework's plugin to handle; None for a one-shot iterator, which fit has already consumed.
    """
    if data is None or lives_elsewhere(data):
        return None
    rows = row_count(data)
    if rows is None:
        return None if isinstance(data, Iterator) else data
    step = max(1, -(-rows // max(1, limit)))  # ceiling division
    if hasattr(data, "iloc"):  # pandas
        return data.iloc[::step].copy()
    if hasattr(data, "tocsr"):  # scipy sparse
        return data.tocsr()[::step].copy()
    if isinstance(data, (list, tuple)):  # texts, dicts, token lists: keep them as the model saw them
        return data[::step]
    import numpy

    try:
        array = numpy.asarray(data)
    except (TypeError, ValueError):  # rows numpy cannot line up (ragged)
        return data
    if array.ndim == 0:  # numpy wrapped an arbitrary object: it has no rows to take
        return data
    return numpy.array(array[::step], copy=True)


def lives_elsewhere(data) -> bool:
    """A lazy, distributed collection (one implementing Dask's collection protocol: Dask's arrays
    and DataFrames, xarray's): its rows are computed on a cluster, perhaps read from storage
    first. Nothing of autotrack's pulls them into this process: no sample, no profile."""
    return hasattr(type(data), "__dask_graph__")


def row_count(data) -> int | None:
    """Rows of an array, DataFrame or sequence (its shape's first, else its length); None when
    it has neither."""
    shape = getattr(data, "shape", None)
    if shape:
        try:
            return int(shape[0])
        except (TypeError, ValueError):  # a lazy collection's unknown length (NaN)
            return None
    try:
        return len(data)
    except TypeError:
        return None
