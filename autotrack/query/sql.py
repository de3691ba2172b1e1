"""A query's tree (language.py) as a WHERE clause over the store's `runs r`, with its arguments.

Every value reaches SQLite as an argument, never in the SQL text. Params are kept as JSON text
(`3`, `"gini"`, `true`): a number typed compares with numbers however they were stored (`3`, `3.0`,
`"3"` from MLflow), through `autotrack_number`, a function `install` adds to the connection.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from datetime import datetime

from autotrack.query.language import Compare, Field, Logical, Not, QueryError, Value, parse
from autotrack.stores.reader import LATEST_POINT_ROWID_SQL

# The latest value of series `s`, by StoreReader's rule (as `autotrack runs` and `show` give it).
SERIES_LATEST_SQL = f"(SELECT m.value FROM metrics m WHERE m.rowid = {LATEST_POINT_ROWID_SQL})"
# A run's latest value of one metric (the key is the argument), through the series' unique index.
LATEST_METRIC_SQL = f"(SELECT {SERIES_LATEST_SQL} FROM series s WHERE s.run_id = r.id AND s.key = ?)"
# A run's best value of one metric by its goal: stored with the series, else the argument (the
# `metric_goals` setting or the name's); a metric that is no quality measure has no best.
BEST_METRIC_SQL = (
    "(SELECT CASE coalesce(s.goal, ?) WHEN 'max' THEN (SELECT max(m.value) FROM metrics m WHERE m.series = s.id) "
    "WHEN 'min' THEN (SELECT min(m.value) FROM metrics m WHERE m.series = s.id) END "
    "FROM series s WHERE s.run_id = r.id AND s.key = ?)")
# A run's param, as the JSON text the store keeps (the key is the argument): a primary-key lookup.
PARAM_SQL = "(SELECT p.value FROM params p WHERE p.run_id = r.id AND p.key = ?)"
PARAM_NUMBER_SQL = "(SELECT autotrack_number(p.value) FROM params p WHERE p.run_id = r.id AND p.key = ?)"
# A param as a person reads it: a string without its JSON quotes.
PARAM_TEXT_SQL = ("(SELECT CASE WHEN json_valid(p.value) AND json_type(p.value) = 'text' "
                  "THEN json_extract(p.value, '$') ELSE p.value END "
                  "FROM params p WHERE p.run_id = r.id AND p.key = ?)")
TAG_SQL = "(SELECT t.value FROM tags t WHERE t.run_id = r.id AND t.key = ?)"
# A run's status as lists show it: `running` whose process is gone reads `killed` (run_summary).
STATUS_SQL = "autotrack_status(r.status, r.pid, r.host, r.proc_token)"
_RUN_COLUMNS = {"id": "r.id", "name": "r.name", "status": STATUS_SQL, "experiment": "r.experiment",
                "source": "r.source", "parent": "r.parent_id", "host": "r.host", "error": "r.error",
                "started": "r.start_time", "ended": "r.end_time", "duration": "(r.end_time - r.start_time)"}
_NUMERIC_RUN_FIELDS = ("started", "ended", "duration")
_ORDERING = ("<", "<=", ">", ">=")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def where_sql(text: str, metric_goals: tuple = ()) -> tuple[str, list]:
    """The WHERE clause (over `runs r`) of a query and its arguments; `1` for an empty query."""
    tree = parse(text)
    if tree is None:
        return "1", []
    return _Compiler(metric_goals).node(tree)


def install(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Add the functions compiled queries call to a connection (read-only ones too)."""
    conn.create_function("autotrack_number", 1, as_number, deterministic=True)
    conn.create_function("autotrack_status", 4, shown_status)  # not deterministic: processes end
    return conn


def shown_status(status, pid, host, token) -> str:
    from autotrack.run import KILLED, RUNNING
    from autotrack.stores.reader import process_gone

    return KILLED if status == RUNNING and process_gone(pid, host, token) else status


