"""Tracked code leaves the user's process exactly as untracked code does: warnings shown (and shown
once), scikit-learn's config, signal handlers, logging, random state, working directory and
environment. Each script runs twice, with and without AUTOTRACK=1, and prints its state."""

from __future__ import annotations

import json
import os

import pytest
from scripting import script

pytest.importorskip("sklearn")
pytest.importorskip("pandas")

STATE = """
import hashlib, json, logging, os, random, signal, sys, warnings
import numpy as np
import sklearn

def state():
    return {
        # SIGTERM is the documented exception: with no handler of the program's, autotrack's
        # marks open runs killed, then the process dies of it as before (sigterm.py).
        "signals": {name: repr(signal.getsignal(getattr(signal, name))) for name in ("SIGINT", "SIGHUP", "SIGUSR1")},
        "logging": [logging.getLogger().level, [type(h).__name__ for h in logging.getLogger().handlers]],
        "random": hashlib.sha256(repr(random.getstate()).encode()).hexdigest(),
        "numpy_random": hashlib.sha256(repr(np.random.get_state()).encode()).hexdigest(),
        "cwd": os.getcwd(),
        "env": sorted((k, v) for k, v in os.environ.items() if not k.startswith("AUTOTRACK")),
        "sklearn_config": {k: repr(v) for k, v in sklearn.get_config().items()},
        "filters": len(warnings.filters),
    }
"""


def _both(run_script, code: str) -> tuple:
    untracked = run_script(code, tracked=False, name="untracked.py")
    tracked = run_script(code, name="tracked.py")
    return untracked, tracked


def test_a_warning_python_shows_once_is_shown_as_often_under_tracking(run_script):
    # A DummyClassifier: scikit-learn's own validation (check_array, in most fits and predicts)
    # resets Python's record of shown warnings by itself; this one's fit does it once.
    code = script(STATE, """
        from sklearn.dummy import DummyClassifier as LogisticRegression

        def old_api():
            warnings.warn("old_api is deprecated", UserWarning)

        X = np.random.default_rng(0).normal(size=(200, 4))
        y = (X[:, 0] > 0).astype(int)
        for strategy in ("prior", "stratified", "uniform"):
            old_api()  # the default filter shows a warning from one line once
            LogisticRegression(strategy=strategy).fit(X, y)  # git, context, training metrics: in the background
            old_api()
        if "autotrack" in sys.modules:
            sys.modules["autotrack"].flush()  # the background work (git, context) has run
        old_api()
        print(json.dumps(state()))
    """)
    untracked, tracked = _both(run_script, code)
    assert untracked.stderr.count("old_api is deprecated") == 2
    assert tracked.stderr.count("old_api is deprecated") == 2, tracked.stderr


def test_the_users_scikit_learn_config_applies_to_what_autotrack_computes_for_their_fit(run_script):
    code = script(STATE, """
        import pandas as pd
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        sklearn.set_config(transform_output="pandas")
        rng = np.random.default_rng(0)
        X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
        y = (X["a"] > 0).astype(int)
        model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
        if "autotrack" in sys.modules:
            sys.modules["autotrack"].flush()  # training metrics were computed in the background
        print(json.dumps(state()))
    """)
    untracked, tracked = _both(run_script, code)
    assert "valid feature names" not in tracked.stderr, tracked.stderr
    assert tracked.stderr.count("Warning") == untracked.stderr.count("Warning")


def test_signal_handlers_logging_random_state_cwd_env_and_filters_are_untouched(run_script):
    code = script(STATE, """
        import random
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.model_selection import GridSearchCV

        random.seed(1)
        np.random.seed(1)
        X = np.random.default_rng(0).normal(size=(120, 4))
        y = (X[:, 0] > 0).astype(int)
        GridSearchCV(RandomForestClassifier(n_estimators=5, random_state=0), {"max_depth": [2, 3]}, cv=2).fit(X, y)
        if "autotrack" in sys.modules:
            sys.modules["autotrack"].flush()
        print(json.dumps(state()))
    """)
    untracked, tracked = _both(run_script, code)
    before = json.loads(untracked.stdout.strip().splitlines()[-1])
    after = json.loads(tracked.stdout.strip().splitlines()[-1])
    after["cwd"], before["cwd"] = os.path.basename(after["cwd"]), os.path.basename(before["cwd"])
    assert after == before


