"""Read runs back from the local store, as the documented dicts (docs/schema.md)."""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timezone

from autotrack import preprocessing
from autotrack.run import KILLED, RUNNING, process_token
from autotrack.stores.local import StoreError, connect, store_dir

# The runs columns run_summary() reads, in its order (the dashboard selects them too).
SUMMARY_COLUMNS = "id, experiment, name, status, parent_id, source, start_time, end_time, error, pid, host, proc_token"

# The rowid of series `s`'s latest point: the last one written at its highest step, as in
# get_run's history. Two index lookups a series (metrics_by_series), where grouping the points by
# series read every point of every run: a run with a long training history cost as much as
# thousands of small ones. The dashboard's metric columns and filters use it too.
LATEST_POINT_ROWID_SQL = (
    "(SELECT rowid FROM metrics WHERE series = s.id AND step = "
    "(SELECT max(step) FROM metrics WHERE series = s.id) ORDER BY rowid DESC LIMIT 1)")
# Ordered by series id, so that each run's metrics keep the order they were first logged in.
_LATEST_POINTS = ("SELECT s.run_id, s.key, m.value, s.goal, s.goal_source FROM series s JOIN metrics m "
                  f"ON m.rowid = {LATEST_POINT_ROWID_SQL}")


class RunNotFound(LookupError):
    """No run, or more than one, matches the id given."""


