"""Data files the user's code read (`pandas.read_csv("churn.csv")`, `numpy.load(...)`): noted as
they are read, digested off the training thread, and kept in each later run's context, so that
`autotrack reproduce --check` can tell whether a file still holds what the run read. The
`datafiles` plugin names the readers (a `read` target); the core notes their `path`."""

from __future__ import annotations

import hashlib
import os
import threading

from autotrack.integration import Integration, Target
from autotrack.plugins import hookimpl

# Files up to this size are digested whole; a larger one by its size and three 4 MiB samples
# (start, middle, end): a reproduction check must not read a 50 GB file.
WHOLE_FILE_BYTES = 256 * 1024 * 1024
SAMPLE_BYTES = 4 * 1024 * 1024
MAX_FILES = 200  # per process: a loop reading thousands of shards keeps the first ones


class DataFiles:
    """The files read so far in this process, in the order first read."""

    def __init__(self):
        self._files: dict[str, tuple[int, int]] = {}  # absolute path -> (size, mtime_ns) when read
        self._digests: dict[tuple[str, int, int], str] = {}
        self._lock = threading.Lock()

    def note(self, path) -> None:
        path = os.fspath(path)
        if isinstance(path, bytes) or "://" in path:  # a URL (s3://, https://): not a file here
            return
        absolute = os.path.abspath(path)
        if absolute in self._files or len(self._files) >= MAX_FILES:
            return
        try:
            status = os.stat(absolute)
        except OSError:  # read through something else (a glob, a folder of shards): not noted
            return
        self._files[absolute] = (status.st_size, status.st_mtime_ns)

    def described(self) -> list[dict]:
        """[{path, bytes, digest}] of the files read so far; call off the training thread."""
        files = []
        for path, (size, mtime) in list(self._files.items()):
            with self._lock:
                digest = self._digests.get((path, size, mtime))
            if digest is None:
                try:
                    digest = file_digest(path)
                except OSError:
                    continue  # deleted since: nothing to compare with later
                with self._lock:
                    self._digests[(path, size, mtime)] = digest
            files.append({"path": path, "bytes": size, "digest": digest})
        return files


def file_digest(path: str) -> str:
    """sha256 of the file (`sha256:`), or of its size and samples past WHOLE_FILE_BYTES (`sampled:`)."""
    size = os.path.getsize(path)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        if size <= WHOLE_FILE_BYTES:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
            return "sha256:" + digest.hexdigest()
        digest.update(str(size).encode())
        for offset in (0, size // 2, max(0, size - SAMPLE_BYTES)):
            handle.seek(offset)
            digest.update(handle.read(SAMPLE_BYTES))
    return "sampled:" + digest.hexdigest()


# -- the plugin: which functions read data files ----------------------------------------------------
def _path_argument(name: str):
    def data_arguments(args, kwargs):
        return {"path": args[0] if args else kwargs.get(name)}

    return data_arguments


_PANDAS_READERS = {"read_csv": "filepath_or_buffer", "read_table": "filepath_or_buffer", "read_parquet": "path",
                   "read_feather": "path", "read_json": "path_or_buf", "read_excel": "io", "read_pickle":
                   "filepath_or_buffer", "read_orc": "path"}
_NUMPY_READERS = {"load": "file", "loadtxt": "fname", "genfromtxt": "fname", "fromfile": "file"}


def _targets(readers: dict):
    def targets(module):
        for attribute, argument in readers.items():
            if callable(getattr(module, attribute, None)):
                yield Target(module, attribute, "read", data_arguments=_path_argument(argument))

    return targets


@hookimpl
def autotrack_register_integrations(register):
    register(Integration(name="pandas-files", modules=("pandas",), distribution="pandas", supported=">=1",
                         targets=_targets(_PANDAS_READERS)))
    register(Integration(name="numpy-files", modules=("numpy",), distribution="numpy", supported=">=1",
                         targets=_targets(_NUMPY_READERS)))


@hookimpl
def autotrack_collect_context():
    """The `data_files` section of each run's context."""
    from autotrack.session import SESSION

    files = SESSION.data_files.described()
    return {"data_files": files} if files else None
