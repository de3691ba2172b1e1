"""A run's artifacts shown on its page in Chromium: an image, text, JSON pretty-printed, a CSV's first
rows, a diff coloured; downloads still whole; an image that carries a script never runs it."""

from __future__ import annotations

import base64
import json
import urllib.request

import pytest
from ui_helpers import Dashboard, autotrack_cli, run_python

pytestmark = pytest.mark.timeout(180)

# A 2x1 red-and-blue PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAAEElEQVR4nGP4z8DAwMDwHwAI/gL+"
                       "hXvUxgAAAABJRU5ErkJggg==")
HOSTILE_SVG = '<svg xmlns="http://www.w3.org/2000/svg"><script>window.parent.hacked = 1</script><rect width="4" height="4"/></svg>'

ARTIFACTS = f"""
import base64, json
import autotrack

with autotrack.start_run(name="artifacts"):
    run = autotrack.active_run()
    run.log_artifact(data=base64.b64decode({base64.b64encode(PNG).decode()!r}), name="roc.png")
    run.log_artifact(data={HOSTILE_SVG!r}, name="evil.svg")
    run.log_artifact(data="epoch 1: loss 0.5\\nepoch 2: loss 0.25\\n<b>not bold</b>", name="train.log")
    run.log_artifact(data=json.dumps({{"depth": 3, "layers": [1, 2]}}), name="config.json")
    run.log_artifact(data="id,score\\n" + "".join(f"{{i}},{{i / 100}}\\n" for i in range(30)), name="scores.csv")
    run.log_artifact(data="--- a/x.py\\n+++ b/x.py\\n@@ -1 +1 @@\\n-old = 1\\n+new = 2\\n", name="changes.diff")
    run.log_artifact(data=bytes(range(256)), name="model.bin")
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("artifacts")
    store = folder / "store"
    process = run_python(ARTIFACTS, folder, store)
    out, err = process.communicate(timeout=240)
    assert process.returncode == 0, err
    (run,) = autotrack_cli(store, "runs", "--json")
    server = Dashboard(store)
    yield server, autotrack_cli(store, "show", run["id"], "--json")
    server.stop()


def preview(page, name):
    return page.locator(f'details.artifact-preview[data-name="{name}"]')


def opened(page, name):
    """The artifact's preview, unfolded as a user's click does (the first few open by themselves)."""
    details = preview(page, name)
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details


def test_artifacts_are_shown_inline_by_kind_and_still_download_whole(served, page, screenshot):
    server, run = served
    page.goto(server.url + f"runs/{run['id']}")
    image = preview(page, "roc.png").locator("img")
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [2, 1]
    log = opened(page, "train.log")
    assert log.locator("pre").inner_text() == "epoch 1: loss 0.5\nepoch 2: loss 0.25\n<b>not bold</b>"
    config = opened(page, "config.json")
    assert json.loads(config.locator("pre").inner_text()) == {"depth": 3, "layers": [1, 2]}
    assert "\n  " in config.locator("pre").inner_text()  # pretty-printed
    scores = opened(page, "scores.csv")
    assert scores.locator("thead th").all_inner_texts() == ["id", "score"]
    assert scores.locator("tbody tr").count() == 20 and "first 20 rows" in scores.inner_text()
    diff = preview(page, "changes.diff")
    assert diff.locator("span.add").inner_text() == "+new = 2" and diff.locator("span.del").inner_text() == "-old = 1"
    assert "no preview" in opened(page, "model.bin").inner_text()
    with page.expect_download() as download:
        preview(page, "model.bin").locator("a.artifact").click()
    assert open(download.value.path(), "rb").read() == bytes(range(256))
    screenshot(page, "artifacts-inline")


def test_an_image_with_a_script_never_runs_it(served, page):
    server, run = served
    page.goto(server.url + f"runs/{run['id']}")
    evil = preview(page, "evil.svg").locator("img")
    evil.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete", arg=evil.element_handle())
    assert page.evaluate("() => window.hacked") is None
    url = server.url + f"runs/{run['id']}/artifacts/evil.svg?inline=1"
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=30) as response:
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert response.headers["Content-Type"].startswith("image/svg+xml")
    page.goto(url)  # opened on its own, the script is blocked by the sandbox
    assert page.evaluate("() => window.hacked") is None
    text = server.url + f"runs/{run['id']}/artifacts/train.log?inline=1"  # not an image: a download
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(text, timeout=30) as response:
        assert response.headers["Content-Disposition"].startswith("attachment")
