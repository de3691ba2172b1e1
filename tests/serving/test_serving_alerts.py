"""A serving_drift alert: once per model and window in which features drifted, naming them and the
training run; none for data like the training data."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("datasketches")

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))
from test_notify import notify_env, webhook  # noqa: E402,F401 (a fixture)
from test_serving_end_to_end import SERVE, TRAIN, TRUTH_OF_SERVED  # noqa: E402


def test_drifted_windows_alert_once_each_and_undrifted_ones_never(run_script, cli, webhook):  # noqa: F811
    hook = webhook()
    run_script(TRAIN.replace("SAVE", "pickle.dump(model, open('model.pkl', 'wb'))"), name="train.py")
    run_id = cli("runs", "--json")[0]["id"]
    serve = SERVE.replace("LOAD", "pickle.load(open('model.pkl', 'rb'))")
    env = notify_env(hook.url, AUTOTRACK_SERVING_WINDOW_ROWS="1500")
    run_script(serve, name="serve.py", args=["1"], env=env)
    assert hook.alerts() == []

    run_script(serve, name="serve.py", args=["2", "shift"], env=env)
    windows = cli("drift", run_id, "--json")["windows"]
    drifted = [window for window in windows if window["drifted"]]
    assert len(drifted) == 2  # the shifted process's windows
    alerts = [alert["autotrack"] for alert in hook.alerts()]
    assert len(alerts) == len(drifted)
    assert {alert["metric"]["window"] for alert in alerts} == {window["id"] for window in drifted}
    for alert in alerts:
        assert alert["event"] == "serving_drift" and alert["run_id"] == run_id
        assert alert["metric"]["drifted"] == ["f2", "f4"]
        assert "drift in f2, f4" in alert["text"]


def test_labels_that_show_the_model_wrong_alert_once_per_window_and_metric(run_script, cli, webhook):  # noqa: F811
    hook = webhook()
    run_script(TRAIN.replace("SAVE", "pickle.dump(model, open('model.pkl', 'wb'))"), name="train.py")
    run_id = cli("runs", "--json")[0]["id"]
    env = notify_env(hook.url, AUTOTRACK_SERVING_ID_COLUMN="customer_id", AUTOTRACK_REALISED_ALERTS="accuracy<0.8")
    run_script(SERVE.replace("LOAD", "pickle.load(open('model.pkl', 'rb'))"), name="serve.py", args=["4"], env=env)
    labels = TRUTH_OF_SERVED + 'autotrack.log_labels(ids, truth if sys.argv[1] == "right" else 1 - truth)\n'
    run_script(labels, name="labels.py", args=["right"], env=env)
    assert hook.alerts() == []  # the model is right on these
    run_script(labels, name="labels.py", args=["wrong"], env=env)
    run_script(labels, name="labels.py", args=["wrong"], env=env)  # another process: its own alert
    alerts = [alert["autotrack"] for alert in hook.alerts()]
    assert len(alerts) == 2
    for alert in alerts:
        assert alert["event"] == "serving_realised" and alert["run_id"] == run_id
        assert alert["metric"]["key"] == "accuracy" and alert["metric"]["value"] < 0.2
        assert alert["metric"]["condition"] == "accuracy<0.8" and "realised accuracy" in alert["text"]
