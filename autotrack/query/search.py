"""`autotrack.search_runs`: the runs a query matches as a pandas DataFrame, one row a run and one
column per field, param, metric (its latest value, and its best by its goal), tag and timing, as
`mlflow.search_runs` gives them.

Read in one pass per table rather than run by run: a search of every run of a large store reads
each table once, and the columns are filled as lists before the DataFrame is made of them.
"""

from __future__ import annotations

import json

from autotrack.query.sql import where_sql
from autotrack.stores.reader import LATEST_POINT_ROWID_SQL, StoreReader, stored_value
from autotrack.terminal import flat

RUN_COLUMNS = ("run_id", "experiment", "name", "status", "parent_id", "source", "start_time", "end_time",
               "duration_s", "error")
_DIRECTIONS = ("asc", "desc")


def search_runs(reader: StoreReader, where: str | None = None, experiment: str | list[str] | None = None,
                order_by: list[str] | str | None = None, max_results: int | None = None):
    """The matching runs, newest first unless `order_by` (["metrics.auc desc", "params.depth"])."""
    import pandas as pd

    clauses, args = [], []
    if where:
        sql, query_args = where_sql(where, reader.metric_goals_setting())
        clauses.append(sql)
        args += query_args
    experiments = [experiment] if isinstance(experiment, str) else list(experiment or [])
    if experiments:
        clauses.append(f"r.experiment IN ({','.join('?' * len(experiments))})")
        args += experiments
    condition = " AND ".join(clauses) or "1"
    rows = reader.fetch(
        "SELECT r.id, r.experiment, r.name, r.status, r.parent_id, r.source, r.start_time, r.end_time, "
        f"r.error, r.timings FROM runs r WHERE {condition} ORDER BY r.start_time DESC, r.rowid DESC", args)
    index = {row[0]: position for position, row in enumerate(rows)}
    count = len(rows)
    columns: dict[str, list] = {
        "run_id": [row[0] for row in rows], "experiment": [row[1] for row in rows],
        "name": [row[2] for row in rows], "status": [row[3] for row in rows],
        "parent_id": [row[4] for row in rows], "source": [row[5] for row in rows],
        "start_time": pd.to_datetime([row[6] for row in rows], unit="s", utc=True),
        "end_time": pd.to_datetime([row[7] for row in rows], unit="s", utc=True),
        "duration_s": [row[7] - row[6] if row[7] is not None and row[6] is not None else None for row in rows],
        "error": [row[8] for row in rows],
    }

    fill = _Filler(columns, index, count)
    for row in rows:
        for key, value in flat(json.loads(row[9] or "{}")).items():
            fill.put("timings." + key, row[0], value)
    chosen = f"WHERE run_id IN (SELECT r.id FROM runs r WHERE {condition})" if clauses else ""
    # SQLite reads the params' JSON (in C): numbers and strings arrive as Python values.
    fill.rows("params.", reader.fetch(f"SELECT run_id, key, {_PARAM_VALUE} FROM params {chosen}", args))
    fill.rows("tags.", reader.fetch(f"SELECT run_id, key, value FROM tags {chosen}", args))
    series_filter = f"WHERE s.run_id IN (SELECT r.id FROM runs r WHERE {condition})" if clauses else ""
    fill.rows("metrics.", reader.fetch(
        f"SELECT s.run_id, s.key, m.value FROM series s JOIN metrics m ON m.rowid = {LATEST_POINT_ROWID_SQL} "
        f"{series_filter}", args))
    goals: dict[tuple, str] = {}
    best = []
    for run_id, key, stored, source, most, least in reader.fetch(_best_sql(series_filter), args):
        goal = goals.get((key, stored, source))
        if goal is None:
            goal = goals[(key, stored, source)] = reader.goal_and_source(key, stored, source)[0]
        if goal in ("max", "min"):
            best.append((run_id, key, most if goal == "max" else least))
    fill.rows("best.", best)
    frame = pd.DataFrame(_ordered(columns))
    frame = _numeric_where_possible(frame)
    if order_by:
        frame = _sorted(frame, [order_by] if isinstance(order_by, str) else list(order_by))
    if max_results is not None:
        frame = frame.head(int(max_results))
    return frame.reset_index(drop=True)