def as_number(stored) -> float | None:
    """A stored param or tag as a number when it is one (`3`, `0.1`, `"2000"`), else None."""
    if stored is None or isinstance(stored, (int, float)):
        return stored
    try:
        value = json.loads(stored)
    except ValueError:
        value = stored
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return float(value)


class _Compiler:
    def __init__(self, metric_goals: tuple):
        self.metric_goals = metric_goals

    def node(self, node) -> tuple[str, list]:
        if isinstance(node, Logical):
            # `and`: the cheap conditions first (a run's own fields, then params and tags, then
            # metrics), so that SQLite looks up a metric only for the runs the rest let through.
            ordered = sorted(node.parts, key=_cost) if node.op == "and" else node.parts
            parts = [self.node(part) for part in ordered]
            joiner = f" {node.op.upper()} "
            return "(" + joiner.join(sql for sql, _ in parts) + ")", [arg for _, args in parts for arg in args]
        if isinstance(node, Not):
            sql, args = self.node(node.part)
            return f"NOT coalesce({sql}, 0)", args  # a run without the field is `not` it: two-valued
        return self.compare(node)

    def compare(self, node: Compare) -> tuple[str, list]:
        sql, args = self.positive(node)
        if node.negated:
            return f"NOT coalesce({sql}, 0)", args
        return sql, args

    def positive(self, node: Compare) -> tuple[str, list]:
        field, op = node.field, node.op
        if op == "is":
            column, args = self.column(field, "raw")
            if field.kind == "param":  # a param set to None is null as a missing one is
                return f"(coalesce({column}, 'null') = 'null')", args
            return f"({column} IS NULL)", args
        if op == "!=":
            sql, args = self.positive(Compare(field, "=", node.values))
            return f"NOT coalesce({sql}, 0)", args  # a run without the field differs from any value
        if op == "in":
            parts = [self.positive(Compare(field, "=", (value,))) for value in node.values]
            return "(" + " OR ".join(sql for sql, _ in parts) + ")", [arg for _, args in parts for arg in args]
        value = node.values[0]
        if field.kind in ("metric", "best") or field.key in _NUMERIC_RUN_FIELDS and field.kind == "run":
            return self.numeric(field, op, value)
        if op in ("like", "contains"):
            column, args = self.column(field, "text")
            text = _text(value)
            if op == "contains":
                return f"(instr(lower({column}), lower(?)) > 0)", [*args, text]
            return f"({column} LIKE ? ESCAPE '\\')", [*args, text]
        number = _as_number(value)
        if op in _ORDERING:
            if number is not None:
                column, args = self.column(field, "number")
                return f"({column} {op} ?)", [*args, number]
            column, args = self.column(field, "text")
            return f"({column} {op} ?)", [*args, _text(value)]
        # =: a param's stored JSON text is one of the texts the typed value stands for (an index
        # lookup, no function call per run)
        if field.kind == "param":
            column, args = self.column(field, "raw")
            texts = sorted(_param_texts(value))
            return f"({column} IN ({','.join('?' * len(texts))}))", [*args, *texts]
        column, args = self.column(field, "text")
        if value.value is None:
            return f"({column} IS NULL)", args
        return f"({column} = ?)", [*args, _text(value)]

    def numeric(self, field: Field, op: str, value: Value) -> tuple[str, list]:
        if op in ("like", "contains"):
            raise QueryError(f"{field} values are numbers; use = != > >= < <= with it", value.column)
        if field.kind == "run" and field.key in ("started", "ended"):
            number = _timestamp(value)
        elif field.kind == "run":
            number = _duration(value)
        else:
            number = _as_number(value)
            if number is None:
                raise QueryError(f"{field} {op} {value.value!r}: {value.value!r} is not a number "
                                 f"({field.kind} values are numbers)", value.column)
        column, args = self.column(field, "number")
        return f"({column} {'=' if op == '=' else op} ?)", [*args, number]

    def column(self, field: Field, form: str) -> tuple[str, list]:
        """The SQL of a field's value and its arguments; `form`: raw (as stored), text or number."""
        if field.kind == "run":
            column = _RUN_COLUMNS[field.key]
            if form == "number" and field.key not in _NUMERIC_RUN_FIELDS:
                return f"autotrack_number({column})", []
            return column, []
        if field.kind == "metric":
            return LATEST_METRIC_SQL, [field.key]
        if field.kind == "best":
            return BEST_METRIC_SQL, [self.goal(field.key), field.key]
        if field.kind == "param":
            return {"raw": PARAM_SQL, "text": PARAM_TEXT_SQL, "number": PARAM_NUMBER_SQL}[form], [field.key]
        if form == "number":
            return f"autotrack_number({TAG_SQL})", [field.key]
        return TAG_SQL, [field.key]

    def goal(self, key: str) -> str:
        from autotrack.metric_goals import goal_from_setting, guess_goal

        return goal_from_setting(key, self.metric_goals) or guess_goal(key)


