"""The runs page's SQL: filter, sort and paginate runs in the store without loading them all."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlencode

from autotrack.stores.local import DB_NAME, StoreError
from autotrack.stores.reader import SUMMARY_COLUMNS, UNLISTED_SOURCES, run_summary, stored_value
from autotrack.query import QueryError, install, where_sql
from autotrack.query.sql import LATEST_METRIC_SQL, PARAM_SQL, SERIES_LATEST_SQL, STATUS_SQL

PAGE_SIZE = 100
DEFAULT_METRIC_COLUMNS = 3
STATUSES = ("running", "finished", "failed", "killed")
# Sort keys a column header links to; metric:KEY and param:KEY are added per column.
_RUN_SORTS = {"name": "r.name", "status": "r.status", "start": "r.start_time", "id": "r.id",
              "duration": "(r.end_time - r.start_time)", "experiment": "r.experiment"}
_SUMMARY = ", ".join(f"r.{column}" for column in SUMMARY_COLUMNS.split(", "))


def open_store(directory: Path) -> sqlite3.Connection:
    """A read-only connection for one request: the dashboard never writes to the store."""
    path = directory / DB_NAME
    if not path.exists():  # mode=ro would say only "unable to open database file"
        raise StoreError(f"no autotrack store at {directory} any more (was it moved or deleted?)")
    uri = path.absolute().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=10, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    return install(conn)


@dataclass(frozen=True)
class RunsQuery:
    """What the runs page shows, as its URL's query parameters say."""

    experiment: str | None = None
    status: str | None = None
    filter: str = ""
    previous: str = ""  # the last filter that could be read: its runs stay listed under an error
    sort: str = "start"
    order: str = "desc"
    page: int = 1
    children: bool = False
    metrics: tuple[str, ...] | None = None  # None: the most common metrics
    params: tuple[str, ...] = ()

    @classmethod
    def from_params(cls, params) -> "RunsQuery":
        def keys(name):
            return tuple(key for key in (params.get(name) or "").split(",") if key)

        try:
            page = max(1, int(params.get("page") or 1))
        except ValueError:
            page = 1
        status = params.get("status") or None
        return cls(
            experiment=params.get("experiment") or None,
            status=status if status in STATUSES else None,
            filter=(params.get("filter") or "").strip(),
            previous=(params.get("previous") or "").strip(),
            sort=params.get("sort") or "start",
            order="asc" if params.get("order") == "asc" else "desc",
            page=page,
            children=params.get("children") in ("1", "on", "true"),
            metrics=keys("metrics") if "metrics" in params else None,
            params=keys("params"),
        )

    def url(self, **changes) -> str:
        """This page's URL with some parameters changed (a sort link, a page link)."""
        query = replace(self, **changes)
        values = {"experiment": query.experiment, "status": query.status, "filter": query.filter,
                  "sort": None if query.sort == "start" else query.sort,
                  "order": None if query.order == "desc" else query.order,
                  "page": None if query.page == 1 else query.page,
                  "children": "1" if query.children else None,
                  "metrics": None if query.metrics is None else ",".join(query.metrics),
                  "params": ",".join(query.params) or None}
        # An empty metrics list stays in the URL: it means "no metric columns", not the default ones.
        return "/?" + urlencode({key: value for key, value in values.items()
                                 if value is not None and (value != "" or key == "metrics")})

    def sort_url(self, key: str) -> str:
        """Clicking a header sorts by it, descending first; clicking it again flips the order."""
        order = ("asc" if self.order == "desc" else "desc") if key == self.sort else "desc"
        return self.url(sort=key, order=order, page=1)


@dataclass
class RunsPage:
    query: RunsQuery
    rows: list[dict] = field(default_factory=list)
    total: int = 0
    metric_columns: list[str] = field(default_factory=list)
    param_columns: list[str] = field(default_factory=list)
    metric_keys: list[str] = field(default_factory=list)  # every metric the listed runs have
    param_keys: list[str] = field(default_factory=list)
    experiments: list[tuple[str, int]] = field(default_factory=list)
    error: str | None = None
    error_column: int | None = None
    applied: str = ""  # the filter the rows were listed by
    listed: bool = False  # rows were read (under an error, by the previous filter)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def runs_page(conn: sqlite3.Connection, query: RunsQuery) -> RunsPage:
    """One page of runs as the query asks; a filter that cannot be read leaves `error` set and no rows."""
    page = RunsPage(query=query, experiments=experiments(conn))
    try:
        condition = where_sql(query.filter)
        page.applied = query.filter
    except QueryError as exc:
        page.error = str(exc)
        page.error_column = exc.column
        try:  # the runs listed before the filter was changed stay visible under the error
            condition = where_sql(query.previous)
            page.applied = query.previous
        except QueryError:
            return page
    where, args = _where(query, condition)
    page.listed = True
    # The query is evaluated once, into a temporary table of the matching runs (the connection's own,
    # in memory: the store is not written); the total, the column choices and the page read that.
    conn.execute("DROP TABLE IF EXISTS temp.matched")
    conn.execute(f"CREATE TEMP TABLE matched AS SELECT r.id AS id, r.start_time AS start_time FROM runs r "
                 f"WHERE {where}", args)
    page.total = conn.execute("SELECT count(*) FROM temp.matched").fetchone()[0]
    page.metric_keys, common = _metric_keys(conn)
    page.param_keys = _param_keys(conn)
    chosen = query.metrics if query.metrics is not None else common[:DEFAULT_METRIC_COLUMNS]
    page.metric_columns = list(chosen)
    page.param_columns = list(query.params)
    order_sql, order_args = _order(query)
    offset = (query.page - 1) * PAGE_SIZE
    sql = (f"SELECT {_SUMMARY}, (SELECT count(*) FROM runs c WHERE c.parent_id = r.id) FROM runs r "
           f"WHERE r.id IN (SELECT id FROM temp.matched) ORDER BY {order_sql} LIMIT {PAGE_SIZE} OFFSET {offset}")
    for row in conn.execute(sql, order_args):
        # As `autotrack runs` reads them: a running run whose process died is killed.
        page.rows.append({**run_summary(row[:-1]), "children": row[-1], "metrics": {}, "params": {}})
    _attach_columns(conn, page)
    return page


