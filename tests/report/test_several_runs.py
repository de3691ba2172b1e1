"""`autotrack report RUN RUN` and `--experiment`: the comparison first, then each run folded."""

from __future__ import annotations

import pytest
from report_pages import assert_offline, assert_png_drawn, png_of, read_page


@pytest.fixture(scope="module")
def compared(trained, tmp_path_factory):
    """The two LightGBM runs (num_leaves 7 and 15) and the scikit-learn pipeline, in that order."""
    import os
    import subprocess
    import sys

    path = tmp_path_factory.mktemp("compared") / "compare.html"
    ids = [*trained.lightgbm_ids, trained.sklearn_id]
    subprocess.run([sys.executable, "-m", "autotrack", "report", *(i[:8] for i in ids), "-o", str(path)],
                   env={**os.environ, **trained.env()}, check=True, capture_output=True, timeout=120)
    return read_page(path), path.read_text(encoding="utf-8"), ids


def test_differing_param_shows_both_values(compared):
    page, source, ids = compared
    assert_offline(page, source)
    (params, *_) = page.tables_in("params")  # the comparison's table comes before the runs' own
    header = params.rows[0]
    assert [ids.index(next(i for i in ids if i[:8] in column)) for column in header[1:]] == [0, 1, 2]
    assert params.as_dict()["num_leaves"] == ["7", "15", "—"]  # the pipeline has no num_leaves


def test_best_metric_value_is_marked(trained, compared):
    page, _, ids = compared
    table = page.tables_in("metrics")[0]  # the comparison's: metric, better, one column per run
    assert table.rows[0][:2] == ["metric", "better"]
    rows = {row[0]: index for index, row in enumerate(table.rows)}
    finals = [run["evals"]["valid"]["binary_logloss"][-1] for run in trained.lightgbm]
    best_run = finals.index(min(finals))
    row = rows["valid.binary_logloss"]
    assert (row, 2 + best_run) in table.best and (row, 2 + 1 - best_run) not in table.best
    assert "★" in table.rows[row][2 + best_run]
    aucs = [run["evals"]["valid"]["auc"][-1] for run in trained.lightgbm]
    assert (rows["valid.auc"], 2 + aucs.index(max(aucs))) in table.best  # higher is better for auc


def test_curves_overlaid_one_chart_per_metric(trained, compared):
    page, _, ids = compared
    comparison_charts = [img for img in page.find("img", section="curves") if "run" not in img.sections]
    metrics = sorted(trained.lightgbm[0]["evals"]["valid"])
    assert len(comparison_charts) == len(metrics)
    for img in comparison_charts:
        for run_id in ids[:2]:
            assert run_id[:8] in img.attrs["alt"]  # one line per run (and set)
        assert_png_drawn(png_of(img))


def test_each_run_follows_folded(compared):
    page, _, ids = compared
    folded = [e for e in page.find("details") if "run" in (e.attrs.get("class") or "").split()]
    assert [e.attrs["id"] for e in folded] == [f"run-{run_id[:12]}" for run_id in ids]
    assert page.find("img", section="importances")  # the runs' own sections are inside


def test_datasets_and_code_compared(compared):
    page, _, _ = compared
    datasets = page.tables_in("datasets")[0]
    header, *rows = datasets.rows
    train_x = next(row for row in rows if row[0] == "train.X")
    assert train_x[header.index("data")] == "different"  # LightGBM's 5 columns vs the pipeline's 4
    assert "no git commit recorded" in page.text_in("code")  # the test scripts are outside any repository


def test_experiment_reports_its_top_level_runs(cli, trained, tmp_path):
    path = tmp_path / "experiment.html"
    cli("report", "--experiment", "lgb_train", "-o", str(path), env=trained.env())
    page = read_page(path)
    folded = [e.attrs["id"] for e in page.find("details") if "run" in (e.attrs.get("class") or "").split()]
    assert folded == [f"run-{run_id[:12]}" for run_id in reversed(trained.lightgbm_ids)]  # newest first
    cli("report", "--experiment", "lgb_train", "--top", "1", "-o", str(path), env=trained.env())
    newest = cli("show", trained.lightgbm_ids[1], "--json", env=trained.env())
    assert newest["name"].startswith("lightgbm.train(binary) ")  # named by what differs from the first
    assert f"Run {newest['name']} {trained.lightgbm_ids[1][:8]}" in path.read_text()  # one run: no comparison


def test_best_picks_the_run_best_at_the_metric(cli, trained, tmp_path):
    aucs = [run["evals"]["valid"]["auc"][-1] for run in trained.lightgbm]
    best_id = trained.lightgbm_ids[aucs.index(max(aucs))]
    path = tmp_path / "best.html"
    cli("report", "--experiment", "lgb_train", "--best", "valid.auc", "--top", "1", "-o", str(path),
        env=trained.env())
    page = read_page(path)
    assert best_id in page.text_in("summary")
    # --min overrides the goal guessed from the name: the lower auc wins
    cli("report", "--experiment", "lgb_train", "--best", "valid.auc", "--top", "1", "--min", "-o", str(path),
        env=trained.env())
    other_id = trained.lightgbm_ids[aucs.index(min(aucs))]
    assert other_id in read_page(path).text_in("summary")
