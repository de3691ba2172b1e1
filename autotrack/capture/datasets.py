"""Describe and fingerprint the data a model saw: shape, bytes, schema, target summary, content hash."""

# Only the standard library is imported here: numpy is imported inside the
# functions that need it, and pandas / scipy only once an object from those
# libraries has actually been passed in, so `import autotrack` stays cheap.
from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from typing import Any, NamedTuple

MAX_SCHEMA_COLUMNS = 1000
MAX_CLASSES = 100
FINGERPRINT_HEX_CHARS = 32

# Bumped whenever the hashing scheme changes, so fingerprints made by
# different algorithms can never be mistaken for one another.
_FINGERPRINT_VERSION = b"autotrack-fingerprint-v1"
# A fixed protocol keeps object fingerprints stable across Python upgrades
# that change pickle's default protocol.
_PICKLE_PROTOCOL = 4


class _Data(NamedTuple):
    """Input reduced to one of the shapes this module knows how to handle."""

    kind: str  # "frame", "series", "sparse" (canonical CSR) or "array"
    value: Any


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def describe_dataset(data: Any, role: str, name: str | None = None) -> dict | None:
    """Describe `data` as one role ("X", "y", "sample_weight", ...) of a fit.

    Returns None for None. For input it cannot interpret (a generator, an
    arbitrary object) it returns {"role", "name", "type", "fingerprint": None}
    instead of raising, because describing data must never break training.
    """
    if data is None:
        return None
    normalized = _normalize(data)
    if normalized is None:
        return {"role": role, "name": name, "type": _qualified_type_name(data), "fingerprint": None}
    description = {"role": role, "name": name if name is not None else _own_name(normalized)}
    description.update(_DESCRIBERS[normalized.kind](normalized.value))
    if role.rpartition(".")[2] == "y":  # "y", "train.y", "score.y"
        description["target"] = _summarize_normalized(normalized)
    return description


def fingerprint(data: Any) -> str:
    """Content hash of the whole of `data`: 32 hex chars of a sha256.

    Every value is hashed (never a sample), together with the kind of
    container, shape, dtypes and - for pandas - column names and order.
    What is deliberately *not* part of the fingerprint:
      * memory layout: a C-order and an F-order array (or a strided view)
        holding the same values with the same dtype fingerprint equally;
      * NaN bit patterns: every float NaN is hashed as the canonical NaN;
      * sparse storage details: the matrix is hashed as canonical CSR, so
        format (COO/CSC/...), duplicate entries, unsorted indices, explicit
        zeros and index dtype do not matter;
      * a pandas default index (RangeIndex(0..n), unnamed); any other index
        is hashed with its names and values.
    pandas string / category / nullable / extension columns go through
    pandas' 64-bit per-row hash (so None and NaN in a string column hash
    alike); numeric numpy columns and mixed-type object columns are hashed
    value by value. A DataFrame, a Series and a bare array holding the same
    values have different fingerprints.
    A list fingerprints like numpy.asarray(list). Raises TypeError for input
    that numpy cannot turn into an array.
    """
    normalized = _normalize(data)
    if normalized is None:
        raise TypeError(f"cannot fingerprint {_qualified_type_name(data)}")
    hasher = hashlib.sha256(_FINGERPRINT_VERSION)
    _HASHERS[normalized.kind](hasher, normalized.value)
    return hasher.hexdigest()[:FINGERPRINT_HEX_CHARS]