def experiments(conn: sqlite3.Connection) -> list[tuple[str, int]]:
    """(experiment, run count), the most recently active first (runs_by_experiment covers it)."""
    return [(name, count) for name, count, _ in conn.execute(
        "SELECT experiment, count(*), max(start_time) FROM runs GROUP BY experiment ORDER BY 3 DESC")]


def _where(query: RunsQuery, condition: tuple[str, list]) -> tuple[str, list]:
    clauses, args = [], []
    if query.experiment is not None:
        clauses.append("r.experiment = ?")
        args.append(query.experiment)
    if not query.children:  # children, preprocessing fitted on its own, monitoring runs (UNLISTED_SOURCES)
        clauses.append("r.parent_id IS NULL AND (r.source IS NULL OR r.source NOT IN (?, ?))")
        args.extend(UNLISTED_SOURCES)
    if query.status:
        clauses.append(f"{STATUS_SQL} = ?")
        args.append(query.status)
    sql, condition_args = condition
    if sql != "1":
        clauses.append(sql)
        args.extend(condition_args)
    return " AND ".join(clauses) or "1", args


def _order(query: RunsQuery) -> tuple[str, list]:
    direction = "ASC" if query.order == "asc" else "DESC"
    kind, _, key = query.sort.partition(":")
    if kind == "metric" and key:
        column, args = LATEST_METRIC_SQL, [key]
    elif kind == "param" and key:
        # Numbers by value, before text; a JSON text such as `"gini"` sorts as text.
        number = (f"CASE WHEN json_valid({PARAM_SQL}) AND json_type({PARAM_SQL}) IN ('integer', 'real') "
                  f"THEN CAST({PARAM_SQL} AS REAL) END")
        return (f"({PARAM_SQL} IS NULL), ({number} IS NULL), {number} {direction}, {PARAM_SQL} {direction}, "
                f"r.start_time DESC, r.rowid DESC", [key] * 8)
    else:
        column, args = _RUN_SORTS.get(query.sort, "r.start_time"), []
    # Runs without the value go last whichever way the column is sorted.
    return f"({column} IS NULL), {column} {direction}, r.start_time DESC, r.rowid DESC", args * 2


# The column choices come from the newest runs that match, not all of them: in a store of 100,000
# runs, reading every run's metric and param names took most of a page's time.
KEYS_SAMPLE = 2000


_SAMPLE = f"SELECT id FROM temp.matched ORDER BY start_time DESC LIMIT {KEYS_SAMPLE}"


def _metric_keys(conn) -> tuple[list[str], list[str]]:
    """(the metric keys of the listed runs sorted by name, the same by how many runs have it), from
    the newest KEYS_SAMPLE of them."""
    counts = conn.execute(
        f"SELECT s.key, count(*) FROM series s WHERE s.run_id IN ({_SAMPLE}) GROUP BY s.key").fetchall()
    common = [key for key, _ in sorted(counts, key=lambda item: (-item[1], item[0]))]
    return sorted(key for key, _ in counts), common


def _param_keys(conn) -> list[str]:
    return [key for (key,) in conn.execute(
        f"SELECT DISTINCT p.key FROM params p WHERE p.run_id IN ({_SAMPLE}) ORDER BY 1")]


def _attach_columns(conn, page: RunsPage) -> None:
    """The chosen metric (latest value) and param columns of the page's rows."""
    by_id = {row["id"]: row for row in page.rows}
    if not by_id:
        return
    marks = ",".join("?" * len(by_id))
    if page.metric_columns:
        keys = ",".join("?" * len(page.metric_columns))
        for run_id, key, value in conn.execute(
            f"SELECT s.run_id, s.key, {SERIES_LATEST_SQL} FROM series s "
            f"WHERE s.run_id IN ({marks}) AND s.key IN ({keys})",
                [*by_id, *page.metric_columns]):
            by_id[run_id]["metrics"][key] = value
    if page.param_columns:
        keys = ",".join("?" * len(page.param_columns))
        for run_id, key, value in conn.execute(
            f"SELECT run_id, key, value FROM params WHERE run_id IN ({marks}) AND key IN ({keys})",
                [*by_id, *page.param_columns]):
            by_id[run_id]["params"][key] = stored_value(value)


__all__ = ["PAGE_SIZE", "STATUSES", "RunsQuery", "RunsPage", "runs_page", "experiments", "open_store"]
