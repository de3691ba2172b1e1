"""The built-in context collectors, each a plugin: system, git, package versions and notebook."""

from __future__ import annotations

import functools
import os
import sys

from autotrack.capture.context import (imported_top_level_modules, package_versions, script_path,
                                       static_system_context, system_context)
from autotrack.capture.git import WorkTreeWatch
from autotrack.capture.redact import redact_text
from autotrack.capture.notebook import EXECUTED_CELLS, as_notebook, executed_cells, kernel_shell, notebook_path
from autotrack.plugins import hookimpl


class SystemContext:
    """Python, platform, host and user (once per process); pid, argv, working directory, script
    and the chosen environment variables as of each run (a notebook may chdir between fits)."""

    @hookimpl
    def autotrack_collect_context(self):
        return system_context(static=_static_once(os.getpid()))


@functools.lru_cache(maxsize=1)
def _static_once(pid: int) -> dict:
    return static_system_context()


class GitContext:
    """Commit, branch and dirty flag of the script's repository, and the uncommitted diff, as of
    each run: read again only when the work tree may have changed (capture/git.py)."""

    def __init__(self):
        self._watches: dict[tuple[int, str], WorkTreeWatch] = {}

    @hookimpl
    def autotrack_collect_context(self):
        state, diff = self.watch(_code_directory()).state(_diff_limit())
        context: dict = {"git": state or None}  # null: not in a git repository (or no git)
        keep = _diff_setting()
        if diff and keep != "off":
            context["artifacts"] = {"git.diff": redact_diff(diff) if keep == "redacted" else diff}
        return context

    def watch(self, directory: str) -> WorkTreeWatch:
        key = (os.getpid(), directory)  # a forked child watches for itself
        watch = self._watches.get(key)
        if watch is None:
            watch = self._watches[key] = WorkTreeWatch(directory)
        return watch


def _code_directory() -> str:
    """The folder of the script being run (its repository is the code version), else the cwd."""
    script = script_path()
    return os.path.dirname(script) if script else os.getcwd()


def _diff_setting() -> str:
    from autotrack.session import SESSION

    return SESSION.settings.git_diff if SESSION.settings else "redacted"


def redact_diff(diff: str) -> str:
    """The diff with credentials masked where they are (a key pasted into a script, a .env file,
    a private key block): it still reads as the change; `git apply` fails on the masked lines."""
    return redact_text(diff)


def _diff_limit() -> int:
    from autotrack.session import SESSION

    return SESSION.settings.git_diff_max_bytes if SESSION.settings else 1_000_000


class PackagesContext:
    """Versions of the installed distributions behind every module imported so far."""

    def __init__(self):
        self._seen: tuple[int, dict] = (-1, {})

    @hookimpl
    def autotrack_collect_context(self):
        # Runs come by the hundred in a search; modules are rarely imported between them.
        count, versions = self._seen
        if count != len(sys.modules):
            versions = package_versions(imported_top_level_modules())
            self._seen = (len(sys.modules), versions)
        return {"packages": versions}


class NotebookContext:
    """In a Jupyter kernel: the notebook's path, and the code of the cells run up to each run's
    start, attached as `executed_cells.ipynb` (the same cells for many runs are stored once)."""

    def __init__(self):
        self._cells_at_start: dict[str, list[str]] = {}

    @hookimpl
    def autotrack_run_started(self, run):
        # Taken now, on the training thread: later cells are not this run's, and a kernel shutting
        # down clears its history before the background thread may read it.
        if kernel_shell() is not None:
            self._cells_at_start[run.id] = executed_cells()

    @hookimpl
    def autotrack_collect_context(self, run_id):
        shell = kernel_shell()
        if shell is None:
            return None
        cells = self._cells_at_start.pop(run_id, None)
        cells = executed_cells(shell) if cells is None else cells  # a search's candidate
        return {"notebook": {"path": notebook_path(shell), "cells": len(cells)},
                "artifacts": {EXECUTED_CELLS: as_notebook(cells)}}


system = SystemContext()
git = GitContext()
packages = PackagesContext()
notebook = NotebookContext()
