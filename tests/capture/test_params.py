"""Hyperparameters of any type become flat, JSON-safe, redacted text."""

from __future__ import annotations

import json
import logging
import math
from pathlib import PurePosixPath

import pytest

from autotrack import safety
from autotrack.capture.params import MAX_VALUE_CHARS, flatten, json_safe, param_value_text

np = pytest.importorskip("numpy")


def stored(key, value):
    return json.loads(param_value_text(key, value))


def module_function(x):
    return x


class Estimator:
    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def __repr__(self):
        return f"Estimator(alpha={self.alpha})"


def test_numpy_scalars_become_numbers_of_the_same_value():
    assert stored("a", np.float32(0.5)) == 0.5
    assert stored("b", np.int64(3)) == 3 and isinstance(stored("b", np.int64(3)), int)
    assert stored("c", np.bool_(True)) is True


def test_non_finite_floats_are_kept_as_text():
    assert stored("a", float("nan")) == "nan"
    assert stored("b", np.float32("nan")) == "nan"
    assert stored("c", float("-inf")) == "-inf"


def test_callables_and_classes_are_qualified_names():
    assert stored("f", module_function) == f"{__name__}.module_function"
    assert stored("g", np.log) == "numpy.log"
    assert stored("t", np.float64) == "numpy.float64"
    assert stored("lam", lambda x: x).endswith("<lambda>")


def test_objects_are_their_repr_and_small_arrays_are_lists():
    assert stored("est", Estimator(2)) == "Estimator(alpha=2)"
    assert stored("weights", np.array([0.25, 0.75])) == [0.25, 0.75]
    assert stored("grid", np.array([[1, 2], [3, 4]])) == [[1, 2], [3, 4]]
    assert stored("path", PurePosixPath("/data/x.csv")) == "/data/x.csv"


def test_containers_are_converted_recursively():
    value = {"layers": (np.int64(64), np.int64(32)), 1: [np.float32(0.5), float("inf")]}
    assert stored("p", value) == {"layers": [64, 32], "1": [0.5, "inf"]}


def test_self_containing_structures_do_not_recurse_forever():
    loop: list = [1]
    loop.append(loop)
    assert isinstance(json_safe(loop), list)
    json.loads(param_value_text("loop", loop))


def test_unrepresentable_object_falls_back_to_its_type_name():
    class Broken:
        def __repr__(self):
            raise RuntimeError("no repr")

    assert stored("b", Broken()) == "<Broken>"


def test_huge_value_is_cut_with_one_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="autotrack"):
        text = param_value_text("huge_list_param_for_test", list(range(100_000)))
        param_value_text("huge_list_param_for_test", list(range(100_000)))
    assert len(json.loads(text)) <= MAX_VALUE_CHARS + 3
    assert caplog.text.count("huge_list_param_for_test") == 1


def test_secret_names_are_masked_whatever_the_value():
    assert stored("api_token", "abc123") == "***"
    assert stored("model__db_password", 42) == "***"
    assert stored("max_tokens", 512) == 512  # a count of tokens is not a credential


def test_credentials_in_urls_are_masked_everywhere_in_the_value():
    assert stored("db", "postgres://user:pw@host/db") == "postgres://user:***@host/db"
    assert stored("dbs", ["postgres://user:pw@host/db"]) == ["postgres://user:***@host/db"]
    assert stored("conn", {"url": "mysql://u:secret@h/d", "password": "x"}) == {
        "url": "mysql://u:***@h/d", "password": "***"}
    masked = "Estimator(alpha=redis://me:***@cache:6379)"
    assert stored("est", Estimator("redis://me:pw@cache:6379")) == masked


def test_secret_named_arguments_inside_a_repr_are_masked():
    class Client:
        def __init__(self, api_token, retries):
            self.api_token, self.retries = api_token, retries

        def __repr__(self):
            return f"Client(api_token={self.api_token!r}, retries={self.retries})"

    assert stored("client", Client("tok-123", 3)) == "Client(api_token=***, retries=3)"
    assert stored("steps", [("c", Client("tok-123", 3))]) == [["c", "Client(api_token=***, retries=3)"]]
    assert stored("note", "sort_key=price, max_tokens=5") == "sort_key=price, max_tokens=5"


def test_non_ascii_text_is_stored_as_is():
    assert stored("note", "héllo → 世界") == "héllo → 世界"


def test_flatten_nests_string_keys_and_keeps_others():
    assert flatten({"a": {"b": 1, "c": {"d": 2}}, "e": 3, "w": {0: 1}}) == {
        "a.b": 1, "a.c.d": 2, "e": 3, "w": {0: 1}}
    assert flatten({"clf__C": 1.0}) == {"clf__C": 1.0}


def test_results_are_valid_json_for_every_kind_of_value():
    values = [None, True, 3, 2.5, "x", math.nan, np.arange(3), object(), {1, 2}, b"bytes", Estimator]
    for value in values:
        json.loads(param_value_text("p", value))


@pytest.fixture(autouse=True)
def _reset_warnings():
    # warn_once remembers keys process-wide; other tests may warn about the same key.
    safety._reported.discard("param-size:huge_list_param_for_test")
    yield


def test_memory_addresses_never_reach_a_param():
    class Opaque:
        pass

    text = stored("thing", Opaque())
    assert " at 0x" not in text and text.startswith("<") and "Opaque" in text
    # two runs of the same code store the same value
    assert stored("thing", Opaque()) == text


def test_distributions_and_random_states_say_what_they_are():
    scipy_stats = pytest.importorskip("scipy.stats")
    assert stored("C", scipy_stats.loguniform(1e-3, 10)) == "loguniform(0.001, 10)"
    assert stored("n", scipy_stats.randint(1, 5)) == "randint(1, 5)"
    assert stored("u", scipy_stats.uniform(loc=0, scale=2)) == "uniform(loc=0, scale=2)"
    assert stored("random_state", np.random.RandomState(0)) == "RandomState"
    assert stored("rng", np.random.default_rng(0)) == "Generator(PCG64)"


def test_multi_line_reprs_become_one_line():
    class Wide:
        def __repr__(self):
            return "Wide(a=1,\n     b=2)"

    assert stored("w", Wide()) == "Wide(a=1, b=2)"
