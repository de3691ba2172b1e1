"""Untrusted text (run name, params, tags, metric keys, error) shows as text, in HTML and Markdown."""

from __future__ import annotations

import pytest
from report_pages import assert_offline, read_page

NAME = "<script>alert(1)</script>"
PARAM = "<img src=x onerror=alert(1)>"
TAG = '"><svg onload=alert(2)>'
METRIC = "<b>acc</b> $x$ | _y_"

SCRIPT = f"""
import autotrack

try:
    with autotrack.start_run(name={NAME!r}, tags={{"note": {TAG!r}}}, params={{"evil": {PARAM!r}}}) as run:
        for step in range(5):
            autotrack.log_metrics({{"train_" + {METRIC!r}: step / 10, "val_" + {METRIC!r}: step / 9}}, step=step)
        print(run.id)
        raise ValueError("<iframe src=javascript:alert(3)>")
except ValueError:
    pass
"""


@pytest.fixture
def hostile_run(run_script):
    return run_script(SCRIPT, name="hostile.py").stdout.split()[-1]


def test_html_shows_hostile_text_as_text(cli, hostile_run, tmp_path):
    path = tmp_path / "hostile.html"
    cli("report", hostile_run, "-o", str(path))
    source = path.read_text(encoding="utf-8")
    page = read_page(path)
    assert_offline(page, source)  # no <script>, and no src/href but data: images and #anchors
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in source
    assert "&lt;img src=x onerror=alert(1)&gt;" in source
    assert not page.find("svg") and not page.find("iframe") and not page.find("b")
    assert [img for img in page.find("img") if img.attrs.get("src") == "x"] == []
    assert not any("onerror" in attrs or "onload" in attrs for attrs in (e.attrs for e in page.elements))
    text = " ".join(data for _, data in page.texts)
    for value in (NAME, PARAM, TAG, "ValueError: <iframe src=javascript:alert(3)>"):
        assert value in text  # shown, as typed
    curves = page.find("img", section="curves")
    assert len(curves) == 1 and METRIC in curves[0].attrs["alt"]  # attribute escaped, drawn as text


def test_markdown_escapes_hostile_text(cli, hostile_run, tmp_path):
    path = tmp_path / "hostile.md"
    cli("report", hostile_run, "-o", str(path))
    markdown = path.read_text(encoding="utf-8")
    for raw in ("<script", "<img", "<svg", "<iframe", "<b>"):
        assert raw not in markdown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown
    assert "\\|" in markdown  # the | in the metric key does not split its table row
    assert "\\$x\\$" in markdown  # not GitHub math
    for line in markdown.splitlines():
        if line.startswith("| train") or line.startswith("| val"):
            assert line.count(" | ") == 4  # metric, latest, best, better, points