def summarize_target(y: Any) -> dict:
    """Summarize a target vector.

    * classes-like (bool, integer, string/object, category) with at most 100
      distinct values: {"kind": "classes", "n_classes", "classes": {label: count}}
      (labels as str, most frequent first; "missing" is added when labels are
      missing; above 100 distinct non-integer labels the 100 most frequent are
      kept and "classes_truncated": True is added);
    * numeric (float, or integers with more than 100 distinct values):
      {"kind": "numeric", "min", "max", "mean", "std", "missing"} as floats,
      None when every value is NaN; std is the population std (ddof=0);
    * 2-D with more than one column: {"kind": "multi_output", "outputs": n};
      a single column (n, 1) is summarized like a 1-D target;
    * anything else: {"kind": "unsupported", ...}.
    """
    normalized = _normalize(y) if y is not None else None
    if normalized is None:
        return {"kind": "unsupported", "type": _qualified_type_name(y)}
    return _summarize_normalized(normalized)


def feature_names(X: Any, n_features: int | None = None) -> list[str]:
    """Column names of a DataFrame as str; otherwise "x0".."x{n-1}".

    n is `n_features` when given, else the number of columns of X
    (1 for 1-D input, 0 when X has no usable shape).
    """
    if _library_of(X) == "pandas":
        import pandas as pd

        if isinstance(X, pd.DataFrame):
            return [str(column) for column in X.columns]
    if n_features is None:
        n_features = _column_count(X)
    return _positional_names(n_features)


# --------------------------------------------------------------------------
# Normalizing input
# --------------------------------------------------------------------------


def _library_of(obj: Any) -> str:
    # Checking the defining module lets us recognise pandas / scipy objects
    # without importing those (heavy) libraries for everything else.
    return type(obj).__module__.split(".", 1)[0]


