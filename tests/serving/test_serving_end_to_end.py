"""A training script and a separate serving script, both under AUTOTRACK=1: the served model is
recognised as the training run's, its windows profile what it served, drift flags exactly the
features that moved, labels logged later give realised metrics; what the user sees is unchanged."""

from __future__ import annotations

import hashlib

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("datasketches")

TRAIN = """
import pickle, joblib, numpy as np, pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

rng = np.random.default_rng(0)
n = 4000
X = pd.DataFrame({f"f{i}": rng.normal(size=n) for i in range(5)})
X["plan"] = rng.choice(["basic", "pro", "team"], n)
y = ((X.f0 + X.f1 + (X.plan == "pro")) > 0.5).astype(int)
encode = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["plan"]), remainder=StandardScaler())
model = make_pipeline(encode, LogisticRegression())
model.fit(X, y)
SAVE
"""

SERVE = """
import pickle, sys, joblib, numpy as np, pandas as pd
model = LOAD
rng = np.random.default_rng(int(sys.argv[1]))
n = 2000
X = pd.DataFrame({f"f{i}": rng.normal(size=n) for i in range(5)})
X["plan"] = rng.choice(["basic", "pro", "team"], n)
X.index = pd.RangeIndex(100_000, 100_000 + n, name="customer_id")
if "shift" in sys.argv:
    X["f2"] += 1.0
    X["f4"] *= 2.5
for start in range(0, n, 250):
    model.predict_proba(X.iloc[start:start + 250])
for i in range(300):
    model.predict(X.iloc[[i]])
predicted = model.predict(X)
print("predicted", int(predicted.sum()))
"""


# The true labels of what SERVE predicted with seed 4 (its ids: the index, `customer_id`).
TRUTH_OF_SERVED = """
import sys, autotrack, numpy as np, pandas as pd
rng = np.random.default_rng(4)
n = 2000
X = pd.DataFrame({f"f{i}": rng.normal(size=n) for i in range(5)})
X["plan"] = rng.choice(["basic", "pro", "team"], n)
truth = ((X.f0 + X.f1 + (X.plan == "pro")) > 0.5).astype(int)
ids = np.arange(100_000, 100_000 + n)
"""


def _train(run_script, save="pickle.dump(model, open('model.pkl', 'wb'))"):
    run_script(TRAIN.replace("SAVE", save), name="train.py")


def _served(cli):
    return cli("serving", "--json")


def test_a_pickled_model_served_elsewhere_is_linked_to_its_run_and_its_drift_is_measured(run_script, cli, tmp_path):
    _train(run_script)
    run_id = cli("runs", "--json")[0]["id"]
    run_script(SERVE.replace("LOAD", "pickle.load(open('model.pkl', 'rb'))"), name="serve.py", args=["1", "shift"])

    served = _served(cli)
    assert len(served) == 1
    model = served[0]
    assert model["run"]["run_id"] == run_id
    assert model["calls"] == 8 + 300 + 1 and model["errors"] == 0
    assert model["rows"] == 2000 + 300 + 2000  # predict_proba's batches, the single rows, the whole frame
    assert set(model["latency"]) >= {"p50", "p95", "p99"}

    drift = cli("drift", run_id[:8], "--json")
    assert drift["overall"]["drifted"] == ["f2", "f4"]
    assert drift["features"]["f2"]["drifted"] and drift["features"]["f2"]["since"] is not None
    assert drift["overall"]["schema"] == {"missing_columns": [], "extra_columns": [], "changed_types": {},
                                          "unseen_categories": {}}
    assert drift["overall"]["prediction_drift"]["prediction"]["test"] == "chi2"
    text = cli("drift", run_id[:8]).stdout
    assert "f2" in text and "YES" in text

    cli("report", run_id, "-o", str(tmp_path / "report.html"))
    report = (tmp_path / "report.html").read_text()
    production = report[report.index('class="section production"'):]
    assert "309 calls, 4,300 rows" in production
    rows = {row.split("</td>")[0]: row for row in production.replace("\n", "").split("<tr><td>")[1:]}
    assert "<td>yes</td>" in rows["f2"] and "<td>no</td>" in rows["f0"]


def test_data_like_the_training_data_flags_nothing_and_joblib_models_link_too(run_script, cli):
    _train(run_script, save="joblib.dump(model, 'model.joblib')")
    run_id = cli("runs", "--json")[0]["id"]
    run_script(SERVE.replace("LOAD", "joblib.load('model.joblib')"), name="serve.py", args=["2"])
    drift = cli("drift", run_id, "--json")
    assert drift["overall"]["drifted"] == []
    assert len(drift["overall"]["columns"]) == 6
    assert not any(w["drifted"] for w in drift["windows"])


