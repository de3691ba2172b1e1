"""The code a run ran: the script and the user's own modules it imported (source files outside the
standard library, site-packages and autotrack), kept with each run as `sources.json`, stored once
per distinct content (shared artifacts), so that a run can be re-run without a git remote or with
commits never pushed (`autotrack reproduce`). The `source_snapshot` setting: `redacted` (default:
credentials masked, as in the git diff), `verbatim`, or `off`."""

from __future__ import annotations

import functools
import json
import os
import sys
import sysconfig
import threading

from autotrack.plugins import hookimpl

SOURCES_ARTIFACT = "sources.json"
MAX_FILES = 300
MAX_BYTES = 8 * 1024 * 1024  # a project past this is kept in part, and the run says so


def project_root(script: str | None) -> str:
    """The git work tree holding the script (a `.git` above it), else the script's folder, else
    the working directory: the paths of the snapshot are relative to it."""
    start = os.path.dirname(os.path.abspath(script)) if script else os.getcwd()
    folder = start
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return start
        folder = parent


@functools.lru_cache(maxsize=1)
def _excluded_folders() -> tuple[str, ...]:
    import autotrack

    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.abspath(autotrack.__file__))}
    integrations = sys.modules.get("autotrack.integrations")
    if integrations is not None and getattr(integrations, "__file__", None):
        folders.add(os.path.dirname(os.path.abspath(integrations.__file__)))
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            folders.add(path)
    # As written and as resolved: a module's path is judged as written first (no system call).
    return tuple({os.path.abspath(folder) + os.sep for folder in folders} |
                 {os.path.realpath(folder) + os.sep for folder in folders})


# Module file -> its real path when it is the user's own, else None: each module's file is judged
# once (resolving every path, ~30 us each, took 50 ms for the 1,600 modules of a scikit-learn
# script; judged as written first, 4 ms), and the list is made again only when modules were
# imported since (runs come by the hundred).
_judged: dict[str, str | None] = {}
_listed: tuple[int, list[str]] = (-1, [])


def _if_mine(path: str) -> str | None:
    excluded = _excluded_folders()
    for candidate in (os.path.abspath(path), None):
        candidate = candidate or os.path.realpath(path)  # resolved only for what looks like the user's
        if candidate.startswith(excluded) or "site-packages" in candidate or "dist-packages" in candidate:
            return None
    return os.path.realpath(path)


def user_source_files() -> list[str]:
    """The `.py` files of the modules imported so far that are the user's own."""
    global _listed
    count = len(sys.modules)
    if _listed[0] == count:
        return _listed[1]
    files = set()
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            continue
        if path not in _judged:
            _judged[path] = _if_mine(path)
        if _judged[path]:
            files.add(_judged[path])
    _listed = (count, sorted(files))
    return _listed[1]


class SourceSnapshot:
    """The snapshot as of now, made again only when modules were imported or files changed."""

    def __init__(self):
        self._lock = threading.Lock()
        self._made: tuple | None = None  # (key, context section, artifact text)
        self._texts: dict[tuple[str, int, int], str] = {}

    def current(self, mode: str, script: str) -> tuple[dict, str] | None:
        # The script itself by its path: Python removes `__main__.__file__` once it has run, and
        # the context of the last runs may be collected after that.
        script = os.path.realpath(script)
        mine = () if script.startswith(_excluded_folders()) else (script,)  # `python -m autotrack ...`
        paths = sorted({*user_source_files(), *mine})
        stamps = []
        for path in paths:
            try:
                status = os.stat(path)
            except OSError:
                continue
            stamps.append((path, status.st_size, status.st_mtime_ns))
        key = (mode, script, tuple(stamps))
        with self._lock:
            if self._made is not None and self._made[0] == key:
                return self._made[1], self._made[2]
        made = self._make(mode, script, stamps)
        with self._lock:
            self._made = (key, *made) if made else None
        return made

    def _make(self, mode: str, script: str | None, stamps: list) -> tuple[dict, str] | None:
        from autotrack.capture.redact import redact_text

        root = project_root(script)
        files: dict[str, str] = {}
        outside, left_out, redacted, total = [], 0, 0, 0
        for path, size, mtime in stamps:
            if not path.startswith(root + os.sep):
                outside.append(path)
                continue
            if len(files) >= MAX_FILES or total + size > MAX_BYTES:
                left_out += 1
                continue
            text = self._texts.get((path, size, mtime))
            if text is None:
                try:
                    with open(path, encoding="utf-8", errors="replace") as handle:
                        text = self._texts[(path, size, mtime)] = handle.read()
                except OSError:
                    continue
            if mode == "redacted":
                masked = redact_text(text)
                redacted += masked != text
                text = masked
            files[os.path.relpath(path, root)] = text
            total += size
        if not files:
            return None
        section = {"root": root, "files": sorted(files), "mode": mode}
        if redacted:
            section["redacted_files"] = redacted
        if outside:
            section["outside_root"] = [redact_text(path) for path in outside[:20]]
        if left_out:
            section["left_out"] = left_out
        return section, json.dumps(files, sort_keys=True)


_SNAPSHOT = SourceSnapshot()


@hookimpl
def autotrack_collect_context():
    from autotrack.capture.context import script_path
    from autotrack.session import SESSION

    mode = SESSION.settings.source_snapshot if SESSION.settings else "redacted"
    script = script_path()
    # A notebook keeps its executed cells instead (capture/notebook.py); `python -c` has no file.
    if mode == "off" or not script or not script.endswith(".py"):
        return None
    made = _SNAPSHOT.current(mode, script)
    if made is None:
        return None
    section, text = made
    return {"sources": section, "artifacts": {SOURCES_ARTIFACT: text}}
