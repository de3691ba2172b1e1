"""The query language end to end: `autotrack runs --where` and `autotrack.search_runs` list exactly the
runs that `autotrack show` says meet each query; bad queries are one line naming the token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("sklearn")

# Runs as a tutorial makes them, plus the params MLflow users have: numbers stored as strings.
TRAIN = """
import autotrack
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

X, y = make_classification(n_samples=200, n_features=5, random_state=0)
for depth in (2, 3, 5, None):
    RandomForestClassifier(n_estimators=4, max_depth=depth, random_state=0).fit(X, y).score(X, y)
GridSearchCV(LogisticRegression(), {"C": [0.01, 1.0, 100.0]}, cv=2).fit(X, y)
for samples, auc, ticket in (("500", 0.81, "ML-7"), ("2000", 0.93, "ML-42"), ("12000", 0.97, None)):
    with autotrack.start_run(name=f"manual {samples}", tags={"ticket": ticket} if ticket else {}):
        autotrack.log_params({"samples": samples})
        for step, value in enumerate((auc - 0.2, auc + 0.01, auc)):
            autotrack.log_metric("valid.auc", value, step=step)
        autotrack.log_metric("val/loss", 1 - auc)
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("query")
    (folder / "train.py").write_text(textwrap.dedent(TRAIN))
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(folder / "store"), "AUTOTRACK_STRICT": "1"}
    subprocess.run([sys.executable, "train.py"], cwd=folder, env=env, check=True, capture_output=True, timeout=240)
    return folder / "store"


