"""Files in the user's cache folder (~/.cache/autotrack) that spare every process a slow scan of
the installed packages: valid while the interpreter, sys.path and the modification times of its
folders (an install or an uninstall changes them) are the same. Failing to read or write one only
means the scan runs again."""

from __future__ import annotations

import json
import os
import sys
import zlib


def cache_file(kind: str, key_text: str) -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "autotrack", f"{kind}-{zlib.crc32(key_text.encode()):08x}.json")


def search_path() -> list[str]:
    """sys.path less sys.path[0], the script's own folder: it changes whenever the script writes a
    file, and no installed package is read from it."""
    return [path for path in sys.path[1:] if path]


def mtimes(paths) -> dict[str, int]:
    stamps = {}
    for path in paths:
        try:
            stamps[path] = os.stat(path).st_mtime_ns
        except OSError:
            stamps[path] = -1
    return stamps


def read(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle)
        return value if isinstance(value, dict) else None
    except (OSError, ValueError):
        return None


def write(path: str, record: dict) -> None:
    """Whole or not at all, with other processes writing the same file."""
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        os.replace(temporary, path)
    except OSError:
        pass  # a read-only home: the next process scans again