class StoreReader:
    def __init__(self, directory: str, metric_goals: tuple | None = None):
        self.directory = store_dir(directory)
        self._conn = connect(self.directory, create=False)
        from autotrack.query import install

        install(self._conn)  # the functions queries (`where`) call
        self._metric_goals = metric_goals  # the `metric_goals` setting; read on first need
        self._has_goals: bool | None = None

    def goal_and_source(self, key: str, stored: str | None = None, source: str | None = None) -> tuple[str, str]:
        """A metric's goal and who said so: stored with its series (`logged` by an integration or
        the user, or the `setting` then), else the `metric_goals` setting now, else its `name`."""
        from autotrack.metric_goals import GOALS, goal_from_setting, guess_goal

        if stored in GOALS:
            return stored, source or "logged"
        from_setting = goal_from_setting(key, self.metric_goals_setting())
        return (from_setting, "setting") if from_setting else (guess_goal(key), "name")

    def metric_goals_setting(self) -> tuple:
        if self._metric_goals is None:
            from autotrack.config import load_settings

            self._metric_goals = load_settings().metric_goals
        return self._metric_goals

    def _goal_column(self, column: str = "goal") -> str:
        """`s.goal`, or NULL for a store written before goals were stored (schema version 2),
        which this read-only connection does not upgrade."""
        if self._has_goals is None:
            self._has_goals = any(row[1] == "goal" for row in self._conn.execute("PRAGMA table_info(series)"))
        return f"s.{column}" if self._has_goals else "NULL"

    def close(self) -> None:
        self._conn.close()

    def fetch(self, sql: str, args=()) -> list[tuple]:
        """Rows of a read-only query on the store: for the readers of other tables (serving/queries.py)."""
        return self._conn.execute(sql, args).fetchall()

    def experiments(self) -> list[str]:
        return [row[0] for row in self._conn.execute("SELECT DISTINCT experiment FROM runs ORDER BY 1")]

    def runs(self, experiment: str | None = None, limit: int | None = None,
             parent_id: str | None = None, listed: bool = False, where: str | None = None) -> list[dict]:
        """Run summaries, newest first: the show keys without history, datasets and context.
        `listed`: only what run lists show unfolded, top-level runs other than preprocessing;
        `where`: a query (docs/query.md; QueryError when it cannot be read)."""
        where, args = _run_filter(experiment, parent_id, listed, where, self.metric_goals_setting() if where else ())
        sql = f"SELECT {SUMMARY_COLUMNS} FROM runs r"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY start_time DESC, rowid DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = [run_summary(row) for row in self._conn.execute(sql, args)]
        self._attach_latest_metrics(rows, every_run=not where and not limit)
        self._attach_exports(rows)
        self._attach_dropped(rows)
        return rows

    def _attach_dropped(self, rows: list[dict]) -> None:
        """What could not be kept of each run ({"points", "records", "why"}), or None (most runs)."""
        dropped = {}
        if self._has_column("runs", "dropped"):  # a store written before version 4 has none
            dropped = {run_id: json.loads(text) for run_id, text in self._conn.execute(
                "SELECT id, dropped FROM runs WHERE dropped IS NOT NULL")}
        for row in rows:
            row["dropped"] = dropped.get(row["id"])

    def _has_column(self, table: str, column: str) -> bool:
        return any(row[1] == column for row in self._conn.execute(f"PRAGMA table_info({table})"))

    def _attach_exports(self, rows: list[dict]) -> None:
        """Each run's export state per backend: {backend: {status, remote_id, error}}."""
        from autotrack.export import export_states

        ids = [row["id"] for row in rows]
        states: dict = {}
        for start in range(0, len(ids), 500):
            states.update(export_states(self._conn, ids[start:start + 500]))
        for row in rows:
            row["exports"] = states.get(row["id"], {})

    def attach_params(self, rows: list[dict]) -> list[dict]:
        """Give run summaries their params (a search's candidates, listed on its page)."""
        return self._attach_keyed(rows, "params", stored_value)

    def attach_tags(self, rows: list[dict]) -> list[dict]:
        """Give run summaries their tags (`runs --columns tags.NAME`)."""
        return self._attach_keyed(rows, "tags", lambda value: value)

    def _attach_keyed(self, rows: list[dict], table: str, convert) -> list[dict]:
        by_id = {row["id"]: row for row in rows}
        for row in rows:
            row[table] = {}
        ids = list(by_id)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for run_id, key, value in self._conn.execute(
                    f"SELECT run_id, key, value FROM {table} WHERE run_id IN ({','.join('?' * len(chunk))})"
                    " ORDER BY key", chunk):
                by_id[run_id][table][key] = convert(value)
        return rows

    def summaries(self, run_ids: list[str]) -> dict[str, dict]:
        """{run id: its summary with its latest metrics and their goals} for these full ids."""
        rows: list[dict] = []
        for start in range(0, len(run_ids), 500):
            chunk = run_ids[start:start + 500]
            rows += [run_summary(row) for row in self._conn.execute(
                f"SELECT {SUMMARY_COLUMNS} FROM runs WHERE id IN ({','.join('?' * len(chunk))})", chunk)]
        self._attach_latest_metrics(rows)
        return {row["id"]: row for row in rows}

    def count_runs(self, experiment: str | None = None, parent_id: str | None = None, listed: bool = False,
                   where: str | None = None) -> int:
        where, args = _run_filter(experiment, parent_id, listed, where, self.metric_goals_setting() if where else ())
        sql = "SELECT count(*) FROM runs r" + (" WHERE " + " AND ".join(where) if where else "")
        return self._conn.execute(sql, args).fetchone()[0]

    def resolve_id(self, run_id: str) -> str:
        text = (run_id or "").strip().lower()
        if not text:
            raise RunNotFound("give a run id (or a unique prefix of one)")
        matches = [row[0] for row in self._conn.execute(
            "SELECT id FROM runs WHERE id >= ? AND id < ? LIMIT 2", (text, text + "\uffff"))]
        if not matches:
            raise RunNotFound(f"no run {run_id!r} in {self.directory}")
        if len(matches) > 1:
            raise RunNotFound(f"run id prefix {run_id!r} is ambiguous; give more characters")
        return matches[0]

    def get_run(self, run_id: str) -> dict:
        full_id = self.resolve_id(run_id)
        row = self._conn.execute(
            f"SELECT {SUMMARY_COLUMNS}, context, timings, importances FROM runs WHERE id = ?", (full_id,)
        ).fetchone()
        run = run_summary(row[:12])
        run["context"], run["timings"], run["importances"] = (json.loads(text or "{}") for text in row[12:])
        run["params"] = {k: stored_value(v) for k, v in self._conn.execute(
            "SELECT key, value FROM params WHERE run_id = ? ORDER BY key", (full_id,))}
        run["tags"] = dict(self._conn.execute(
            "SELECT key, value FROM tags WHERE run_id = ? ORDER BY key", (full_id,)))
        run["history"] = self._history(full_id)
        self._attach_dropped([run])
        run["metrics"] = {key: points[-1][1] for key, points in run["history"].items()}
        stored = {key: (goal, source) for key, goal, source in self._conn.execute(
            f"SELECT s.key, {self._goal_column()}, {self._goal_column('goal_source')} FROM series s "
            "WHERE s.run_id = ?", (full_id,))}
        run["goals"], run["goal_sources"] = {}, {}
        for key in run["metrics"]:
            goal, source = stored.get(key, (None, None))
            run["goals"][key], run["goal_sources"][key] = self.goal_and_source(key, goal, source)
        run["datasets"] = [json.loads(text) for (text,) in self._conn.execute(
            "SELECT description FROM datasets WHERE run_id = ? ORDER BY rowid", (full_id,))]
        run["artifacts"] = [
            {"name": name, "path": str(self.directory / path), "bytes": size}
            for name, path, size in self._conn.execute(
                "SELECT name, path, bytes FROM artifacts WHERE run_id = ? ORDER BY name", (full_id,))
        ]
        run["children"] = [child_id for (child_id,) in self._conn.execute(
            "SELECT id FROM runs WHERE parent_id = ? ORDER BY start_time, rowid", (full_id,))]
        self._attach_exports([run])
        return run

    def history_times(self, run_id: str) -> dict[str, list]:
        """When each point of `get_run`'s history was logged (epoch seconds), in the same order."""
        times: dict[str, list] = {}
        for key, timestamp in self._conn.execute(
            "SELECT s.key, m.timestamp FROM series s JOIN metrics m ON m.series = s.id "
            "WHERE s.run_id = ? ORDER BY s.key, m.step, m.rowid", (self.resolve_id(run_id),),
        ):
            times.setdefault(key, []).append(timestamp)
        return times

    def _history(self, run_id: str) -> dict[str, list]:
        history: dict[str, list] = {}
        for key, step, value in self._conn.execute(
            "SELECT s.key, m.step, m.value FROM series s JOIN metrics m ON m.series = s.id "
            "WHERE s.run_id = ? ORDER BY s.key, m.step, m.rowid",  # write order: the index, no sort
            (run_id,),
        ):
            history.setdefault(key, []).append([step, _metric_value(value)])
        return history

    def _attach_latest_metrics(self, rows: list[dict], every_run: bool = False) -> None:
        by_id = {row["id"]: row for row in rows}
        for row in rows:
            row["metrics"], row["goals"], row["goal_sources"] = {}, {}, {}
        latest = _LATEST_POINTS.replace("s.goal_source", self._goal_column("goal_source")).replace(
            "s.goal,", self._goal_column() + ",")
        if every_run:  # one pass over every series: no id lists to send
            queries = [(latest + " ORDER BY s.id", [])]
        else:
            ids = list(by_id)
            chunks = [ids[start:start + 500] for start in range(0, len(ids), 500)]
            queries = [(f"{latest} WHERE s.run_id IN ({','.join('?' * len(chunk))}) ORDER BY s.id", chunk)
                       for chunk in chunks]
        goals: dict = {}  # (key, stored, source) -> (goal, source): runs share a few metric names
        for sql, args in queries:
            for run_id, key, value, stored, source in self._conn.execute(sql, args):
                row = by_id.get(run_id)
                if row is not None:
                    row["metrics"][key] = _metric_value(value)
                    resolved = goals.get((key, stored, source))
                    if resolved is None:
                        resolved = goals[(key, stored, source)] = self.goal_and_source(key, stored, source)
                    row["goals"][key], row["goal_sources"][key] = resolved