_COSTS = {"run": 0, "param": 1, "tag": 1, "metric": 2, "best": 3}


def _cost(node) -> int:
    """How much a condition costs SQLite per run, roughly: the most expensive field it reads."""
    if isinstance(node, Compare):
        return _COSTS[node.field.kind]
    if isinstance(node, Not):
        return _cost(node.part)
    return max(_cost(part) for part in node.parts)


def _as_number(value: Value) -> float | None:
    if isinstance(value.value, bool) or value.value is None:
        return None
    if isinstance(value.value, (int, float)):
        return float(value.value)
    try:
        return float(value.value)
    except ValueError:
        return None


def _text(value: Value) -> str:
    if value.value is None:
        return "null"
    if isinstance(value.value, bool):
        return "true" if value.value else "false"
    return str(value.value)


def _param_texts(value: Value) -> set[str]:
    """The stored JSON texts a typed value stands for: 3 -> {'3', '3.0', '"3"'}, gini -> {'"gini"', 'gini'}."""
    if value.value is None:
        return {"null"}
    if isinstance(value.value, bool):
        return {_text(value)}
    text = str(value.value)
    texts = {text, json.dumps(text)}
    number = _as_number(value)
    if number is not None and math.isfinite(number):
        texts.add(json.dumps(number))
        if number.is_integer():
            texts.add(str(int(number)))
    return texts


def _timestamp(value: Value) -> float:
    """`'2026-11-01'`, `'2026-11-01 14:30'` (local time unless it says its zone) or epoch seconds."""
    if isinstance(value.value, (int, float)) and not isinstance(value.value, bool):
        return float(value.value)
    try:
        return datetime.fromisoformat(str(value.value)).timestamp()
    except ValueError:
        raise QueryError(f"{value.value!r} is not a date: write it as '2026-11-01' or "
                         f"'2026-11-01 14:30'", value.column) from None


def _duration(value: Value) -> float:
    """Seconds, or a number with a unit: 90, '90s', '5m', '2h', '1d', '250ms'."""
    number = _as_number(value)
    if number is not None:
        return number
    match = re.fullmatch(r"\s*([0-9.]+)\s*([a-z]+)\s*", str(value.value).lower())
    if match and match[2] in _DURATION_UNITS:
        try:
            return float(match[1]) * _DURATION_UNITS[match[2]]
        except ValueError:
            pass
    raise QueryError(f"duration {value.value!r}: {value.value!r} is not a number of seconds (or 5m, 2h, 1d)",
                     value.column)


__all__ = ["where_sql", "install", "as_number", "shown_status", "STATUS_SQL", "LATEST_METRIC_SQL", "SERIES_LATEST_SQL", "PARAM_SQL",
           "PARAM_NUMBER_SQL", "BEST_METRIC_SQL"]
