"""Tests for autotrack.capture.datasets: descriptions, fingerprints, target summaries."""

import math
import subprocess
import sys

import numpy as np
import pytest

from autotrack.capture.datasets import (
    describe_dataset,
    feature_names,
    fingerprint,
    summarize_target,
)


@pytest.fixture
def pd():
    return pytest.importorskip("pandas")


@pytest.fixture
def sparse():
    return pytest.importorskip("scipy.sparse")


def is_fingerprint(value):
    return isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)


# --------------------------------------------------------------------------
# Import cost
# --------------------------------------------------------------------------


def test_module_imports_no_heavy_libraries():
    code = (
        "import sys, autotrack.capture.datasets; "
        "heavy = [m for m in ('numpy', 'pandas', 'scipy') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_numpy_input_does_not_import_pandas_or_scipy():
    code = (
        "import sys, numpy as np; from autotrack.capture.datasets import describe_dataset; "
        "describe_dataset(np.ones((3, 2)), 'X'); describe_dataset([1, 2], 'y'); "
        "print(','.join(m for m in ('pandas', 'scipy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


# --------------------------------------------------------------------------
# describe_dataset: numpy and plain Python
# --------------------------------------------------------------------------


def test_none_is_none():
    assert describe_dataset(None, "X") is None


def test_2d_numpy_array():
    X = np.arange(12, dtype=np.float64).reshape(4, 3)
    d = describe_dataset(X, "X")
    assert d["role"] == "X"
    assert d["name"] is None
    assert (d["rows"], d["columns"], d["bytes"]) == (4, 3, 96)
    assert is_fingerprint(d["fingerprint"])
    assert d["fingerprint"] == fingerprint(X)
    assert d["schema"] == [{"name": f"x{i}", "dtype": "float64"} for i in range(3)]
    assert "schema_truncated" not in d
    assert "target" not in d


def test_1d_numpy_array_has_one_column():
    d = describe_dataset(np.arange(5, dtype=np.int32), "sample_weight", name="weights")
    assert (d["rows"], d["columns"], d["bytes"]) == (5, 1, 20)
    assert d["name"] == "weights"
    assert d["role"] == "sample_weight"
    assert d["schema"] == [{"name": "x0", "dtype": "int32"}]


def test_nd_numpy_array_keeps_full_shape():
    images = np.zeros((10, 4, 5, 3), dtype=np.uint8)
    d = describe_dataset(images, "X")
    assert (d["rows"], d["columns"]) == (10, 4)
    assert d["shape"] == [10, 4, 5, 3]
    assert d["bytes"] == 600
    assert len(d["schema"]) == 4


def test_non_contiguous_array():
    base = np.arange(200, dtype=np.float64).reshape(20, 10)
    view = base[::2, ::3]
    assert not view.flags.c_contiguous
    d = describe_dataset(view, "X")
    assert (d["rows"], d["columns"]) == (10, 4)
    assert d["fingerprint"] == fingerprint(view.copy())


def test_fortran_order_fingerprints_like_c_order():
    c_order = np.random.default_rng(0).normal(size=(50, 7))
    f_order = np.asfortranarray(c_order)
    assert f_order.flags.f_contiguous and not f_order.flags.c_contiguous
    assert fingerprint(f_order) == fingerprint(c_order)
    assert describe_dataset(f_order, "X")["fingerprint"] == fingerprint(c_order)


def test_list_and_tuple_go_through_asarray():
    rows = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    d = describe_dataset(rows, "X")
    assert (d["rows"], d["columns"]) == (3, 2)
    assert d["fingerprint"] == fingerprint(np.asarray(rows))
    assert describe_dataset(tuple(map(tuple, rows)), "X")["fingerprint"] == d["fingerprint"]
    assert describe_dataset(["a", "b", "a"], "y")["target"]["classes"] == {"a": 2, "b": 1}


def test_object_array_of_strings_and_mixed_values():
    objects = np.array(["a", 1, None, 2.5, ("t", 1)], dtype=object)
    d = describe_dataset(objects, "X")
    assert d["schema"] == [{"name": "x0", "dtype": "object"}]
    assert is_fingerprint(d["fingerprint"])
    # Equal strings that are distinct objects hash alike (no pickle memo effects).
    built = np.array(["ab", "".join(["a", "b"])], dtype=object)
    interned = np.array(["ab", "ab"], dtype=object)
    assert fingerprint(built) == fingerprint(interned)
    # Types are kept apart: the string "1" is not the integer 1.
    assert fingerprint(np.array(["1"], dtype=object)) != fingerprint(np.array([1], dtype=object))


def test_other_numpy_dtypes():
    for array in (
        np.array(["2020-01-01", "2021-06-30"], dtype="datetime64[ns]"),
        np.array([1 + 2j, 3 - 1j]),
        np.array(["abc", "de"]),
        np.array([True, False]),
        np.array([(1, 0.5), (2, 1.5)], dtype=[("a", "<i4"), ("b", "<f8")]),
        np.array(["x", "yz"], dtype=np.dtypes.StringDType()),
    ):
        d = describe_dataset(array, "X")
        assert (d["rows"], d["columns"]) == (2, 1)
        assert is_fingerprint(d["fingerprint"]), array.dtype
        changed = array.copy()
        changed[-1] = changed[0]
        assert fingerprint(changed) != d["fingerprint"], array.dtype


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_numpy_subclasses():
    matrix = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    assert describe_dataset(matrix, "X")["fingerprint"] == fingerprint(np.asarray(matrix))


@pytest.mark.parametrize(
    "odd",
    [
        (i for i in range(3)),
        object(),
        {"a": 1},
        {1, 2, 3},
        [[1, 2], [3]],  # ragged
    ],
    ids=["generator", "object", "dict", "set", "ragged-list"],
)
def test_odd_input_returns_type_and_no_fingerprint(odd):
    d = describe_dataset(odd, "X", name="odd")
    assert d["role"] == "X"
    assert d["name"] == "odd"
    assert d["fingerprint"] is None
    assert d["type"] == f"{type(odd).__module__}.{type(odd).__qualname__}"


def test_custom_class_instance_and_odd_target():
    class Opaque:
        pass

    d = describe_dataset(Opaque(), "y")
    assert d["fingerprint"] is None
    assert d["type"].endswith("Opaque")
    assert "target" not in d
    with pytest.raises(TypeError):
        fingerprint(Opaque())


def test_schema_truncated_at_1000_columns():
    wide = np.zeros((2, 1500))
    d = describe_dataset(wide, "X")
    assert d["columns"] == 1500
    assert len(d["schema"]) == 1000
    assert d["schema"][-1]["name"] == "x999"
    assert d["schema_truncated"] is True
    exact = describe_dataset(np.zeros((2, 1000)), "X")
    assert len(exact["schema"]) == 1000
    assert "schema_truncated" not in exact


# --------------------------------------------------------------------------
# describe_dataset: pandas
# --------------------------------------------------------------------------


def mixed_frame(pd):
    return pd.DataFrame(
        {
            "num": [1.5, 2.5, np.nan],
            "int": [1, 2, 3],
            "obj": pd.Series(["a", None, "c"], dtype=object),
            "text": ["x", "y", "z"],
            "cat": pd.Categorical(["lo", "hi", "lo"]),
            "when": pd.to_datetime(["2020-01-01", "2020-01-02", None]),
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "flag": [True, False, True],
            "aware": pd.date_range("2020-01-01", periods=3, tz="Europe/Paris"),
            "delta": pd.to_timedelta([1, 2, 3], unit="s"),
        }
    )


def test_dataframe_any_dtypes(pd):
    frame = mixed_frame(pd)
    d = describe_dataset(frame, "X")
    assert (d["rows"], d["columns"]) == (3, 10)
    assert d["bytes"] == int(frame.memory_usage(deep=False).sum())
    assert [field["name"] for field in d["schema"]] == list(frame.columns)
    dtypes = {field["name"]: field["dtype"] for field in d["schema"]}
    assert dtypes["cat"] == "category"
    assert dtypes["nullable"] == "Int64"
    assert dtypes["num"] == "float64"
    assert d["name"] is None
    assert d["fingerprint"] == fingerprint(frame)


def test_dataframe_copy_and_rebuild_fingerprint_equal(pd):
    assert fingerprint(mixed_frame(pd)) == fingerprint(mixed_frame(pd))
    frame = mixed_frame(pd)
    assert fingerprint(frame.copy()) == fingerprint(frame)
    assert fingerprint(frame.copy(deep=True)) == fingerprint(frame)


def test_dataframe_from_2d_array(pd):
    values = np.random.default_rng(1).normal(size=(100, 5))
    frame = pd.DataFrame(values, columns=list("abcde"))
    assert fingerprint(frame) == fingerprint(pd.DataFrame(values.copy(), columns=list("abcde")))
    # A frame is not the bare array: column names are part of it.
    assert fingerprint(frame) != fingerprint(values)


def test_dataframe_non_string_column_names(pd):
    frame = pd.DataFrame(np.ones((2, 3)))
    assert [field["name"] for field in describe_dataset(frame, "X")["schema"]] == ["0", "1", "2"]
    assert feature_names(frame) == ["0", "1", "2"]


def test_dataframe_duplicate_column_names(pd):
    frame = pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"])
    d = describe_dataset(frame, "X")
    assert d["columns"] == 2
    changed = frame.copy()
    changed.iloc[1, 1] = 5
    assert fingerprint(changed) != d["fingerprint"]


def test_dataframe_schema_truncated(pd):
    frame = pd.DataFrame(np.zeros((2, 1200)), columns=[f"col{i}" for i in range(1200)])
    d = describe_dataset(frame, "X")
    assert d["columns"] == 1200
    assert len(d["schema"]) == 1000
    assert d["schema"][0] == {"name": "col0", "dtype": "float64"}
    assert d["schema_truncated"] is True


def test_series_with_name(pd):
    series = pd.Series([0, 1, 1, 0], name="label")
    d = describe_dataset(series, "y")
    assert d["name"] == "label"
    assert (d["rows"], d["columns"]) == (4, 1)
    assert d["schema"] == [{"name": "label", "dtype": "int64"}]
    assert d["target"] == {"kind": "classes", "n_classes": 2, "classes": {"0": 2, "1": 2}}
    assert describe_dataset(series, "y", name="given")["name"] == "given"


def test_series_with_non_string_name_has_no_name(pd):
    d = describe_dataset(pd.Series([1.0, 2.0], name=3), "y")
    assert d["name"] is None
    assert d["schema"] == [{"name": "3", "dtype": "float64"}]


def test_dataframe_with_column_called_name_has_no_name(pd):
    frame = pd.DataFrame({"name": ["a", "b"]})
    assert describe_dataset(frame, "X")["name"] is None


def test_series_of_each_dtype(pd):
    frame = mixed_frame(pd)
    for column in frame.columns:
        d = describe_dataset(frame[column], "X")
        assert d["name"] == column
        assert is_fingerprint(d["fingerprint"])


def test_pandas_index_counts_only_when_not_default(pd):
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    # The default RangeIndex is ignored ...
    assert fingerprint(frame) == fingerprint(frame.reset_index(drop=True))
    assert fingerprint(frame.set_index(pd.RangeIndex(3))) == fingerprint(frame)
    # ... any other index is part of the data.
    relabeled = frame.set_axis(["x", "y", "z"], axis=0)
    assert fingerprint(relabeled) != fingerprint(frame)
    shifted = frame.set_axis(pd.RangeIndex(1, 4), axis=0)
    assert fingerprint(shifted) != fingerprint(frame)
    assert fingerprint(relabeled) != fingerprint(frame.set_axis(["x", "y", "w"], axis=0))


def test_pandas_object_not_frame_or_series(pd):
    d = describe_dataset(pd.Index([1, 2, 3]), "X")
    assert d["rows"] == 3 and is_fingerprint(d["fingerprint"])


# --------------------------------------------------------------------------
# describe_dataset: scipy sparse
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "lil", "dok", "bsr", "dia"])
def test_sparse_any_format_matches_csr(sparse, fmt):
    dense = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0], [0.0, 0.0, 0.0], [4.0, 0.0, 0.0]])
    csr = sparse.csr_matrix(dense)
    converted = csr.asformat(fmt)
    d = describe_dataset(converted, "X")
    assert (d["rows"], d["columns"]) == (4, 3)
    assert d["bytes"] == csr.data.nbytes + csr.indices.nbytes + csr.indptr.nbytes
    assert d["schema"] == [{"name": f"x{i}", "dtype": "float64"} for i in range(3)]
    assert d["fingerprint"] == fingerprint(csr)