def run_summary(row) -> dict:
    """A run's summary from its SUMMARY_COLUMNS: a running run whose process died reads as killed."""
    (run_id, experiment, name, status, parent_id, source, start, end, error, pid, host, token) = row
    if status == RUNNING and process_gone(pid, host, token):
        status = KILLED
        error = error or "the process ended without finishing this run (killed or crashed)"
    return {
        "id": run_id,
        "experiment": experiment,
        "name": name,
        "status": status,
        "parent_id": parent_id,
        "source": source,
        "start_time": iso_time(start),
        "end_time": iso_time(end),
        "duration_s": (end - start) if (end is not None and start is not None) else None,
        "error": error,
    }


def process_gone(pid, host, token) -> bool:
    """A running run whose process on this host no longer exists (or is another process now)."""
    if pid is None or host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return token is not None and process_token(pid) != token


def iso_time(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat()


def _metric_value(value):
    # SQLite stores NaN as NULL, so a NaN point reads back as None; inf stays inf here and
    # becomes null only in JSON output, which has no inf.
    return value


def stored_value(text):
    """A param as stored: JSON text read back as its value; other text as it is."""
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


__all__ = ["StoreReader", "RunNotFound", "StoreError", "SUMMARY_COLUMNS", "run_summary", "process_gone",
           "stored_value", "LATEST_POINT_ROWID_SQL"]


def _run_filter(experiment: str | None, parent_id: str | None, listed: bool, query: str | None = None,
                metric_goals: tuple | None = None) -> tuple[list[str], list]:
    where, args = [], []
    if query:
        from autotrack.query import where_sql

        sql, query_args = where_sql(query, metric_goals or ())
        where.append(sql)
        args.extend(query_args)
    if experiment is not None:
        where.append("experiment = ?")
        args.append(experiment)
    if parent_id is not None:
        where.append("parent_id = ?")
        args.append(parent_id)
    if listed:
        where.append("parent_id IS NULL AND (source IS NULL OR source NOT IN (?, ?))")
        args.extend(UNLISTED_SOURCES)
    return where, args


# Records run lists leave out unless asked (`--all`, the dashboard's "show children"): preprocessing
# fitted on its own (preprocessing.py) and a served model's monitoring run (serving/monitor.py).
UNLISTED_SOURCES = (preprocessing.SOURCE, "serving")
