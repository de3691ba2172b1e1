"""Dask collections as training data: described without computing anything.

A Dask array or DataFrame passed to a fit (lightgbm.dask, xgboost.dask, dask-ml) is a recipe,
perhaps over terabytes in storage: reading it to fingerprint or sample it would run the whole
computation again in the user's process. Its description comes from what Dask knows without
computing: the shape where known, the columns and dtypes, and as fingerprint Dask's own token of
the collection (`name`), the same for the same inputs and operations (`da.from_array` of the same
array, `read_parquet` of the same files), different otherwise. The core takes no sample of it
(`capture.sampling.lives_elsewhere`), so no training metrics or reference profile are computed.

A fit inside a task on a Dask worker (lightgbm.dask trains a model on each worker) is part of the
client's call, whose run records it: never a run of its own (`autotrack_enclosing_run`).
"""

from __future__ import annotations

import hashlib
import math
import sys

from autotrack.capture.sampling import lives_elsewhere
from autotrack.plugins import hookimpl


@hookimpl(tryfirst=True)
def autotrack_describe_dataset(data, role, name):
    if not lives_elsewhere(data) or not hasattr(data, "name"):
        return None
    shape = getattr(data, "shape", ())
    rows = _known(shape[0]) if shape else None
    dtypes = getattr(data, "dtypes", None)
    if dtypes is not None and hasattr(dtypes, "items"):  # a DataFrame: its columns, from its meta
        schema = [{"name": str(column), "dtype": str(dtype)} for column, dtype in dtypes.items()]
    else:
        width = _known(shape[1]) if len(shape) > 1 else 1
        dtype = str(getattr(data, "dtype", ""))
        schema = [{"name": f"x{index}", "dtype": dtype} for index in range(width or 0)]
    return {
        "role": role, "name": name, "rows": rows, "columns": len(schema),
        "bytes": _known(getattr(data, "nbytes", None)) if hasattr(type(data), "nbytes") else None,
        "fingerprint": hashlib.sha256(f"dask\0{data.name}".encode()).hexdigest()[:32],
        "schema": schema, "lazy": "dask",
    }


def _known(value):
    """A size Dask knows (an int), or None for one it does not (NaN until computed)."""
    try:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        return int(value)
    except (TypeError, ValueError):
        return None


@hookimpl
def autotrack_enclosing_run():
    worker = sys.modules.get("distributed.worker")
    if worker is None:
        return None
    try:
        worker.get_worker()
    except ValueError:  # "No worker found": not inside a task
        return None
    return {"part_of": "a task on a Dask worker: the client's call records it"}
