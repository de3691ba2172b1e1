"""Profiles of tables as mergeable sketches (Apache DataSketches): what a column held, in a form
that windows, processes and machines can add up without the rows.

A numeric column keeps its count, missing (NaN, None, +-inf), min, max, sum and sum of squares
(mean and standard deviation), a KLL quantile sketch and an HLL distinct-count sketch; a
categorical one (strings, booleans, pandas categories) a frequent-items sketch and an HLL sketch.
A profile is a plain dict (sketches as base64 bytes): it travels through the writer, the fork
spool and the store as JSON.
"""

from __future__ import annotations

import base64
import collections
import math

import numpy as np

KLL_K = 200  # rank error about 1.3 % (the sketch says exactly: drift.py accounts for it)
HLL_LG_K = 12  # distinct counts within about 1.6 %
FREQ_LG_MAX_MAP = 7  # up to 96 categories counted exactly; more: the most frequent, approximately
MAX_COLUMNS = 500  # wider tables (images, embeddings) are profiled on their first columns
MAX_PREDICTION_COLUMNS = 20

NUMERIC, CATEGORICAL = "numeric", "categorical"


def _sketches():
    import datasketches

    return datasketches


def _encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _decode(text: str) -> bytes:
    return base64.b64decode(text)


# -- tables to columns -----------------------------------------------------------------------------
def table_columns(data) -> list[tuple[str, np.ndarray, str]] | None:
    """`(name, values, dtype)` for each column of a DataFrame, Series, 1-D or 2-D array, list of
    rows or tensor; None for what is not a table (images, dicts of inputs, sparse matrices)."""
    if data is None:
        return None
    columns = getattr(data, "columns", None)
    if columns is not None and hasattr(data, "iloc") and hasattr(data, "dtypes"):  # pandas DataFrame
        return [(str(name), data.iloc[:, i].to_numpy(), str(dtype))
                for i, (name, dtype) in enumerate(zip(list(columns)[:MAX_COLUMNS], data.dtypes))]
    if hasattr(data, "to_numpy") and hasattr(data, "dtype") and getattr(data, "ndim", 0) == 1:  # Series
        return [(str(data.name) if data.name is not None else "x0", data.to_numpy(), str(data.dtype))]
    if hasattr(data, "detach") and hasattr(data, "cpu"):  # a torch tensor
        data = data.detach().cpu().numpy()
    if hasattr(data, "tocsr") or isinstance(data, dict):
        return None
    try:
        array = data if isinstance(data, np.ndarray) else np.asarray(data)
    except Exception:
        return None
    if array.ndim == 1:
        return [("x0", array, str(array.dtype))]
    if array.ndim != 2:
        return None
    return [(f"x{i}", array[:, i], str(array.dtype)) for i in range(min(array.shape[1], MAX_COLUMNS))]


def prediction_columns(result) -> list[tuple[str, np.ndarray, str]] | None:
    """A predict call's result as columns: `prediction` for one value a row, `score_<i>` for
    each column of probabilities or outputs."""
    columns = table_columns(result)
    if not columns:
        return None
    if len(columns) == 1:
        name, values, dtype = columns[0]
        if values.dtype.kind in "iub":  # class labels: their frequencies, not their quantiles
            values = values.astype(str)
        return [("prediction", values, dtype)]
    return [(f"score_{i}", values, dtype) for i, (_name, values, dtype) in
            enumerate(columns[:MAX_PREDICTION_COLUMNS])]


def column_kind(values: np.ndarray) -> str:
    return NUMERIC if values.dtype.kind in "iufmM" else CATEGORICAL