def _qualified_type_name(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _normalize(data: Any) -> _Data | None:
    """Reduce data to a DataFrame, Series, canonical CSR or ndarray; None if impossible."""
    library = _library_of(data)
    if library == "pandas":
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            return _Data("frame", data)
        if isinstance(data, pd.Series):
            return _Data("series", data)
    if library == "scipy":
        import scipy.sparse

        if scipy.sparse.issparse(data):
            return _normalize_sparse(data)
    array = _as_array_or_none(data)
    return None if array is None else _Data("array", array)


def _normalize_sparse(matrix: Any) -> _Data:
    # CSR is only defined for 2-D; the rare 1-D / n-D sparse arrays are small
    # enough in practice to treat as dense.
    if matrix.ndim != 2:
        return _Data("array", matrix.toarray())
    return _Data("sparse", _canonical_csr(matrix))


def _canonical_csr(matrix: Any) -> Any:
    """CSR with sorted indices, no duplicates and no explicit zeros.

    Equal matrices can be stored in many ways; canonicalizing makes their
    fingerprints equal. The caller's matrix is copied before any in-place
    clean-up, because tocsr() returns the very same object for CSR input.
    """
    csr = matrix.tocsr()
    if csr.has_canonical_format and not (csr.data == 0).any():
        return csr
    if csr is matrix:
        csr = csr.copy()
    csr.sum_duplicates()
    csr.eliminate_zeros()
    return csr


def _as_array_or_none(data: Any) -> Any:
    import numpy as np

    if _library_of(data) == "torch" and hasattr(data, "detach"):
        data = data.detach().cpu()  # a tensor that requires grad refuses numpy()
    if not isinstance(data, (list, tuple)) and not hasattr(data, "__array__") \
            and not hasattr(data, "__array_interface__"):
        # Any other sequence (a Keras PyDataset, a torch Dataset) would be read item by item,
        # running the user's loading code once more: not described.
        return None
    try:
        # asarray drops ndarray subclasses (matrix, memmap, masked) to plain arrays.
        array = np.asarray(data)
    except (TypeError, ValueError, RuntimeError):  # ragged nested lists, a failing __array__
        return None
    # asarray wraps anything at all (a generator, a dict, a custom object) into a
    # 0-d object array; that is not data we can describe.
    if array.ndim == 0 and array.dtype.kind == "O":
        return None
    return array


def _own_name(normalized: _Data) -> str | None:
    # Only a Series carries a name; DataFrame has no .name and `df.name`
    # would silently return a column called "name".
    if normalized.kind == "series" and isinstance(normalized.value.name, str):
        return normalized.value.name
    return None


def _column_count(X: Any) -> int:
    shape = getattr(X, "shape", None)
    if shape is None:
        array = _as_array_or_none(X)
        shape = () if array is None else array.shape
    if len(shape) == 0:
        return 0
    return 1 if len(shape) == 1 else int(shape[1])


# --------------------------------------------------------------------------
# Describing
# --------------------------------------------------------------------------


def _positional_names(n_columns: int) -> list[str]:
    return [f"x{position}" for position in range(n_columns)]


def _schema_fields(names_and_dtypes: Any, n_columns: int) -> dict:
    """{"schema": [...]} capped at MAX_SCHEMA_COLUMNS, flagging truncation.

    Takes an iterator so wide data (a million sparse TF-IDF columns) never
    builds the entries it would throw away.
    """
    schema = [
        {"name": str(column), "dtype": str(dtype)}
        for column, dtype in itertools.islice(names_and_dtypes, MAX_SCHEMA_COLUMNS)
    ]
    fields: dict = {"schema": schema}
    if n_columns > MAX_SCHEMA_COLUMNS:
        fields["schema_truncated"] = True
    return fields


def _positional_schema(n_columns: int, dtype: Any) -> dict:
    names = (f"x{position}" for position in range(n_columns))
    # One str(dtype) for all columns: numpy's dtype naming is slow, and this runs inside fit.
    return _schema_fields(zip(names, itertools.repeat(str(dtype))), n_columns)


def _describe_array(array: Any) -> dict:
    rows = int(array.shape[0]) if array.ndim >= 1 else 1
    columns = int(array.shape[1]) if array.ndim >= 2 else 1
    hasher = hashlib.sha256(_FINGERPRINT_VERSION)
    hash_array(hasher, array)
    description = {
        "rows": rows,
        "columns": columns,
        "bytes": int(array.nbytes),
        "fingerprint": hasher.hexdigest()[:FINGERPRINT_HEX_CHARS],
        **_positional_schema(columns, array.dtype),
    }
    # rows x columns hides the trailing axes of images / sequences.
    if array.ndim > 2:
        description["shape"] = [int(size) for size in array.shape]
    return description


def _describe_frame(frame: Any) -> dict:
    hasher = hashlib.sha256(_FINGERPRINT_VERSION)
    _hash_frame(hasher, frame)
    return {
        "rows": int(frame.shape[0]),
        "columns": int(frame.shape[1]),
        "bytes": int(frame.memory_usage(deep=False).sum()),
        "fingerprint": hasher.hexdigest()[:FINGERPRINT_HEX_CHARS],
        **_schema_fields(zip(frame.columns, frame.dtypes), frame.shape[1]),
    }


def _describe_series(series: Any) -> dict:
    hasher = hashlib.sha256(_FINGERPRINT_VERSION)
    _hash_series(hasher, series)
    column_name = series.name if series.name is not None else "x0"
    return {
        "rows": int(len(series)),
        "columns": 1,
        # Like the DataFrame figure, this includes the index.
        "bytes": int(series.memory_usage(index=True, deep=False)),
        "fingerprint": hasher.hexdigest()[:FINGERPRINT_HEX_CHARS],
        **_schema_fields(iter([(column_name, series.dtype)]), 1),
    }


def _describe_sparse(csr: Any) -> dict:
    hasher = hashlib.sha256(_FINGERPRINT_VERSION)
    _hash_sparse(hasher, csr)
    rows, columns = (int(size) for size in csr.shape)
    return {
        "rows": rows,
        "columns": columns,
        "bytes": int(csr.data.nbytes + csr.indices.nbytes + csr.indptr.nbytes),
        "fingerprint": hasher.hexdigest()[:FINGERPRINT_HEX_CHARS],
        **_positional_schema(columns, csr.dtype),
    }


_DESCRIBERS = {
    "array": _describe_array,
    "frame": _describe_frame,
    "series": _describe_series,
    "sparse": _describe_sparse,
}


# --------------------------------------------------------------------------
# Fingerprinting
# --------------------------------------------------------------------------


def _feed_chunk(hasher: Any, chunk: Any) -> None:
    # A length prefix makes chunk boundaries unambiguous: ("ab", "c") and
    # ("a", "bc") must not hash alike.
    hasher.update(memoryview(chunk).nbytes.to_bytes(8, "little"))
    hasher.update(chunk)


def feed_text(hasher: Any, text: str) -> None:
    """Add `text` to a fingerprint's hasher (length-prefixed: ("a", "bc") never hashes as ("ab", "c"))."""
    _feed_chunk(hasher, text.encode("utf-8", "surrogatepass"))


def _dtype_signature(dtype: Any) -> str:
    # dtype.str ("<f8", "<M8[ns]", "<U5") is exact but collapses structured
    # dtypes to "|V16"; descr keeps their field names and types.
    return str(dtype.descr) if dtype.fields else dtype.str


def hash_array(hasher: Any, array: Any) -> None:
    """Add an array's dtype, shape and values to a fingerprint's hasher: integrations that
    fingerprint their own data types (a DMatrix's parts) build on it."""
    feed_text(hasher, f"ndarray|{_dtype_signature(array.dtype)}|{tuple(array.shape)}")
    _hash_array_values(hasher, array)


def _hash_array_values(hasher: Any, array: Any) -> None:
    # Object (and numpy StringDType) buffers hold pointers, not values.
    if array.dtype.hasobject:
        _hash_elements(hasher, array)
        return
    import numpy as np

    # ascontiguousarray is a no-op for C-contiguous input and otherwise copies
    # into C order, which is why memory layout never changes the fingerprint.
    contiguous = _with_canonical_nans(np.ascontiguousarray(array))
    _feed_chunk(hasher, memoryview(contiguous.reshape(-1).view(np.uint8)))


def _with_canonical_nans(array: Any) -> Any:
    """Replace every NaN by numpy's canonical NaN (copying only if there is one).

    NaNs from different sources differ in sign / payload bits (0.0/0.0 on x86
    sets the sign bit) although they are the same missing value.
    """
    import numpy as np

    if array.dtype.kind not in "fc" or array.size == 0:
        return array
    # Complex values are pairs of floats; canonicalize each part separately.
    floats = array.view(array.real.dtype) if array.dtype.kind == "c" else array
    # The sum is a cheap, allocation-free pre-check: it is finite only if
    # there is no NaN. (inf - inf also yields NaN; that just costs the exact check.)
    with np.errstate(all="ignore"):
        if np.isfinite(floats.sum()):
            return array
    nan_mask = np.isnan(floats)
    if not nan_mask.any():
        return array
    canonical = floats.copy()
    canonical[nan_mask] = np.nan
    return canonical


def _hash_elements(hasher: Any, array: Any) -> None:
    # Imported here: pickle pulls in re/struct and is only needed for object data.
    import pickle

    # Element by element, not one pickle of the whole list: pickle memoizes by
    # object identity, so [s, s] and [s, copy_of_s] would pickle differently.
    for element in array.reshape(-1).tolist():
        _feed_chunk(hasher, _element_bytes(element, pickle.dumps))


def _element_bytes(element: Any, dumps: Any) -> bytes:
    # A type tag keeps "1" (str) and 1 (int) apart; str gets a fast path
    # because string columns are by far the most common object data.
    if type(element) is str:
        return b"s" + element.encode("utf-8", "surrogatepass")
    if isinstance(element, float) and element != element:
        return b"nan"
    try:
        return b"p" + dumps(element, protocol=_PICKLE_PROTOCOL)
    except Exception:  # arbitrary __reduce__ failures; repr is the best identity left
        return b"r" + repr(element).encode("utf-8", "backslashreplace")


def _hash_sparse(hasher: Any, csr: Any) -> None:
    import numpy as np

    feed_text(hasher, f"sparse|{_dtype_signature(csr.dtype)}|{tuple(csr.shape)}")
    # Index dtype (int32 vs int64) is a storage detail scipy picks by size.
    _feed_chunk(hasher, np.ascontiguousarray(csr.indptr, dtype=np.int64))
    _feed_chunk(hasher, np.ascontiguousarray(csr.indices, dtype=np.int64))
    _hash_array_values(hasher, csr.data)


def _hash_frame(hasher: Any, frame: Any) -> None:
    feed_text(hasher, f"dataframe|{tuple(frame.shape)}")
    _hash_index(hasher, frame.index)
    # By position, not by name: column names may repeat.
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        feed_text(hasher, f"column|{frame.columns[position]!r}|{column.dtype}")
        _hash_pandas_values(hasher, column)


def _hash_series(hasher: Any, series: Any) -> None:
    feed_text(hasher, f"series|{len(series)}|{series.name!r}|{series.dtype}")
    _hash_index(hasher, series.index)
    _hash_pandas_values(hasher, series)


def _hash_pandas_values(hasher: Any, series: Any) -> None:
    import numpy as np

    # Plain numpy numeric/datetime columns: hash their raw buffer (fast).
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biufcmM":
        _hash_array_values(hasher, series.to_numpy())
        return
    import pandas as pd

    # pandas hashes non-string objects through str(), so 1 and "1" would
    # collide; such columns get the slower type-aware element hashing.
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) not in ("string", "empty"):
        _hash_elements(hasher, series.to_numpy())
        return
    # Strings, category, nullable and other extension dtypes: pandas' own
    # stable per-row hash (fixed key, so equal across processes). It hashes
    # category *values*, not codes.
    row_hashes = pd.util.hash_pandas_object(series, index=False).to_numpy()
    _feed_chunk(hasher, np.ascontiguousarray(row_hashes))


