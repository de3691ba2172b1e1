"""The explore page in Chromium: a search's candidates as parallel coordinates and a scatter, brushing
an axis filters the table, and what it shows agrees with `autotrack show`."""

from __future__ import annotations

import re

import pytest
from ui_helpers import autotrack_cli, full_runs

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def search(trained_store, listed_runs) -> dict:
    run = next(run for run in listed_runs if run["name"] == "GridSearchCV(RandomForestClassifier)")
    return autotrack_cli(trained_store, "show", run["id"], "--json")


def visible_rows(page) -> list[str]:
    return page.evaluate("""() => Array.from(document.querySelectorAll('#explore-table tbody tr'))
        .filter((row) => !row.hidden).map((row) => row.dataset.runId)""")


def test_a_search_explored_shows_each_candidate_by_rank_as_lines_and_points(dashboard, page, trained_store, search,
                                                                             plotly_traces, screenshot):
    candidates = full_runs(trained_store, [{"id": run_id} for run_id in search["children"]])
    page.goto(dashboard.url + f"runs/{search['id']}")
    page.click("#explore-children")
    page.wait_for_url(re.compile(r"/explore\?parent="))
    by_rank = sorted(candidates, key=lambda run: run["metrics"]["rank_test_score"])
    assert visible_rows(page) == [run["id"] for run in by_rank]
    assert "best first by rank_test_score" in page.locator("h3").inner_text()
    assert page.locator(".parcoords-svg path.line").count() == len(candidates)
    axes = page.eval_on_selector_all(".parcoords-svg g.axis", "axes => axes.map((axis) => axis.dataset.key)")
    metric = page.eval_on_selector("#explore-metric", "select => select.value")
    assert axes == ["max_depth", metric] and metric == "mean_test_score"
    ((trace,),) = plotly_traces(page, "main")  # the scatter: max_depth against the metric
    assert sorted(zip(trace["x"], trace["y"])) == sorted(
        (run["params"]["max_depth"], run["metrics"]["mean_test_score"]) for run in candidates)
    screenshot(page, "explore-search")


def test_brushing_an_axis_keeps_only_the_runs_in_its_range_and_a_click_clears_it(dashboard, page, trained_store,
                                                                                search):
    candidates = full_runs(trained_store, [{"id": run_id} for run_id in search["children"]])
    page.goto(dashboard.url + f"explore?parent={search['id']}")
    axis = page.locator('.parcoords-svg g.axis[data-key="max_depth"]')
    top, bottom = (float(value) for value in axis.locator("line").evaluate(
        "line => [line.getAttribute('y1'), line.getAttribute('y2')]"))
    low, high = (float(axis.locator(f"text.axis-{end}").text_content()) for end in ("min", "max"))
    svg = page.locator(".parcoords-svg").bounding_box()
    x = svg["x"] + float(axis.locator("line").get_attribute("x1"))
    # Drag from above the axis's top down to the height of the middle value: keeps the upper half.
    middle = (low + high) / 2
    y_middle = bottom - (middle - low) / (high - low) * (bottom - top)
    page.mouse.move(x, svg["y"] + top - 4)
    page.mouse.down()
    page.mouse.move(x, svg["y"] + y_middle, steps=5)
    page.mouse.up()
    expected = {run["id"] for run in candidates if run["params"]["max_depth"] >= middle}
    assert expected and len(expected) < len(candidates)
    assert set(visible_rows(page)) == expected
    assert page.locator("#explore-count").inner_text() == f"{len(expected)} of {len(candidates)}"
    assert page.locator(".parcoords-svg path.line.dim").count() == len(candidates) - len(expected)
    page.mouse.click(x, svg["y"] + (top + bottom) / 2)  # a click on the axis clears its range
    assert len(visible_rows(page)) == len(candidates)


def test_the_runs_page_explores_its_filtered_runs_and_a_bad_query_is_explained(dashboard, page, trained_store):
    page.goto(dashboard.url + "?filter=" + "params.max_depth%20is%20not%20null")
    page.click("#explore-link")
    page.wait_for_url(re.compile(r"/explore\?"))
    assert page.locator("#explore-filter").input_value() == "params.max_depth is not null"
    listed = autotrack_cli(trained_store, "runs", "--where", "params.max_depth is not null", "--json", "-n", "0")
    assert set(visible_rows(page)) == {run["id"] for run in listed if run["source"] != "preprocessing"}
    page.goto(dashboard.url + "explore?filter=params.max_depth%20%3E")
    assert "expected a value after '>'" in page.locator("#explore-error").inner_text()


MANY = """
import autotrack
for index in range(25):
    with autotrack.start_run(name=f"trial {index}"):
        autotrack.log_params({"lr": 0.01 * (index + 1), "layers": 1 + index % 3})
        autotrack.log_metric("valid_loss", 1.0 / (index + 1))
"""


def test_comparing_more_runs_than_fit_side_by_side_lists_them_with_their_params_axes(page, tmp_path):
    from ui_helpers import Dashboard, run_python

    store = tmp_path / "store"
    process = run_python(MANY, tmp_path, store)
    assert process.communicate(timeout=240) and process.returncode == 0
    runs = autotrack_cli(store, "runs", "--json", "--limit", "0")
    server = Dashboard(store)
    try:
        page.goto(server.url + "compare?runs=" + ",".join(run["id"] for run in runs))
        assert page.locator("h1").inner_text() == "Compare 25 runs"
        by_loss = sorted(runs, key=lambda run: run["metrics"]["valid_loss"])  # best first: lower is better
        assert visible_rows(page) == [run["id"] for run in by_loss]
        axes = page.eval_on_selector_all(".parcoords-svg g.axis", "axes => axes.map((axis) => axis.dataset.key)")
        assert sorted(axes) == ["layers", "lr", "valid_loss"]
        with page.expect_navigation():  # the form keeps the runs compared
            page.click("#explore-form button")
        assert "runs=" in page.url and len(visible_rows(page)) == 25
    finally:
        server.stop()