def test_tracking_changes_neither_the_saved_bytes_nor_the_predictions(run_script, cli, tmp_path):
    _train(run_script)
    tracked_bytes = hashlib.sha256((tmp_path / "model.pkl").read_bytes()).hexdigest()
    _train(lambda code, name: run_script(code, name=name, tracked=False))
    assert hashlib.sha256((tmp_path / "model.pkl").read_bytes()).hexdigest() == tracked_bytes
    serve = SERVE.replace("LOAD", "pickle.load(open('model.pkl', 'rb'))")
    plain = run_script(serve, name="serve.py", args=["3"], tracked=False)
    tracked = run_script(serve, name="serve.py", args=["3"])
    assert tracked.stdout == plain.stdout
    assert tracked.stderr == plain.stderr == ""


def test_a_model_nobody_tracked_gets_a_serving_record_of_its_own(run_script, cli):
    _train(lambda code, name: run_script(code, name=name, tracked=False))
    run_script(SERVE.replace("LOAD", "pickle.load(open('model.pkl', 'rb'))"), name="serve.py", args=["1"])
    served = _served(cli)
    assert len(served) == 1 and served[0]["run"] is None and served[0]["calls"] == 309


def test_labels_logged_later_give_realised_metrics_per_window(run_script, cli):
    _train(run_script)
    run_id = cli("runs", "--json")[0]["id"]
    env = {"AUTOTRACK_SERVING_ID_COLUMN": "customer_id"}
    run_script(SERVE.replace("LOAD", "pickle.load(open('model.pkl', 'rb'))"), name="serve.py", args=["4"], env=env)
    run_script(TRUTH_OF_SERVED + """
autotrack.log_labels(ids[:1000], truth[:1000])
autotrack.log_labels(ids[1000:], 1 - truth[1000:])  # the world changed: every label flipped
""", name="labels.py", env=env)
    realised = cli("drift", run_id, "--json")["realised"]
    assert len(realised) == 1
    assert realised[0]["labelled"] == 2000
    assert 0.4 < realised[0]["accuracy"] < 0.6  # right on the first half, wrong on the second


def test_a_failing_predict_call_raises_as_without_tracking_and_is_counted(run_script, cli):
    _train(run_script)
    wrong_input = """
        import pickle, numpy as np
        model = pickle.load(open('model.pkl', 'rb'))
        try:
            model.predict(np.zeros((3, 2)))
        except Exception as exc:
            print(type(exc).__name__)
    """
    result = run_script(wrong_input, name="serve.py")
    plain = run_script(wrong_input, name="serve.py", tracked=False)
    assert result.stdout == plain.stdout
    assert _served(cli)[0]["errors"] == 1


def test_a_sample_of_served_rows_is_kept_when_asked_and_redacted(run_script, cli, store):
    _train(run_script)
    run_script("""
        import pickle, pandas as pd
        model = pickle.load(open('model.pkl', 'rb'))
        X = pd.DataFrame({"f0": [0.1] * 50, "f1": [0.2] * 50, "f2": [0.0] * 50, "f3": [1.0] * 50,
                          "f4": [2.0] * 50, "plan": ["password=hunter2-canary"] * 50})
        model.predict(X)
    """, name="serve.py", env={"AUTOTRACK_SERVING_SAMPLE_ROWS": "5"})
    import sqlite3, json

    body = json.loads(sqlite3.connect(store / "runs.db").execute("SELECT body FROM serving_windows").fetchone()[0])
    assert len(body["sample"]) == 5
    assert body["sample"][0]["f0"] == 0.1 and "prediction" in body["sample"][0]
    assert "hunter2-canary" not in json.dumps(body)


def test_serving_off_records_nothing(run_script, cli):
    _train(run_script)
    run_script(SERVE.replace("LOAD", "pickle.load(open('model.pkl', 'rb'))"), name="serve.py", args=["1"],
               env={"AUTOTRACK_SERVING": "off"})
    assert _served(cli) == []


def test_bad_arguments_get_one_line(cli):
    result = cli("drift", "nope", check=False)
    assert result.returncode == 1 and result.stderr.count("\n") == 1


