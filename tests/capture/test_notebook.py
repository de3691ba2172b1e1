"""Notebooks are first-class: run in a real Jupyter kernel (ipykernel driven by nbclient, as
Jupyter Server and VS Code drive it), each run names the notebook's experiment and path, and
keeps the code of the cells executed up to its fit, which can be run again."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("sklearn")

DATA = """\
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
X, y = make_classification(n_samples=150, n_features=5, random_state=3)"""
FIRST_FIT = "model = LogisticRegression(C=0.3).fit(X, y)\nprint(model.score(X, y))"
SECOND_FIT = "%time model = LogisticRegression(C=3.0).fit(X, y)"  # a magic, as notebooks have


def _notebook(folder: Path, name: str, cells: list[str]) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code) for code in cells])
    path = folder / name
    nbformat.write(notebook, path)
    return path


def _execute(path: Path, store: Path, **env: str):
    """Run every cell in a fresh kernel started with AUTOTRACK=1, in the notebook's folder."""
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=120, resources={"metadata": {"path": str(path.parent)}})
    kernel_env = {key: value for key, value in os.environ.items()
                  if key not in ("JPY_SESSION_NAME", "AUTOTRACK_EXPERIMENT")}
    kernel_env.update(AUTOTRACK="1", AUTOTRACK_STRICT="1", AUTOTRACK_DIR=str(store), **env)
    client.execute(env=kernel_env)
    return notebook


def _runs_oldest_first(cli) -> list[dict]:
    return [cli("show", run["id"], "--json") for run in reversed(cli("runs", "--json"))]


def _cells_kept(run: dict) -> dict:
    (artifact,) = [a for a in run["artifacts"] if a["name"] == "executed_cells.ipynb"]
    return json.loads(Path(artifact["path"]).read_text())


def test_a_notebook_in_jupyter_names_the_experiment_script_and_keeps_the_cells_of_each_fit(tmp_path, store, cli):
    path = _notebook(tmp_path, "churn study.ipynb", [DATA, FIRST_FIT, "print('between fits')", SECOND_FIT])
    # Jupyter Server (Lab, Notebook 7, JupyterHub) tells the kernel its notebook this way.
    executed = _execute(path, store, JPY_SESSION_NAME=str(path))
    printed_score = float(executed.cells[1].outputs[0]["text"])

    first, second = _runs_oldest_first(cli)
    assert (first["experiment"], second["experiment"]) == ("churn study", "churn study")
    for run in (first, second):
        assert run["context"]["script"] == str(path)  # not ipykernel_launcher.py
        assert run["context"]["argv"] == [str(path)]  # not the kernel's connection file
        assert run["context"]["module"] is None
        assert run["context"]["notebook"]["path"] == str(path)
    assert first["params"]["C"] == 0.3 and second["params"]["C"] == 3.0
    assert first["metrics"]["X.score"] == pytest.approx(printed_score)

    # Each run keeps the cells executed up to its fit, as they were typed (the magic too).
    assert first["context"]["notebook"]["cells"] == 2 and second["context"]["notebook"]["cells"] == 4
    first_cells = ["".join(cell["source"]) for cell in _cells_kept(first)["cells"]]
    second_cells = ["".join(cell["source"]) for cell in _cells_kept(second)["cells"]]
    assert first_cells == [DATA, FIRST_FIT]
    assert second_cells == [DATA, FIRST_FIT, "print('between fits')", SECOND_FIT]


def test_the_kept_cells_run_again_and_give_the_same_model(tmp_path, store, cli):
    path = _notebook(tmp_path, "study.ipynb", [DATA, FIRST_FIT])
    _execute(path, store, JPY_SESSION_NAME=str(path))
    (original,) = _runs_oldest_first(cli)

    # The kept notebook is a notebook: Jupyter opens it and nbclient runs it, as a user would.
    again = tmp_path / "again"
    again.mkdir()
    kept = again / "study.ipynb"
    kept.write_text(Path([a for a in original["artifacts"] if a["name"] == "executed_cells.ipynb"][0]["path"]).read_text())
    _execute(kept, store, JPY_SESSION_NAME=str(kept))

    runs = _runs_oldest_first(cli)
    assert len(runs) == 2
    rerun = runs[1]
    assert rerun["params"] == original["params"]
    assert rerun["metrics"]["X.score"] == original["metrics"]["X.score"]
    assert rerun["datasets"][0]["fingerprint"] == original["datasets"][0]["fingerprint"]
    # The same cells are stored once and linked from both runs.
    paths = {a["path"] for run in runs for a in run["artifacts"] if a["name"] == "executed_cells.ipynb"}
    assert len(paths) == 1


def test_vs_code_names_the_notebook_in_the_kernel_namespace(tmp_path, store, cli):
    path = tmp_path / "vscode_notebook.ipynb"
    # What VS Code's Jupyter extension runs in the kernel before the user's first cell.
    setup = f"__vsc_ipynb_file__ = {str(path)!r}"
    _notebook(tmp_path, path.name, [setup, DATA, FIRST_FIT])
    _execute(path, store)

    (run,) = _runs_oldest_first(cli)
    assert run["experiment"] == "vscode_notebook"
    assert run["context"]["script"] == str(path)


def test_a_kernel_that_does_not_know_its_notebook_records_no_launcher_as_the_script(tmp_path, store, cli):
    path = _notebook(tmp_path, "anonymous.ipynb", [DATA, FIRST_FIT])
    _execute(path, store)  # nbclient alone, or a kernel started by hand

    (run,) = _runs_oldest_first(cli)
    assert run["experiment"] == "default"
    assert run["context"]["script"] is None and run["context"]["argv"] == []
    assert run["context"]["notebook"] == {"path": None, "cells": 2}
