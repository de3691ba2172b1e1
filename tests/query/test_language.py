"""The query language's grammar (docs/query.md) read into trees: precedence, aliases, names that hold
dots and slashes, and errors that name their token's column."""

from __future__ import annotations

import pytest

from autotrack.query import QueryError, parse
from autotrack.query.language import Compare, Logical, Not


def shape(node):
    """A tree as nested tuples: ("and", ...), ("not", ...), (field, op, values)."""
    if isinstance(node, Logical):
        return (node.op, *map(shape, node.parts))
    if isinstance(node, Not):
        return ("not", shape(node.part))
    assert isinstance(node, Compare)
    op = ("not " if node.negated else "") + node.op
    return (str(node.field), op, tuple(value.value for value in node.values))


@pytest.mark.parametrize("text, tree", [
    ("metrics.auc > 0.9 and status = failed or name like 'rf%'",
     ("or", ("and", ("metrics.auc", ">", (0.9,)), ("status", "=", ("failed",))), ("name", "like", ("rf%",)))),
    ("metrics.auc > 0.9 and (status = failed or name like 'rf%')",
     ("and", ("metrics.auc", ">", (0.9,)), ("or", ("status", "=", ("failed",)), ("name", "like", ("rf%",))))),
    ("not status = failed or id = x", ("or", ("not", ("status", "=", ("failed",))), ("id", "=", ("x",)))),
    ("status=failed param.max_depth=3 metric.accuracy>0.9",  # side by side: and
     ("and", ("status", "=", ("failed",)), ("params.max_depth", "=", (3,)), ("metrics.accuracy", ">", (0.9,)))),
    ("metrics.valid_0.l2 <= 1e-3", ("metrics.valid_0.l2", "<=", (0.001,))),
    ("metrics.val/loss < .5", ("metrics.val/loss", "<", (0.5,))),
    ('metrics."top 5 accuracy" >= 0.7', ("metrics.top 5 accuracy", ">=", (0.7,))),
    ("tags.ticket = ML-42", ("tags.ticket", "=", ("ML-42",))),
    ("params.x in (1, 'two', true, null,)", ("params.x", "in", (1, "two", True, None))),
    ("params.x NOT IN (1) AND Name NOT LIKE 'a%'", ("and", ("params.x", "not in", (1,)), ("name", "not like", ("a%",)))),
    ("params.x is not null", ("params.x", "not is", ())),
    ("status <> failed and status == running", ("and", ("status", "!=", ("failed",)), ("status", "=", ("running",)))),
    ("attributes.run_name ~ forest", ("name", "contains", ("forest",))),
    ("start_time > '2026-11-01' and best.auc > 0.5", ("and", ("started", ">", ("2026-11-01",)), ("best.auc", ">", (0.5,)))),
    ("duration > -1", ("duration", ">", (-1,))),
    ("", None),
])
def test_a_query_reads_into_the_tree_its_grammar_says(text, tree):
    parsed = parse(text)
    assert (shape(parsed) if parsed is not None else None) == tree


@pytest.mark.parametrize("text, message, column", [
    ("metrics.auc > and x = 1", "expected a value after '>', not 'and'", 15),
    ("(status = failed", "this bracket is not closed", 1),
    ("status = 'failed", "a string opened with ' is not closed", 10),
    ("colour = red", "unknown field 'colour'", 1),
    ("metrics. > 1", "name the metric", 10),
    ("metrics.auc 0.9", "expected an operator", 13),
    ("status = failed )", "unexpected ')'", 17),
    ("params.x in 3", "expected a list after `in`", 13),
    ("params.x in (1 2)", "expected ',' or ')' in the list, not '2'", 16),
    ("status = failed or", "a condition is missing", 19),
    ("status = $x", "unexpected '$'", 10),
    ("params.x is 3", "expected `null` after `is`", 13),
])
def test_an_error_names_the_token_and_its_column(text, message, column):
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert message in str(caught.value) and caught.value.column == column