def test_a_score_or_metric_computed_in_the_serving_process_is_a_realised_metric_of_its_window(run_script, cli):
    _train(run_script)
    run_id = cli("runs", "--json")[0]["id"]
    served = run_script("""
        import pickle, numpy as np, pandas as pd
        from sklearn.metrics import accuracy_score
        model = pickle.load(open('model.pkl', 'rb'))
        rng = np.random.default_rng(5)
        X_live = pd.DataFrame({f"f{i}": rng.normal(size=1000) for i in range(5)})
        X_live["plan"] = rng.choice(["basic", "pro", "team"], 1000)
        y_live = ((X_live.f0 + X_live.f1 + (X_live.plan == "pro")) > 0.5).astype(int)
        print(round(model.score(X_live, y_live), 6), round(accuracy_score(y_live, model.predict(X_live)), 6))
    """, name="serve.py")
    (window,) = cli("drift", run_id, "--json")["windows"]
    printed = [float(value) for value in served.stdout.split()]
    assert set(window["metrics"]) == {"score.X_live", "accuracy_score.X_live"}
    assert window["metrics"]["score.X_live"] == window["metrics"]["accuracy_score.X_live"] > 0.9
    assert printed == [round(window["metrics"]["score.X_live"], 6)] * 2


def test_past_the_queue_bound_calls_are_counted_and_timed_but_their_data_is_not_kept(run_script, cli, store):
    _train(run_script)
    run_script("""
        import pickle, pandas as pd
        import autotrack.serving.recorder as recorder
        recorder.MAX_QUEUED_CALLS = 20  # the bound, made small enough to reach within one drain
        model = pickle.load(open('model.pkl', 'rb'))
        X = pd.DataFrame({"f0": [0.1], "f1": [0.2], "f2": [0.0], "f3": [1.0], "f4": [2.0], "plan": ["pro"]})
        for _ in range(400):
            model.predict(X)
    """, name="serve.py")
    (served,) = cli("serving", "--json")
    assert served["calls"] == 400 and served["rows"] == 400  # every call and row counted
    import json
    import sqlite3

    (body,) = [json.loads(row[0]) for row in sqlite3.connect(store / "runs.db").execute(
        "SELECT body FROM serving_windows")]
    assert body["unprofiled_calls"] > 0
    assert 20 <= body["inputs"]["rows"] == 400 - body["unprofiled_calls"]  # only queued calls' rows profiled
    assert len(body["latency_profile"]) and body["latency"]["p50"] > 0


def test_a_killed_serving_process_loses_at_most_its_last_seconds(run_script, cli, store, tmp_path):
    """kill -9: every window closed more than the writer's durability bound before the kill is in
    the store (a window closes within a pass, about a second, of its last row)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from autotrack.writer import DURABLE_WITHIN_S

    _train(run_script)
    (tmp_path / "serve_forever.py").write_text("""
import pickle, sys, time, pandas as pd
model = pickle.load(open('model.pkl', 'rb'))
X = pd.DataFrame({"f0": [0.1] * 100, "f1": [0.2] * 100, "f2": [0.0] * 100, "f3": [1.0] * 100,
                  "f4": [2.0] * 100, "plan": ["pro"] * 100})
for i in range(10_000):
    model.predict(X)
    print(i, time.monotonic(), flush=True)
    time.sleep(0.1)
""")
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(store), "AUTOTRACK_SERVING_WINDOW_ROWS": "100"}
    process = subprocess.Popen([sys.executable, "serve_forever.py"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               text=True)
    time.sleep(8)
    process.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    calls = [tuple(map(float, line.split())) for line in process.stdout.read().splitlines()]
    process.wait()
    settled = [i for i, when in calls if when < killed_at - DURABLE_WITHIN_S - 1.5]
    assert len(settled) >= 5
    (served,) = cli("serving", "--json")
    assert served["rows"] >= 100 * len(settled)  # each call a window of 100 rows; the settled ones all kept


def test_a_model_loaded_used_once_and_dropped_at_once_is_still_linked(run_script, cli):
    _train(run_script)
    run_id = cli("runs", "--json")[0]["id"]
    run_script("""
        import pickle, pandas as pd
        X = pd.DataFrame({"f0": [0.1], "f1": [0.2], "f2": [0.0], "f3": [1.0], "f4": [2.0], "plan": ["pro"]})
        print(pickle.load(open('model.pkl', 'rb')).predict(X))  # the model is garbage at once
    """, name="serve.py")
    (served,) = cli("serving", "--json")
    assert served["run"]["run_id"] == run_id and served["calls"] == 1
