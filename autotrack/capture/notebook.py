"""Jupyter notebooks (classic, Lab, VS Code, nbclient): the notebook's path, and the code of the
cells executed up to each run, kept as a notebook that can be opened and run again."""

from __future__ import annotations

import json
import os
import sys

EXECUTED_CELLS = "executed_cells.ipynb"


def kernel_shell():
    """The IPython shell of a running Jupyter kernel, or None (a script, the terminal IPython)."""
    if "ipykernel" not in sys.modules:  # never import IPython: a script must not pay for it
        return None
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    return shell if getattr(shell, "kernel", None) is not None else None


def notebook_path(shell=None) -> str | None:
    """The path of the notebook this kernel runs, where the front end says it: VS Code puts it in
    the user's namespace; Jupyter Server (Lab, Notebook 7, JupyterHub) in `JPY_SESSION_NAME`,
    absolute since jupyter_server 2, relative to the server's root before."""
    shell = shell if shell is not None else kernel_shell()
    if shell is None:
        return None
    candidates = [getattr(shell, "user_ns", {}).get("__vsc_ipynb_file__"), os.environ.get("JPY_SESSION_NAME")]
    for candidate in candidates:
        if not isinstance(candidate, str) or not candidate.endswith(".ipynb"):
            continue
        if os.path.isabs(candidate):
            return candidate
        # A relative session name: the kernel starts in the notebook's folder.
        beside = os.path.join(os.getcwd(), os.path.basename(candidate))
        return beside if os.path.isfile(beside) else os.path.abspath(candidate)
    return None


def executed_cells(shell=None) -> list[str]:
    """The code of the cells the kernel has run, this one included (IPython stores a cell's input
    before running it), as typed, magics included. A copy of the list: cheap."""
    shell = shell if shell is not None else kernel_shell()
    history = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None) or [""]
    return [str(cell) for cell in history[1:]]  # entry 0 is a placeholder


def as_notebook(cells: list[str]) -> str:
    """The cells as an nbformat 4 notebook: Jupyter opens it, nbclient or papermill run it."""
    language = {"name": "python", "version": ".".join(map(str, sys.version_info[:3]))}
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": number, "metadata": {}, "outputs": [],
                   "source": code.splitlines(keepends=True)}
                  for number, code in enumerate(cells, start=1) if code.strip()],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "language_info": language},
        "nbformat": 4, "nbformat_minor": 4,
    }
    return json.dumps(notebook, indent=1)
