"""Where a child made by fork() writes: an append-only file of its own under the store's `spool/`
folder, imported into runs.db by whichever tracking process writes to the store next (the parent,
within its writer's idle tick; or the next process that opens the store).

A child made by fork() without exec inherits SQLite's state from its parent: open connections,
SQLite's bookkeeping of the file locks it believes it holds, its mutexes (held at the instant of
the fork by another thread, they stay held forever in the child). Using SQLite there may corrupt
the store or hang the child (https://www.sqlite.org/howtocorrupt.html, section 2.6), and a child
waiting for its parent's write lock is delayed by its parent's work. A fork child therefore never
opens runs.db: each batch the writer hands it is one line of JSON appended to its file. A child
killed in the middle of a line leaves it incomplete; the importer takes complete lines only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SPOOL_DIR = "spool"
SUFFIX = ".jsonl"

_forked = {"child": False}


def _note_fork() -> None:
    _forked["child"] = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_note_fork)


def in_fork_child() -> bool:
    """Whether this process was made by fork() (and did not exec) from one that imported autotrack."""
    return _forked["child"]


def _process_token(pid: int) -> str:
    from autotrack.run import process_token

    return process_token(pid) or "0"


class Spool:
    """The local store as a fork child sees it: batches appended to `spool/<pid>-<start>.jsonl`."""

    name = "local"

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.folder = self.directory / SPOOL_DIR
        pid = os.getpid()
        self.path = self.folder / f"{pid}-{_process_token(pid)}{SUFFIX}"
        self._fd: int | None = None

    def write(self, batch: list[tuple]) -> None:
        self._append({"records": batch})

    def write_points(self, points: list[tuple]) -> None:
        self._append({"points": points})

    def artifact_path(self, run_id: str, name: str) -> str:
        folder = self.directory / "artifacts" / run_id
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return str(folder / name)

    def _append(self, batch: dict) -> None:
        # NaN and infinities are written as JSON's NaN/Infinity, which json.loads reads back.
        payload = (json.dumps(batch, default=str) + "\n").encode()
        if self._fd is None:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
        view = memoryview(payload)
        while view:
            view = view[os.write(self._fd, view):]


def process_alive(file_name: str) -> bool:
    """Whether the process that writes `file_name` (`<pid>-<start token>.jsonl`) still runs."""
    pid_text, _, token = file_name[:-len(SUFFIX)].partition("-")
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    return _process_token(pid) == token


def complete_lines(path: Path, offset: int) -> tuple[list[dict], int]:
    """The batches written after `offset` up to the last complete line, and the offset after it."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read()
    end = data.rfind(b"\n") + 1
    batches = []
    for line in data[:end].splitlines():
        try:
            batches.append(json.loads(line))
        except ValueError:  # not ours, or damaged: skipped, never blocks what follows
            continue
    return batches, offset + end


def as_records(batch: dict) -> tuple[list[tuple], list[tuple]]:
    """A spooled batch back as the writer's records and points (JSON made the tuples lists)."""
    return ([tuple(record) for record in batch.get("records", ())],
            [tuple(point) for point in batch.get("points", ())])


__all__ = ["Spool", "in_fork_child", "process_alive", "complete_lines", "as_records", "SPOOL_DIR", "SUFFIX"]
