"""`autotrack report RUN`: one run's HTML page, read back with html.parser and checked against what
LightGBM and scikit-learn reported themselves and what `autotrack show --json` holds."""

from __future__ import annotations

import math

import pytest
from report_pages import assert_offline, assert_png_drawn, png_of, read_page


@pytest.fixture(scope="module")
def lightgbm_page(trained, tmp_path_factory):
    path = tmp_path_factory.mktemp("lightgbm_report") / "lgb.html"
    report(trained, trained.lightgbm_ids[0], path)
    return path


@pytest.fixture(scope="module")
def sklearn_page(trained, tmp_path_factory):
    path = tmp_path_factory.mktemp("sklearn_report") / "sk.html"
    report(trained, trained.sklearn_id, path)
    return path


def report(trained, run_id, path):
    import os
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "autotrack", "report", run_id[:10], "-o", str(path)],
                            env={**os.environ, **trained.env()}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(path.resolve())  # the path written is printed
    return result


def show_json(cli, trained, run_id):
    return cli("show", run_id, "--json", env=trained.env())


def test_lightgbm_page_is_self_contained(lightgbm_page):
    source = lightgbm_page.read_text(encoding="utf-8")
    page = read_page(lightgbm_page)
    assert_offline(page, source)
    images = page.find("img")
    assert images and all(img.attrs["src"].startswith("data:image/png;base64,") for img in images)
    for img in images:
        assert_png_drawn(png_of(img))


def test_learning_curves_overlay_train_and_validation(trained, lightgbm_page):
    page = read_page(lightgbm_page)
    evals = trained.lightgbm[0]["evals"]  # {set: {metric: [values]}}, from record_evaluation
    metrics = sorted(next(iter(evals.values())))
    curves = page.find("img", section="curves")
    assert len(curves) == len(metrics)  # one chart per metric, both sets in it
    for metric in metrics:
        (img,) = [img for img in curves if f"learning curve of {metric}:" in img.attrs["alt"]]
        for data_set in evals:  # "training" and "valid"
            assert data_set in img.attrs["alt"]
        assert "(train)" in img.attrs["alt"] and "(validation)" in img.attrs["alt"]
        assert_png_drawn(png_of(img))


def test_metrics_table_holds_latest_and_best(trained, lightgbm_page):
    page = read_page(lightgbm_page)
    (table,) = page.tables_in("metrics")
    rows = table.as_dict()
    for data_set, by_metric in trained.lightgbm[0]["evals"].items():
        for metric, values in by_metric.items():
            latest, best, goal, points = rows[f"{data_set}.{metric}"]
            assert math.isclose(float(latest), values[-1], rel_tol=1e-3)
            expected_best = min(values) if metric == "binary_logloss" else max(values)
            assert math.isclose(float(best.split(" ")[0]), expected_best, rel_tol=1e-3)
            assert goal == ("lower" if metric == "binary_logloss" else "higher")
            assert points == str(len(values))


def test_importance_chart_names_the_top_feature(trained, lightgbm_page):
    page = read_page(lightgbm_page)
    charts = page.find("img", section="importances")
    assert {next(kind for kind in ("gain", "split") if f"({kind})" in img.attrs["alt"]) for img in charts} == \
        {"gain", "split"}
    (gain,) = [img for img in charts if "(gain)" in img.attrs["alt"]]
    top = trained.lightgbm[0]["top_gain"]
    assert f"largest first: {top}" in gain.attrs["alt"]
    assert f"top feature: {top}" in page.text_in("importances")
    assert_png_drawn(png_of(gain))


def test_params_table_holds_the_real_values(trained, lightgbm_page):
    page = read_page(lightgbm_page)
    (table,) = page.tables_in("params")
    params = {key: values[0] for key, values in table.as_dict().items()}
    given = trained.lightgbm[0]["params"]
    assert params["num_leaves"] == str(given["num_leaves"])
    assert params["objective"] == given["objective"]
    assert params["learning_rate"] == str(given["learning_rate"])
    assert params["num_iterations"] == "30"  # num_boost_round, under LightGBM's main name