# -- building -----------------------------------------------------------------------------------------
# _GIL: profiles are built on autotrack's serving thread while the user's thread may be predicting
# in a loop. numpy's sorts (np.unique, np.sort, searchsorted, choice without replacement) and BLAS
# calls release the GIL; getting it back then waits for the user's thread (the convoy effect), and
# each such hand-over slowed the user's predict calls: the column updates below use none of them.
class _Numeric:
    kind = NUMERIC

    def __init__(self):
        ds = _sketches()
        self.count = self.missing = 0
        self.min, self.max, self.sum, self.sumsq = math.inf, -math.inf, 0.0, 0.0
        self.kll, self.hll = ds.kll_doubles_sketch(KLL_K), ds.hll_sketch(HLL_LG_K)

    def update(self, values: np.ndarray) -> None:
        if values.dtype.kind in "mM":
            values = values.astype("int64").astype("float64")  # NaT becomes a huge negative: kept
        elif values.dtype != np.float64:
            values = values.astype(np.float64)
        finite = values[np.isfinite(values)]
        self.missing += len(values) - len(finite)
        if not len(finite):
            return
        self.count += len(finite)
        self.min, self.max = min(self.min, float(finite.min())), max(self.max, float(finite.max()))
        self.sum += float(finite.sum())
        self.sumsq += float((finite * finite).sum())
        self.kll.update(finite)
        update = self.hll.update
        for value in finite.tolist():  # no np.unique: see _GIL below
            update(value)

    def to_dict(self) -> dict:
        return {"kind": NUMERIC, "count": self.count, "missing": self.missing,
                "min": self.min if self.count else None, "max": self.max if self.count else None,
                "sum": self.sum, "sumsq": self.sumsq, "kll": _encode(self.kll.serialize()),
                "hll": _encode(self.hll.serialize_compact())}


class _Categorical:
    kind = CATEGORICAL

    def __init__(self):
        ds = _sketches()
        self.count = self.missing = 0
        self.freq, self.hll = ds.frequent_strings_sketch(FREQ_LG_MAX_MAP), ds.hll_sketch(HLL_LG_K)

    def update(self, values: np.ndarray) -> None:
        if values.dtype.kind == "O":
            present = np.array([not _is_missing(v) for v in values.tolist()], dtype=bool)
            kept = values[present].astype(str)
        else:
            kept = values.astype(str)
        self.missing += len(values) - len(kept)
        self.count += len(kept)
        if not len(kept):
            return
        freq, hll = self.freq, self.hll
        for item, count in collections.Counter(kept.tolist()).items():  # not np.unique: see _GIL below
            item = _redacted(item)
            freq.update(item, count)
            hll.update(item)

    def to_dict(self) -> dict:
        return {"kind": CATEGORICAL, "count": self.count, "missing": self.missing,
                "freq": _encode(self.freq.serialize()), "hll": _encode(self.hll.serialize_compact())}


_REDACTED: dict[str, str] = {}  # category -> as stored: a column's few categories are redacted once


def _redacted(item: str) -> str:
    """A category as the sketch keeps it: credentials in it masked (capture/redact.py), as in
    everything autotrack writes. The sketch holds the strings themselves, so this is the place."""
    stored = _REDACTED.get(item)
    if stored is None:
        from autotrack.capture.redact import redact_text

        stored = redact_text(item)
        if len(_REDACTED) < 100_000:
            _REDACTED[item] = stored
    return stored


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


class ProfileBuilder:
    """Accumulates rows of one table (a model's inputs or its predictions) for one window."""

    def __init__(self):
        self.rows = 0
        self.columns: dict[str, _Numeric | _Categorical] = {}
        self.dtypes: dict[str, str] = {}

    def add(self, columns: list[tuple[str, np.ndarray, str]]) -> None:
        if not columns:
            return
        self.rows += len(columns[0][1])
        for name, values, dtype in columns:
            sketch = self.columns.get(name)
            if sketch is None:
                if len(self.columns) >= MAX_COLUMNS:
                    continue
                kind = column_kind(values)
                sketch = self.columns[name] = _Numeric() if kind == NUMERIC else _Categorical()
                self.dtypes[name] = dtype
            if sketch.kind == NUMERIC and column_kind(values) != NUMERIC:
                values = _as_numbers(values)
            sketch.update(values)

    def to_dict(self) -> dict:
        return {"rows": self.rows, "dtypes": dict(self.dtypes),
                "columns": {name: sketch.to_dict() for name, sketch in self.columns.items()}}


def _as_numbers(values: np.ndarray) -> np.ndarray:
    """A column that was numeric and now holds strings: what parses as a number, NaN otherwise."""
    out = np.full(len(values), np.nan)
    for i, value in enumerate(values.tolist()):
        try:
            out[i] = float(value)
        except (TypeError, ValueError):
            pass
    return out


def profile_of(columns) -> dict:
    builder = ProfileBuilder()
    builder.add(columns)
    return builder.to_dict()