def test_tracked_methods_look_the_same_to_introspection(run_script):
    code = script("""
        import inspect, json, pickle, pydoc
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        seen = {}
        for owner, name in ((LogisticRegression, "fit"), (LogisticRegression, "predict_proba"),
                            (Pipeline, "fit"), (LogisticRegression, "score")):
            method = getattr(owner, name)
            seen[f"{owner.__name__}.{name}"] = {
                "signature": str(inspect.signature(method)),
                "qualname": method.__qualname__, "name": method.__name__, "module": method.__module__,
                "doc": method.__doc__,
                "help": pydoc.render_doc(method, renderer=pydoc.plaintext).splitlines()[:3],
                "pickled_by_reference": pickle.loads(pickle.dumps(method)) is method,
                "bound_signature": str(inspect.signature(getattr(LogisticRegression(), "fit"))),
            }
        patched = hasattr(LogisticRegression.__dict__["fit"], "__autotrack_original__")
        print(json.dumps({"patched": patched, "seen": seen}))
    """)
    untracked = json.loads(run_script(code, tracked=False, name="untracked.py").stdout.splitlines()[-1])
    tracked = json.loads(run_script(code, name="tracked.py").stdout.splitlines()[-1])
    assert (untracked["patched"], tracked["patched"]) == (False, True)  # the wrappers are in place
    assert tracked["seen"] == untracked["seen"]


def test_a_traceback_through_a_tracked_call_shows_no_autotrack_frame_and_the_stack_no_method_of_ours(run_script):
    # scikit-learn's metadata-routing tests record the outermost caller named like an estimator
    # method (inspect.stack); a traceback lists every frame the error went through.
    code = script("""
        import inspect, json, traceback
        import numpy as np
        from sklearn.base import BaseEstimator, ClassifierMixin
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        class Recording(ClassifierMixin, BaseEstimator):
            def fit(self, X, y):
                self.stack_ = [(f.function, f.filename) for f in inspect.stack()]
                self.classes_ = np.unique(y)
                return self

        X, y = np.random.RandomState(0).rand(20, 3), np.arange(20) % 2
        pipeline = make_pipeline(StandardScaler(), Recording()).fit(X, y)
        stack = pipeline[-1].stack_
        try:
            LogisticRegression().fit(np.zeros((4, 2)), [0, 0, 0, 0])
        except ValueError as error:
            frames = [(f.name, f.filename) for f in traceback.extract_tb(error.__traceback__)[1:]]
        print(json.dumps({"stack": stack, "traceback": frames,
                          "wrapped": LogisticRegression.fit.__wrapped__.__qualname__,
                          "unwrapped": inspect.unwrap(LogisticRegression.fit).__qualname__}))
    """)
    untracked = json.loads(run_script(code, tracked=False, name="untracked.py").stdout.splitlines()[-1])
    tracked = json.loads(run_script(code, name="tracked.py").stdout.splitlines()[-1])
    assert not [frame for frame in tracked["traceback"] if "autotrack" in frame[1]]
    for name in ("traceback", "wrapped", "unwrapped"):
        assert tracked[name] == untracked[name], name
    # A live stack cannot lose the wrapper's frames (Python 3.11 has no sys.monitoring), but none
    # of them is named like a method the user's code looks for.
    methods = {"fit", "fit_transform", "transform", "predict", "predict_proba", "score", "decision_function"}
    assert [f[0] for f in tracked["stack"] if f[0] in methods] == [f[0] for f in untracked["stack"] if f[0] in methods]
    assert len(tracked["stack"]) > len(untracked["stack"])