# A param's value from its JSON text: numbers and strings decoded; true, false, null, lists and
# objects read by json (few) in _Filler.
_PARAM_VALUE = ("CASE WHEN json_valid(value) AND json_type(value) IN ('integer', 'real', 'text') "
                "THEN json_extract(value, '$') ELSE char(0) || value END")
_LATER = "\x00"  # marks a value json reads in Python: true, false, null, a list, text that is not JSON


def _best_sql(series_filter: str) -> str:
    """Each series' max and min: one pass over every point when every run is read, else per series."""
    if not series_filter:
        return ("SELECT s.run_id, s.key, s.goal, s.goal_source, b.most, b.least FROM series s JOIN "
                "(SELECT series, max(value) AS most, min(value) AS least FROM metrics GROUP BY series) b "
                "ON b.series = s.id")
    return ("SELECT s.run_id, s.key, s.goal, s.goal_source, (SELECT max(value) FROM metrics WHERE series = s.id), "
            f"(SELECT min(value) FROM metrics WHERE series = s.id) FROM series s {series_filter}")


class _Filler:
    """Columns as lists, one slot per run, filled from (run id, key, value) rows."""

    def __init__(self, columns: dict[str, list], index: dict[str, int], count: int):
        self.columns, self.index, self.count = columns, index, count

    def put(self, column: str, run_id: str, value) -> None:
        position = self.index.get(run_id)
        if position is not None:
            values = self.columns.get(column)
            if values is None:
                values = self.columns[column] = [None] * self.count
            values[position] = value

    def rows(self, prefix: str, rows) -> None:
        columns, index, count = self.columns, self.index, self.count
        last_key, values = None, None
        for run_id, key, value in rows:
            position = index.get(run_id)
            if position is None:
                continue
            if key != last_key:
                name = prefix + key
                values = columns.get(name)
                if values is None:
                    values = columns[name] = [None] * count
                last_key = key
            if prefix == "params." and isinstance(value, str) and value[:1] == _LATER:
                value = stored_value(value[1:])
            values[position] = value


def _ordered(columns: dict[str, list]) -> dict[str, list]:
    """Run fields first, then params, metrics, best values, tags and timings, each by name."""
    groups = ("params.", "metrics.", "best.", "tags.", "timings.")
    rest = sorted((name for name in columns if name not in RUN_COLUMNS),
                  key=lambda name: (next((i for i, group in enumerate(groups) if name.startswith(group)), 9), name))
    return {name: columns[name] for name in (*RUN_COLUMNS, *rest)}


def _numeric_where_possible(frame):
    """Param columns whose values are all numbers (or missing) become numeric columns."""
    import pandas as pd

    for name in frame.columns:
        if name.startswith(("params.", "timings.")) and frame[name].dtype == object:
            values = frame[name].dropna()
            if len(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                frame[name] = pd.to_numeric(frame[name])
    return frame


def _sorted(frame, order_by: list[str]):
    names, ascending = [], []
    for item in order_by:
        parts = str(item).split()
        direction = parts[-1].lower() if len(parts) > 1 and parts[-1].lower() in _DIRECTIONS else "asc"
        name = " ".join(parts[:-1]) if len(parts) > 1 and parts[-1].lower() in _DIRECTIONS else str(item).strip()
        name = _column_name(name)
        if name not in frame.columns:
            if name.split(".", 1)[0] in ("params", "metrics", "best", "tags", "timings"):
                continue  # no run has it: nothing to order by (as an empty search gives no columns)
            raise ValueError(f"order_by: no column {name!r}; columns are run fields, params.NAME, "
                             f"metrics.NAME, best.NAME, tags.NAME, timings.NAME")
        names.append(name)
        ascending.append(direction == "asc")
    if not names:
        return frame
    return frame.sort_values(names, ascending=ascending, na_position="last", kind="stable")


_ALIASES = {"metric.": "metrics.", "param.": "params.", "tag.": "tags.", "attributes.": "", "attribute.": ""}
_FIELD_ALIASES = {"started": "start_time", "ended": "end_time", "duration": "duration_s", "id": "run_id",
                  "run_name": "name"}


def _column_name(name: str) -> str:
    for alias, real in _ALIASES.items():
        if name.startswith(alias):
            name = real + name[len(alias):]
    return _FIELD_ALIASES.get(name, name)


__all__ = ["search_runs"]