def _hash_index(hasher: Any, index: Any) -> None:
    # A default RangeIndex carries no information beyond the length, and
    # skipping it means a frame and its reset_index(drop=True) copy agree.
    if _is_default_index(index):
        return
    import numpy as np
    import pandas as pd

    feed_text(hasher, f"index|{list(index.names)!r}|{index.dtype}")
    row_hashes = pd.util.hash_pandas_object(index).to_numpy()
    _feed_chunk(hasher, np.ascontiguousarray(row_hashes))


def _is_default_index(index: Any) -> bool:
    import pandas as pd

    return (
        isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
        and index.name is None
    )


_HASHERS = {
    "array": hash_array,
    "frame": _hash_frame,
    "series": _hash_series,
    "sparse": _hash_sparse,
}


# --------------------------------------------------------------------------
# Target summaries
# --------------------------------------------------------------------------


def _summarize_normalized(normalized: _Data) -> dict:
    kind, value = normalized
    if kind == "sparse":
        if value.shape[1] > 1:
            return _multi_output(value.shape[1])
        kind, value = "array", value.toarray()
    if kind == "frame":
        if value.shape[1] != 1:
            return _multi_output(value.shape[1])
        kind, value = "series", value.iloc[:, 0]
    if kind == "series":
        return _summarize_series(value)
    return _summarize_array(value)


