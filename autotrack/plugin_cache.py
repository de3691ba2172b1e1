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
import sys

from autotrack.user_cache import cache_file, mtimes, search_path, write

_VERSION = 1


def _cache_file(key_text: str) -> str:
    return cache_file("plugins", key_text)


def _key_text(settings) -> str:
    from autotrack import __version__

    return json.dumps([_VERSION, __version__, sys.executable, search_path(), sorted(settings.disable),
                       settings.plugin_autoload])


def load(settings) -> list[list] | None:
    """[[integration_name, module, include_submodules], ...] or None when unknown or stale."""
    key = _key_text(settings)
    try:
        with open(_cache_file(key)) as handle:
            cached = json.load(handle)
        if cached["key"] != key or cached["path_mtimes"] != mtimes(search_path()):
            return None
        if cached["file_mtimes"] != mtimes(cached["file_mtimes"]):
            return None
        return cached["watch"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(settings, watch: list[list], plugin_objects) -> None:
    """Write the cache; failing to (read-only home) only means the next enable() is slower."""
    files = sorted({f for f in (_source_file(p) for p in plugin_objects) if f})
    key = _key_text(settings)
    record = {"key": key, "watch": watch, "path_mtimes": mtimes(search_path()),
              "file_mtimes": mtimes(files)}
    write(_cache_file(key), record)


def _source_file(plugin) -> str | None:
    module = plugin if hasattr(plugin, "__file__") else sys.modules.get(getattr(plugin, "__module__", ""))
    return getattr(module, "__file__", None)


__all__ = ["load", "save"]
