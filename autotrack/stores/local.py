"""The embedded default store: SQLite (WAL) under AUTOTRACK_DIR, artifacts as files beside it."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import sqlite3
from pathlib import Path

import autotrack
from autotrack.metric_goals import goal_from_setting
from autotrack.stores.base import Store
from autotrack.stores.registry_tables import REGISTRY_SCHEMA
from autotrack.stores.serving_tables import SERVING_SCHEMA, ServingTables
from autotrack.stores.spool import SPOOL_DIR, Spool, as_records, complete_lines, in_fork_child, process_alive
from autotrack.stores.spool import SUFFIX as SPOOL_SUFFIX

DB_NAME = "runs.db"
SCHEMA_VERSION = 6

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    experiment TEXT NOT NULL,
    name TEXT,
    status TEXT NOT NULL,
    parent_id TEXT,
    source TEXT,
    start_time REAL,
    end_time REAL,
    error TEXT,
    pid INTEGER,
    host TEXT,
    proc_token TEXT,
    context TEXT NOT NULL DEFAULT '{}',
    timings TEXT NOT NULL DEFAULT '{}',
    importances TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS runs_by_experiment ON runs (experiment, start_time);
CREATE INDEX IF NOT EXISTS runs_by_parent ON runs (parent_id);
CREATE TABLE IF NOT EXISTS params (
    run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT, PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tags (
    run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT, PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
-- A series is one metric of one run; points refer to it by a small integer, which makes
-- inserting a point about twice as fast as repeating the run id and key in every row.
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, key TEXT NOT NULL, UNIQUE (run_id, key)
);
CREATE TABLE IF NOT EXISTS metrics (
    series INTEGER NOT NULL, step INTEGER NOT NULL, value REAL, timestamp REAL
);
CREATE INDEX IF NOT EXISTS metrics_by_series ON metrics (series, step);
CREATE TABLE IF NOT EXISTS datasets (
    run_id TEXT NOT NULL, role TEXT, name TEXT, fingerprint TEXT, description TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS datasets_by_run ON datasets (run_id);
CREATE TABLE IF NOT EXISTS artifacts (
    run_id TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL, bytes INTEGER,
    PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
"""