def test_sparse_array_classes(sparse):
    array = sparse.csr_array(np.eye(3))
    assert describe_dataset(array, "X")["fingerprint"] == fingerprint(sparse.csr_matrix(np.eye(3)))
    assert describe_dataset(sparse.coo_array(np.eye(3)), "X")["rows"] == 3


def test_sparse_storage_details_do_not_matter(sparse):
    reference = sparse.csr_matrix(np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]]))
    # Duplicates (1 = 0.5 + 0.5), unsorted order and an explicit zero.
    messy = sparse.coo_matrix(
        ([2.0, 0.5, 3.0, 0.5, 0.0], ([0, 0, 1, 0, 1], [2, 0, 2, 0, 1])), shape=(2, 3)
    )
    assert fingerprint(messy) == fingerprint(reference)
    int64_indices = reference.copy()
    int64_indices.indices = int64_indices.indices.astype(np.int64)
    int64_indices.indptr = int64_indices.indptr.astype(np.int64)
    assert fingerprint(int64_indices) == fingerprint(reference)


def test_sparse_caller_matrix_not_mutated(sparse):
    unsorted = sparse.csr_matrix(
        (np.array([2.0, 1.0, 0.0]), np.array([2, 0, 1]), np.array([0, 3])), shape=(1, 3)
    )
    data_before = unsorted.data.copy()
    indices_before = unsorted.indices.copy()
    fingerprint(unsorted)
    describe_dataset(unsorted, "X")
    np.testing.assert_array_equal(unsorted.data, data_before)
    np.testing.assert_array_equal(unsorted.indices, indices_before)


