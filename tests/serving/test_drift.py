"""Drift statistics on profiles: exactly the shifted features are flagged, at every sample size,
and nothing is flagged on data drawn from the training distribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("datasketches")

from autotrack.serving.drift import compare_profiles, schema_changes  # noqa: E402
from autotrack.serving.profile import merge_profiles, profile_of, summarise_column, table_columns  # noqa: E402


def _frame(n: int, seed: int, shift: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {f"f{i}": rng.normal(size=n) for i in range(10)}
    data["plan"] = rng.choice(["basic", "pro", "team"], n, p=[0.6, 0.3, 0.1])
    data["visits"] = rng.poisson(4, n)
    if shift:
        data["f3"] = data["f3"] + 0.5  # half a standard deviation
        data["f7"] = data["f7"] * 1.8
    return pd.DataFrame(data)


def _profile(frame):
    return profile_of(table_columns(frame))


@pytest.fixture(scope="module")
def reference():
    return _profile(_frame(20_000, seed=0))


@pytest.mark.parametrize("rows", [50, 500, 5_000, 100_000])
def test_data_from_the_training_distribution_is_never_flagged(reference, rows):
    for seed in range(1, 6):
        result = compare_profiles(reference, _profile(_frame(rows, seed=seed)))
        assert result["drifted"] == [], (rows, seed, result["drifted"])
        assert result["tested"] == 12


@pytest.mark.parametrize("rows", [1_000, 10_000, 100_000])
def test_exactly_the_two_shifted_features_are_flagged(reference, rows):
    result = compare_profiles(reference, _profile(_frame(rows, seed=7, shift=True)))
    assert result["drifted"] == ["f3", "f7"]
    shifted = result["columns"]["f3"]
    assert shifted["test"] == "ks" and shifted["p_value"] < 1e-6
    assert 0.35 < shifted["wasserstein"] < 0.65  # a shift of 0.5 standard deviations
    assert shifted["psi"] > 0.1 and shifted["jensen_shannon"] > 0.1


def test_a_significant_change_smaller_than_min_effect_is_not_flagged(reference):
    frame = _frame(200_000, seed=3)
    frame["f0"] = frame["f0"] + 0.2  # certain at this size; a fifth of a standard deviation
    strict = compare_profiles(reference, _profile(frame), min_effect=0.3)
    f0 = strict["columns"]["f0"]
    assert f0["p_value"] < f0["threshold_p"] and f0["effect"] < 0.3
    assert strict["drifted"] == []
    assert compare_profiles(reference, _profile(frame), min_effect=0.1)["drifted"] == ["f0"]


def test_a_category_that_changed_share_is_flagged_by_chi_squared(reference):
    frame = _frame(5_000, seed=4)
    rng = np.random.default_rng(5)
    frame["plan"] = rng.choice(["basic", "pro", "team"], len(frame), p=[0.3, 0.3, 0.4])
    result = compare_profiles(reference, _profile(frame))
    assert result["drifted"] == ["plan"]
    assert result["columns"]["plan"]["test"] == "chi2"


def test_schema_changes_name_missing_extra_retyped_columns_and_unseen_categories(reference):
    frame = _frame(1_000, seed=6).drop(columns=["f9"])
    frame["coupon"] = 1.0
    frame["visits"] = frame["visits"].astype(str)
    frame.loc[:9, "plan"] = "enterprise"
    changes = schema_changes(reference, _profile(frame))
    assert changes["missing_columns"] == ["f9"]
    assert changes["extra_columns"] == ["coupon"]
    assert list(changes["changed_types"]) == ["visits"]
    assert changes["unseen_categories"] == {"plan": {"rows": 10, "categories": ["enterprise"]}}


def test_profiles_merge_as_if_built_from_all_rows():
    frames = [_frame(3_000, seed=s) for s in (10, 11, 12)]
    frames[1].loc[:99, "f1"] = np.nan
    merged = merge_profiles([_profile(f) for f in frames])
    whole = _profile(pd.concat(frames, ignore_index=True))
    assert merged["rows"] == whole["rows"] == 9_000
    for name in ("f1", "plan", "visits"):
        a, b = summarise_column(merged["columns"][name]), summarise_column(whole["columns"][name])
        assert (a["count"], a["missing"]) == (b["count"], b["missing"])
        if a["kind"] == "numeric":
            assert a["mean"] == pytest.approx(b["mean"]) and a["std"] == pytest.approx(b["std"])
            assert a["quantiles"]["0.5"] == pytest.approx(b["quantiles"]["0.5"], abs=0.05)
        else:
            assert a["top"] == b["top"]
    assert summarise_column(merged["columns"]["f1"])["missing"] == 100
