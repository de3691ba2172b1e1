"""The dashboard in a real browser: runs page, run page, compare page, over runs of real trainings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ui_helpers import HOSTILE, full_runs

from autotrack.terminal import number, text

pytestmark = pytest.mark.timeout(240)


def top_level(runs: list[dict]) -> list[dict]:
    return [run for run in runs if run["parent_id"] is None]


def shown_ids(page) -> list[str]:
    return page.locator("#runs tbody tr[data-run-id]").evaluate_all(
        "(rows) => rows.map((row) => row.dataset.runId)")


def column_texts(page, key: str) -> list[str]:
    return page.locator(f'#runs tbody td[data-key="{key}"]').all_inner_texts()


def by_name(runs: list[dict], name: str) -> list[dict]:
    return [run for run in runs if run["name"] == name]


def boosters(runs: list[dict]) -> list[dict]:
    """The two lightgbm.train runs: the second is named with the param that differs from the first."""
    found = by_name(runs, "lightgbm.train(binary)") + by_name(runs, "lightgbm.train(binary) num_leaves=15")
    assert len(found) == 2, [run["name"] for run in runs]
    return found


# -- runs page --------------------------------------------------------------------------------------
def test_runs_page_lists_the_runs_that_autotrack_runs_lists(dashboard, page, listed_runs, screenshot):
    page.goto(dashboard.url)
    expected = top_level(listed_runs)
    assert sorted(shown_ids(page)) == sorted(run["id"] for run in expected)
    assert page.locator("#total").inner_text() == str(len(expected))
    for run in expected:
        row = page.locator(f'#runs tr[data-run-id="{run["id"]}"]')
        assert row.locator("td.name").inner_text().startswith(run["name"])
        assert row.locator(".badge").inner_text() == run["status"]
        assert row.locator('td[data-key="accuracy"]').inner_text() == number(run["metrics"].get("accuracy"))
    screenshot(page, "runs")


def test_clicking_a_metric_header_sorts_the_runs_by_it(dashboard, page, listed_runs):
    page.goto(dashboard.url)
    page.click('#runs th a[data-sort="metric:accuracy"]')
    page.wait_for_url(re.compile(r"sort=metric%3Aaccuracy"))
    values = sorted((run["metrics"]["accuracy"] for run in top_level(listed_runs)
                     if run["metrics"].get("accuracy") is not None), reverse=True)
    missing = [""] * sum(run["metrics"].get("accuracy") is None for run in top_level(listed_runs))
    assert column_texts(page, "accuracy") == [number(value) for value in values] + missing
    page.click('#runs th a[data-sort="metric:accuracy"]')  # again: ascending, runs without it still last
    page.wait_for_url(re.compile(r"order=asc"))
    assert column_texts(page, "accuracy") == [number(value) for value in reversed(values)] + missing


def test_the_status_select_shows_only_runs_in_that_status(dashboard, page, listed_runs):
    page.goto(dashboard.url)
    page.select_option("#status-select", "failed")
    page.wait_for_url(re.compile(r"status=failed"))
    failed = [run["id"] for run in top_level(listed_runs) if run["status"] == "failed"]
    assert failed and shown_ids(page) == failed
    assert page.locator("#runs .badge").all_inner_texts() == ["failed"] * len(failed)


def test_param_and_metric_conditions_filter_the_runs(dashboard, page, trained_store, listed_runs):
    runs = top_level(full_runs(trained_store, listed_runs))
    page.goto(dashboard.url)
    page.fill("#filter-input", "param.max_depth=2")
    page.press("#filter-input", "Enter")
    page.wait_for_url(re.compile(r"filter=param.max_depth"))
    expected = [run["id"] for run in runs if run["params"].get("max_depth") == 2]
    assert len(expected) == 1 and shown_ids(page) == expected

    page.fill("#filter-input", "metric.accuracy>0.9 name~forest")
    page.press("#filter-input", "Enter")
    page.wait_for_url(re.compile(r"accuracy%3E0.9"))
    expected = {run["id"] for run in runs if (run["metrics"].get("accuracy") or 0) > 0.9
                and "forest" in (run["name"] or "").lower()}
    assert expected and set(shown_ids(page)) == expected


def test_a_condition_that_cannot_be_read_is_explained_on_the_page(dashboard, page):
    response = page.goto(dashboard.url + "?filter=metric.accuracy%3Ehigh")
    assert response.status == 200
    assert "'high' is not a number" in page.locator("#filter-error").inner_text()
    page.goto(dashboard.url + "?filter=colour%3Dred")
    assert "unknown field 'colour'" in page.locator("#filter-error").inner_text()


def test_a_query_with_or_and_brackets_filters_and_a_bad_one_keeps_the_last_result(dashboard, page, trained_store,
                                                                                 listed_runs):
    runs = top_level(full_runs(trained_store, listed_runs))
    page.goto(dashboard.url)
    page.fill("#filter-input", "metrics.accuracy > 0.9 and (name like '%forest%' or params.max_depth = 2)")
    page.press("#filter-input", "Enter")
    page.wait_for_url(re.compile(r"filter=metrics.accuracy"))
    expected = {run["id"] for run in runs if (run["metrics"].get("accuracy") or 0) > 0.9
                and ("forest" in (run["name"] or "").lower() or run["params"].get("max_depth") == 2)}
    assert expected and set(shown_ids(page)) == expected

    page.fill("#filter-input", "metrics.accuracy > and status = failed")
    page.press("#filter-input", "Enter")
    page.wait_for_url(re.compile(r"previous="))
    error = page.locator("#filter-error").inner_text()
    assert "expected a value after '>', not 'and' (column 20)" in error
    pointer = page.locator("#filter-pointer").inner_text().splitlines()
    assert pointer[1].index("^") == pointer[0].index("and")  # the mark is under the bad token
    assert set(shown_ids(page)) == expected  # the previous result stays listed


def test_children_are_hidden_until_asked_for(dashboard, page, listed_runs):
    search = by_name(listed_runs, "GridSearchCV(RandomForestClassifier)")[0]
    children = [run["id"] for run in listed_runs if run["parent_id"] == search["id"]]
    page.goto(dashboard.url)
    assert not set(children) & set(shown_ids(page))
    row = page.locator(f'#runs tr[data-run-id="{search["id"]}"]')
    assert f"+{len(children)} children" in row.inner_text()
    page.check("#children-toggle")
    page.wait_for_url(re.compile(r"children=1"))
    assert set(children) <= set(shown_ids(page))


def test_param_and_metric_columns_are_added_and_removed(dashboard, page, trained_store, listed_runs):
    runs = {run["id"]: run for run in full_runs(trained_store, listed_runs)}
    page.goto(dashboard.url)
    page.select_option("#add-param", label="max_depth")
    page.wait_for_url(re.compile(r"params=max_depth"))
    expected = [text(runs[run_id]["params"]["max_depth"]) if "max_depth" in runs[run_id]["params"] else ""
                for run_id in shown_ids(page)]
    assert column_texts(page, "max_depth") == expected and "2" in expected
    page.select_option("#add-metric", label="valid.auc")
    page.wait_for_url(re.compile(r"valid.auc"))
    expected = [number(runs[run_id]["metrics"].get("valid.auc")) for run_id in shown_ids(page)]
    assert column_texts(page, "valid.auc") == expected and any(expected)
    assert column_texts(page, "max_depth"), "adding a metric column keeps the param column"
    page.click('#runs th:has(a[data-sort="metric:accuracy"]) a.remove')
    page.wait_for_load_state()
    assert page.locator('#runs th a[data-sort="metric:accuracy"]').count() == 0
    assert page.locator('#runs th a[data-sort="metric:valid.auc"]').count() == 1


# -- run page ---------------------------------------------------------------------------------------
def test_run_page_shows_params_learning_curves_and_importances(dashboard, page, trained_store, listed_runs,
                                                              screenshot, plotly_traces):
    run = min(full_runs(trained_store, boosters(listed_runs)), key=lambda r: r["params"]["num_leaves"])
    page.goto(f"{dashboard.url}runs/{run['id']}")
    params = dict(zip(page.locator("#params-table tbody th").all_inner_texts(),
                      page.locator("#params-table tbody td").all_inner_texts()))
    assert params["num_leaves"] == "7" and params["objective"] == "binary"

    curves = {tuple(trace["name"] for trace in chart): chart for chart in plotly_traces(page, "#curves")}
    assert set(curves) == {("training.auc", "valid.auc"), ("training.binary_logloss", "valid.binary_logloss")}
    for chart in curves.values():
        for trace in chart:
            history = run["history"][trace["name"]]
            assert len(trace["x"]) == len(history) == 25
            assert trace["y"] == pytest.approx([value for _, value in history])

    kinds = run["importances"]
    assert kinds, "LightGBM's importances were recorded"
    charts = plotly_traces(page, "#importance-charts")
    assert len(charts) == len(kinds)
    for chart, (kind, values) in zip(charts, kinds.items()):
        assert set(chart[0]["y"]) == set(values) == {"age", "income", "height", "weight"}
    # Steps are whole numbers: so are the axis ticks.
    ticks = page.locator("#curves .xtick text").evaluate_all("(texts) => texts.map((t) => t.textContent)")
    assert ticks and all(re.fullmatch(r"\d+", tick) for tick in ticks), ticks
    screenshot(page, "run")


def test_a_search_page_lists_its_candidates_best_first_with_the_tuned_param(dashboard, page, trained_store,
                                                                              listed_runs):
    (search,) = by_name(listed_runs, "GridSearchCV(RandomForestClassifier)")
    children = [run for run in full_runs(trained_store, listed_runs) if run["parent_id"] == search["id"]]
    page.goto(f"{dashboard.url}runs/{search['id']}")
    table = page.locator("#children")
    headings = table.locator("thead th").all_inner_texts()
    assert "max_depth" in headings  # the tuned param; the others are the same for every candidate
    assert "n_estimators" not in headings
    shown = [row.locator("td").all_inner_texts() for row in table.locator("tbody tr").all()]
    ranks = [row[headings.index("rank_test_score")] for row in shown]
    assert ranks == sorted(ranks, key=float) and ranks[0] == "1"
    by_id = {child["id"][:8]: child for child in children}
    assert [row[headings.index("max_depth")] for row in shown] == [
        text(by_id[row[0]]["params"]["max_depth"]) for row in shown]
    assert "best first by rank_test_score" in page.locator("#summary h3").inner_text()


def test_times_are_local_and_the_scripts_outcome_is_readable(dashboard, page, trained_store, listed_runs):
    from autotrack.terminal import long_time

    run = full_runs(trained_store, boosters(listed_runs))[0]
    page.goto(f"{dashboard.url}runs/{run['id']}")
    summary = dict(zip(page.locator("#summary table.facts th").all_inner_texts(),
                       page.locator("#summary table.facts td").all_inner_texts()))
    assert summary["started"] == long_time(run["start_time"])  # as `autotrack runs` and show say
    context = dict(zip(page.locator("#context table.kv > tbody > tr > th").all_inner_texts(),
                       page.locator("#context table.kv > tbody > tr > td").all_inner_texts()))
    assert context["process"].startswith("the script finished at ")
    assert "{" not in context["process"]


def test_an_artifact_link_downloads_the_stored_file(dashboard, page, trained_store, listed_runs):
    run = next(r for r in full_runs(trained_store, listed_runs)
               if any(artifact["name"] == "model.pkl" for artifact in r["artifacts"]))
    stored = next(a["path"] for a in run["artifacts"] if a["name"] == "model.pkl")
    page.goto(f"{dashboard.url}runs/{run['id']}")
    with page.expect_download() as download_info:
        page.click("a.artifact:text-is('model.pkl')")
    download = download_info.value
    assert download.suggested_filename == "model.pkl"
    assert Path(download.path()).read_bytes() == Path(stored).read_bytes()


def test_only_recorded_artifacts_are_served(dashboard, page, listed_runs):
    run_id = listed_runs[0]["id"]
    for name in ("../runs.db", "..%2F..%2Fruns.db", "nothing.pkl"):
        response = page.request.get(f"{dashboard.url}runs/{run_id}/artifacts/{name}")
        assert response.status == 404, name
        assert b"SQLite" not in response.body()


def test_an_unknown_run_is_a_404_page_with_a_message(dashboard, page):
    response = page.goto(f"{dashboard.url}runs/ffffffffdeadbeef")
    assert response.status == 404
    assert "no run 'ffffffffdeadbeef'" in page.locator("#message").inner_text()


# -- compare page -----------------------------------------------------------------------------------
def test_compare_selected_runs_shows_the_differing_param_and_overlaid_curves(dashboard, page, listed_runs,
                                                                             screenshot, plotly_traces):
    compared = boosters(listed_runs)
    page.goto(dashboard.url)
    for run in compared:
        page.check(f'#runs tr[data-run-id="{run["id"]}"] input.select-run')
    page.click("#compare-button")
    page.wait_for_url(re.compile(r"/compare\?runs="))
    shown_order = page.locator("#compared-runs thead th a").all_inner_texts()
    assert sorted(shown_order) == sorted(run["id"][:8] for run in compared)
    # Every row of every table has one cell per heading: values stand under their run.
    for table in page.locator("main table.compare").all():
        width = len(table.locator("thead th").all())
        for row in table.locator("tbody tr").all():
            assert len(row.locator("th, td").all()) == width

    rows = {row.locator("th").inner_text(): row.locator("td").all_inner_texts()
            for row in page.locator("#params-differ tbody tr").all()}
    leaves = {run_id: value for run_id, value in zip(shown_order, rows["num_leaves"])}
    assert sorted(leaves.values()) == ["15", "7"]
    assert "num_leaves" not in page.locator("#params-same").inner_text()

    metrics = {row.locator("th").inner_text(): row.locator("td.num") for row in
               page.locator("#metrics-compare tbody tr").all()}
    aucs = [next(run for run in compared if run["id"].startswith(run_id))["metrics"]["valid.auc"]
            for run_id in shown_order]
    best = [index for index, value in enumerate(aucs) if value == max(aucs)]
    cells = metrics["valid.auc"]
    marked = [index for index in range(cells.count()) if "best" in cells.nth(index).get_attribute("class")]
    assert marked == best

    charts = plotly_traces(page, "#curves")
    auc = next(chart for chart in charts if any(trace["name"].endswith("valid.auc") for trace in chart))
    assert sorted(trace["name"] for trace in auc) == sorted(
        f"{run_id} {name} {key}" for run_id, name in zip(shown_order, (
            next(run["name"] for run in compared if run["id"].startswith(run_id)) for run_id in shown_order))
        for key in ("training.auc", "valid.auc"))
    screenshot(page, "compare")


def test_compare_with_fewer_than_two_runs_says_so(dashboard, page, listed_runs):
    response = page.goto(f"{dashboard.url}compare?runs={listed_runs[0]['id']}")
    assert response.status == 400
    assert "at least two runs" in page.locator("#message").inner_text()


# -- hostile text -----------------------------------------------------------------------------------
def test_a_run_named_with_html_is_shown_as_text_everywhere(dashboard, page, listed_runs, screenshot):
    (hostile,) = by_name(listed_runs, HOSTILE)
    other = boosters(listed_runs)[0]
    for path in ("", f"runs/{hostile['id']}", f"compare?runs={hostile['id']},{other['id']}",
                 f"?filter=name~{'%3Cscript'}&params=note"):
        page.goto(dashboard.url + path)
        page.wait_for_load_state("networkidle")
        assert page.get_by_text(HOSTILE, exact=True).count() >= 1, path
        injected = page.evaluate("""() => Array.from(document.scripts).filter(
            (script) => script.textContent.includes('alert("x")')).length""")
        assert injected == 0, path
    page.goto(f"{dashboard.url}runs/{hostile['id']}")
    assert page.locator("#tags-table td").inner_text() == HOSTILE
    screenshot(page, "hostile")