def test_sparse_value_change_changes_fingerprint(sparse):
    matrix = sparse.random(1000, 50, density=0.05, format="csr", random_state=0)
    changed = matrix.copy()
    changed.data[-1] += 1.0
    assert fingerprint(changed) != fingerprint(matrix)
    moved = sparse.csr_matrix(([1.0], ([0], [0])), shape=(3, 3))
    elsewhere = sparse.csr_matrix(([1.0], ([2], [2])), shape=(3, 3))
    assert fingerprint(moved) != fingerprint(elsewhere)
    # The dense array with the same values is a different kind of container.
    assert fingerprint(matrix) != fingerprint(matrix.toarray())


def test_sparse_wide_schema_truncated(sparse):
    d = describe_dataset(sparse.csr_matrix((3, 1_000_000)), "X")
    assert d["columns"] == 1_000_000
    assert len(d["schema"]) == 1000
    assert d["schema_truncated"] is True


def test_sparse_one_dimensional(sparse):
    vector = sparse.coo_array(np.array([0.0, 1.0, 0.0, 2.0]))
    if vector.ndim != 1:
        pytest.skip("this scipy has no 1-D sparse arrays")
    d = describe_dataset(vector, "X")
    assert (d["rows"], d["columns"]) == (4, 1)
    assert d["fingerprint"] == fingerprint(np.array([0.0, 1.0, 0.0, 2.0]))


