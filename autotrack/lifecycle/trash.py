"""Deleting runs without losing them by mistake: `autotrack delete` moves runs (with their children)
to the store's trash, `<store>/trash`, itself a store; `restore` moves them back; `gc` purges the trash
and what no run refers to any more, and says what it reclaimed.

A deleted run is gone from everything that reads the store (lists, queries, the dashboard, sync):
they never see the trash. What a backend already received stays there: deleting says so.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from autotrack.lifecycle.usage import database_size, tree_size
from autotrack.stores import transfer
from autotrack.stores.local import DB_NAME, connect, write_transaction

TRASH = "trash"
# Artifact files younger than this are never collected: a training process saves a model's file
# before its writer thread has recorded the run that owns it.
GRACE_S = 3600
DELETED_TAG = "autotrack.deleted_at"  # kept on a run in the trash: when it was deleted


class LifecycleError(ValueError):
    """A run that cannot be deleted or restored as asked; the message says why and what to do."""


@dataclass
class Deleted:
    runs: list[str] = field(default_factory=list)  # every run moved, children included
    exported: dict[str, list[str]] = field(default_factory=dict)  # backend -> run ids it had received


def trash_dir(directory: Path) -> Path:
    return Path(directory) / TRASH


def delete(directory: Path, reader, run_ids: list[str], force: bool = False) -> Deleted:
    """Move these runs and every run below them to the trash. A run still running, or registered
    as a model version, is refused unless `force`."""
    from autotrack.stores.reader import process_gone

    every = transfer.descendants(reader.fetch, run_ids)
    if not force:
        for run_id in every:
            row = reader.fetch("SELECT status, pid, host, proc_token FROM runs WHERE id = ?", (run_id,))
            if row and row[0][0] == "running" and not process_gone(*row[0][1:]):
                raise LifecycleError(f"run {run_id[:8]} is still running (pid {row[0][1]}): wait for it to end, "
                                     f"or delete with --force")
        registered = _registered(reader, every)
        if registered:
            run_id, name, version = registered[0]
            raise LifecycleError(f"run {run_id[:8]} is registered as model {name}/{version}: `autotrack models` "
                                 f"still loads it from this run; delete with --force to delete it anyway")
    result = Deleted(runs=every)
    for backend, run_id in _exported(reader, every):
        result.exported.setdefault(backend, []).append(run_id)
    trash = trash_dir(directory)
    if (trash / DB_NAME).exists():  # a copy left there by a restore that was interrupted: the store's is newer
        transfer.remove(trash, every)
    carried = transfer.carry(Path(directory), trash, every, move=True, with_exports=True)
    _mark_deleted(trash, carried.runs)
    return result


def restore(directory: Path, run_ids: list[str]) -> list[str]:
    """Move runs (and their children) from the trash back to the store."""
    trash = trash_dir(directory)
    conn = connect(trash, create=True)
    try:
        every = transfer.descendants(transfer.rows_of(conn), run_ids)
    finally:
        conn.close()
    transfer.carry(trash, Path(directory), every, move=True, with_exports=True)
    store = connect(Path(directory), create=True)
    try:
        with write_transaction(store):
            for chunk in _chunks(every):
                store.execute(f"DELETE FROM tags WHERE key = ? AND run_id IN ({','.join('?' * len(chunk))})",
                              [DELETED_TAG, *chunk])
    finally:
        store.close()
    return every


def resolve_in_trash(directory: Path, texts: list[str]) -> list[str]:
    """Full ids of runs in the trash from ids or unique prefixes; a one-line error otherwise."""
    from autotrack.stores.reader import RunNotFound, StoreReader

    trash = trash_dir(directory)
    if not (trash / DB_NAME).exists():
        raise LifecycleError(f"the trash of {directory} is empty")
    reader = StoreReader(str(trash))
    try:
        ids = []
        for text in texts:
            try:
                ids.append(reader.resolve_id(text))
            except RunNotFound as exc:
                raise LifecycleError(str(exc).replace("no run", "no deleted run")) from None
        return ids
    finally:
        reader.close()


def trash_runs(directory: Path) -> list[dict]:
    """The runs in the trash, most recently deleted first, each with `deleted_at` (epoch seconds)."""
    from autotrack.stores.reader import StoreReader

    trash = trash_dir(directory)
    if not (trash / DB_NAME).exists():
        return []
    reader = StoreReader(str(trash))
    try:
        runs = reader.attach_tags(reader.runs())
    finally:
        reader.close()
    for run in runs:
        run["deleted_at"] = float(run["tags"].pop(DELETED_TAG, 0) or 0)
    return sorted(runs, key=lambda run: -run["deleted_at"])


@dataclass
class Collected:
    trash_runs: int = 0
    trash_bytes: int = 0
    orphan_folders: int = 0
    orphan_files: int = 0
    orphan_rows: int = 0
    file_bytes: int = 0  # artifact files removed outside the trash
    database_bytes: int = 0  # what compacting the database gave back
    compacted: bool = True
    errors: list[str] = field(default_factory=list)

    @property
    def reclaimed(self) -> int:
        return self.trash_bytes + self.file_bytes + self.database_bytes


def gc(directory: Path, dry_run: bool = False) -> Collected:
    """Purge the trash; remove artifact folders and shared files no run refers to, and rows left by
    a run deleted while it was still writing; compact the database. `dry_run`: count only."""
    directory = Path(directory)
    done = Collected()
    trash = trash_dir(directory)
    if (trash / DB_NAME).exists():
        conn = sqlite3.connect(str(trash / DB_NAME))
        try:
            done.trash_runs = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
        finally:
            conn.close()
        done.trash_bytes = tree_size(trash)
        if not dry_run:
            shutil.rmtree(trash)
    conn = connect(directory, create=not dry_run)
    try:
        referenced = {row[0] for row in conn.execute("SELECT DISTINCT path FROM artifacts")}
        run_ids = {row[0] for row in conn.execute("SELECT id FROM runs")}
        folders, files, size = _orphan_artifacts(directory, run_ids, referenced)
        done.orphan_folders, done.orphan_files, done.file_bytes = len(folders), len(files), size
        done.orphan_rows = _orphan_rows(conn, delete=False)
        if dry_run:
            return done
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        for path in files:
            with _suppressed():
                os.remove(path)
        if done.orphan_rows:
            with write_transaction(conn):
                _orphan_rows(conn, delete=True)
        before = database_size(directory)
        try:
            conn.execute("VACUUM")
        except sqlite3.OperationalError as exc:  # a training process is writing: try again later
            done.compacted = False
            done.errors.append(f"the database was not compacted ({exc}); run `autotrack gc` again when "
                               f"no training writes to the store")
        done.database_bytes = max(0, before - database_size(directory))
    finally:
        conn.close()
    return done


def _orphan_artifacts(directory: Path, run_ids: set[str], referenced: set[str]) -> tuple[list[Path], list[Path], int]:
    """Folders artifacts/<id> of runs the store no longer has, and shared files no row names."""
    root = directory / "artifacts"
    folders, files, size = [], [], 0
    settled = time.time() - GRACE_S
    if not root.is_dir():
        return folders, files, size
    for entry in os.scandir(root):
        if entry.name == "shared" and entry.is_dir(follow_symlinks=False):
            for item in os.scandir(entry.path):
                if f"artifacts/shared/{item.name}" not in referenced and item.is_file(follow_symlinks=False) \
                        and item.stat(follow_symlinks=False).st_mtime < settled:
                    files.append(Path(item.path))
                    size += item.stat(follow_symlinks=False).st_size
        elif entry.is_dir(follow_symlinks=False) and entry.name not in run_ids \
                and entry.stat(follow_symlinks=False).st_mtime < settled:
            folders.append(Path(entry.path))
            size += tree_size(Path(entry.path))
    return folders, files, size


# Rows whose run is gone: written by a process that kept writing after its run was deleted (--force).
_ORPHANS = (
    ("metrics", "series NOT IN (SELECT id FROM series)"),
    ("series", "run_id NOT IN (SELECT id FROM runs)"),
    ("params", "run_id NOT IN (SELECT id FROM runs)"),
    ("tags", "run_id NOT IN (SELECT id FROM runs)"),
    ("datasets", "run_id NOT IN (SELECT id FROM runs)"),
    ("artifacts", "run_id NOT IN (SELECT id FROM runs)"),
    ("exports", "run_id NOT IN (SELECT id FROM runs)"),
)


def _orphan_rows(conn: sqlite3.Connection, delete: bool) -> int:
    count = 0
    # series first when deleting: their points become orphans the next statement removes
    order = (_ORPHANS[1], _ORPHANS[0], *_ORPHANS[2:]) if delete else _ORPHANS
    for table, condition in order:
        if delete:
            count += conn.execute(f"DELETE FROM {table} WHERE {condition}").rowcount
        else:
            count += conn.execute(f"SELECT count(*) FROM {table} WHERE {condition}").fetchone()[0]
    return count


def _registered(reader, run_ids: list[str]) -> list[tuple]:
    found = []
    for chunk in _chunks(run_ids):
        found += reader.fetch(f"SELECT run_id, name, version FROM model_versions WHERE run_id IN "
                              f"({','.join('?' * len(chunk))}) ORDER BY name, version", chunk)
    return found


def _exported(reader, run_ids: list[str]) -> list[tuple[str, str]]:
    found = []
    for chunk in _chunks(run_ids):
        found += [(backend, run_id) for run_id, backend in reader.fetch(
            f"SELECT run_id, backend FROM exports WHERE status = 'done' AND run_id IN "
            f"({','.join('?' * len(chunk))})", chunk)]
    return found


def _mark_deleted(trash: Path, run_ids: list[str]) -> None:
    conn = connect(trash, create=True)
    try:
        now = repr(time.time())
        with write_transaction(conn):
            conn.executemany("INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?, ?, ?)",
                             [(run_id, DELETED_TAG, now) for run_id in run_ids])
    finally:
        conn.close()


def _suppressed():
    import contextlib

    return contextlib.suppress(OSError)


def _chunks(items: list, size: int = 400):
    for start in range(0, len(items), size):
        yield items[start:start + size]


__all__ = ["delete", "restore", "gc", "trash_runs", "resolve_in_trash", "trash_dir", "LifecycleError", "Deleted",
           "Collected", "TRASH", "DELETED_TAG"]
