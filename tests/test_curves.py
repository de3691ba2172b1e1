"""Learning curves: which series are drawn together, and how a long series is thinned for display."""

from __future__ import annotations

import math

from autotrack.curves import downsample, group_curves, role, split_key


def test_split_key_knows_the_frameworks_names():
    assert split_key("valid_0.l2") == ("valid_0", "l2")          # LightGBM eval sets
    assert split_key("validation_1.rmse") == ("validation_1", "rmse")  # XGBoost
    assert split_key("val_loss") == ("val", "loss")               # Keras, Lightning
    assert split_key("loss") == ("", "loss")
    assert split_key("cv.test_accuracy") == ("cv test", "accuracy")  # cross_validate folds
    assert split_key("valid.l2.mean") == ("valid", "l2.mean")     # lightgbm.cv


def test_role_tells_training_from_validation():
    assert role("training.l2") == "train"
    assert role("loss") == "train"
    assert role("valid_0.l2") == "validation"
    assert role("val_accuracy") == "validation"
    assert role("cv.test_accuracy") == "validation"
    assert role("time.epoch_s") == "other"


def test_group_curves_overlays_train_and_validation_of_one_metric():
    history = {
        "training.l2": [[0, 3.0], [1, 2.0]],
        "valid_0.l2": [[0, 3.5], [1, 2.5]],
        "valid_0.l1": [[0, 1.0], [1, 0.9]],
        "accuracy": [[0, 0.9]],  # one point: a number for the table, not a curve
    }
    assert group_curves(history) == [
        {"title": "l2", "keys": ["training.l2", "valid_0.l2"]},
        {"title": "l1", "keys": ["valid_0.l1"]},
    ]


def test_downsample_keeps_short_series_whole():
    points = [[step, float(step)] for step in range(100)]
    assert downsample(points, 2000) == points


def test_downsample_thins_long_series_but_keeps_ends_spikes_and_gaps():
    points = [[step, math.sin(step / 500)] for step in range(100_000)]
    points[54_321][1] = 50.0   # a spike
    points[77_777][1] = None   # a NaN point (stored as NULL)
    thinned = downsample(points, 2000)
    assert len(thinned) <= 2001
    assert thinned[0] == points[0] and thinned[-1] == points[-1]
    assert [54_321, 50.0] in thinned
    assert [77_777, None] in thinned
    steps = [point[0] for point in thinned]
    assert steps == sorted(steps)
    assert max(value for _, value in thinned if value is not None) == 50.0