# --------------------------------------------------------------------------
# fingerprint: sensitivity and stability
# --------------------------------------------------------------------------


def test_fingerprint_format_and_determinism():
    array = np.random.default_rng(3).normal(size=(1000, 4))
    assert is_fingerprint(fingerprint(array))
    assert fingerprint(array) == fingerprint(array.copy())


def test_fingerprint_stable_across_processes(pd):
    code = (
        "import pandas as pd; from autotrack.capture.datasets import fingerprint; "
        "print(fingerprint(pd.DataFrame({'a': ['x', 'y'], 'b': pd.Categorical(['p', 'q'])})))"
    )
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    }
    assert len(outputs) == 1
    frame = pd.DataFrame({"a": ["x", "y"], "b": pd.Categorical(["p", "q"])})
    assert outputs.pop().strip() == fingerprint(frame)


def test_last_element_of_large_array_changes_fingerprint():
    array = np.random.default_rng(4).normal(size=(100_000, 20))
    changed = array.copy()
    changed[-1, -1] += 1e-9
    assert fingerprint(changed) != fingerprint(array)
    first = array.copy()
    first[0, 0] = -first[0, 0]
    assert fingerprint(first) != fingerprint(array)
    middle = array.copy()
    middle[50_000, 10] = 0.0
    assert fingerprint(middle) != fingerprint(array)


