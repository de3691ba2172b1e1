"""Tracking never changes what the user's code does, and a failure in tracking never reaches it.

Scripts run with AUTOTRACK=1 in a subprocess (and, for comparisons, once more without it); the
store is read back through the CLI's JSON.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from scripting import all_runs, printed, script

pytest.importorskip("sklearn")

DATA = """
import json
import numpy as np
from sklearn.datasets import make_classification

X, y = make_classification(n_samples=150, n_features=5, n_informative=3, random_state=0)
"""


def show(cli, run_id: str) -> dict:
    return cli("show", run_id, "--json")


def runs_named(cli, name: str) -> list[dict]:
    """The runs of `name`, including those named after it with the params that differ from the
    previous one (`LogisticRegression C=2.0`)."""
    return [show(cli, run["id"]) for run in all_runs(cli)
            if run["name"] == name or run["name"].startswith(name + " ")]


def untracked_env() -> dict:
    return {key: value for key, value in os.environ.items() if not key.startswith("AUTOTRACK")}


# -- results and exceptions are the user's --------------------------------------------------------
def test_results_are_bit_for_bit_identical_with_and_without_tracking(run_script, cli):
    code = script(DATA, """
        import hashlib
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GridSearchCV
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        def digest(array):
            array = np.ascontiguousarray(array)
            return f"{array.dtype}{array.shape}" + hashlib.sha256(array.tobytes()).hexdigest()

        models = {
            "forest": RandomForestClassifier(n_estimators=10, random_state=0),
            "pipeline": make_pipeline(StandardScaler(), LogisticRegression(C=0.3)),
            "search": GridSearchCV(RandomForestClassifier(n_estimators=5, random_state=0),
                                   {"max_depth": [2, 4]}, cv=3),
        }
        out = {}
        for name, model in models.items():
            model.fit(X, y)
            out[name] = [digest(model.predict(X)), digest(model.predict_proba(X)),
                         repr(model.score(X, y))]
        out["transform"] = digest(StandardScaler().fit_transform(X))
        print(json.dumps(out))
    """)
    tracked = printed(run_script(code))
    untracked = printed(run_script(code, tracked=False))
    assert tracked == untracked
    assert len(all_runs(cli)) > 3  # it really was tracked


USER_ERROR = script(DATA, """
    import traceback
    from sklearn.linear_model import LogisticRegression

    X[3, 2] = np.nan
    try:
        LogisticRegression().fit(X, y)
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        print(json.dumps({"type": f"{type(exc).__module__}.{type(exc).__qualname__}",
                          "message": str(exc), "raised_in": frames[-1].name}))