# Version 2: what each backend other than the local store has received of each run (export.py).
EXPORTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS exports (
    run_id TEXT NOT NULL, backend TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT '{}',       -- the backend's own record: remote id, what it was sent
    points_done INTEGER NOT NULL DEFAULT 0, -- rowid of the last metric point the backend received
    status TEXT NOT NULL,                   -- pending, done or error
    attempts INTEGER NOT NULL DEFAULT 0, error TEXT, updated REAL,
    PRIMARY KEY (run_id, backend)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS exports_by_status ON exports (backend, status);
"""

# Version 3: each series' goal (max, min or none) and who said so (`logged` with the metric by an
# integration or the user, or the `metric_goals` setting); NULL: read from the name.
GOALS_SCHEMA = """
ALTER TABLE series ADD COLUMN goal TEXT;
ALTER TABLE series ADD COLUMN goal_source TEXT;
"""

# Version 4: what could not be kept of a run (`{"points": n, "records": n, "why": text}`: the writer's
# queue was full, or the store could not be written); which exporter holds a run's export now
# (export.py: two exporters never create one run twice); and how far each fork child's spool file
# (stores/spool.py) has been imported, so that two importers never import a line twice.
DURABILITY_SCHEMA = """
ALTER TABLE runs ADD COLUMN dropped TEXT;
ALTER TABLE exports ADD COLUMN claim TEXT;
ALTER TABLE exports ADD COLUMN claim_until REAL;
CREATE TABLE IF NOT EXISTS spool (file TEXT PRIMARY KEY, offset INTEGER NOT NULL) WITHOUT ROWID;
"""


_INSERT_POINT = "INSERT INTO metrics (series, value, step, timestamp) VALUES (?, ?, ?, ?)"


class StoreError(RuntimeError):
    """The store cannot be opened or read; the message says what to do about it."""


def store_dir(settings_dir: str) -> Path:
    return Path(os.path.expanduser(settings_dir)).absolute()


def connect(directory: Path, create: bool) -> sqlite3.Connection:
    """Open the store's database; with `create`, make a private directory and file first."""
    db_path = directory / DB_NAME
    if not db_path.exists():
        if not create:
            raise StoreError(f"no autotrack store at {directory} (set AUTOTRACK_DIR or --store)")
        try:
            _create_private(directory, db_path)
        except OSError as exc:
            raise StoreError(f"the autotrack store {directory} cannot be created: {describe_error(exc)}") from None
    try:
        if create:
            conn = sqlite3.connect(str(db_path), timeout=30, isolation_level=None, check_same_thread=False)
        else:  # readers never change the store's files (no checkpoint of a crashed writer's WAL)
            conn = sqlite3.connect(db_path.absolute().as_uri() + "?mode=ro", uri=True, timeout=30,
                                   isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 30000")
        if create:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            # The writer's connection: a larger page cache keeps the metrics index in memory
            # while points stream in (SQLite's default is 2 MiB).
            conn.execute("PRAGMA cache_size = -65536")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            conn.close()
            raise StoreError(f"the autotrack store {directory} was written by a newer autotrack (store "
                             f"version {version}; this autotrack {autotrack.__version__} knows up to "
                             f"{SCHEMA_VERSION}): upgrade autotrack, or use another AUTOTRACK_DIR")
        if create and version < SCHEMA_VERSION:  # a new store, or one written by an older autotrack
            _upgrade(conn)
    except sqlite3.DatabaseError as exc:
        if _is_corruption(exc):
            raise StoreError(f"the autotrack store {db_path} cannot be read ({exc}); it may be corrupted "
                             f"or not an autotrack store: move it aside and a new one is created on the "
                             f"next run") from exc
        raise StoreError(f"the autotrack store {db_path} cannot be used: {describe_error(exc)}") from exc
    return conn


def _is_corruption(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text or "corrupt" in text


def describe_error(exc: BaseException, directory: Path | None = None) -> str:
    """What keeps the store from being written, named as the user can act on it (one line)."""
    text = str(exc).lower()
    if (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or "full" in text \
            or ("disk i/o" in text and directory is not None and _free_bytes(directory) < 1024 * 1024):
        return "the disk is full"
    if isinstance(exc, PermissionError) or "readonly" in text or "read-only" in text \
            or "permission" in text or "unable to open" in text:
        return "no permission to write there (a read-only disk or folder?)"
    if "locked" in text or "busy" in text:
        return "another process holds its write lock"
    if _is_corruption(exc):
        return f"it may be corrupted ({exc})"
    return f"{type(exc).__name__}: {exc}"


def store_problem(exc: BaseException, directory: Path | None = None) -> str | None:
    """One line when `exc` says the store cannot be written now (its lock, a full disk, no
    permission, a folder gone): the writer keeps what it holds and tries again. None otherwise."""
    if isinstance(exc, StoreError):  # a corrupted store is not a state that passes: reported as an error
        return None if isinstance(exc.__cause__, sqlite3.DatabaseError) and _is_corruption(exc.__cause__) \
            else str(exc)
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        if any(word in text for word in _STORE_STATES):
            return describe_error(exc, directory)
    elif isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES,
                                                    errno.EPERM, errno.EIO, errno.ENOENT):
        return describe_error(exc, directory)
    return None


# What SQLite says when the store's state (not autotrack's SQL) keeps it from writing.
_STORE_STATES = ("locked", "busy", "full", "readonly", "read-only", "unable to open", "disk i/o",
                 "permission")


def _free_bytes(directory: Path) -> int:
    try:
        return shutil.disk_usage(directory).free
    except OSError:
        return 1 << 62


def _upgrade(conn: sqlite3.Connection) -> None:
    """Bring a new store, or one an older autotrack wrote, to SCHEMA_VERSION. The tables are
    created if missing; columns are added in one transaction that checks again (two processes may
    open an old store at once: the second finds the work done)."""
    # Version 5: serving_tables.py; version 6: registry_tables.py.
    conn.executescript(SCHEMA + EXPORTS_SCHEMA + SERVING_SCHEMA + REGISTRY_SCHEMA)
    conn.execute("BEGIN IMMEDIATE")
    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(series)")}
        if "goal" not in columns:
            _run_statements(conn, GOALS_SCHEMA)
        if "dropped" not in {row[1] for row in conn.execute("PRAGMA table_info(runs)")}:
            _run_statements(conn, DURABILITY_SCHEMA)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _run_statements(conn: sqlite3.Connection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection):
    """One write transaction, the write lock taken at its start: committed, or rolled back on any
    exception (which goes on)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _create_private(directory: Path, db_path: Path) -> None:
    new_dir = not directory.exists()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if new_dir:
        os.chmod(directory, 0o700)
    # SQLite gives the -wal and -shm files the database file's mode, so 0600 here covers them.
    fd = os.open(db_path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)


class LocalStore(ServingTables, Store):
    """Writes record batches in one SQLite transaction each; reading lives in stores/reader.py."""

    name = "local"

    def __init__(self, directory: str, metric_goals: tuple = ()):
        self.directory = store_dir(directory)
        self._conn: sqlite3.Connection | None = None
        self._series: dict[tuple[str, str], int] = {}  # (run id, metric) -> series id
        self._metric_goals = metric_goals  # the user's setting, applied when a series is new
        self._spool_seen: dict[str, int] = {}  # spool file -> its size when last imported

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self.directory, create=True)
        return self._conn

    def artifact_path(self, run_id: str, name: str) -> str:
        self.conn  # creates the private store directory first
        folder = self.directory / "artifacts"
        for part in (folder, folder / run_id):
            part.mkdir(mode=0o700, exist_ok=True)
        return str(folder / run_id / name)

    def write(self, batch: list[tuple]) -> None:
        with self._transaction() as conn:
            self._apply(conn, batch)

    def write_points(self, points: list[tuple]) -> None:
        """The fast path for metric points `(run_id, key, value, step, timestamp)`."""
        with self._transaction() as conn:
            self._insert_points(conn, points)

    def _apply(self, conn, batch: list[tuple]) -> None:
        points = []
        for record in batch:
            if record[0] == "metric":
                points.append(record[1:])
            else:
                getattr(self, "_write_" + record[0])(conn, *record[1:])
        self._insert_points(conn, points)

    def import_spool(self) -> list[str]:
        """Import what fork children appended to their spool files since the last import
        (stores/spool.py), each file's new lines in one transaction with its new offset, so that
        concurrent importers never import a line twice. Returns the ids of the runs imported
        whose start asks for an export (the caller's exporter sends them)."""
        folder = self.directory / SPOOL_DIR
        try:
            names = sorted(entry.name for entry in os.scandir(folder) if entry.name.endswith(SPOOL_SUFFIX))
        except FileNotFoundError:
            return []
        exported: list[str] = []
        for name in names:
            path = folder / name
            try:
                size = path.stat().st_size
            except FileNotFoundError:  # another importer finished it
                continue
            alive = process_alive(name)
            if alive and self._spool_seen.get(name) == size:
                continue
            with self._transaction() as conn:
                row = conn.execute("SELECT offset FROM spool WHERE file = ?", (name,)).fetchone()
                offset = row[0] if row else 0
                batches, end = complete_lines(path, offset) if size > offset else ([], offset)
                for batch in batches:
                    records, points = as_records(batch)
                    self._apply(conn, records + [("metric", *point) for point in points])
                    exported += [record[1] for record in records
                                 if record[0] == "run_start" and record[2].get("exports")]
                finished = not alive and end >= size
                if finished:
                    conn.execute("DELETE FROM spool WHERE file = ?", (name,))
                elif end != offset:
                    conn.execute("INSERT OR REPLACE INTO spool (file, offset) VALUES (?, ?)", (name, end))
            self._spool_seen[name] = size
            if finished:  # after the commit: a crash in between leaves a file imported again from 0
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
                self._spool_seen.pop(name, None)
        return exported

    def _insert_points(self, conn, points: list[tuple]) -> None:
        series = self._series
        rows = []
        for run_id, key, value, step, timestamp in points:
            series_id = series.get((run_id, key))
            if series_id is None:
                series_id = self._series_id(conn, run_id, key)
            rows.append((series_id, value, step, timestamp))
        conn.executemany(_INSERT_POINT, rows)

    def _series_id(self, conn, run_id: str, key: str) -> int:
        goal = goal_from_setting(key, self._metric_goals)
        conn.execute("INSERT OR IGNORE INTO series (run_id, key, goal, goal_source) VALUES (?, ?, ?, ?)",
                     (run_id, key, goal, "setting" if goal else None))
        (series_id,) = conn.execute(
            "SELECT id FROM series WHERE run_id = ? AND key = ?", (run_id, key)).fetchone()
        self._series[(run_id, key)] = series_id
        return series_id

    def _transaction(self):
        return write_transaction(self.conn)

    @staticmethod
    def _write_run_start(conn, run_id, fields):
        # A run started again under the same id (an Optuna study that several processes optimize,
        # each starting the study's run) keeps what it recorded and its first start; it is running
        # again, in the newest process, and goes back to pending for the backends that had it.
        conn.execute(
            "INSERT INTO runs (id, experiment, name, status, parent_id, source, start_time,"
            " pid, host, proc_token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET experiment = excluded.experiment, name = excluded.name,"
            " status = excluded.status, parent_id = excluded.parent_id, source = excluded.source,"
            " start_time = MIN(runs.start_time, excluded.start_time), end_time = NULL, error = NULL,"
            " pid = excluded.pid, host = excluded.host, proc_token = excluded.proc_token",
            (run_id, fields["experiment"], fields["name"], fields["status"], fields["parent_id"],
             fields["source"], fields["start_time"], fields["pid"], fields["host"], fields["proc_token"]),
        )
        # Backends other than this store receive the run from here: it is pending for each.
        conn.executemany(
            "INSERT INTO exports (run_id, backend, status) VALUES (?, ?, 'pending')"
            " ON CONFLICT (run_id, backend) DO UPDATE SET status = 'pending' WHERE status = 'done'",
            [(run_id, backend) for backend in fields.get("exports", ())])

    @staticmethod
    def _write_run_attach(conn, run_id, fields):
        # Before the owner's run_start, what a worker records must not be lost: a row to hold it.
        conn.execute(
            "INSERT INTO runs (id, experiment, status, source, start_time, pid, host, proc_token)"
            " VALUES (?, ?, 'running', 'auto', ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (run_id, fields["experiment"], fields["start_time"], fields["pid"], fields["host"], fields["proc_token"]))

    @staticmethod
    def _write_run_end(conn, run_id, status, end_time, error):
        conn.execute(
            "UPDATE runs SET status = ?, end_time = ?, error = ? WHERE id = ?",
            (status, end_time, error, run_id),
        )

    @staticmethod
    def _write_params(conn, run_id, params):
        conn.executemany(
            "INSERT OR REPLACE INTO params (run_id, key, value) VALUES (?, ?, ?)",
            [(run_id, key, value) for key, value in params.items()],
        )

    @staticmethod
    def _write_tags(conn, run_id, tags):
        conn.executemany(
            "INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?, ?, ?)",
            [(run_id, key, value) for key, value in tags.items()],
        )

    @staticmethod
    def _write_merge(conn, run_id, field, update):
        if field not in ("context", "timings", "importances"):
            raise ValueError(f"unknown run field {field!r}")
        row = conn.execute(f"SELECT {field} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return
        merged = deep_merge(json.loads(row[0] or "{}"), update)
        conn.execute(f"UPDATE runs SET {field} = ? WHERE id = ?", (dumps(merged), run_id))

    def _write_goals(self, conn, run_id, goals):
        """Goals given by whoever logged the metrics (an integration, or the user's log_metrics):
        they win over the setting's (logged > setting > name)."""
        for key, goal in goals.items():
            series_id = self._series.get((run_id, key)) or self._series_id(conn, run_id, key)
            conn.execute("UPDATE series SET goal = ?, goal_source = 'logged' WHERE id = ?", (goal, series_id))

    @staticmethod
    def _write_dataset(conn, run_id, description):
        conn.execute(
            "INSERT INTO datasets (run_id, role, name, fingerprint, description) VALUES (?, ?, ?, ?, ?)",
            (run_id, description.get("role"), description.get("name"), description.get("fingerprint"),
             dumps(description)),
        )

    @staticmethod
    def _write_dropped(conn, run_id, counts):
        row = conn.execute("SELECT dropped FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return
        total = json.loads(row[0] or "{}")
        for key in ("points", "records"):
            total[key] = total.get(key, 0) + int(counts.get(key) or 0)
        total["why"] = counts.get("why") or total.get("why")
        conn.execute("UPDATE runs SET dropped = ? WHERE id = ?", (dumps(total), run_id))

    @staticmethod
    def _write_artifact(conn, run_id, name, path, size):
        conn.execute(
            "INSERT OR REPLACE INTO artifacts (run_id, name, path, bytes) VALUES (?, ?, ?, ?)",
            (run_id, name, path, size),
        )


def deep_merge(base: dict, update: dict) -> dict:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = value
    return base


def dumps(value) -> str:
    """JSON for the store: NaN/inf become null, anything else unknown becomes its str()."""
    try:
        return json.dumps(value, default=str, allow_nan=False)
    except ValueError:
        return json.dumps(_replace_nonfinite(value), default=str)


def _replace_nonfinite(value):
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {k: _replace_nonfinite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_replace_nonfinite(v) for v in value]
    return value


def open_local_store(settings):
    """The local store; in a child made by fork(), its spool file instead (stores/spool.py)."""
    if in_fork_child():
        return Spool(store_dir(settings.dir))
    return LocalStore(settings.dir, settings.metric_goals)


@autotrack.hookimpl
def autotrack_register_stores(register):
    register("local", open_local_store)


__all__ = ["LocalStore", "StoreError", "connect", "store_dir", "store_problem", "describe_error", "deep_merge",
           "dumps", "DB_NAME", "open_local_store"]