def test_last_element_of_large_1d_array_changes_fingerprint():
    array = np.arange(100_000, dtype=np.int64)
    changed = array.copy()
    changed[-1] = 0
    assert fingerprint(changed) != fingerprint(array)


def test_shape_and_dtype_change_fingerprint():
    array = np.arange(12, dtype=np.int64)
    assert fingerprint(array.reshape(3, 4)) != fingerprint(array.reshape(4, 3))
    assert fingerprint(array.reshape(3, 4)) != fingerprint(array)
    assert fingerprint(array) != fingerprint(array.astype(np.int32))
    assert fingerprint(array) != fingerprint(array.astype(np.float64))
    # Same bytes, different dtype.
    assert fingerprint(array) != fingerprint(array.view(np.float64))
    assert fingerprint(np.zeros(0)) != fingerprint(np.zeros((0, 3)))


def test_nan_bit_patterns_do_not_matter():
    with np.errstate(invalid="ignore"):
        computed_nan = np.array([0.0]) / 0.0
    canonical = np.array([np.nan])
    assert fingerprint(computed_nan) == fingerprint(canonical)
    assert fingerprint(np.array([1.0, np.nan])) != fingerprint(np.array([np.nan, 1.0]))
    complex_nan = np.array([complex(np.nan, 1.0)])
    assert fingerprint(complex_nan) != fingerprint(np.array([complex(np.nan, 2.0)]))


def test_object_array_value_change_changes_fingerprint():
    objects = np.array(["a"] * 1000 + [None], dtype=object)
    changed = objects.copy()
    changed[-1] = "a"
    assert fingerprint(changed) != fingerprint(objects)


def test_dataframe_value_change_anywhere(pd):
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "num": rng.normal(size=100_000),
            "text": rng.choice(["a", "b", "c"], size=100_000).astype(object),
            "cat": pd.Categorical(rng.choice(["lo", "hi"], size=100_000)),
            "nullable": pd.array(rng.integers(0, 10, size=100_000), dtype="Int64"),
        }
    )
    reference = fingerprint(frame)
    for column, new_value in (("num", 123.0), ("text", "zzz"), ("cat", "hi"), ("nullable", None)):
        changed = frame.copy()
        if column == "cat":
            new_value = "lo" if changed[column].iloc[-1] == "hi" else "hi"
        changed.loc[changed.index[-1], column] = new_value
        assert fingerprint(changed) != reference, column


def test_column_rename_and_swap_change_fingerprint(pd):
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 2.0]})
    assert fingerprint(frame.rename(columns={"a": "c"})) != fingerprint(frame)
    assert fingerprint(frame[["b", "a"]]) != fingerprint(frame)
    different = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    assert fingerprint(different[["b", "a"]]) != fingerprint(different)
    # Swapping two columns' values but keeping names in place.
    swapped = different.copy()
    swapped["a"], swapped["b"] = different["b"].to_numpy(), different["a"].to_numpy()
    assert fingerprint(swapped) != fingerprint(different)


def test_mixed_object_column_keeps_types_apart(pd):
    numbers = pd.DataFrame({"c": pd.Series(["x", 1], dtype=object)})
    strings = pd.DataFrame({"c": pd.Series(["x", "1"], dtype=object)})
    assert fingerprint(numbers) != fingerprint(strings)
    assert fingerprint(numbers) == fingerprint(numbers.copy())


