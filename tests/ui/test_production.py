"""The production pages in Chromium: the served models, a model's traffic, its feature x window
drift map, and the training data against the serving data for a feature."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("datasketches")

from ui_helpers import Dashboard  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent.parent / "serving"))
from test_serving_end_to_end import SERVE, TRAIN  # noqa: E402


@pytest.fixture(scope="module")
def served_store(tmp_path_factory):
    """A pipeline trained under autotrack, then served twice with two features shifted; a second,
    untracked model served once."""
    import os
    import subprocess
    import textwrap

    directory = tmp_path_factory.mktemp("production")
    store = directory / "store"

    def run(code: str, name: str, *args: str, tracked: bool = True, env: dict | None = None) -> None:
        (directory / name).write_text(textwrap.dedent(code))
        full = {**os.environ, "AUTOTRACK_DIR": str(store), "AUTOTRACK_STRICT": "1", **(env or {})}
        if tracked:
            full["AUTOTRACK"] = "1"
        result = subprocess.run([sys.executable, name, *args], cwd=directory, env=full, capture_output=True,
                                text=True, timeout=240)
        assert result.returncode == 0, result.stderr

    run(TRAIN.replace("SAVE", "pickle.dump(model, open('model.pkl', 'wb'))"), "train.py")
    serve = SERVE.replace("LOAD", "pickle.load(open('model.pkl', 'rb'))")
    run(serve, "serve.py", "1", "shift", env={"AUTOTRACK_SERVING_WINDOW_ROWS": "1500"})  # several windows
    run(serve, "serve.py", "2", "shift")
    run(TRAIN.replace("SAVE", "pickle.dump(model, open('other.pkl', 'wb'))").replace("LogisticRegression()",
        "LogisticRegression(C=0.1)"), "other.py", tracked=False)
    run(serve.replace("model.pkl", "other.pkl"), "serve_other.py", "3")
    return store


@pytest.fixture(scope="module")
def production(served_store):
    server = Dashboard(served_store)
    yield server
    assert server.stop() == 0, server.process.stderr.read()


def _json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_the_production_page_lists_every_served_model_with_its_training_run(production, page, screenshot):
    page.goto(production.url + "production")
    rows = page.locator("#served-models tbody tr")
    assert rows.count() == 2
    tracked = page.locator("#served-models tbody tr", has=page.locator("a[href^='/runs/']"))
    assert tracked.count() == 1
    assert "f2" in tracked.locator("td.drifted").inner_text()
    assert page.locator("#served-models tbody tr", has_text="not tracked").count() == 1
    screenshot(page, "production")


def test_a_models_page_draws_traffic_the_drift_map_and_a_features_distributions(
        production, page, screenshot, plotly_traces):
    models = _json(production.url + "api/production")
    model = next(m for m in models if m["run"] is not None)
    page.goto(production.url + "production")
    page.locator(f"tr[data-model='{model['model']}'] td.id a").click()
    page.wait_for_selector("#drift-map")
    assert model["run"]["run_id"] in page.locator("#training-run a").get_attribute("href")

    traffic = plotly_traces(page, "#traffic-charts")
    rows = next(trace for trace in traffic[0] if trace["name"] == "rows")
    assert sum(rows["y"]) == model["rows"] and len(rows["y"]) == model["windows"] >= 3

    # The map: a row per feature, a column per window; the shifted features' cells marked.
    features = page.locator("#drift-map tbody tr")
    assert sorted(features.evaluate_all("rows => rows.map(r => r.dataset.feature)")) == \
        ["f0", "f1", "f2", "f3", "f4", "plan"]
    for name in ("f2", "f4"):
        cells = page.locator(f"#drift-map tr[data-feature='{name}'] td.cell")
        assert cells.count() == model["windows"]
        assert page.locator(f"#drift-map tr[data-feature='{name}'] td.cell.drifted").count() == model["windows"]
    assert page.locator("#drift-map tr[data-feature='f0'] td.cell.drifted").count() == 0
    assert page.locator("#drift-features tr.drifted").evaluate_all(
        "rows => rows.map(r => r.dataset.feature)") == ["f2", "f4"]

    # The first drifted feature is shown; another is one click away.
    assert page.locator("#distribution h2").inner_text().startswith("f2")
    curves = plotly_traces(page, "#distribution-charts")[0]
    assert [trace["name"] for trace in curves] == ["training", "serving"]
    training, serving = curves
    median = len(training["y"]) // 2
    assert serving["x"][median] - training["x"][median] == pytest.approx(1.0, abs=0.2)  # the shift of 1.0
    page.locator("#drift-map tr[data-feature='plan'] th a").click()
    page.wait_for_selector("#distribution h2:has-text('plan')")
    bars = plotly_traces(page, "#distribution-charts")[0]
    assert [trace["type"] for trace in bars] == ["bar", "bar"] and sorted(bars[0]["x"]) == ["basic", "pro", "team"]
    screenshot(page, "served-model")


def test_an_unknown_model_is_a_404_page(production, page):
    response = page.goto(production.url + "production/nope")
    assert response.status == 404
    assert "no served predictions" in page.locator("main").inner_text()


def test_the_training_runs_page_links_to_its_model_in_production(production, page):
    model = next(m for m in _json(production.url + "api/production") if m["run"] is not None)
    page.goto(production.url + "runs/" + model["run"]["run_id"])
    page.locator("#production-link a").click()
    page.wait_for_selector("#drift-map")
    assert page.url.endswith("/production/" + model["model"])
