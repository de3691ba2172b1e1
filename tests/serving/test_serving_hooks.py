"""A third party's model and data container served as the built-in ones are, through the hooks
autotrack_model_fitted, autotrack_model_fingerprint and autotrack_data_table."""

from __future__ import annotations

import json
import sqlite3

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("datasketches")

PLUGIN = '''
import hashlib, numpy as np, pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
import autotrack
from autotrack.session import SESSION


class Batch:
    """A container of rows autotrack does not know."""
    def __init__(self, frame):
        self.frame = frame


class Thresholds(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        frame = X.frame if isinstance(X, Batch) else X
        self.cut_ = np.asarray(frame.mean(), dtype=float)
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X):
        frame = X.frame if isinstance(X, Batch) else X
        return (frame.to_numpy() > self.cut_).sum(axis=1) % 2


class Plugin:
    @autotrack.hookimpl
    def autotrack_model_fitted(self, model, run, call):
        run.in_background(lambda: open("fitted.txt", "a").write(run.id + "\\n"), "noting a fit")

    @autotrack.hookimpl(tryfirst=True)
    def autotrack_model_fingerprint(self, model):
        if isinstance(model, Thresholds):
            return "mine-" + hashlib.sha256(model.cut_.tobytes()).hexdigest()[:12]

    @autotrack.hookimpl
    def autotrack_data_table(self, data):
        return data.frame if isinstance(data, Batch) else None


SESSION.configure()
SESSION.plugins.manager.register(Plugin(), name="test-serving-plugin")
'''

TRAIN = """
import pickle, numpy as np, pandas as pd
from mine import Batch, Thresholds
rng = np.random.default_rng(0)
X = pd.DataFrame({"a": rng.normal(size=500), "b": rng.normal(size=500)})
model = Thresholds().fit(Batch(X), (X.a > 0).astype(int))
pickle.dump(model, open("model.pkl", "wb"))
"""

SERVE = """
import pickle, numpy as np, pandas as pd
from mine import Batch
model = pickle.load(open("model.pkl", "rb"))
rng = np.random.default_rng(1)
X = pd.DataFrame({"a": rng.normal(size=400) + 2.0, "b": rng.normal(size=400)})
model.predict(Batch(X))
"""


def test_a_plugins_model_and_container_are_fingerprinted_and_profiled_through_its_hooks(
        run_script, cli, store, tmp_path):
    (tmp_path / "mine.py").write_text(PLUGIN)
    run_script(TRAIN, name="train.py")
    run_id = cli("runs", "--json")[0]["id"]
    assert (tmp_path / "fitted.txt").read_text().split() == [run_id]  # autotrack_model_fitted

    run_script(SERVE, name="serve.py")
    with sqlite3.connect(store / "runs.db") as db:
        (fingerprint, profiles), = db.execute("SELECT fingerprint, profiles FROM model_references").fetchall()
    assert fingerprint.startswith("mine-")  # autotrack_model_fingerprint
    assert sorted(json.loads(profiles)["inputs"]["columns"]) == ["a", "b"]  # autotrack_data_table, at fit

    (served,) = cli("serving", "--json")
    assert served["model"] == fingerprint and served["run"]["run_id"] == run_id
    assert cli("drift", run_id, "--json")["overall"]["drifted"] == ["a"]  # the container's columns, served
