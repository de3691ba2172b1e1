"""Many predict calls' inputs and results as few tables: a thousand single-row calls are one
table of a thousand rows to profile, not a thousand tables."""

from __future__ import annotations

import random

import numpy as np

from autotrack.capture.sampling import row_count
from autotrack.serving.profile import table_columns


def sample_positions(sizes: list[int], budget: int, rng: random.Random | None = None) -> dict | None:
    """For calls of `sizes` rows: which rows of each to profile, each row drawn with probability
    budget / all rows (a Bernoulli sample: uniform, about `budget` rows), as {call index: row
    positions} for the calls drawn; None when every row fits. Pure Python on purpose: numpy's
    sampling sorts, which releases the GIL (profile.py, _GIL)."""
    total = sum(sizes)
    if total <= budget:
        return None
    rng = rng or _RANDOM
    share = budget / total
    drawn: dict[int, np.ndarray] = {}
    for index, size in enumerate(sizes):
        if size == 1:
            if rng.random() < share:
                drawn[index] = ALL_ROWS  # no copy: numpy's fancy indexing would hand the GIL over
            continue
        count = sum(1 for _ in range(size) if rng.random() < share) if size < 64 else \
            min(size, max(0, round(rng.gauss(size * share, (size * share * (1 - share)) ** 0.5))))
        if count:
            drawn[index] = np.array(sorted(rng.sample(range(size), count)))
    return drawn


_RANDOM = random.Random()
ALL_ROWS = slice(None)


def take_rows(table, rows):
    """The rows `rows` (positions) of a table or result; all of it for None."""
    if rows is None or rows is ALL_ROWS or table is None:
        return table
    if isinstance(table, list) and table and hasattr(table[0], "shape"):  # batches (Lightning's predict)
        table = np.concatenate([_numpy(item) for item in table])
    if hasattr(table, "iloc"):
        return table.iloc[rows]
    if isinstance(table, (list, tuple)):
        return [table[i] for i in rows.tolist()]
    try:
        return table[rows]  # numpy arrays, tensors
    except Exception:
        return table


def _numpy(value):
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _is_frame(data) -> bool:
    return hasattr(data, "iloc") and hasattr(data, "columns")


def is_basic(data) -> bool:
    if isinstance(data, (np.ndarray, list, tuple)):
        return True
    from autotrack.capture.sampling import lives_elsewhere

    tabular = hasattr(data, "iloc") or (hasattr(data, "detach") and hasattr(data, "cpu"))
    return tabular and not lives_elsewhere(data)  # a Dask DataFrame has `iloc` too


def as_table(data, hook):
    """`data` as something table_columns reads: itself, or a plugin's table of it (a DMatrix's
    values); None when nobody knows how."""
    if data is None or is_basic(data):
        return data
    return hook.autotrack_data_table(data=data)


def stack_inputs(inputs: list, hook) -> list[tuple[list | None, int]]:
    """`(columns, rows)` for runs of inputs that stack (arrays of one width, DataFrames)."""
    tables = [as_table(data, hook) for data in inputs]
    out = []
    for group in _groups(tables):
        stacked = _stack(group)
        if stacked is not None:
            columns = table_columns(stacked)
            out.append((columns, _row_count(stacked, columns)))
        else:
            for table in group:
                columns = table_columns(table) if table is not None else None
                out.append((columns, _row_count(table, columns)))
    return out


def stack_results(results: list) -> list:
    arrays = []
    flat = []
    for result in results:  # Lightning's trainer.predict returns a list of batch outputs
        if isinstance(result, list) and result and all(hasattr(item, "shape") for item in result):
            flat.extend(result)
        else:
            flat.append(result)
    for result in flat:
        if hasattr(result, "detach") and hasattr(result, "cpu"):
            result = result.detach().cpu().numpy()
        try:
            arrays.append(result if isinstance(result, np.ndarray) else np.asarray(result))
        except Exception:
            continue
    out = []
    for group in _groups(arrays):
        stacked = _stack(group)
        out.extend([stacked] if stacked is not None else group)
    return out


def _groups(tables: list) -> list[list]:
    """Consecutive tables of the same shape family (same kind, width and, for frames, columns)."""
    groups: list[list] = []
    last_key = object()
    for table in tables:
        key = _shape_key(table)
        if groups and key == last_key and key is not None:
            groups[-1].append(table)
        else:
            groups.append([table])
        last_key = key
    return groups


def _shape_key(table):
    if _is_frame(table):
        return ("frame", tuple(map(str, table.columns)))
    if isinstance(table, np.ndarray) and table.ndim in (1, 2):
        return ("array", table.ndim, table.shape[1:], table.dtype.kind)
    return None


def _stack(group: list):
    if len(group) == 1:
        return group[0]
    first = group[0]
    try:
        if _is_frame(first):
            import pandas

            return pandas.concat(group, ignore_index=True)
        if isinstance(first, np.ndarray):
            return np.concatenate(group, axis=0)
    except Exception:
        return None
    return None


def _row_count(table, columns) -> int:
    if columns:
        return len(columns[0][1])
    return row_count(table) or 0


def rows_as_dicts(data, result, hook):
    """Each input row as `{column: value, ..., "prediction": value}` (plain Python values)."""
    columns = table_columns(as_table(data, hook))
    try:
        predictions = np.asarray(result)
    except Exception:
        return
    if not columns:
        return
    names = [name for name, _values, _dtype in columns]
    values = [column.tolist() for _name, column, _dtype in columns]
    for i in range(len(values[0])):
        row = {name: column[i] for name, column in zip(names, values)}
        if i < len(predictions):
            prediction = predictions[i]
            row["prediction"] = prediction.tolist() if hasattr(prediction, "tolist") else prediction
        yield row


def ids_of(data, id_column: str):
    """The ids of `data`'s rows: the column named `id_column`, or the index when it bears that name."""
    if not _is_frame(data):
        return None
    if id_column in data.columns:
        return data[id_column].tolist()
    if getattr(data.index, "name", None) == id_column:
        return data.index.tolist()
    return None


__all__ = ["stack_inputs", "stack_results", "rows_as_dicts", "ids_of", "as_table"]
