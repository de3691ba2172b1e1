"""A model's fingerprint is what it learned: the same after a pickle or joblib round trip (which
changes the pickle's own bytes), different once it learned something else."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
joblib = pytest.importorskip("joblib")

from sklearn.compose import make_column_transformer  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler  # noqa: E402

from autotrack.serving.lineage import canonical_digest  # noqa: E402


def _data():
    import pandas as pd

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400), "c": rng.choice(list("xyz"), 400)})
    return X, (X.a > 0).astype(int)


MODELS = {
    "logistic": lambda: LogisticRegression(),
    "forest": lambda: RandomForestClassifier(n_estimators=20, random_state=0),  # trees: padded structs
    "boosting": lambda: HistGradientBoostingClassifier(max_iter=15),
    "pipeline": lambda: make_pipeline(
        make_column_transformer((OneHotEncoder(), ["c"]), (StandardScaler(), ["a", "b"])),
        FunctionTransformer(np.abs), LogisticRegression()),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_the_fingerprint_survives_pickle_and_joblib_and_changes_with_what_was_learned(name, tmp_path):
    X, y = _data()
    X = X if name == "pipeline" else X[["a", "b"]]
    model = MODELS[name]().fit(X, y)
    digest = canonical_digest(model)
    assert digest is not None
    reloaded = pickle.loads(pickle.dumps(model))
    joblib.dump(model, tmp_path / "model.joblib")
    assert canonical_digest(reloaded) == digest
    assert canonical_digest(joblib.load(tmp_path / "model.joblib")) == digest
    refit = MODELS[name]().fit(X.iloc[::2], y.iloc[::2])
    assert canonical_digest(refit) != digest


def test_the_fingerprint_of_a_function_never_depends_on_its_address():
    first = canonical_digest({"f": lambda x: x})
    second = canonical_digest({"f": lambda x: x})
    assert first == second
