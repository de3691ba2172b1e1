"""The runs page's filter box: `status=failed tag.team=vision metric.accuracy>0.9 name~forest` parsed
into conditions, each a fragment of SQL with its arguments."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass

from autotrack.stores.reader import LATEST_POINT_ROWID_SQL

# Longest operators first, so that `>=` is not read as `>` followed by a value `=...`.
_CONDITION = re.compile(r"^(?P<field>[^=!<>~\s]+)\s*(?P<op>!=|>=|<=|=|>|<|~)(?P<value>.*)$", re.DOTALL)
_NUMERIC_OPS = (">", ">=", "<", "<=")
_RUN_FIELDS = {"status": "r.status", "name": "r.name", "id": "r.id", "source": "r.source",
               "experiment": "r.experiment", "parent": "r.parent_id"}
_KEYED_FIELDS = ("param", "metric", "tag")
_HELP = ("write conditions like status=failed param.max_depth=3 metric.accuracy>0.9 name~forest "
         "tag.team=vision duration>10 (operators: = != > >= < <= ~ contains)")


# The latest value of series `s`, by StoreReader's rule (as `autotrack runs` and `show` give it).
SERIES_LATEST_SQL = f"(SELECT m.value FROM metrics m WHERE m.rowid = {LATEST_POINT_ROWID_SQL})"
# A run's latest value of one metric (the key is the argument), through the series' unique index.
LATEST_METRIC_SQL = f"(SELECT {SERIES_LATEST_SQL} FROM series s WHERE s.run_id = r.id AND s.key = ?)"
# A run's param, as the JSON text the store keeps (the key is the argument): a primary-key lookup.
PARAM_SQL = "(SELECT p.value FROM params p WHERE p.run_id = r.id AND p.key = ?)"


class FilterError(ValueError):
    """A condition that cannot be read; the message says which and how to write it."""


@dataclass(frozen=True)
class Condition:
    field: str  # status, name, id, source, experiment, parent, duration, param, metric or tag
    key: str | None  # the param, metric or tag name
    op: str  # = != > >= < <= ~
    value: str

    def sql(self) -> tuple[str, list]:
        """A WHERE fragment over `runs r` and its arguments."""
        if self.field == "metric":
            return _compare(LATEST_METRIC_SQL, [self.key], self.op, _number(self))
        if self.field == "duration":
            return _compare("(r.end_time - r.start_time)", [], self.op, _number(self))
        if self.field == "param":
            return _param_condition(self)
        if self.field == "tag":
            column, args = "(SELECT t.value FROM tags t WHERE t.run_id = r.id AND t.key = ?)", [self.key]
        else:
            column, args = _RUN_FIELDS[self.field], []
        if self.op in _NUMERIC_OPS:
            return _compare(f"CAST({column} AS REAL)", args, self.op, _number(self))
        return _compare(column, args, self.op, self.value)


def parse_filter(text: str) -> list[Condition]:
    """Space-separated conditions; a value with spaces goes in quotes (`name~"random forest"`)."""
    try:
        tokens = shlex.split(text or "")
    except ValueError as exc:  # an unclosed quote
        raise FilterError(f"cannot read the filter ({exc}); {_HELP}") from None
    conditions = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if index + 2 < len(tokens) and tokens[index + 1].lower() == "contains":
            value = tokens[index + 2]
            conditions.append(_condition(token, "~", value, f"{token} contains {value}"))
            index += 3
            continue
        match = _CONDITION.match(token)
        if not match:
            raise FilterError(f"{token!r} is not a condition: {_HELP}")
        conditions.append(_condition(match["field"], match["op"], match["value"], token))
        index += 1
    return conditions


def _condition(field_text: str, op: str, value: str, token: str) -> Condition:
    head, dot, key = field_text.partition(".")
    head = head.lower()
    if head in _KEYED_FIELDS:
        if not dot or not key:
            raise FilterError(f"{token!r}: name the {head}, as in {head}.NAME{op}{value or 'VALUE'}")
        condition = Condition(head, key, op, value)
    elif dot or (head not in _RUN_FIELDS and head != "duration"):
        raise FilterError(f"{token!r}: unknown field {field_text!r}; fields are status, name, id, source, "
                          f"experiment, parent, duration, param.NAME, metric.NAME, tag.NAME")
    else:
        condition = Condition(head, None, op, value)
    if condition.field in ("metric", "duration"):
        if op == "~":
            raise FilterError(f"{token!r}: {condition.field} values are numbers; use = != > >= < <=")
        _number(condition)
    elif op in _NUMERIC_OPS:
        _number(condition)
    return condition


def _number(condition: Condition) -> float:
    try:
        return float(condition.value)
    except ValueError:
        raise FilterError(f"{_describe(condition)}: {condition.value!r} is not a number") from None


def _describe(condition: Condition) -> str:
    field = f"{condition.field}.{condition.key}" if condition.key else condition.field
    return f"{field}{condition.op}{condition.value}"


def _compare(column: str, args: list, op: str, value) -> tuple[str, list]:
    if op == "~":
        return f"instr(lower({column}), lower(?)) > 0", [*args, value]
    if op == "!=":
        # SQL's != is never true against NULL; a run without the field differs from any value.
        return f"({column} IS NULL OR {column} != ?)", [*args, *args, value]
    return f"{column} {op} ?", [*args, value]


def _param_condition(condition: Condition) -> tuple[str, list]:
    """Params are stored as JSON text: `3`, `"gini"`, `true`, `null`; match what a person types."""
    column = PARAM_SQL
    key = condition.key
    if condition.op in _NUMERIC_OPS:
        number_sql = (f"CASE WHEN json_valid({column}) AND json_type({column}) IN ('integer', 'real') "
                      f"THEN CAST({column} AS REAL) END")
        return f"{number_sql} {condition.op} ?", [key, key, key, _number(condition)]
    if condition.op == "~":
        return _compare(column, [key], "~", condition.value)
    texts = sorted(param_texts(condition.value))
    marks = ",".join("?" * len(texts))
    if condition.op == "=":
        return f"{column} IN ({marks})", [key, *texts]
    return f"({column} IS NULL OR {column} NOT IN ({marks}))", [key, key, *texts]


def param_texts(value: str) -> set[str]:
    """The stored JSON texts a typed value stands for: 3 -> {'3', '3.0', '"3"'},
    gini -> {'"gini"', 'gini'}."""
    texts = {value, json.dumps(value)}
    lowered = value.lower()
    if lowered in ("true", "false", "null", "none"):
        texts.add("null" if lowered in ("null", "none") else lowered)
    try:
        number = float(value)
    except ValueError:
        return texts
    if number == number and abs(number) != float("inf"):
        texts.add(json.dumps(number))
        if number.is_integer():
            texts.add(str(int(number)))
    return texts


__all__ = ["Condition", "FilterError", "parse_filter", "param_texts", "LATEST_METRIC_SQL", "SERIES_LATEST_SQL", "PARAM_SQL"]
