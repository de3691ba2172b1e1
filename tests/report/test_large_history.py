"""A run with 100,000 points a series: the report draws downsampled curves instead of choking."""

from __future__ import annotations

from report_pages import assert_png_drawn, png_of, read_page

POINTS = 100_000

SCRIPT = f"""
import math
import autotrack

with autotrack.start_run(name="long") as run:
    for step in range({POINTS}):
        autotrack.log_metrics({{"loss": 1 / (1 + step / 500) + 0.01 * math.sin(step),
                                "val_loss": 1.1 / (1 + step / 600)}}, step=step)
    print(run.id)
"""


def test_hundred_thousand_points(run_script, cli, tmp_path):
    run_id = run_script(SCRIPT, name="long.py").stdout.split()[-1]
    path = tmp_path / "long.html"
    cli("report", run_id, "-o", str(path))
    page = read_page(path)
    (curve,) = page.find("img", section="curves")
    assert "val (validation)" in curve.attrs["alt"]
    assert_png_drawn(png_of(curve))
    rows = page.tables_in("metrics")[0].as_dict()
    assert rows["loss"][-1] == str(POINTS) and rows["val_loss"][-1] == str(POINTS)  # all stored, few drawn
    assert path.stat().st_size < 1_000_000
