"""The `autotrack` command as people and programs use it: runs, show, and its error messages."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import autotrack

pytest.importorskip("sklearn")

SHOW_KEYS = {"id", "experiment", "name", "status", "parent_id", "start_time", "end_time", "duration_s",
             "params", "metrics", "history", "tags", "timings", "importances", "datasets", "context",
             "artifacts", "exports", "goals", "goal_sources"}
RUNS_KEYS = {"id", "experiment", "name", "status", "parent_id", "source", "start_time", "end_time",
             "duration_s", "error", "metrics", "goals", "goal_sources", "exports", "dropped"}
MARKUP = "[bold red]x[/]"

TRAIN = f"""
import autotrack
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

X, y = make_classification(n_samples=150, n_features=4, random_state=0)
X_test, y_test = X[:50], y[:50]
model = LogisticRegression().fit(X, y)
model.score(X_test, y_test)
model.predict(X_test)
HistGradientBoostingClassifier(max_iter=3).fit(X, y)
GridSearchCV(LogisticRegression(), {{"C": [0.1, 1.0]}}, cv=2).fit(X, y)
with autotrack.start_run(name="{MARKUP}", tags={{"[red]tag[/]": "[blue]v[/]"}}):
    autotrack.log_params({{"[bold]p[/]": "[green]q[/]"}})
    autotrack.log_metrics({{"loss": 0.5}})