def _multi_output(outputs: int) -> dict:
    return {"kind": "multi_output", "outputs": int(outputs)}


def _summarize_array(array: Any) -> dict:
    if array.ndim >= 2:
        outputs = 1
        for size in array.shape[1:]:
            outputs *= int(size)
        if outputs != 1:
            return _multi_output(outputs)
    values = array.reshape(-1)
    kind = values.dtype.kind
    if kind in "bUS":
        return _classes_from_numpy(values)
    if kind in "iu":
        return _summarize_integers(values)
    if kind == "f":
        return _numeric_summary(values)
    if values.dtype.hasobject:  # object and numpy StringDType
        return _classes_from_objects(values)
    return {"kind": "unsupported", "dtype": str(values.dtype)}


def _summarize_integers(values: Any) -> dict:
    import numpy as np

    # Few distinct integers are class labels; many are a count or an amount.
    labels, counts = np.unique(values, return_counts=True)
    if len(labels) > MAX_CLASSES:
        return _numeric_summary(values)
    return _classes_summary(zip(labels.tolist(), counts.tolist()), missing=0)


def _classes_from_numpy(values: Any) -> dict:
    import numpy as np

    labels, counts = np.unique(values, return_counts=True)
    return _classes_summary(zip(labels.tolist(), counts.tolist()), missing=0)


