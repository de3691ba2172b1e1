"""A run with 100,000 metric points: the run page draws thinned curves from every point."""

from __future__ import annotations

import pytest
from ui_helpers import Dashboard, autotrack_cli, run_python

from autotrack.ui.charts import CURVE_POINTS

pytestmark = pytest.mark.timeout(180)

STEPS = 50_000
LONG = f"""
import math
import autotrack

with autotrack.start_run(name="long"):
    for step in range({STEPS}):
        autotrack.log_metrics({{"train_loss": 1 / (step + 1) + 0.01 * math.sin(step),
                                "val_loss": 1.1 / (step + 1) + 0.02 * math.cos(step)}}, step=step)
"""

CURVES = """() => Array.from(document.querySelectorAll('#curves .js-plotly-plot'),
    (chart) => chart.data.map((trace) => ({name: trace.name, x: Array.from(trace.x)})))"""


@pytest.fixture(scope="module")
def long_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("long")
    store = directory / "store"
    process = run_python(LONG, directory, store, name="long.py")
    out, err = process.communicate(timeout=150)
    assert process.returncode == 0, err
    (run,) = autotrack_cli(store, "runs", "--json")
    server = Dashboard(store)
    yield server, autotrack_cli(store, "show", run["id"], "--json")
    assert server.stop() == 0


def test_the_page_of_a_100000_point_run_draws_thinned_curves(long_run, page, screenshot):
    # How fast it draws is measured by benchmarks/ui.py (BENCHMARKS.md), not asserted here.
    server, run = long_run
    assert sum(len(points) for points in run["history"].values()) == 2 * STEPS
    page.goto(f"{server.url}runs/{run['id']}")
    page.wait_for_function("document.querySelectorAll('#curves .js-plotly-plot').length === 1")

    (chart,) = page.evaluate(CURVES)
    assert sorted(trace["name"] for trace in chart) == ["train_loss", "val_loss"]
    for trace in chart:
        assert 100 < len(trace["x"]) <= CURVE_POINTS + 1
        assert trace["x"][0] == 0 and trace["x"][-1] == STEPS - 1  # both ends kept
        assert trace["x"] == sorted(trace["x"])
    points = dict(zip(page.locator("#metrics-table tbody th").all_inner_texts(),
                      page.locator("#metrics-table tbody td:nth-child(7)").all_inner_texts()))
    assert points == {"train_loss": str(STEPS), "val_loss": str(STEPS)}  # the table counts every point
    screenshot(page, "long_run")
