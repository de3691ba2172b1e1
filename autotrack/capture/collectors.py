"""The built-in context collectors, each a plugin: system, git and package versions."""

from __future__ import annotations

import functools
import os
import sys

from autotrack.capture.context import (imported_top_level_modules, package_versions, script_path,
                                       static_system_context, system_context)
from autotrack.capture.git import WorkTreeWatch
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
        if diff:
            context["artifacts"] = {"git.diff": diff}
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


system = SystemContext()
git = GitContext()
packages = PackagesContext()
