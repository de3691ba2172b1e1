"""Remember which modules the integrations watch, so enable() needs neither pluggy nor a scan of
every installed package's metadata (together ~60 ms) until a watched framework is imported.

The cache is keyed on the interpreter, sys.path, the disable list, and the modification times of
every sys.path folder (installing or removing a package changes them) and of each plugin's file.
sys.path[0], the script's own folder, is left out: it changes whenever the script writes a file,
and entry points are never read from it. Anything unexpected is a cache miss: the plugins are
then loaded the ordinary way.
"""

from __future__ import annotations

import json
import os
import sys
import zlib

_VERSION = 1


def _cache_file(key_text: str) -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "autotrack", f"plugins-{zlib.crc32(key_text.encode()):08x}.json")


def _key_text(settings) -> str:
    from autotrack import __version__

    return json.dumps([_VERSION, __version__, sys.executable, _search_path(), sorted(settings.disable),
                       settings.plugin_autoload])


def _search_path() -> list[str]:
    return [path for path in sys.path[1:] if path]


def _mtimes(paths) -> dict[str, int]:
    stamps = {}
    for path in paths:
        try:
            stamps[path] = os.stat(path).st_mtime_ns
        except OSError:
            stamps[path] = -1
    return stamps


def load(settings) -> list[list] | None:
    """[[integration_name, module, include_submodules], ...] or None when unknown or stale."""
    key = _key_text(settings)
    try:
        with open(_cache_file(key)) as handle:
            cached = json.load(handle)
        if cached["key"] != key or cached["path_mtimes"] != _mtimes(_search_path()):
            return None
        if cached["file_mtimes"] != _mtimes(cached["file_mtimes"]):
            return None
        return cached["watch"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(settings, watch: list[list], plugin_objects) -> None:
    """Write the cache; failing to (read-only home) only means the next enable() is slower."""
    files = sorted({f for f in (_source_file(p) for p in plugin_objects) if f})
    key = _key_text(settings)
    record = {"key": key, "watch": watch, "path_mtimes": _mtimes(_search_path()),
              "file_mtimes": _mtimes(files)}
    path = _cache_file(key)
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "w") as handle:
            json.dump(record, handle)
        os.replace(temporary, path)
    except OSError:
        pass


def _source_file(plugin) -> str | None:
    module = plugin if hasattr(plugin, "__file__") else sys.modules.get(getattr(plugin, "__module__", ""))
    return getattr(module, "__file__", None)


__all__ = ["load", "save"]