"""


@pytest.fixture(scope="module")
def filled_store(tmp_path_factory):
    """One store for the read-only tests, written once by a script run in a git repository."""
    folder = tmp_path_factory.mktemp("project")
    store = folder / "store"
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    (folder / "train.py").write_text(textwrap.dedent(TRAIN))
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q",
                    "--allow-empty", "-m", "start"], cwd=folder, check=True)
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(store), "AUTOTRACK_STRICT": "1"}
    subprocess.run([sys.executable, "train.py"], cwd=folder, env=env, check=True, capture_output=True,
                   timeout=240)
    other = {**env, "AUTOTRACK_EXPERIMENT": "other"}
    code = "from sklearn.linear_model import Ridge; Ridge().fit([[0.0], [1.0]], [0.0, 1.0])"
    subprocess.run([sys.executable, "-c", code], cwd=folder, env=other, check=True, timeout=240)
    return store


def _by_name(runs: list[dict], name: str) -> dict:
    return next(run for run in runs if run["name"] == name and run["parent_id"] is None)


# -- runs ----------------------------------------------------------------------------------------
def test_runs_json_lists_every_run_newest_first(cli, filled_store):
    runs = cli("runs", "--json", "--store", str(filled_store))
    assert all(set(run) == RUNS_KEYS for run in runs)
    assert runs[0]["experiment"] == "other"  # the Ridge run came last
    starts = [run["start_time"] for run in runs]
    assert starts == sorted(starts, reverse=True)
    assert {run["name"] for run in runs} >= {"LogisticRegression", "HistGradientBoostingClassifier",
                                            "GridSearchCV(LogisticRegression)", "Ridge", MARKUP}


def test_runs_filtered_by_experiment(cli, filled_store):
    runs = cli("runs", "--json", "--experiment", "other", "--store", str(filled_store))
    assert [run["name"] for run in runs] == ["Ridge"]
    result = cli("runs", "--experiment", "nope", "--store", str(filled_store))
    assert result.stdout.strip() == "no runs yet in experiment 'nope'"


def test_runs_table_fits_80_columns(cli, filled_store):
    result = cli("runs", "--store", str(filled_store), env={"COLUMNS": "80"})
    lines = result.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    runs = cli("runs", "--json", "--store", str(filled_store))
    for run in runs:  # every id and status on one line, in full
        assert any(run["id"][:8] in line and run["status"] in line for line in lines)
    assert "HistGradientBoostin…" in result.stdout  # long names end in an ellipsis


def test_runs_table_shows_children_under_their_parent(cli, filled_store):
    runs = cli("runs", "--json", "--experiment", "train", "--store", str(filled_store))
    search = _by_name(runs, "GridSearchCV(LogisticRegression)")
    lines = cli("runs", "--experiment", "train", "--store", str(filled_store)).stdout.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith(search["id"][:8]))
    children = [run["id"][:8] for run in runs if run["parent_id"] == search["id"]]
    assert len(children) == 2
    assert sorted(line[:8] for line in lines[row + 1:row + 3]) == sorted(children)
    assert all("└ Logistic" in line for line in lines[row + 1:row + 3])


def test_runs_table_takes_metric_columns_as_room_allows(cli, filled_store):
    narrow = cli("runs", "-e", "train", "--store", str(filled_store), env={"COLUMNS": "80"}).stdout
    wide = cli("runs", "-e", "train", "--store", str(filled_store), env={"COLUMNS": "160"}).stdout
    header = next(line for line in narrow.splitlines() if line.startswith("id"))
    wide_header = next(line for line in wide.splitlines() if line.startswith("id"))
    assert len(wide_header.split()) > len(header.split()) >= 6
    assert len(wide_header.split()) <= 6 + 3  # at most three metric columns


# -- show ----------------------------------------------------------------------------------------
def test_show_json_has_the_documented_keys(cli, filled_store):
    runs = cli("runs", "--json", "--store", str(filled_store))
    run = cli("show", _by_name(runs, "LogisticRegression")["id"], "--json", "--store", str(filled_store))
    assert SHOW_KEYS <= set(run)
    assert run["status"] == "finished" and run["duration_s"] > 0
    assert run["params"]["C"] == 1.0
    assert "X_test.score" in run["metrics"] and run["history"]["X_test.score"][0][0] == 0
    assert run["timings"]["fit_s"] > 0 and run["timings"]["predict"]["count"] == 1
    assert set(run["importances"]) == {"coef"}
    assert {d["role"] for d in run["datasets"]} >= {"train.X", "train.y", "score.X"}
    for dataset in run["datasets"]:
        assert {"role", "name", "rows", "columns", "bytes", "fingerprint", "schema"} <= set(dataset)
    assert {"git", "python", "packages", "argv", "host", "user"} <= set(run["context"])
    assert run["context"]["git"]["commit"]
    assert "sklearn" in str(run["context"]["packages"]) or "scikit-learn" in str(run["context"]["packages"])
    assert any(a["name"].startswith("model") and os.path.isfile(a["path"]) for a in run["artifacts"])


def test_show_for_people_has_goals_tags_and_readable_timings(cli, filled_store):
    runs = cli("runs", "--json", "--store", str(filled_store))
    shown = cli("show", _by_name(runs, "LogisticRegression")["id"], "--store", str(filled_store)).stdout
    assert "tags" in shown and "model.class" in shown
    assert "↑ max" in next(line for line in shown.splitlines() if "training_accuracy" in line)
    fit_line = next(line for line in shown.splitlines() if "fit_s" in line)
    assert fit_line.rstrip(" │").endswith("s") and "e-" not in fit_line  # 0.012s, not 0.01234567


def test_runs_says_how_many_it_shows_out_of_how_many(cli, filled_store):
    every = cli("runs", "--json", "-n", "0", "--store", str(filled_store))
    shown = cli("runs", "-n", "2", "--store", str(filled_store)).stdout
    # Counted as listed: top-level runs; a parent's children fold under it (--all lists them).
    top_level = [run for run in every if run["parent_id"] is None and run["source"] != "preprocessing"]
    assert len(top_level) < len(every)
    assert f"2 of {len(top_level)} runs" in shown and "--limit 0 shows all" in shown
    assert "times local" in shown


def test_runs_sorted_by_a_metric_best_first_by_its_goal_with_chosen_columns(cli, filled_store):
    every = cli("runs", "--json", "-n", "0", "-e", "train", "--store", str(filled_store))
    # Sorting orders the top-level runs; a search's candidates stay folded under it.
    scored = sorted((run for run in every if "training_log_loss" in run["metrics"] and run["parent_id"] is None),
                    key=lambda run: run["metrics"]["training_log_loss"])
    top_ids = {run["id"][:8] for run in every if run["parent_id"] is None}
    lines = cli("runs", "-e", "train", "--sort", "training_log_loss", "--columns", "training_log_loss,training_accuracy",
                "--store", str(filled_store), env={"COLUMNS": "200"}).stdout.splitlines()
    header = next(line for line in lines if line.startswith("id"))
    assert "training_log_loss" in header and "training_accuracy" in header
    listed = [line[:8] for line in lines if line[:8] in top_ids]
    assert len(scored) >= 2 and listed[:len(scored)] == [run["id"][:8] for run in scored]  # lowest log loss first
    reverse = cli("runs", "-e", "train", "--sort=-training_log_loss", "--store", str(filled_store)).stdout
    assert [line[:8] for line in reverse.splitlines() if line[:8] in top_ids][:len(scored)] == \
        [run["id"][:8] for run in reversed(scored)]
    bad = cli("runs", "--sort", "nope", "--store", str(filled_store), check=False)
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1


def test_version(cli):
    result = cli("--version")
    assert result.stdout.strip() == f"autotrack {autotrack.__version__}"


def test_sync_without_a_backend_says_that_none_is_set(cli, filled_store):
    result = cli("sync", "--store", str(filled_store))
    assert "no backend is set" in result.stdout and "AUTOTRACK_BACKENDS" in result.stdout


def test_report_to_a_format_it_cannot_write_is_one_line(cli, filled_store, tmp_path):
    run = cli("runs", "--json", "--store", str(filled_store))[0]
    result = cli("report", run["id"], "-o", str(tmp_path / "x.pdf"), "--store", str(filled_store), check=False)
    assert result.returncode == 1 and "not .pdf" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "x.pdf").exists()


def test_a_misspelt_plugin_in_disable_is_one_warning(run_script, store):
    result = run_script("""
        import numpy as np
        from sklearn.linear_model import LinearRegression
        LinearRegression().fit(np.ones((4, 1)), [1, 2, 3, 4])
    """, env={"AUTOTRACK_DISABLE": "sklern"})
    warning = [line for line in result.stderr.splitlines() if "sklern" in line]
    assert len(warning) == 1 and "did you mean 'sklearn'?" in warning[0]
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_backend_whose_library_is_missing_is_said_so_once_and_never_waited_for(run_script, cli, store, tmp_path):
    # sys.modules["mlflow"] = None: what Python does for a module that cannot be imported
    (tmp_path / "sitecustomize.py").write_text('import sys\nsys.modules["mlflow"] = None\n')
    env = {"PYTHONPATH": str(tmp_path), "AUTOTRACK_BACKENDS": "local,mlflow", "AUTOTRACK_EXIT_TIMEOUT": "30",
           "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}
    import time

    started = time.monotonic()
    result = run_script("""
        import numpy as np
        from sklearn.linear_model import LinearRegression
        LinearRegression().fit(np.ones((4, 1)), [1, 2, 3, 4])
    """, env=env)
    assert time.monotonic() - started < 20  # no wait on an export that can never happen
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs mlflow: it is not installed" in lines[0] and "Traceback" not in result.stderr
    plugins = cli("plugins", "--json", env=env)
    mlflow = next(plugin for plugin in plugins if plugin["name"] == "mlflow")
    assert mlflow["state"] != "active" and "not installed" in mlflow["detail"]
    assert cli("runs", "--json")[0]["exports"] == {}


def test_show_accepts_a_unique_prefix(cli, filled_store):
    run = cli("runs", "--json", "--store", str(filled_store))[0]
    assert cli("show", run["id"][:6], "--json", "--store", str(filled_store))["id"] == run["id"]


def test_show_for_people(cli, filled_store):
    runs = cli("runs", "--json", "--store", str(filled_store))
    result = cli("show", _by_name(runs, "LogisticRegression")["id"], "--store", str(filled_store))
    for section in ("summary", "params", "metrics", "timings", "importances", "datasets", "context"):
        assert section in result.stdout


def test_user_data_with_rich_markup_prints_literally(cli, filled_store):
    runs = cli("runs", "--json", "--store", str(filled_store))
    table = cli("runs", "--store", str(filled_store)).stdout
    assert MARKUP in table
    shown = cli("show", _by_name(runs, MARKUP)["id"], "--store", str(filled_store)).stdout
    for text in (MARKUP, "[bold]p[/]", "[green]q[/]"):
        assert text in shown


# -- errors: one line, exit 1, no traceback ------------------------------------------------------
def _one_line_error(result) -> str:
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("autotrack: ")
    return lines[0]


@pytest.mark.parametrize("command", [["runs"], ["runs", "--json"], ["show", "abc"]])
def test_missing_store(cli, store, command):
    message = _one_line_error(cli(*command, check=False))
    assert f"no autotrack store at {store}" in message


@pytest.mark.parametrize("content", [b"this is not a database" * 100, b""])
def test_corrupted_store(cli, store, content):
    store.mkdir()
    (store / "runs.db").write_bytes(content)
    message = _one_line_error(cli("runs", check=False))
    assert "store" in message and ("corrupted" in message or "autotrack store" in message)
    _one_line_error(cli("show", "abc", "--json", check=False))


def test_unknown_run_id(cli, filled_store):
    message = _one_line_error(cli("show", "zzzz", "--store", str(filled_store), check=False))
    assert "no run 'zzzz'" in message


def test_ambiguous_run_id(run_script, cli):
    # 17 runs: two of them must share a first hex digit.
    run_script("""
    import autotrack
    for number in range(17):
        with autotrack.start_run(name=f"r{number}"):
            pass
    """, tracked=False)
    ids = [run["id"] for run in cli("runs", "--json")]
    digit = next(d for d in "0123456789abcdef" if sum(i.startswith(d) for i in ids) > 1)
    message = _one_line_error(cli("show", digit, check=False))
    assert "ambiguous" in message


def test_no_command_prints_help(cli):
    result = cli(check=False)
    assert result.returncode == 2 and "runs" in result.stdout and "plugins" in result.stdout


# -- bugs found in files this suite does not own -------------------------------------------------
def test_show_json_context_has_git_even_outside_a_repository(run_script, cli):
    run_script("from sklearn.linear_model import LogisticRegression\n"
               "LogisticRegression().fit([[0.0], [1.0]], [0, 1])\n")
    (run,) = cli("runs", "--json")
    assert "git" in cli("show", run["id"], "--json")["context"]
