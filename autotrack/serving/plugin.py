"""The serving plugin: at each fit, the model's fingerprint and its training data's profile (the
reference drift is measured against), computed off the training thread; and the core's last
answer to `autotrack_model_fingerprint`."""

from __future__ import annotations

import time

from autotrack.plugins import hookimpl

# Predictions on at most this many training rows make the reference of the predictions (a
# second predict per fit, on autotrack's thread: kept small).
PREDICTION_REFERENCE_ROWS = 2_000


@hookimpl
def autotrack_model_fitted(model, run, call):
    from autotrack.session import SESSION

    settings = SESSION.settings
    if settings is None or settings.serving == "off":
        return
    from autotrack.capture.sampling import evenly_spaced_rows

    limit = settings.metrics_sample_rows
    sample = call.notes.get("training_sample")
    if sample is None:
        sample = tuple(evenly_spaced_rows(data, limit) if is_table(data) else data
                       for data in (call.data.get("X"), call.data.get("y")))
    raw = call.notes.get("reference_X")  # a plugin's raw data, kept before training freed it
    if is_table(raw):
        sample = (evenly_spaced_rows(raw, limit), sample[1])
    X, y = (data if is_table(data) or data is None else _KnownToPlugins(data) for data in sample)
    snapshot = call.snapshot
    sklearn_config = call.notes.get("sklearn.config")  # the user's thread-local set_config, at the fit
    hook = SESSION.plugins.hook
    model_class = f"{type(model).__module__}.{type(model).__qualname__}"

    def capture_reference():
        fitted = snapshot() if snapshot is not None else model
        fingerprint = hook.autotrack_model_fingerprint(model=fitted)
        profiles = _profiles(hook, fitted, X, y, sklearn_config)
        run.put_record("reference", {"fingerprint": fingerprint, "model_class": model_class,
                                     "created": time.time(), "profiles": profiles})

    run.in_background(capture_reference, "capturing the training data's reference profile")


def is_table(data) -> bool:
    """Data whose rows can be taken without reading anything else: arrays, pandas objects, lists,
    tensors. A framework's dataset (a Keras PyDataset reads a batch per row asked for) is not."""
    from autotrack.serving.batches import is_basic

    return data is not None and is_basic(data)


class _KnownToPlugins:
    """Data of a framework's own type: profiled only through a plugin's autotrack_data_table."""

    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data


def _profiles(hook, model, X, y, config) -> dict:
    from autotrack.serving.batches import as_table
    from autotrack.serving.profile import prediction_columns, profile_of, table_columns

    profiles: dict = {}
    if isinstance(X, _KnownToPlugins):
        X = hook.autotrack_data_table(data=X.data)
    if isinstance(y, _KnownToPlugins):
        y = None
    table = as_table(X, hook)
    columns = table_columns(table) if table is not None else None
    if columns:
        profiles["inputs"] = profile_of(columns)
    labels = table_columns(y) if y is not None else None
    if labels:
        profiles["labels"] = profile_of(prediction_columns(y) or labels)
    if columns and _has_sklearn_api(model):
        from autotrack.capture.sampling import evenly_spaced_rows

        with _users_sklearn_config(config):
            predicted = model.predict(evenly_spaced_rows(table, PREDICTION_REFERENCE_ROWS))
        profiles["predictions"] = profile_of(prediction_columns(predicted))
    return profiles


def _has_sklearn_api(model) -> bool:
    """A scikit-learn-style estimator (LightGBM's and XGBoost's included): `predict` takes the
    training table and prints nothing (Keras' prints a progress bar: its predictions get no
    reference)."""
    return callable(getattr(model, "predict", None)) and callable(getattr(model, "get_params", None))


def _users_sklearn_config(config):
    """scikit-learn's config is thread-local: this thread predicts under the user's (noted at the
    fit by the scikit-learn plugin), or `transform_output="pandas"` would raise new warnings."""
    import contextlib
    import sys

    sklearn = sys.modules.get("sklearn")
    if not config or sklearn is None:
        return contextlib.nullcontext()
    return sklearn.config_context(**config)


@hookimpl(trylast=True)
def autotrack_model_fingerprint(model):
    from autotrack.serving.lineage import canonical_digest

    return canonical_digest(model)