def autotrack_cli(store, *args, check=True):
    result = subprocess.run([sys.executable, "-m", "autotrack", *args, "--store", str(store)],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def every_run(store) -> list[dict]:
    ids = [run["id"] for run in json.loads(autotrack_cli(store, "runs", "--json", "-n", "0").stdout)]
    return [json.loads(autotrack_cli(store, "show", run_id, "--json").stdout) for run_id in ids]


def number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


QUERIES = [
    ("metrics.valid.auc > 0.9 and (params.samples in (2000, 500) or tags.ticket = 'ML-42')",
     lambda r: (r["metrics"].get("valid.auc") or 0) > 0.9
     and (number(r["params"].get("samples")) in (2000, 500) or r["tags"].get("ticket") == "ML-42")),
    # numbers stored as text compare as numbers: impossible in MLflow's search
    ("params.samples >= 2000", lambda r: (number(r["params"].get("samples")) or 0) >= 2000),
    ("params.max_depth is null and name like 'Random%'",
     lambda r: r["params"].get("max_depth") is None and r["name"].startswith("Random")),
    ("param.max_depth not in (2, 3)", lambda r: r["params"].get("max_depth") not in (2, 3)),
    ("metrics.val/loss < 0.1 or best.valid.auc >= 0.98",
     lambda r: (r["metrics"].get("val/loss") is not None and r["metrics"]["val/loss"] < 0.1)
     or max(value for _, value in r["history"].get("valid.auc", [[0, 0]])) >= 0.98),
    ("status != 'failed' and not tags.ticket is null", lambda r: r["status"] != "failed" and "ticket" in r["tags"]),
    ("params.C > 0.5 and parent is not null", lambda r: (number(r["params"].get("C")) or 0) > 0.5
     and r["parent_id"] is not None),
    ("tags.ticket = ML-42 or tags.ticket contains 'l-7'",
     lambda r: r["tags"].get("ticket") == "ML-42" or "ml-7" in r["tags"].get("ticket", "").lower()),
    ("started > '2020-01-01' and duration < 1h and experiment = train and source != auto",
     lambda r: r["duration_s"] is not None and r["duration_s"] < 3600 and r["source"] != "auto"),
]


@pytest.mark.parametrize("query, keep", QUERIES, ids=[query for query, _ in QUERIES])
def test_runs_where_and_search_runs_list_exactly_the_matching_runs(store, every_run, query, keep):
    import autotrack

    expected = {run["id"] for run in every_run if keep(run)}
    assert expected and len(expected) < len(every_run), f"{query!r} tells nothing apart in this store"
    listed = json.loads(autotrack_cli(store, "runs", "--where", query, "--json", "-n", "0").stdout)
    assert {run["id"] for run in listed} == expected
    frame = autotrack.search_runs(where=query, store=str(store))
    assert set(frame["run_id"]) == expected
    assert {run["id"] for run in autotrack.runs(where=query, store=str(store))} == expected


def test_started_compares_with_a_local_date_and_time(store, every_run):
    from datetime import datetime

    starts = sorted({datetime.fromisoformat(run["start_time"]) for run in every_run})
    # between two runs' starts (the times in --json are rounded to microseconds), in local time
    middle = (starts[len(starts) // 2 - 1] + (starts[len(starts) // 2] - starts[len(starts) // 2 - 1]) / 2).astimezone()
    expected = {run["id"] for run in every_run if datetime.fromisoformat(run["start_time"]) >= middle}
    text = middle.replace(tzinfo=None).isoformat(sep=" ")
    listed = json.loads(autotrack_cli(store, "runs", "-w", f"started >= '{text}'", "--json", "-n", "0").stdout)
    assert {run["id"] for run in listed} == expected and 0 < len(expected) < len(every_run)


def test_search_runs_has_a_column_per_param_metric_best_tag_and_timing(store, every_run):
    import autotrack

    frame = autotrack.search_runs(where="name like 'manual%'", order_by=["metrics.valid.auc desc"],
                                  store=str(store))
    assert list(frame["name"]) == ["manual 12000", "manual 2000", "manual 500"]
    assert list(frame["metrics.valid.auc"]) == [0.97, 0.93, 0.81]
    assert list(frame["best.valid.auc"]) == pytest.approx([0.98, 0.94, 0.82])  # best by its goal (max)
    assert list(frame["params.samples"]) == ["12000", "2000", "500"]
    assert frame["tags.ticket"].tolist()[1:] == ["ML-42", "ML-7"]
    forests = autotrack.search_runs(where="name like 'RandomForest%'", order_by="params.max_depth",
                                    max_results=2, store=str(store))
    assert forests["params.max_depth"].tolist() == [2, 3]  # numeric column, in order
    assert forests["timings.fit_s"].notna().all() and forests["metrics.X.score"].notna().all()
    assert str(frame["start_time"].dtype).startswith("datetime64")
    everything = autotrack.search_runs(store=str(store))
    assert len(everything) == len(every_run)


def test_runs_where_sorts_chosen_columns_and_folds_children_under_their_parent(store, every_run):
    lines = autotrack_cli(store, "runs", "--where", "name like 'Grid%' or params.C is not null",
                          "--sort=-params.C", "--columns", "params.C,metrics.mean_test_score", "-n", "1",
                          ).stdout.splitlines()
    header = next(line for line in lines if line.startswith("id"))
    assert "params.C" in header and "mean_test_score" in header
    search = next(run for run in every_run if run["name"].startswith("GridSearchCV"))
    children = sorted((run for run in every_run if run["parent_id"] == search["id"]),
                      key=lambda run: -run["params"]["C"])
    listed = [line[:8] for line in lines if line[:8] in {run["id"][:8] for run in every_run}]
    # --limit 1 counts the search, not its candidates: those fold under it, highest C first
    assert listed == [search["id"][:8], *(run["id"][:8] for run in children)]
    assert "1 run" in lines[0]


@pytest.mark.parametrize("query, message", [
    ("metrics.valid.auc > and status = failed", "expected a value after '>', not 'and' (column 21)"),
    ("metrics.valid.auc > 0.9 or (status = failed", "this bracket is not closed (column 28)"),
    ("colour = red", "unknown field 'colour'"),
    ("params.samples in 3", "expected a list after `in`"),
    ("metrics.valid.auc > 'high'", "'high' is not a number"),
    ("status = failed name", "needs an operator"),
    ("started > 'last week'", "is not a date"),
])
def test_a_query_that_cannot_be_read_is_one_line_naming_the_token(store, query, message):
    result = autotrack_cli(store, "runs", "--where", query, check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"autotrack: --where: {result.stderr.split('--where: ')[1].strip()}"]
    assert message in result.stderr


def test_a_run_whose_process_died_is_killed_to_queries_as_in_lists(tmp_path):
    (tmp_path / "doomed.py").write_text(textwrap.dedent("""
        import os, signal, autotrack
        with autotrack.start_run(name="doomed"):
            autotrack.log_metric("loss", 1.0)
            autotrack.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    """))
    store = tmp_path / "store"
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(store)}
    subprocess.run([sys.executable, "doomed.py"], cwd=tmp_path, env=env, capture_output=True, timeout=240)
    (run,) = json.loads(autotrack_cli(store, "runs", "--json").stdout)
    assert run["status"] == "killed"
    killed = json.loads(autotrack_cli(store, "runs", "--where", "status = killed", "--json").stdout)
    running = json.loads(autotrack_cli(store, "runs", "--where", "status = 'running'", "--json").stdout)
    assert [found["id"] for found in killed] == [run["id"]] and running == []
