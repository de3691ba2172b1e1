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


def eval_pairs(pairs, name_of, weights=(), skip=None) -> list[tuple[str, tuple]]:
    """A scikit-learn-style `eval_set=[(X, y), ...]` as describe_eval_sets takes it: each pair
    named `name_of(index)` (its position in eval_set, as the framework names the set), with its
    `eval_sample_weight` when there is one; what is not a pair, or what `skip(pair)` says, is left
    out (its index stays taken)."""
    weights = list(weights or ())
    sets = []
    for index, pair in enumerate(pairs or ()):
        if not isinstance(pair, (tuple, list)) or (skip is not None and skip(pair)):
            continue
        weight = weights[index] if index < len(weights) else None
        sets.append((name_of(index), (*pair[:2], weight) if weight is not None else tuple(pair[:2])))
    return sets


def training_function_name(function: str, objective, continued: bool) -> str:
    """`lightgbm.train(binary)`, `xgboost.train(reg:squarederror, continued)`: a training
    function's run, named by its objective (`custom` for a function of the user's) and by whether it
    goes on from a model."""
    shown = objective if isinstance(objective, str) else "custom"
    return f"{function}({shown}{', continued' if continued else ''})"


__all__ = ["describe_eval_sets", "eval_pairs", "training_function_name"]
