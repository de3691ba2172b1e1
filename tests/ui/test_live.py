"""A run page open while the run trains: its chart gains points and its status turns finished, live."""

from __future__ import annotations

import sqlite3
import time

import pytest
from ui_helpers import Dashboard, autotrack_cli, run_python

import autotrack
from autotrack.stores.local import StoreError

pytestmark = pytest.mark.timeout(120)

# About 7 s of training that logs a train and a validation loss every 0.3 s.
LIVE = """
import time
import autotrack

with autotrack.start_run(name="live"):
    for step in range(24):
        autotrack.log_metrics({"train_loss": 1.0 / (step + 1), "val_loss": 1.2 / (step + 1)}, step=step)
        time.sleep(0.3)
"""

POINTS = """() => {
    const chart = document.querySelector('#curves .js-plotly-plot');
    return chart ? Math.min(...chart.data.map((trace) => trace.x.length)) : 0;
}"""


def wait_for_running_run(store, timeout: float = 30) -> dict:
    """The training's run, once it has two points of each loss (read as a user of the API would)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            runs = autotrack.runs(store=str(store))
            history = autotrack.get_run(runs[0]["id"], store=str(store))["history"] if runs else {}
        except (StoreError, sqlite3.Error):  # no store yet, or its tables are being created
            history = {}
        if len(history.get("val_loss", [])) > 1:
            return runs[0]
        time.sleep(0.1)
    raise AssertionError("the training never showed up in the store")


def test_the_run_page_follows_a_running_run_without_reloading(tmp_path, page, screenshot):
    store = tmp_path / "store"
    training = run_python(LIVE, tmp_path, store, name="live.py")
    try:
        run = wait_for_running_run(store)
        assert run["status"] == "running"
        server = Dashboard(store)
        try:
            page.goto(f"{server.url}runs/{run['id']}")
            page.evaluate("() => { window.sameDocument = true; }")  # gone if the page reloads
            assert page.locator('[data-field="status"]').inner_text() == "running"
            page.wait_for_function(f"({POINTS})() > 1")
            first = page.evaluate(POINTS)
            page.wait_for_function(f"({POINTS})() > {first}", timeout=10_000)
            finished = "document.querySelector('[data-field=\"status\"]').textContent === 'finished'"
            page.wait_for_function(finished, timeout=20_000)
            assert page.evaluate("() => window.sameDocument === true")
            stored = autotrack_cli(store, "show", run["id"], "--json")
            assert stored["status"] == "finished"
            page.wait_for_function(f"({POINTS})() === {len(stored['history']['val_loss'])}", timeout=5_000)
            assert page.locator("#metrics-table tbody tr").count() == 2
            screenshot(page, "live")
        finally:
            assert server.stop() == 0
    finally:
        training.communicate(timeout=60)
    assert training.returncode == 0
