"""The dashboard's fixtures: a store filled by real trainings, `autotrack ui` serving it, a browser."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # ui_helpers, with --import-mode=importlib

from ui_helpers import (CHROMIUM_ARGS, SCREENSHOTS, TRAINING, Dashboard, autotrack_cli,  # noqa: E402
                        run_python)


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory) -> Path:
    """A store holding the runs of TRAINING, written by a real tracked process."""
    directory = tmp_path_factory.mktemp("ui")
    store = directory / "store"
    process = run_python(TRAINING, directory, store)
    out, err = process.communicate(timeout=240)
    assert process.returncode == 0, f"training failed:\n{out}\n{err}"
    return store


@pytest.fixture(scope="session")
def listed_runs(trained_store) -> list[dict]:
    """`autotrack runs --json`: what the runs page must agree with."""
    return autotrack_cli(trained_store, "runs", "--json", "--limit", "0")


@pytest.fixture(scope="module")
def dashboard(trained_store):
    server = Dashboard(trained_store)
    yield server
    assert server.stop() == 0, server.process.stderr.read()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the dashboard tests drive a real browser")
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("no chromium on PATH (make browser installs Debian's)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    """A page that may only reach 127.0.0.1: every other request is blocked and remembered, and
    every test ends by checking that none was tried and that no dialog ever opened."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.outside_requests = []
    tab.dialogs = []

    def route(request_route):
        host = urlparse(request_route.request.url).hostname
        if host == "127.0.0.1":
            request_route.continue_()
        else:
            tab.outside_requests.append(request_route.request.url)
            request_route.abort()

    tab.route("**/*", route)
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    yield tab
    outside, dialogs = list(tab.outside_requests), list(tab.dialogs)
    context.close()
    assert outside == [], f"the page tried to reach beyond loopback: {outside}"
    assert dialogs == [], f"a dialog opened: {dialogs}"


@pytest.fixture(scope="session")
def screenshot():
    """Save a full-page picture for people to look at (test-artifacts/ui/NAME.png, kept by CI)."""

    def shoot(page, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return shoot


@pytest.fixture(scope="session")
def plotly_traces():
    """The traces plotly drew in each chart under a selector: each chart's gd.data, as plotly holds it."""

    def traces(page, selector: str) -> list[list[dict]]:
        page.wait_for_function(f"document.querySelectorAll('{selector} .js-plotly-plot').length > 0")
        return page.evaluate(f"""() => Array.from(document.querySelectorAll('{selector} .js-plotly-plot'),
            (chart) => chart.data.map((trace) => ({{name: trace.name, type: trace.type,
                x: Array.from(trace.x || []), y: Array.from(trace.y || [])}})))""")

    return traces
