"""Learning-curve options in Chromium (log scale, smoothing, x as step or wall time, kept across
pages) and metric bars that do not start at zero when the values are close."""

from __future__ import annotations

import pytest
from ui_helpers import full_runs

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def booster(trained_store, listed_runs) -> dict:
    run = next(run for run in listed_runs if run["name"].startswith("lightgbm"))
    return full_runs(trained_store, [run])[0]


def charts(page) -> list[dict]:
    page.wait_for_function("document.querySelectorAll('#curves .js-plotly-plot').length > 0")
    return page.evaluate("""() => Array.from(document.querySelectorAll('#curves .js-plotly-plot'), (chart) => ({
        traces: chart.data.map((trace) => ({name: trace.name, x: Array.from(trace.x), y: Array.from(trace.y),
                                            opacity: trace.opacity})),
        yType: chart.layout.yaxis.type, xTitle: (chart.layout.xaxis.title || {}).text,
        tickformat: chart.layout.xaxis.tickformat}))""")


def ema(values, weight):
    """The smoothing TensorBoard draws, written out: a debiased exponential moving average."""
    out, last = [], 0.0
    for count, value in enumerate(values, 1):
        last = last * weight + (1 - weight) * value
        out.append(last / (1 - weight ** count))
    return out


def test_log_scale_smoothing_and_wall_time_redraw_the_curves_and_are_kept(dashboard, page, booster):
    page.goto(dashboard.url + f"runs/{booster['id']}")
    first = charts(page)
    assert all(chart["tickformat"] == "d" for chart in first)  # steps are whole numbers
    index, loss = next((index, chart) for index, chart in enumerate(first)
                       if any("valid" in trace["name"] and "logloss" in trace["name"] for trace in chart["traces"]))
    key = next(trace["name"] for trace in loss["traces"] if "valid" in trace["name"])
    raw = [value for _, value in booster["history"][key]]
    page.check("#opt-log")
    assert all(chart["yType"] == "log" for chart in charts(page))
    page.fill("#opt-smooth", "0.6")
    traces = charts(page)[index]["traces"]
    smooth = next(trace for trace in traces if trace["name"] == key)
    faint = next(trace for trace in traces if trace["name"] == key + " (raw)")
    assert faint["y"] == pytest.approx(raw) and faint["opacity"] == 0.25
    assert smooth["y"] == pytest.approx(ema(raw, 0.6))
    page.select_option("#opt-x", "wall")
    timed = next(trace for trace in charts(page)[0]["traces"])
    assert charts(page)[0]["xTitle"] == "seconds since the run started"
    assert timed["x"] == sorted(timed["x"]) and 0 <= timed["x"][0] and timed["x"][-1] <= booster["duration_s"] + 1
    page.reload()  # kept for the next page
    assert page.is_checked("#opt-log") and page.input_value("#opt-smooth") == "0.6"
    assert page.input_value("#opt-x") == "wall" and charts(page)[0]["yType"] == "log"
    page.uncheck("#opt-log")
    page.fill("#opt-smooth", "0")
    page.select_option("#opt-x", "step")
    assert charts(page)[0]["tickformat"] == "d" and len(charts(page)[0]["traces"]) == len(first[0]["traces"])


def test_metric_bars_of_close_values_do_not_start_at_zero(dashboard, page, trained_store, listed_runs):
    forests = [run for run in full_runs(trained_store, listed_runs)
               if run["name"].startswith("RandomForestClassifier") and "accuracy" in run["metrics"]
               and run["parent_id"] is None][:2]
    assert len(forests) == 2
    values = [run["metrics"]["accuracy"] for run in forests]
    page.goto(dashboard.url + "compare?runs=" + ",".join(run["id"] for run in forests))
    page.wait_for_function("document.querySelectorAll('#metric-bars .js-plotly-plot').length > 0")
    bars = page.evaluate("""() => Array.from(document.querySelectorAll('#metric-bars .js-plotly-plot'), (chart) => ({
        title: chart.layout.title.text, range: chart.layout.yaxis.range}))""")
    accuracy = next(bar for bar in bars if bar["title"].startswith("accuracy"))
    close = max(values) - min(values) < 0.2 * max(values)
    assert close == ("axis not from zero" in accuracy["title"])
    if close:
        assert 0 < accuracy["range"][0] <= min(values) and accuracy["range"][1] >= max(values)
    else:
        assert accuracy["range"][0] <= 0