def test_series_rename_and_dtype_change_fingerprint(pd):
    series = pd.Series([1, 2, 3], name="a")
    assert fingerprint(series.rename("b")) != fingerprint(series)
    assert fingerprint(series.astype("Int64")) != fingerprint(series)
    assert fingerprint(series.astype("float64")) != fingerprint(series)


def test_category_value_change(pd):
    series = pd.Series(pd.Categorical(["a", "b", "a"]))
    changed = series.copy()
    changed.iloc[2] = "b"
    assert fingerprint(changed) != fingerprint(series)


def test_numpy_column_swap_changes_fingerprint():
    array = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert fingerprint(array[:, ::-1]) != fingerprint(array)


# --------------------------------------------------------------------------
# summarize_target
# --------------------------------------------------------------------------


def test_target_integer_classes():
    y = np.array([0, 1, 1, 2, 1])
    assert summarize_target(y) == {
        "kind": "classes",
        "n_classes": 3,
        "classes": {"1": 3, "0": 1, "2": 1},
    }
    assert describe_dataset(y, "y")["target"] == summarize_target(y)


def test_target_bool_and_string_classes():
    assert summarize_target(np.array([True, False, True]))["classes"] == {"True": 2, "False": 1}
    assert summarize_target(np.array(["cat", "dog", "cat"]))["classes"] == {"cat": 2, "dog": 1}


def test_target_object_classes_with_missing():
    y = np.array(["a", None, "b", float("nan"), "a", 1], dtype=object)
    summary = summarize_target(y)
    assert summary["kind"] == "classes"
    assert summary["classes"] == {"a": 2, "1": 1, "b": 1}
    assert summary["missing"] == 2


def test_target_many_integers_is_numeric():
    y = np.arange(1000)
    summary = summarize_target(y)
    assert summary["kind"] == "numeric"
    assert summary["min"] == 0.0 and summary["max"] == 999.0
    assert summary["mean"] == pytest.approx(499.5)
    assert summary["std"] == pytest.approx(np.std(y))
    assert summary["missing"] == 0


def test_target_101_integers_is_numeric_and_100_is_classes():
    assert summarize_target(np.arange(101))["kind"] == "numeric"
    classes = summarize_target(np.arange(100))
    assert classes["kind"] == "classes" and classes["n_classes"] == 100


def test_target_numeric_with_nan():
    summary = summarize_target(np.array([1.0, np.nan, 3.0, np.nan]))
    assert summary == {
        "kind": "numeric",
        "min": 1.0,
        "max": 3.0,
        "mean": 2.0,
        "std": 1.0,
        "missing": 2,
    }
    assert all(type(summary[key]) is float for key in ("min", "max", "mean", "std"))


def test_target_all_nan():
    summary = summarize_target(np.full(5, np.nan))
    assert summary == {"kind": "numeric", "min": None, "max": None, "mean": None, "std": None, "missing": 5}


def test_target_all_nan_does_not_warn():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summarize_target(np.full(3, np.nan))


def test_target_empty():
    assert summarize_target(np.array([], dtype=float))["missing"] == 0
    assert summarize_target(np.array([], dtype=int))["n_classes"] == 0


def test_target_multi_output():
    assert summarize_target(np.zeros((10, 3))) == {"kind": "multi_output", "outputs": 3}
    assert describe_dataset(np.zeros((10, 2)), "y")["target"] == {"kind": "multi_output", "outputs": 2}


def test_target_single_column_2d_is_like_1d():
    assert summarize_target(np.array([[0], [1], [1]]))["classes"] == {"1": 2, "0": 1}


def test_target_list():
    assert summarize_target([0.5, 1.5])["kind"] == "numeric"
    assert summarize_target(["x", "y", "x"])["classes"] == {"x": 2, "y": 1}


def test_target_unsupported():
    assert summarize_target(object())["kind"] == "unsupported"
    assert summarize_target(np.array(["2020-01-01"], dtype="datetime64[D]"))["kind"] == "unsupported"


def test_target_many_strings_truncated():
    labels = np.array([f"label{i}" for i in range(150)] + ["label0"])
    summary = summarize_target(labels)
    assert summary["kind"] == "classes"
    assert summary["n_classes"] == 150
    assert len(summary["classes"]) == 100
    assert summary["classes"]["label0"] == 2
    assert summary["classes_truncated"] is True


