"""Runs carried from one store directory to another, whole: their rows in every table that holds
runs, their metric points (series numbered anew in the target) and their artifact files.

The one mechanism under the trash (`autotrack delete` moves runs to `<store>/trash`, itself a store;
`restore` moves them back), `autotrack export`/`import` (a store in a tar file) and `autotrack merge`
(stores written on other machines). A run already in the target is left as it is, so that carrying
runs twice adds nothing; run ids are uuid4s, so the same id is the same run.

Order, for a crash at any point: the target gets the files, then the rows in one transaction; the
source loses the rows in one transaction, then the files. A crash in between leaves the run in
both stores, which the next move or import finds already done.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from autotrack.stores.local import DB_NAME, connect, write_transaction

# Tables keyed by run: (table, its run id column). Series and their points are carried apart.
RUN_TABLES = (("runs", "id"), ("params", "run_id"), ("tags", "run_id"), ("datasets", "run_id"),
              ("artifacts", "run_id"), ("model_references", "run_id"))
# Tables whose rows' order means something (runs that started together list in the order they were
# written; a run's datasets in the order it saw them): carried in it.
_ORDERED = ("runs", "datasets")
_CHUNK = 400


@dataclass
class Carried:
    runs: list[str] = field(default_factory=list)  # ids carried
    already: list[str] = field(default_factory=list)  # ids the target had: left as they were
    points: int = 0
    files: int = 0
    bytes: int = 0


def descendants(fetch, run_ids: list[str]) -> list[str]:
    """These runs and every run below them (a search's candidates, their children), parents first.
    `fetch(sql, args)` reads the store: StoreReader.fetch, or `rows_of(conn)`."""
    found = list(dict.fromkeys(run_ids))
    seen = set(found)
    frontier = found
    while frontier:
        children = []
        for chunk in _chunks(frontier):
            children += [row[0] for row in fetch(
                f"SELECT id FROM runs WHERE parent_id IN ({_marks(chunk)}) ORDER BY start_time", chunk)]
        frontier = [child for child in children if child not in seen]
        seen.update(frontier)
        found += frontier
    return found


def rows_of(conn: sqlite3.Connection):
    """A connection's `fetch(sql, args)`."""
    return lambda sql, args=(): conn.execute(sql, args).fetchall()


def carry(source: Path, target: Path, run_ids: list[str], move: bool, with_exports: bool = False) -> Carried:
    """Carry runs from the store at `source` to the one at `target` (created if missing).
    `move`: the source loses them; `with_exports`: what backends received goes too (the trash)."""
    done = Carried()
    target_conn = connect(target, create=True)
    try:
        target_conn.execute("ATTACH DATABASE ? AS source", (str(source / DB_NAME),))
        present = set()
        for chunk in _chunks(run_ids):
            present.update(row[0] for row in target_conn.execute(
                f"SELECT id FROM main.runs WHERE id IN ({_marks(chunk)})", chunk))
        done.already = [run_id for run_id in run_ids if run_id in present]
        wanted = [run_id for run_id in run_ids if run_id not in present]
        paths = _artifact_paths(target_conn, wanted)
        done.files, done.bytes = _copy_files(source, target, paths)
        tables = [*RUN_TABLES, *((("exports", "run_id"),) if with_exports else ())]
        with write_transaction(target_conn):
            for chunk in _chunks(wanted):
                for table, key in tables:
                    columns = _shared_columns(target_conn, table)
                    if not columns:  # a store older than the table
                        continue
                    target_conn.execute(
                        f"INSERT OR IGNORE INTO main.{table} ({columns}) SELECT {columns} FROM source.{table} "
                        f"WHERE {key} IN ({_marks(chunk)})" + (" ORDER BY rowid" if table in _ORDERED else ""), chunk)
                done.points += _copy_series(target_conn, chunk)
        done.runs = wanted
        target_conn.execute("DETACH DATABASE source")
    finally:
        target_conn.close()
    if move:
        remove(source, [*wanted, *done.already])
    return done


def remove(directory: Path, run_ids: list[str]) -> None:
    """Delete runs from a store: their rows (points and export state included), then their own
    artifact folders (files other runs share stay until `gc`)."""
    conn = connect(directory, create=True)
    try:
        with write_transaction(conn):
            for chunk in _chunks(run_ids):
                marks = _marks(chunk)
                conn.execute(f"DELETE FROM metrics WHERE series IN (SELECT id FROM series WHERE run_id IN ({marks}))",
                             chunk)
                conn.execute(f"DELETE FROM series WHERE run_id IN ({marks})", chunk)
                for table, key in (*RUN_TABLES, ("exports", "run_id")):
                    conn.execute(f"DELETE FROM {table} WHERE {key} IN ({marks})", chunk)
    finally:
        conn.close()
    for run_id in run_ids:
        shutil.rmtree(directory / "artifacts" / run_id, ignore_errors=True)


def _copy_series(conn: sqlite3.Connection, chunk: list[str]) -> int:
    """The runs' series, numbered anew in the target, and their points in their order."""
    points = 0
    goal_columns = {row[1] for row in conn.execute("PRAGMA source.table_info(series)")} >= {"goal", "goal_source"}
    select = "id, run_id, key, goal, goal_source" if goal_columns else "id, run_id, key, NULL, NULL"
    for series_id, run_id, key, goal, source in conn.execute(
            f"SELECT {select} FROM source.series WHERE run_id IN ({_marks(chunk)}) ORDER BY id", chunk).fetchall():
        new_id = conn.execute("INSERT INTO main.series (run_id, key, goal, goal_source) VALUES (?, ?, ?, ?)",
                              (run_id, key, goal, source)).lastrowid
        points += conn.execute(
            "INSERT INTO main.metrics (series, step, value, timestamp) SELECT ?, step, value, timestamp "
            "FROM source.metrics WHERE series = ? ORDER BY rowid", (new_id, series_id)).rowcount
    return points


def _artifact_paths(conn: sqlite3.Connection, run_ids: list[str]) -> list[str]:
    paths = []
    for chunk in _chunks(run_ids):
        paths += [row[0] for row in conn.execute(
            f"SELECT DISTINCT path FROM source.artifacts WHERE run_id IN ({_marks(chunk)})", chunk)]
    return list(dict.fromkeys(paths))


def _copy_files(source: Path, target: Path, paths: list[str]) -> tuple[int, int]:
    """Copy the artifact files (relative to their store) the target does not have yet; a file gone
    from the source is left out (its row stays, as `show` lists it)."""
    files = size = 0
    for relative in paths:
        origin, destination = source / relative, target / relative
        if not _inside(source, origin) or not _inside(target, destination):
            continue  # a row pointing out of its store is never followed
        if destination.exists() or not origin.is_file():
            continue
        destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:  # a hard link where both stores share a disk (the trash): nothing copied
            os.link(origin, destination)
        except OSError:
            shutil.copy2(origin, destination)
        files += 1
        size += destination.stat().st_size
    return files, size


def _inside(root: Path, path: Path) -> bool:
    real_root, real = os.path.realpath(root), os.path.realpath(path)
    return os.path.commonpath([real_root, real]) == real_root


def _shared_columns(conn: sqlite3.Connection, table: str) -> str:
    """The columns both stores' table has (one may be older), in the target's order."""
    source = {row[1] for row in conn.execute(f"PRAGMA source.table_info({table})")}
    return ", ".join(row[1] for row in conn.execute(f"PRAGMA main.table_info({table})") if row[1] in source)


def _chunks(items: list, size: int = _CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _marks(chunk: list) -> str:
    return ",".join("?" * len(chunk))


__all__ = ["carry", "remove", "descendants", "rows_of", "Carried", "RUN_TABLES"]
