"""The report draws with matplotlib's object API: a user's own matplotlib state survives it."""

from __future__ import annotations

import pytest
from report_pages import read_page

from autotrack.cli import main


def test_report_leaves_pyplot_and_rcparams_alone(trained, tmp_path, capsys):
    matplotlib = pytest.importorskip("matplotlib")
    pyplot = pytest.importorskip("matplotlib.pyplot")
    backend = matplotlib.get_backend()
    figure = pyplot.figure()  # a user's open figure
    try:
        with matplotlib.rc_context({"lines.linewidth": 7.5, "axes.titlesize": 30}):
            before = dict(matplotlib.rcParams)
            path = tmp_path / "in_process.html"
            assert main(["report", "--store", str(trained.path), trained.lightgbm_ids[0], "-o", str(path)]) == 0
            assert dict(matplotlib.rcParams) == before
        assert pyplot.get_fignums() == [figure.number]  # no figure added or closed
        assert matplotlib.get_backend() == backend
        assert read_page(path).find("img", section="curves")
    finally:
        pyplot.close(figure)
    assert capsys.readouterr().out.strip() == str(path.resolve())
