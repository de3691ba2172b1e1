"""The evaluation sets a training is given (LightGBM's valid_sets, XGBoost's evals, an eval_set
of (X, y) pairs) as datasets of its run, under one role scheme for every framework."""

from __future__ import annotations

from autotrack.tracked_calls import user_frame, variable_name

_PAIR_ROLES = ("X", "y", "sample_weight")


def describe_eval_sets(run, sets) -> None:
    """`sets`: [(set_name, data)], set_name as the framework names the set in its metrics
    (`valid_0`, `validation_0`, `holdout`). A container that holds features and label (a LightGBM
    Dataset, an XGBoost DMatrix) is the dataset `valid.<set_name>`; an (X, y[, sample_weight]) pair
    is `valid.<set_name>.X`, `.y`, `.sample_weight`. Each is named after the user's variable
    (`X_valid`, `dvalid`) when it has one, else after the set."""
    from autotrack.session import SESSION

    frame = user_frame()
    limit = SESSION.settings.max_predict_datasets
    for set_name, data in sets:
        prefix = f"valid.{set_name}"
        if isinstance(data, (tuple, list)):
            SESSION.describe_inputs(run, dict(zip(_PAIR_ROLES, data)), prefix, frame)
            continue
        description = SESSION.plugins.hook.autotrack_describe_dataset(
            data=data, role=prefix, name=variable_name(frame, data) or set_name)
        if description and run.wants_dataset(prefix, description.get("fingerprint") or id(data), limit):
            run.log_dataset(description)


__all__ = ["describe_eval_sets"]
