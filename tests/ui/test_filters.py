"""The runs page's filter and sort, through `/api/runs`, against what `autotrack show` says of each run."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlencode

import pytest
from ui_helpers import HOSTILE, full_runs

from autotrack.query import QueryError, where_sql

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def every_run(trained_store, listed_runs) -> list[dict]:
    return full_runs(trained_store, listed_runs)


def api_ids(dashboard, **query) -> list[str]:
    url = f"{dashboard.url}api/runs?{urlencode({'children': '1', **query})}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return [run["id"] for run in json.loads(response.read())["runs"]]


def matching(runs: list[dict], keep) -> set[str]:
    return {run["id"] for run in runs if keep(run)}


@pytest.mark.parametrize("text, keep", [
    ("name~forest", lambda run: "forest" in (run["name"] or "").lower()),
    ("name contains FOREST", lambda run: "forest" in (run["name"] or "").lower()),
    ("status!=finished", lambda run: run["status"] != "finished"),
    ("param.criterion=gini", lambda run: run["params"].get("criterion") == "gini"),
    ("param.max_depth>=4", lambda run: isinstance(run["params"].get("max_depth"), int)
     and run["params"]["max_depth"] >= 4),
    ("param.max_depth!=2", lambda run: run["params"].get("max_depth") != 2),
    ("metric.accuracy<=0.9", lambda run: run["metrics"].get("accuracy") is not None
     and run["metrics"]["accuracy"] <= 0.9),
    (f"tag.team='{HOSTILE}'", lambda run: run["tags"].get("team") == HOSTILE),
    ("tag.model.class~forest source=auto", lambda run: "forest" in run["tags"].get("model.class", "").lower()
     and run["source"] == "auto"),
    ("duration>0.01", lambda run: run["duration_s"] is not None and run["duration_s"] > 0.01),
    # The query language's own: or, brackets, in, like, not, is null (docs/query.md)
    ("metrics.accuracy > 0.9 and (params.max_depth in (2, 4) or name like '%forest%')",
     lambda run: (run["metrics"].get("accuracy") or 0) > 0.9
     and (run["params"].get("max_depth") in (2, 4) or "forest" in (run["name"] or "").lower())),
    ("not params.max_depth is null and params.max_depth not in (2)",
     lambda run: run["params"].get("max_depth") is not None and run["params"]["max_depth"] != 2),
])
def test_a_condition_lists_exactly_the_runs_that_meet_it(dashboard, every_run, text, keep):
    expected = matching(every_run, keep)
    assert expected, f"the training has no run for {text!r} to find"
    assert set(api_ids(dashboard, filter=text)) == expected


def test_sorting_by_a_param_puts_numbers_in_order_and_runs_without_it_last(dashboard, every_run):
    ids = api_ids(dashboard, sort="param:max_depth", order="asc")
    depths = {run["id"]: run["params"].get("max_depth") for run in every_run}
    numbers = [depths[run_id] for run_id in ids if isinstance(depths[run_id], int)]
    assert numbers == sorted(numbers) and len(numbers) >= 3
    first_missing = next(index for index, run_id in enumerate(ids) if depths[run_id] is None)
    assert all(depths[run_id] is None for run_id in ids[first_missing:])


@pytest.mark.parametrize("text, message", [
    ("accuracy>0.9", "unknown field 'accuracy'"),
    ("metric.accuracy~9", "metrics.accuracy values are numbers"),
    ("param.>3", "name the param"),
    ("duration>long", "'long' is not a number of seconds"),
    ('name~"unclosed', "a string opened with \" is not closed"),
    ("forest", "unknown field 'forest'"),
])
def test_a_condition_that_cannot_be_read_says_why(text, message):
    with pytest.raises(QueryError, match=message.replace("(", r"\(")):
        where_sql(text)