# -- reading and merging -----------------------------------------------------------------------------
def kll_of(column: dict):
    return _sketches().kll_doubles_sketch.deserialize(_decode(column["kll"]))


def frequencies_of(column: dict) -> dict[str, int]:
    """Category -> estimated count (exact while the column held few enough categories)."""
    ds = _sketches()
    sketch = ds.frequent_strings_sketch.deserialize(_decode(column["freq"]))
    return {item: estimate for item, estimate, _low, _high in
            sketch.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_POSITIVES)}


def distinct_of(column: dict) -> float:
    return _sketches().hll_sketch.deserialize(_decode(column["hll"])).get_estimate()


def merge_columns(a: dict, b: dict) -> dict:
    """One column's two sketches added up (two windows, two processes)."""
    ds = _sketches()
    if a["kind"] != b["kind"]:
        return a if a["count"] >= b["count"] else b
    merged = {"kind": a["kind"], "count": a["count"] + b["count"], "missing": a["missing"] + b["missing"]}
    union = ds.hll_union(HLL_LG_K)
    for column in (a, b):
        union.update(ds.hll_sketch.deserialize(_decode(column["hll"])))
    merged["hll"] = _encode(union.get_result().serialize_compact())
    if a["kind"] == NUMERIC:
        kll = kll_of(a)
        kll.merge(kll_of(b))
        merged["kll"] = _encode(kll.serialize())
        merged["sum"], merged["sumsq"] = a["sum"] + b["sum"], a["sumsq"] + b["sumsq"]
        mins = [v for v in (a["min"], b["min"]) if v is not None]
        maxs = [v for v in (a["max"], b["max"]) if v is not None]
        merged["min"], merged["max"] = (min(mins) if mins else None), (max(maxs) if maxs else None)
    else:
        freq = ds.frequent_strings_sketch.deserialize(_decode(a["freq"]))
        freq.merge(ds.frequent_strings_sketch.deserialize(_decode(b["freq"])))
        merged["freq"] = _encode(freq.serialize())
    return merged


def merge_profiles(profiles: list[dict]) -> dict | None:
    profiles = [p for p in profiles if p]
    if not profiles:
        return None
    merged = {"rows": 0, "dtypes": {}, "columns": {}}
    for profile in profiles:
        merged["rows"] += profile.get("rows", 0)
        for name, dtype in profile.get("dtypes", {}).items():
            merged["dtypes"].setdefault(name, dtype)
        for name, column in profile.get("columns", {}).items():
            known = merged["columns"].get(name)
            merged["columns"][name] = column if known is None else merge_columns(known, column)
    return merged


QUANTILES = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)
TOP_CATEGORIES = 10


def summarise_column(column: dict) -> dict:
    """What a person reads of a column: counts, mean/std and quantiles, or the top categories."""
    summary = {"kind": column["kind"], "count": column["count"], "missing": column["missing"],
               "distinct": round(distinct_of(column))}
    total = column["count"] + column["missing"]
    summary["missing_share"] = column["missing"] / total if total else 0.0
    if column["kind"] == NUMERIC:
        n = column["count"]
        mean = column["sum"] / n if n else None
        variance = max(column["sumsq"] / n - mean * mean, 0.0) if n else None
        summary.update(min=column["min"], max=column["max"], mean=mean,
                       std=math.sqrt(variance) if variance is not None else None)
        if n:
            kll = kll_of(column)
            summary["quantiles"] = {str(q): float(kll.get_quantile(q)) for q in QUANTILES}
            summary["quantiles"].update({"0.0": column["min"], "1.0": column["max"]})
    else:
        counts = sorted(frequencies_of(column).items(), key=lambda item: (-item[1], item[0]))
        summary["top"] = [[item, count] for item, count in counts[:TOP_CATEGORIES]]
    return summary


def column_std(column: dict) -> float:
    n = column["count"]
    if not n:
        return 0.0
    mean = column["sum"] / n
    return math.sqrt(max(column["sumsq"] / n - mean * mean, 0.0))


__all__ = ["ProfileBuilder", "table_columns", "prediction_columns", "profile_of", "merge_profiles",
           "merge_columns", "summarise_column", "kll_of", "frequencies_of", "distinct_of", "column_std",
           "NUMERIC", "CATEGORICAL"]