def _classes_from_objects(values: Any) -> dict:
    # Counter, not np.unique: object labels may mix types that cannot be
    # sorted against each other (str and int, None).
    counts = Counter(element for element in values.tolist() if not _is_missing_label(element))
    missing = len(values) - sum(counts.values())
    return _classes_summary(counts.items(), missing=missing)


def _is_missing_label(element: Any) -> bool:
    return element is None or (isinstance(element, float) and element != element)


def _classes_summary(label_counts: Any, missing: int) -> dict:
    """{"kind": "classes", ...} from (label, count) pairs, most frequent first."""
    totals: dict[str, int] = {}
    for label, count in label_counts:
        if count:  # unobserved pandas categories come with a count of 0
            # Labels that only differ by type (1 and "1") share a str key.
            totals[str(label)] = totals.get(str(label), 0) + int(count)
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    summary: dict = {
        "kind": "classes",
        "n_classes": len(ranked),
        "classes": dict(ranked[:MAX_CLASSES]),
    }
    if len(ranked) > MAX_CLASSES:
        summary["classes_truncated"] = True
    if missing:
        summary["missing"] = int(missing)
    return summary


def _summarize_series(series: Any) -> dict:
    import pandas as pd

    dtype = series.dtype
    types = pd.api.types
    if types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return _classes_from_series(series)
    if types.is_integer_dtype(dtype):
        if series.nunique(dropna=True) <= MAX_CLASSES:
            return _classes_from_series(series)
        return _numeric_summary(_series_as_floats(series))
    if types.is_float_dtype(dtype):
        return _numeric_summary(_series_as_floats(series))
    if types.is_object_dtype(dtype) or types.is_string_dtype(dtype):
        return _classes_from_series(series)
    return {"kind": "unsupported", "dtype": str(dtype)}


def _classes_from_series(series: Any) -> dict:
    counts = series.value_counts(dropna=True)
    missing = int(series.isna().sum())
    return _classes_summary(zip(counts.index.tolist(), counts.tolist()), missing=missing)


def _series_as_floats(series: Any) -> Any:
    import numpy as np

    # Nullable dtypes (Int64, Float64) hold pd.NA, which numpy cannot
    # represent as a float unless we say so.
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _numeric_summary(values: Any) -> dict:
    import numpy as np

    floats = values.astype(np.float64, copy=False)
    missing = int(np.count_nonzero(np.isnan(floats)))
    summary: dict = {"kind": "numeric", "min": None, "max": None, "mean": None, "std": None}
    # The nan-functions warn and return NaN when nothing is left to summarize.
    if missing < floats.size:
        with np.errstate(all="ignore"):  # inf - inf inside std is not our concern
            summary.update(
                min=_float_or_none(np.nanmin(floats)),
                max=_float_or_none(np.nanmax(floats)),
                mean=_float_or_none(np.nanmean(floats)),
                std=_float_or_none(np.nanstd(floats)),
            )
    summary["missing"] = missing
    return summary


def _float_or_none(value: Any) -> float | None:
    # NaN results (e.g. the mean of +inf and -inf) become None so the summary
    # serializes as valid JSON.
    value = float(value)
    return None if value != value else value