def test_target_pandas_series(pd):
    assert summarize_target(pd.Series(["a", "b", None, "a"])) == {
        "kind": "classes",
        "n_classes": 2,
        "classes": {"a": 2, "b": 1},
        "missing": 1,
    }
    categorical = pd.Series(pd.Categorical(["x", "y", "x"], categories=["x", "y", "unused"]))
    assert summarize_target(categorical)["classes"] == {"x": 2, "y": 1}
    assert summarize_target(pd.Series([True, False]))["n_classes"] == 2
    nullable = pd.Series(pd.array([1, None, 2, 1], dtype="Int64"))
    assert summarize_target(nullable) == {
        "kind": "classes",
        "n_classes": 2,
        "classes": {"1": 2, "2": 1},
        "missing": 1,
    }


def test_target_pandas_numeric(pd):
    summary = summarize_target(pd.Series([1.0, None, 3.0]))
    assert summary["kind"] == "numeric" and summary["missing"] == 1 and summary["mean"] == 2.0
    many = pd.Series(pd.array(list(range(200)) + [None], dtype="Int64"))
    summary = summarize_target(many)
    assert summary["kind"] == "numeric"
    assert summary["max"] == 199.0 and summary["missing"] == 1
    float_nullable = pd.Series(pd.array([1.5, None], dtype="Float64"))
    assert summarize_target(float_nullable)["missing"] == 1


def test_target_pandas_frame(pd):
    assert summarize_target(pd.DataFrame({"a": [1, 2], "b": [3, 4]})) == {"kind": "multi_output", "outputs": 2}
    assert summarize_target(pd.DataFrame({"a": [1, 2, 2]}))["classes"] == {"2": 2, "1": 1}


def test_target_sparse_multilabel(sparse):
    indicator = sparse.csr_matrix(np.array([[1, 0, 1], [0, 1, 0]]))
    assert summarize_target(indicator) == {"kind": "multi_output", "outputs": 3}


def test_target_infinite_values():
    summary = summarize_target(np.array([1.0, np.inf, -np.inf]))
    assert summary["min"] == -math.inf and summary["max"] == math.inf
    assert summary["mean"] is None  # inf - inf: not a number, reported as None


# --------------------------------------------------------------------------
# feature_names
# --------------------------------------------------------------------------


def test_feature_names_numpy():
    assert feature_names(np.zeros((2, 3))) == ["x0", "x1", "x2"]
    assert feature_names(np.zeros((2, 3)), n_features=2) == ["x0", "x1"]
    assert feature_names(np.zeros(4)) == ["x0"]
    assert feature_names([[1, 2], [3, 4]]) == ["x0", "x1"]
    assert feature_names(object()) == []
    assert feature_names(None, n_features=2) == ["x0", "x1"]


def test_feature_names_pandas(pd):
    frame = pd.DataFrame({"age": [1], 5: [2]})
    assert feature_names(frame) == ["age", "5"]
    assert feature_names(pd.Series([1, 2])) == ["x0"]


def test_feature_names_sparse(sparse):
    assert feature_names(sparse.csr_matrix((2, 4))) == ["x0", "x1", "x2", "x3"]


def test_a_torch_tensor_that_requires_grad_is_described_like_its_values():
    torch = pytest.importorskip("torch")
    values = np.arange(12, dtype=np.float32).reshape(4, 3)
    tensor = torch.tensor(values, requires_grad=True)
    described = describe_dataset(tensor, "X")
    assert (described["rows"], described["columns"]) == (4, 3)
    assert described["fingerprint"] == fingerprint(values)


def test_a_sequence_that_is_not_array_like_is_never_read():
    reads = []

    class Batches:  # a Keras PyDataset or torch Dataset: each item runs the user's loading code
        def __len__(self):
            return 3

        def __getitem__(self, index):
            if index >= 3:
                raise IndexError(index)
            reads.append(index)
            return [float(index)]

    described = describe_dataset(Batches(), "X")
    assert described["type"].endswith("Batches") and described["fingerprint"] is None
    assert reads == []
