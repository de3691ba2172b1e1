"""The built-in context collectors, each a plugin: system, git and package versions."""

from __future__ import annotations

import functools
import os
import sys

from autotrack.capture.context import imported_top_level_modules, package_versions, system_context
from autotrack.capture.git import git_state
from autotrack.plugins import hookimpl


class SystemContext:
    """Python, platform, host, user, pid, argv, working directory and script: once per process."""

    @hookimpl
    def autotrack_collect_context(self):
        return _system_once(os.getpid())


@functools.lru_cache(maxsize=1)
def _system_once(pid: int) -> dict:
    return system_context()


class GitContext:
    """Commit, branch and dirty flag of the script's repository, and the uncommitted diff."""

    @hookimpl
    def autotrack_collect_context(self):
        state, diff = _git_once(os.getpid(), _code_directory())
        context: dict = {"git": state or None}  # null: not in a git repository (or no git)
        if diff:
            context["artifacts"] = {"git.diff": diff}
        return context


def _code_directory() -> str:
    """The folder of the script being run (its repository is the code version), else the cwd."""
    script = sys.argv[0] if sys.argv else ""
    if script and os.path.isfile(script):
        return os.path.dirname(os.path.abspath(script))
    return os.getcwd()


@functools.lru_cache(maxsize=4)
def _git_once(pid: int, directory: str):
    from autotrack.session import SESSION

    limit = SESSION.settings.git_diff_max_bytes if SESSION.settings else 1_000_000
    return git_state(directory, max_diff_bytes=limit)


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