""")


def test_users_own_exception_propagates_unchanged_and_the_run_is_failed(run_script, cli):
    tracked = printed(run_script(USER_ERROR))
    untracked = printed(run_script(USER_ERROR, tracked=False))
    assert tracked == untracked
    assert tracked["type"] == "builtins.ValueError" and "NaN" in tracked["message"]

    (run,) = runs_named(cli, "LogisticRegression")
    assert run["status"] == "failed"
    assert run["error"] == f"ValueError: {tracked['message']}"
    assert run["end_time"] is not None


def test_uncaught_user_exception_keeps_the_exit_code_and_traceback(run_script, cli):
    code = script(DATA, """
        from sklearn.linear_model import LogisticRegression

        X[0, 0] = np.inf
        LogisticRegression().fit(X, y)
    """)
    tracked = run_script(code, check=False)
    untracked = run_script(code, check=False, tracked=False)
    assert tracked.returncode == untracked.returncode == 1
    assert tracked.stderr.strip().splitlines()[-1] == untracked.stderr.strip().splitlines()[-1]
    (run,) = runs_named(cli, "LogisticRegression")
    assert run["status"] == "failed" and run["error"].startswith("ValueError: ")


def test_keyboard_interrupt_marks_the_run_killed(run_script, cli):
    result = run_script(script(DATA, """
        from sklearn.base import BaseEstimator, TransformerMixin
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        class Interrupted(TransformerMixin, BaseEstimator):
            def fit(self, X, y=None):
                raise KeyboardInterrupt
            def transform(self, X):
                return X

        try:
            Pipeline([("stop", Interrupted()), ("clf", LogisticRegression())]).fit(X, y)
        except KeyboardInterrupt:
            print(json.dumps({"caught": "KeyboardInterrupt"}))
    """))
    assert printed(result) == {"caught": "KeyboardInterrupt"}
    (run,) = runs_named(cli, "Pipeline(LogisticRegression)")
    assert run["status"] == "killed"
    assert run["error"].startswith("KeyboardInterrupt")


def test_sigkill_mid_fit_shows_killed_and_leaves_the_earlier_run_intact(tmp_path, store, cli):
    path = tmp_path / "slow.py"
    path.write_text(script(DATA, """
        import time
        from sklearn.base import BaseEstimator, TransformerMixin
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        class Sleepy(TransformerMixin, BaseEstimator):
            def fit(self, X, y=None):
                time.sleep(120)
                return self
            def transform(self, X):
                return X

        LogisticRegression(C=0.7).fit(X, y)
        Pipeline([("sleepy", Sleepy()), ("clf", LogisticRegression())]).fit(X, y)
    """))
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(store), "AUTOTRACK_STRICT": "1"}
    process = subprocess.Popen([sys.executable, str(path)], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while True:  # until the slow fit's run and the finished run's metrics are on disk
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the runs never reached the store"
            listing = cli("runs", "--json", check=False)  # parsed JSON, or the failed process
            runs = listing if isinstance(listing, list) else []  # before the store exists
            states = {run["name"]: run for run in runs}
            if (states.get("Pipeline(LogisticRegression)", {}).get("status") == "running"
                    and "training_accuracy" in states.get("LogisticRegression", {}).get("metrics", {})):
                break
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(30)
        process.stderr.close()

    (slow,) = runs_named(cli, "Pipeline(LogisticRegression)")
    assert slow["status"] == "killed"
    assert slow["end_time"] is None
    (earlier,) = runs_named(cli, "LogisticRegression")
    assert earlier["status"] == "finished"
    assert earlier["params"]["C"] == 0.7
    assert 0 <= earlier["metrics"]["training_accuracy"] <= 1
    assert [a["name"] for a in earlier["artifacts"] if a["name"] != "sources.json"] == ["model.pkl"]
    assert os.path.getsize(earlier["artifacts"][0]["path"]) == earlier["artifacts"][0]["bytes"]


# -- patched estimators behave as before ----------------------------------------------------------
def test_patched_estimators_pickle_clone_deepcopy_and_introspect_as_before(run_script, tmp_path):
    code = script(DATA, """
        import copy, hashlib, inspect, pickle, sys
        from sklearn.base import clone
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC

        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.3)).fit(X, y)
        blob = pickle.dumps(model)
        with open(sys.argv[1], "wb") as handle:
            handle.write(blob)
        twin = copy.deepcopy(model)
        fresh = clone(model)
        out = {
            "pickle": hashlib.sha256(blob).hexdigest(),
            "roundtrip": pickle.loads(blob).predict_proba(X).tolist() == model.predict_proba(X).tolist(),
            "deepcopy": twin.predict_proba(X).tolist() == model.predict_proba(X).tolist(),
            "clone_params": repr(sorted(fresh.get_params(deep=False).items())),
            "clone_unfitted": not hasattr(fresh[-1], "coef_"),
            "params": repr(sorted(model.get_params(deep=True).items())),
            "signatures": [str(inspect.signature(f)) for f in (
                LogisticRegression.fit, LogisticRegression.predict_proba, LogisticRegression.score,
                StandardScaler.fit_transform, SVC.predict_proba)],
            "names": [LogisticRegression.fit.__qualname__, LogisticRegression.fit.__doc__ or "",
                      StandardScaler.transform.__name__],
            "available_if": [hasattr(SVC(probability=False).fit(X, y), "predict_proba"),
                             hasattr(SVC(probability=True).fit(X, y), "predict_proba")],
        }
        print(json.dumps(out))
    """)
    tracked = printed(run_script(code, args=[str(tmp_path / "tracked.pkl")]))
    untracked = printed(run_script(code, args=[str(tmp_path / "untracked.pkl")], tracked=False))
    assert tracked == untracked
    assert tracked["roundtrip"] and tracked["deepcopy"] and tracked["clone_unfitted"]
    assert tracked["available_if"] == [False, True]

    # The model pickled by a tracked process loads where autotrack is not even imported.
    check = textwrap.dedent(f"""
        import pickle, sys
        with open({str(tmp_path / "tracked.pkl")!r}, "rb") as handle:
            model = pickle.load(handle)
        assert "autotrack" not in sys.modules
        print(type(model).__name__, len(model.steps))
    """)
    loaded = subprocess.run([sys.executable, "-c", check], env=untracked_env(), capture_output=True,
                            text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["Pipeline", "2"]


def test_concurrent_fits_in_threads_go_to_separate_runs(run_script, cli):
    run_script(script(DATA, """
        import threading
        from sklearn.linear_model import LogisticRegression

        start = threading.Barrier(4)

        def train(c):
            model = LogisticRegression(C=c, max_iter=500)
            X_eval, y_eval = X[: int(c * 10)], y[: int(c * 10)]
            start.wait()
            model.fit(X, y)
            model.score(X_eval, y_eval)
            for _ in range(int(c)):
                model.predict(X_eval)

        threads = [threading.Thread(target=train, args=(c,)) for c in (1.0, 2.0, 3.0, 4.0)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    """))
    runs = runs_named(cli, "LogisticRegression")
    assert sorted(run["params"]["C"] for run in runs) == [1.0, 2.0, 3.0, 4.0]
    for run in runs:
        c = run["params"]["C"]
        assert run["status"] == "finished" and run["parent_id"] is None
        # What each thread did afterwards landed in its own model's run.
        (evaluated,) = [d for d in run["datasets"] if d["role"] == "score.X"]
        assert evaluated["rows"] == int(c * 10)
        assert "X_eval.score" in run["metrics"]
        assert run["timings"]["predict"]["count"] == int(c)


# -- a failure inside tracking --------------------------------------------------------------------
FAILING_PLUGIN = script(DATA, """
    import time
    import autotrack
    from autotrack.session import SESSION
    from sklearn.linear_model import LogisticRegression

    class BrokenPlugin:
        @autotrack.hookimpl
        def autotrack_fit_results(self, model, run):
            raise RuntimeError("broken plugin")

    SESSION.configure()
    SESSION.plugins.manager.register(BrokenPlugin(), name="broken-test-plugin")

    first = LogisticRegression().fit(X, y)
    second = LogisticRegression(C=2.0).fit(X, y)
    second.predict(X)
    print(json.dumps({"returned": [type(first).__name__, type(second).__name__],
                      "fitted": [hasattr(first, "coef_"), hasattr(second, "coef_")]}))
    time.sleep(1.5)  # the runs must end with their fits, not at exit
""")


def test_autotrack_log_debug_shows_the_traceback_of_a_tracking_error(run_script):
    result = run_script(FAILING_PLUGIN, env={"AUTOTRACK_STRICT": "0", "AUTOTRACK_LOG": "debug"})
    assert "Traceback (most recent call last)" in result.stderr
    assert 'raise RuntimeError("broken plugin")' in result.stderr
    assert "unknown setting" not in result.stderr  # AUTOTRACK_LOG is not a setting of the store


def test_error_in_a_hook_is_logged_once_and_swallowed_when_not_strict(run_script, cli):
    result = run_script(FAILING_PLUGIN, env={"AUTOTRACK_STRICT": "0"})
    assert printed(result) == {"returned": ["LogisticRegression"] * 2, "fitted": [True, True]}
    # One short line, no traceback: the details are for AUTOTRACK_LOG=debug.
    assert result.stderr.strip().splitlines() == [
        "autotrack: tracking error in the autotrack_fit_results hook (your code is unaffected; this is "
        "logged once): RuntimeError: broken plugin"]
    runs = runs_named(cli, "LogisticRegression")
    assert sorted(run["params"]["C"] for run in runs) == [1.0, 2.0]
    for run in runs:
        assert run["status"] == "finished"
        assert run["duration_s"] < 1.5
        assert run["timings"]["fit_s"] > 0


def test_error_in_one_hook_loses_only_that_hooks_part(run_script, cli):
    run_script(FAILING_PLUGIN, env={"AUTOTRACK_STRICT": "0"})
    run = [run for run in runs_named(cli, "LogisticRegression") if run["params"]["C"] == 2.0][0]
    assert "training_accuracy" in run["metrics"]
    assert [a["name"] for a in run["artifacts"] if a["name"] != "sources.json"] == ["model.pkl"]
    assert run["timings"]["predict"]["count"] == 1


def test_error_in_a_hook_raises_in_strict_mode(run_script):
    result = run_script(FAILING_PLUGIN, check=False)
    assert result.returncode != 0
    assert "RuntimeError: broken plugin" in result.stderr


FAILING_PARAMS_PLUGIN = script(DATA, """
    import os, subprocess, sys, time
    import autotrack
    from autotrack.session import SESSION
    from sklearn.linear_model import LogisticRegression

    class BrokenParams:
        @autotrack.hookimpl
        def autotrack_model_params(self, model):
            raise RuntimeError("broken params hook")

    SESSION.configure()
    SESSION.plugins.manager.register(BrokenParams(), name="broken-params-test-plugin")
    LogisticRegression().fit(X, y)
""")
LATER_CHILD_PROCESS = """
# A process started after that fit is not inside it: its own fits are runs.
subprocess.run([sys.executable, "-c", "from sklearn.linear_model import LogisticRegression; "
                "LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1])"],
               check=True, env={**os.environ, "AUTOTRACK_STRICT": "1"})
"""


def test_error_in_the_params_hook_still_records_the_fit(run_script, cli):
    run_script(FAILING_PARAMS_PLUGIN + "time.sleep(1.5)  # the run must end with its fit, not at exit\n",
               env={"AUTOTRACK_STRICT": "0"})
    (run,) = runs_named(cli, "LogisticRegression")
    assert run["status"] == "finished"
    assert run["timings"]["fit_s"] > 0
    assert run["duration_s"] < 1.5


def test_error_when_starting_a_run_does_not_stop_tracking_in_later_child_processes(run_script, cli):
    run_script(FAILING_PARAMS_PLUGIN + LATER_CHILD_PROCESS, env={"AUTOTRACK_STRICT": "0"})
    assert len(runs_named(cli, "LogisticRegression")) == 2


# -- bad input is stored or skipped, never raised -------------------------------------------------
def test_bad_metric_values_and_non_ascii_names_are_stored_or_skipped_with_a_warning(run_script, cli):
    result = run_script("""
        import autotrack

        autotrack.log_metrics({"loss": float("nan"), "gain": float("inf"), "note": "abc",
                               "точность": 0.5, "精度": 0.25})
        autotrack.log_params({"学习率": 0.1, "größe": "groß"})
        print("done")
    """)
    assert result.stdout.strip() == "done"
    (run,) = [show(cli, run["id"]) for run in all_runs(cli)]
    assert run["metrics"]["точность"] == 0.5 and run["metrics"]["精度"] == 0.25
    assert len(run["history"]["loss"]) == 1 and len(run["history"]["gain"]) == 1  # stored
    assert "note" not in run["history"]  # skipped
    assert run["params"] == {"学习率": 0.1, "größe": "groß"}
    for name in ("'loss'", "'gain'", "'note'"):
        assert name in result.stderr


def test_secrets_never_reach_the_store(run_script, cli, store):
    run_script(script(DATA, """
        import autotrack
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import FunctionTransformer

        def load(values, source):
            return values

        Pipeline([("load", FunctionTransformer(load, kw_args={"source": "postgres://user:pw@host/db"})),
                  ("clf", LogisticRegression())]).fit(X, y)
        autotrack.set_tags({"token": "tag-secret-value", "team": "vision"})
    """), args=["--password", "hunter2", "--api-key=abc123key", "--epochs", "3"],
        env={"AUTOTRACK_TOKEN": "env-secret-value"})
    (run,) = runs_named(cli, "Pipeline(LogisticRegression)")
    context = run["context"]
    assert context["argv"][1:] == ["--password", "***", "--api-key=***", "--epochs", "3"]
    assert "AUTOTRACK_TOKEN" not in context["env"]  # autotrack's own variables are never recorded
    assert run["tags"]["token"] == "***" and run["tags"]["team"] == "vision"
    assert run["params"]["load__kw_args.source"] == "postgres://user:***@host/db"
    text = json.dumps(run)
    for secret in ("hunter2", "abc123key", "env-secret-value", "tag-secret-value", ":pw@"):
        assert secret not in text
    database = (store / "runs.db").read_bytes() + b"".join(
        path.read_bytes() for path in store.glob("runs.db-*"))
    assert b"hunter2" not in database and b":pw@" not in database
