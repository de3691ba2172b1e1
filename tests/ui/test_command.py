"""`autotrack ui` as a command: where it listens, who may reach it, and what it refuses."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from urllib.parse import urlparse

import pytest
from ui_helpers import Dashboard

pytestmark = pytest.mark.timeout(120)


def ui(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autotrack", "ui", "--no-browser", *args],
                          capture_output=True, text=True, timeout=60)


def request(url: str, method: str = "GET", host: str | None = None) -> tuple[int, bytes]:
    parts = urlparse(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"Host": host} if host else {}
    connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def test_a_missing_store_is_one_line_saying_so(tmp_path):
    result = ui("--store", str(tmp_path / "nothing"), "--port", "0")
    assert result.returncode == 1
    assert result.stderr.strip() == (f"autotrack: no autotrack store at {tmp_path / 'nothing'} "
                                     f"(set AUTOTRACK_DIR or --store)")


def test_a_host_other_than_loopback_needs_allow_remote(trained_store):
    result = ui("--store", str(trained_store), "--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "not a loopback address" in line and "--allow-remote" in line


def test_allow_remote_serves_with_a_warning(trained_store):
    server = Dashboard(trained_store, "--host", "0.0.0.0", "--allow-remote")
    try:
        port = urlparse(server.url).port
        status, body = request(f"http://127.0.0.1:{port}/api/runs", host="dashboard.example:80")
        assert status == 200 and json.loads(body)["total"] > 0  # any Host: the user asked for remote access
    finally:
        assert server.stop() == 0
    warning = server.process.stderr.read()
    assert "WARNING" in warning and "sees every run" in warning and "read-only" in warning


def test_the_loopback_dashboard_answers_only_loopback_host_names(dashboard):
    assert request(dashboard.url)[0] == 200
    port = urlparse(dashboard.url).port
    assert request(dashboard.url, host=f"localhost:{port}")[0] == 200
    status, body = request(dashboard.url, host=f"attacker.example:{port}")  # DNS rebinding
    assert status == 400 and b"Invalid host header" in body


def test_the_dashboard_is_read_only(dashboard):
    for method in ("POST", "PUT", "DELETE"):
        assert request(dashboard.url, method=method)[0] == 405, method
        assert request(dashboard.url + "api/runs", method=method)[0] == 405, method


def test_the_printed_line_names_the_store_and_the_url(dashboard, trained_store):
    port = urlparse(dashboard.url).port
    assert dashboard.line.strip() == (f"autotrack ui: serving {trained_store} at http://127.0.0.1:{port}/ "
                                      f"(read-only; Ctrl-C to stop)")


def test_a_port_in_use_is_one_line_with_a_hint(trained_store):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        result = ui("--store", str(trained_store), "--port", str(taken.getsockname()[1]))
    assert result.returncode == 1
    assert "--port 0" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_plotly_is_served_from_the_package_and_cached(dashboard):
    from autotrack.ui.app import PLOTLY_JS, PLOTLY_JS_VERSION

    with urllib.request.urlopen(dashboard.url + f"static/plotly-basic-{PLOTLY_JS_VERSION}.min.js",
                                timeout=10) as response:
        body = response.read()
        assert "max-age" in response.headers["Cache-Control"]
    assert body == PLOTLY_JS.read_bytes()
    assert f"plotly.js (basic - minified) v{PLOTLY_JS_VERSION}" in body[:200].decode()


def test_the_json_api_answers_the_runs_page_query(dashboard, listed_runs):
    with urllib.request.urlopen(dashboard.url + "api/runs?status=failed&children=1", timeout=10) as response:
        answer = json.loads(response.read())
    failed = [run["id"] for run in listed_runs if run["status"] == "failed"]
    assert failed and [run["id"] for run in answer["runs"]] == failed
    status, body = request(dashboard.url + "api/runs?filter=metric.x~1")
    assert status == 400 and "numbers" in json.loads(body)["error"]


def test_a_store_that_goes_away_is_a_message_not_a_crash(trained_store, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(trained_store, store)
    server = Dashboard(store)
    try:
        assert request(server.url)[0] == 200
        for name in os.listdir(store):
            if name.startswith("runs.db"):
                os.remove(store / name)
        status, body = request(server.url)
        assert status == 503 and b"no autotrack store at" in body
        status, body = request(server.url + "api/runs/abc")
        assert status == 503 and "no autotrack store" in json.loads(body)["error"]
    finally:
        assert server.stop() == 0


def test_without_the_ui_libraries_it_says_what_to_install(trained_store):
    # None in sys.modules makes `import uvicorn` fail, as it does where uvicorn is not installed.
    code = ("import sys; sys.modules['uvicorn'] = None; from autotrack.cli import main; "
            f"sys.exit(main(['ui', '--store', {str(trained_store)!r}, '--port', '0', '--no-browser']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "the dashboard needs: pip install 'autotrack[ui]'" in result.stderr
