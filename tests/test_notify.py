"""Failure alerts: real training scripts, a real webhook server on 127.0.0.1, the payloads it gets."""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scripting import all_runs, printed, script

pytest.importorskip("sklearn")

NAN_DATA = """
import numpy as np
from sklearn.linear_model import LogisticRegression
X = np.array([[0.0], [np.nan], [1.0], [0.5]])
y = [0, 1, 1, 0]
"""

GOOD_DATA = """
from sklearn.linear_model import LogisticRegression
X, y = [[0.0], [1.0], [0.2], [0.9]], [0, 1, 0, 1]
"""


class Webhook:
    """An incoming-webhook stand-in: records each POST (headers, JSON body, when it came and
    when it was answered); answers `status` after `delay` seconds."""

    def __init__(self, status: int = 200, delay: float = 0.0):
        self.status, self.delay = status, delay
        self.requests: list[dict] = []
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                received = time.time()
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(hook.delay)
                self.send_response(hook.status)
                self.end_headers()
                self.wfile.write(b"ok" if hook.status == 200 else b"error")
                hook.requests.append({"path": self.path, "content_type": self.headers["Content-Type"],
                                      "body": json.loads(body), "received": received,
                                      "answered": time.time()})

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/s3cr3t"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def alerts(self) -> list[dict]:
        return [request["body"] for request in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    servers: list[Webhook] = []

    def start(status: int = 200, delay: float = 0.0) -> Webhook:
        servers.append(Webhook(status, delay))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def notify_env(url: str, **extra) -> dict:
    return {"AUTOTRACK_NOTIFY_URL": url, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1", **extra}


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


# -- run_failed ---------------------------------------------------------------------------------
def test_a_fit_that_raises_sends_one_run_failed_alert_and_the_script_fails_as_before(
        run_script, webhook, cli):
    server = webhook()
    code = script(NAN_DATA, "LogisticRegression().fit(X, y)")
    tracked = run_script(code, env=notify_env(server.url), check=False)
    untracked = run_script(code, check=False, tracked=False)
    assert tracked.returncode == untracked.returncode == 1
    assert tracked.stderr.strip().splitlines()[-1] == untracked.stderr.strip().splitlines()[-1]
    assert "Input X contains NaN" in untracked.stderr

    (request,) = server.requests  # delivered before the process exited
    assert request["content_type"] == "application/json"
    alert = request["body"]["autotrack"]
    (run,) = all_runs(cli)
    assert (alert["event"], alert["status"], run["status"]) == ("run_failed", "failed", "failed")
    assert alert["run_id"] == run["id"] and alert["run_name"] == "LogisticRegression"
    assert alert["error"].startswith("ValueError: Input X contains NaN") and alert["error"] == run["error"]
    assert alert["experiment"] == "train" and alert["script"].endswith("train.py")
    assert alert["host"] == socket.gethostname() and alert["metric"] is None
    # The line chat tools show: one line, the error's first line.
    assert request["body"]["text"] == (f'autotrack: run "LogisticRegression" (train) failed on '
                                       f'{socket.gethostname()}: ValueError: Input X contains NaN.')


def test_a_failed_run_with_nested_fits_alerts_once_for_the_outer_run(run_script, webhook, cli):
    server = webhook()
    result = run_script(script(NAN_DATA, """
        import autotrack
        with autotrack.start_run(name="rf-depth-3"):
            LogisticRegression().fit([[0.0], [1.0]], [0, 1])  # finished: no alert
            LogisticRegression().fit(X, y)                    # fails, and fails the outer run
    """), env=notify_env(server.url), check=False)
    assert result.returncode == 1
    runs = {run["name"]: run for run in all_runs(cli) if run["status"] == "failed"}
    assert set(runs) == {"rf-depth-3", "LogisticRegression"}
    (alert,) = server.alerts()
    assert alert["autotrack"]["run_id"] == runs["rf-depth-3"]["id"]
    assert alert["text"].startswith('autotrack: run "rf-depth-3" (train) failed on ')


def test_an_uncaught_exception_fails_the_open_run_at_exit_and_its_alert_is_delivered(
        run_script, webhook, cli):
    server = webhook()
    result = run_script("""
        import autotrack
        autotrack.start_run(name="epoch-loop")  # never ended: the exit ends it
        autotrack.log_metric("loss", 0.5)
        raise RuntimeError("disk full")
    """, env=notify_env(server.url), check=False)
    assert result.returncode == 1 and "RuntimeError: disk full" in result.stderr
    (alert,) = server.alerts()
    (run,) = all_runs(cli)
    assert alert["autotrack"]["run_id"] == run["id"]
    assert (alert["autotrack"]["event"], alert["autotrack"]["error"]) == ("run_failed", "RuntimeError: disk full")


# -- script_failed ------------------------------------------------------------------------------
def test_a_script_that_fails_after_its_fits_sends_one_alert_and_its_runs_say_so(run_script, webhook, cli):
    server = webhook()
    result = run_script("""
        import numpy as np
        from sklearn.linear_model import LogisticRegression, Ridge
        X = np.random.default_rng(0).normal(size=(40, 2))
        LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
        Ridge().fit(X, X[:, 1])
        raise OSError("cannot save the report: disk full")  # after the fits: every run finished
    """, env=notify_env(server.url), check=False)
    assert result.returncode == 1 and "OSError: cannot save the report" in result.stderr
    runs = all_runs(cli)
    assert sorted(run["status"] for run in runs) == ["finished", "finished"]
    (alert,) = server.alerts()
    assert alert["autotrack"]["event"] == "script_failed" and alert["autotrack"]["status"] == "failed"
    assert sorted(alert["autotrack"]["runs"]) == sorted(run["id"] for run in runs)
    assert alert["autotrack"]["script"].endswith("train.py")
    assert alert["text"].startswith("autotrack: ") and "train.py (train) failed on" in alert["text"]
    assert "after 2 finished runs" in alert["text"] and alert["text"].endswith("OSError: cannot save the report: disk full")
    for run in runs:
        process = cli("show", run["id"], "--json")["context"]["process"]
        assert (process["outcome"], process["error"]) == ("failed", "OSError: cannot save the report: disk full")
        assert process["pid"] > 0 and process["ended"] >= process["started"]
        shown = cli("show", run["id"]).stdout
        assert "failed after this run" in shown


def test_a_script_that_ends_well_records_it_and_sends_nothing(run_script, webhook, cli):
    server = webhook()
    run_script("""
        import numpy as np
        from sklearn.linear_model import Ridge
        Ridge().fit(np.ones((4, 1)), [1.0, 2.0, 3.0, 4.0])
    """, env=notify_env(server.url))
    (run,) = all_runs(cli)
    assert cli("show", run["id"], "--json")["context"]["process"]["outcome"] == "finished"
    assert server.alerts() == []


# -- run_killed ---------------------------------------------------------------------------------
def test_keyboard_interrupt_sends_run_killed(run_script, webhook, cli, tmp_path):
    server = webhook()
    code = """
        import autotrack
        with autotrack.start_run(name="interactive"):
            raise KeyboardInterrupt
    """
    tracked = run_script(code, env=notify_env(server.url), check=False)
    (alert,) = server.alerts()
    (run,) = all_runs(cli)
    assert run["status"] == "killed"
    # Still the interpreter's own exit for an uncaught Ctrl-C (it dies of SIGINT), as untracked.
    untracked = run_script(code, check=False, tracked=False, env={"AUTOTRACK_DIR": str(tmp_path / "other")})
    assert tracked.returncode == untracked.returncode == -signal.SIGINT
    assert alert["autotrack"]["event"] == "run_killed" and alert["autotrack"]["run_id"] == run["id"]
    assert " was killed on " in alert["text"]


LONG_LOOP = """
import time, autotrack
with autotrack.start_run(name="long-loop"):
    print("looping", flush=True)
    for step in range(100_000):
        autotrack.log_metric("loss", 1.0 / (step + 1))
        time.sleep(0.01)
"""


def test_sigterm_ends_the_run_as_killed_sends_the_alert_and_dies_of_sigterm(tmp_path, store, webhook, cli):
    server = webhook()
    path = tmp_path / "train.py"
    path.write_text(LONG_LOOP)
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(store), **notify_env(server.url)}
    process = subprocess.Popen([sys.executable, str(path)], cwd=tmp_path, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout.readline().strip() == "looping", process.stderr.read()
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -signal.SIGTERM  # killed by signal 15, as without autotrack
    (alert,) = server.alerts()
    (run,) = all_runs(cli)
    assert (run["status"], run["error"], run["end_time"] is not None) == ("killed", "SIGTERM", True)
    assert alert["autotrack"]["event"] == "run_killed" and alert["autotrack"]["run_id"] == run["id"]
    assert alert["autotrack"]["error"] == "SIGTERM"


def test_a_sigterm_handler_that_chains_the_previous_one_runs_its_course_as_without_autotrack(run_script, webhook):
    # Lightning's signal connector installs its handler over whatever is there and calls that one
    # too. Without autotrack "whatever is there" is SIG_DFL, never called: the program goes on.
    server = webhook()
    result = run_script("""
        import os, signal, autotrack
        previous = signal.getsignal(signal.SIGTERM)
        received = []

        def graceful(signum, frame):
            received.append(signum)
            if callable(previous):
                previous(signum, frame)

        signal.signal(signal.SIGTERM, graceful)
        with autotrack.start_run(name="graceful"):
            os.kill(os.getpid(), signal.SIGTERM)
            autotrack.log_metric("after_sigterm", 1.0)
        print("stopped gracefully" if received else "no signal")
    """, env=notify_env(server.url))
    assert result.returncode == 0 and result.stdout == "stopped gracefully\n"
    assert server.requests == []  # the run finished: nothing to alert


def test_worker_processes_of_a_run_keep_the_default_sigterm(run_script):
    # Pool.terminate() stops its workers with SIGTERM and waits for them: they die at once, as
    # they did before autotrack; the parent process, which the user runs, has the handler.
    result = run_script("""
        import json, multiprocessing, signal, autotrack

        def sigterm_is_default(_):
            return signal.getsignal(signal.SIGTERM) is signal.SIG_DFL

        if __name__ == "__main__":
            with autotrack.start_run(name="fan-out"):
                with multiprocessing.get_context("spawn").Pool(1) as pool:
                    workers = pool.map(sigterm_is_default, [0])
            print(json.dumps({"workers": workers, "parent": sigterm_is_default(0)}))
    """)
    assert printed(result) == {"workers": [True], "parent": False}


# -- metric_not_finite --------------------------------------------------------------------------
NAN_LOSS = """
import autotrack
with autotrack.start_run(name="nan-loss"):
    for step in range(100):
        autotrack.log_metric("loss", float("nan"))
        autotrack.log_metric("acc", 0.5)
print("done")
"""


def test_a_nan_metric_logged_100_times_sends_one_alert(run_script, webhook, cli):
    server = webhook()
    result = run_script(NAN_LOSS, env=notify_env(server.url))
    assert result.stdout == "done\n"
    (alert,) = server.alerts()
    (run,) = all_runs(cli)
    assert run["status"] == "finished"  # a finished run sends nothing of its own
    fields = alert["autotrack"]
    assert (fields["event"], fields["run_id"], fields["run_name"]) == ("metric_not_finite", run["id"], "nan-loss")
    assert fields["metric"] == {"key": "loss", "value": "nan", "step": 0}
    assert alert["text"].startswith('autotrack: run "nan-loss" (train) logged loss = nan at step 0 on ')


@pytest.mark.parametrize("setting", [{"AUTOTRACK_NOTIFY_METRICS": "acc*,val_*"},
                                     {"AUTOTRACK_NOTIFY_ON": "run_failed,run_killed"}])
def test_unwatched_metrics_and_events_send_nothing(run_script, webhook, setting):
    server = webhook()
    assert run_script(NAN_LOSS, env=notify_env(server.url, **setting)).stdout == "done\n"
    assert server.requests == []  # the exit waits for queued alerts: none was queued


def test_a_finished_fit_sends_nothing(run_script, webhook, cli):
    server = webhook()
    run_script(script(GOOD_DATA, """
        import autotrack
        LogisticRegression().fit(X, y)
        with autotrack.start_run(name="ok"):
            autotrack.log_metric("loss", 0.1)
    """), env=notify_env(server.url))
    assert {run["status"] for run in all_runs(cli)} == {"finished"}
    assert server.requests == []


def test_search_candidates_with_nan_scores_send_nothing(run_script, webhook, cli):
    """A failing candidate's NaN score is the search's business (error_score), not an alert."""
    server = webhook()
    run_script(script(GOOD_DATA, """
        import warnings
        from sklearn.model_selection import GridSearchCV
        warnings.simplefilter("ignore")
        X, y = X * 3, y * 3
        GridSearchCV(LogisticRegression(), {"C": [1.0, -1.0]}, cv=2, error_score=float("nan")).fit(X, y)
    """), env=notify_env(server.url))
    children = [run for run in all_runs(cli) if run["source"] == "child"]
    # Both candidates were recorded; the failed one's NaN score reads back as null.
    assert sorted(str(run["metrics"]["mean_test_score"]) for run in children) == ["1.0", "None"]
    assert server.requests == []


# -- a webhook that fails never affects the script ----------------------------------------------
@pytest.mark.parametrize("answer", ["closed port", "HTTP 500"])
def test_an_unreachable_or_failing_webhook_is_one_warning_and_changes_nothing(run_script, webhook, answer):
    server = webhook(status=500)
    url = closed_port_url() if answer == "closed port" else server.url
    code = NAN_LOSS.replace('autotrack.log_metric("acc", 0.5)', 'autotrack.log_metric("acc", float("inf"))')
    started = time.monotonic()
    result = run_script(code, env=notify_env(url))  # strict mode on: still exit status 0
    assert time.monotonic() - started < 30
    assert result.stdout == "done\n"
    warnings = [line for line in result.stderr.splitlines() if "could not send an alert" in line]
    assert len(warnings) == 1, result.stderr  # two alerts failed, one warning
    assert "s3cr3t" not in result.stderr and "/hook" not in result.stderr  # the URL's secret part
    if answer == "HTTP 500":
        assert "HTTP 500" in warnings[0]
        assert len(server.requests) == 2 * 3  # each alert tried three times


def test_a_slow_webhook_does_not_hold_up_the_training_loop(run_script, webhook):
    server = webhook(delay=3.0)
    result = run_script("""
        import json, time, autotrack
        with autotrack.start_run(name="slow-hook"):
            autotrack.log_metric("loss", float("nan"))
            for step in range(20):
                autotrack.log_metric("acc", step / 20)
                time.sleep(0.01)
            print(json.dumps({"loop_done": time.time()}), flush=True)
    """, env=notify_env(server.url))
    loop_done = json.loads(result.stdout)["loop_done"]
    (request,) = server.requests  # and the exit still waited for the slow delivery
    assert request["received"] < loop_done < request["answered"]


def test_a_url_that_is_not_http_is_one_warning_at_enable(run_script):
    result = run_script(script(GOOD_DATA, """
        LogisticRegression().fit(X, y)
        print("fitted")
    """), env=notify_env("ftp://user:pw@example.com/hook"))
    assert result.stdout == "fitted\n"
    assert result.stderr.count("notify_url ftp://example.com/*** is not used: it is not an http(s) URL") == 1
    assert "pw" not in result.stderr


# -- third-party notifiers ----------------------------------------------------------------------
SINK_PLUGIN = """
import json, os
from autotrack import hookimpl

@hookimpl
def autotrack_notify(alert):
    if os.environ.get("SINK_RAISES"):
        raise RuntimeError("pager service is down")
    with open(os.environ["SINK_FILE"], "a") as handle:
        handle.write(json.dumps({"event": alert.event, "run_id": alert.run_id, "text": alert.text}) + "\\n")
"""


@pytest.fixture
def sink_plugin(tmp_path) -> Path:
    """A third party's notifier, installed as a distribution with an `autotrack` entry point."""
    site = tmp_path / "site"
    (site / "alert_sink-0.1.dist-info").mkdir(parents=True)
    (site / "alert_sink.py").write_text(SINK_PLUGIN)
    (site / "alert_sink-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: alert-sink\nVersion: 0.1\n")
    (site / "alert_sink-0.1.dist-info" / "entry_points.txt").write_text("[autotrack]\nalert_sink = alert_sink\n")
    return site


def test_a_third_party_notifier_receives_the_alert(run_script, webhook, cli, sink_plugin, tmp_path):
    server = webhook()
    sink = tmp_path / "alerts.jsonl"
    env = notify_env(server.url, PYTHONPATH=str(sink_plugin), SINK_FILE=str(sink),
                     XDG_CACHE_HOME=str(tmp_path / "cache"))
    plugins = {row["name"]: row for row in cli("plugins", "--json", env=env)}
    assert plugins["alert_sink"]["state"] == "active" and plugins["alert_sink"]["kind"] == "notifier"
    result = run_script(script(NAN_DATA, "LogisticRegression().fit(X, y)"), env=env, check=False)
    assert result.returncode == 1
    (received,) = [json.loads(line) for line in sink.read_text().splitlines()]
    (run,) = all_runs(cli)
    assert received["event"] == "run_failed" and received["run_id"] == run["id"]
    assert [alert["text"] for alert in server.alerts()] == [received["text"]]  # both notifiers got it


@pytest.mark.parametrize("strict", ["0", "1"])
def test_a_notifier_that_raises_does_not_change_the_scripts_result(run_script, webhook, sink_plugin,
                                                                    tmp_path, strict):
    server = webhook()
    env = notify_env(server.url, PYTHONPATH=str(sink_plugin), SINK_FILE=str(tmp_path / "alerts.jsonl"),
                     SINK_RAISES="1", AUTOTRACK_STRICT=strict, XDG_CACHE_HOME=str(tmp_path / "cache"))
    result = run_script(NAN_LOSS, env=env, check=False)
    assert result.stdout == "done\n"
    assert len(server.alerts()) == 1  # the webhook still got the alert the broken plugin dropped
    assert result.stderr.count("pager service is down") >= 1
    if strict == "1":  # recorded like the writer thread's errors: strict mode fails at exit
        assert result.returncode == 70 and "autotrack_notify hook of plugin 'alert_sink'" in result.stderr
    else:
        assert result.returncode == 0
        assert result.stderr.count("tracking error in the autotrack_notify hook") == 1  # logged once


# -- the alert itself ---------------------------------------------------------------------------
def test_the_payload_escapes_what_slack_reads_as_commands():
    from autotrack.notify import Alert
    from autotrack.notify.webhook import payload

    alert = Alert(event="run_failed", run_id="a" * 32, run_name="<!channel> & co", experiment="iris",
                  status="failed", error="ValueError: bad <b>\nsecond line", metric=None, host="gpu-1",
                  user="ana", script="/x/train.py", time=1.0)
    body = payload(alert)
    assert body["text"] == 'autotrack: run "&lt;!channel&gt; &amp; co" (iris) failed on gpu-1: ValueError: bad &lt;b&gt;'
    assert body["autotrack"]["run_name"] == "<!channel> & co"  # the fields stay as they were
    assert body["autotrack"]["error"] == "ValueError: bad <b>\nsecond line"
    assert json.loads(json.dumps(body, allow_nan=False)) == body