def test_summary_and_environment(cli, trained, lightgbm_page):
    run = show_json(cli, trained, trained.lightgbm_ids[0])
    page = read_page(lightgbm_page)
    summary = page.text_in("summary")
    for value in (run["id"], run["name"], run["experiment"], run["status"], run["start_time"]):
        assert value in summary
    environment = page.text_in("environment")
    assert run["context"]["python"]["version"] in environment
    assert run["context"]["script"] in environment
    assert "not a git repository" in environment  # the scripts ran in a temporary folder
    packages = {row[0]: row[1] for table in page.tables_in("packages") for row in table.rows[1:]}
    assert packages["lightgbm"] == run["context"]["packages"]["lightgbm"]


def test_datasets_match_show_json(cli, trained, sklearn_page):
    run = show_json(cli, trained, trained.sklearn_id)
    page = read_page(sklearn_page)
    (table,) = page.tables_in("datasets")
    header, *rows = table.rows
    by_role = {row[header.index("role")]: dict(zip(header, row)) for row in rows}
    assert run["datasets"]
    for dataset in run["datasets"]:
        shown = by_role[dataset["role"]]
        assert shown["fingerprint"] == dataset["fingerprint"]
        assert shown["rows"] == str(dataset["rows"]) and shown["columns"] == str(dataset["columns"])
        assert shown["name"] == (dataset.get("name") or "")
    assert "spend: float64" in by_role["train.X"]["schema"]  # the DataFrame's column names and types


def in_seconds(shown: str) -> float:
    """`0.944 ms` or `1.5 s`, as seconds."""
    value, unit = shown.split(" ")
    return float(value) / (1000 if unit == "ms" else 1)


def test_timings_show_pipeline_steps_and_latency(cli, trained, sklearn_page):
    run = show_json(cli, trained, trained.sklearn_id)
    page = read_page(sklearn_page)
    fit_table, calls_table = page.tables_in("timings")
    fit = fit_table.as_dict()
    assert set(run["timings"]["steps"]) == {"scaler", "model"}
    for step, value in run["timings"]["steps"].items():
        assert math.isclose(in_seconds(fit[f"steps.{step}"][0]), value, rel_tol=1e-2)
    assert math.isclose(in_seconds(fit["fit_s"][0]), run["timings"]["fit_s"], rel_tol=1e-2)
    calls = calls_table.as_dict()
    assert calls_table.rows[0] == ["method", "calls", "total", "mean", "p50", "p95"]
    assert calls["predict"][0] == "3" and calls["predict_proba"][0] == "1"
    for column, stat in enumerate(("total_s", "mean_s", "p50_s", "p95_s"), start=1):
        assert math.isclose(in_seconds(calls["predict"][column]), run["timings"]["predict"][stat], rel_tol=1e-2)


def test_sklearn_importances_and_params(trained, sklearn_page):
    page = read_page(sklearn_page)
    (chart,) = page.find("img", section="importances")
    assert f"largest first: {trained.sklearn['top_impurity']}" in chart.attrs["alt"]
    params = page.tables_in("params")[0].as_dict()
    assert params["model__n_estimators"] == ["20"] and params["model__max_depth"] == ["2"]
    # metrics with one point each: in the table, but no learning curve to draw
    assert page.tables_in("metrics") and not page.find("img", section="curves")


def test_search_lists_its_candidates(trained, tmp_path):
    path = tmp_path / "search.html"
    report(trained, trained.search_id, path)
    page = read_page(path)
    (table,) = page.tables_in("children")
    header, *rows = table.rows
    assert "C" in header and "mean_test_score" in header
    shown = {float(row[header.index("C")]): float(row[header.index("mean_test_score")]) for row in rows}
    expected = dict(zip(trained.search["C"], trained.search["mean_test_score"]))
    assert shown.keys() == expected.keys()
    for c, score in expected.items():
        assert math.isclose(shown[c], score, rel_tol=1e-3)
    assert "3 runs" in page.text_in("summary")
