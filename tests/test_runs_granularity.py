"""Runs at the granularity a user thinks in (issue 11): a transformer fitted on its own is folded
into the model fitted on its output, or is a preprocessing record the run lists leave out; a
search's candidates fold under it. `runs_for = "all"` keeps every fit a listed run of its own."""

from __future__ import annotations

import re

import pytest
from scripting import all_runs, script

pytest.importorskip("sklearn")

PREPROCESSED = script("""
    from sklearn.datasets import make_classification
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(n_samples=300, n_features=8, random_state=0)
    scaler = StandardScaler(with_std=False)
    X_scaled = scaler.fit_transform(X)          # fit_transform's output ...
    pca = PCA(n_components=3).fit(X_scaled)
    X_reduced = pca.transform(X_scaled)         # ... and transform's
    LogisticRegression(C=0.5).fit(X_reduced, y)
    StandardScaler().fit(X)                     # feeds nothing
""")


def test_preprocessing_fitted_on_its_own_is_recorded_on_the_model_it_feeds(run_script, cli):
    # scikit-learn's autotrack_model_role answers "preprocessing" for a transformer fitted alone.
    run_script(PREPROCESSED)
    runs = {run["name"].split()[0]: run for run in all_runs(cli)}  # --json: every run
    sources = sorted((run["name"].split()[0], run["source"]) for run in all_runs(cli))  # no sibling suffix
    assert sources == [("LogisticRegression", "auto"), ("PCA", "preprocessing"),
                       ("StandardScaler", "preprocessing"), ("StandardScaler", "preprocessing")]
    model = cli("show", runs["LogisticRegression"]["id"], "--json")
    params = model["params"]
    assert params["C"] == 0.5
    assert (params["standardscaler"], params["standardscaler__with_std"]) == ("StandardScaler", False)
    assert (params["pca"], params["pca__n_components"]) == ("PCA", 3)
    scaler_id, pca_id = model["tags"]["autotrack.preprocessing"].split(",")  # earliest first
    assert cli("show", scaler_id, "--json")["params"]["with_std"] is False
    assert cli("show", pca_id, "--json")["name"] == "PCA"

    listed = cli("runs").stdout
    assert "LogisticRegression" in listed and "StandardScaler" not in listed and "PCA" not in listed
    assert "3 folded, --all shows them" in " ".join(listed.split())
    everything = cli("runs", "--all").stdout
    assert everything.count("StandardScaler") == 2 and "PCA" in everything


def test_runs_for_all_makes_every_fit_a_listed_run(run_script, cli):
    run_script(PREPROCESSED, env={"AUTOTRACK_RUNS_FOR": "all"})
    runs = all_runs(cli)
    assert {run["source"] for run in runs} == {"auto"}
    model = cli("show", next(run["id"] for run in runs if run["name"] == "LogisticRegression"), "--json")
    assert "standardscaler__with_std" not in model["params"] and "autotrack.preprocessing" not in model["tags"]
    assert cli("runs").stdout.count("StandardScaler") == 2


def test_a_mistyped_runs_for_says_so_in_one_line_and_keeps_the_default(run_script, cli):
    result = run_script(PREPROCESSED, env={"AUTOTRACK_RUNS_FOR": "model"})
    lines = [line for line in result.stderr.splitlines() if "AUTOTRACK_RUNS_FOR" in line]
    assert len(lines) == 1 and "not one of models, all" in lines[0], result.stderr
    assert {run["source"] for run in all_runs(cli)} == {"auto", "preprocessing"}


def test_a_search_shows_as_one_run_with_its_candidates_folded(run_script, cli):
    run_script("""
        from sklearn.datasets import make_classification
        from sklearn.model_selection import GridSearchCV
        from sklearn.tree import DecisionTreeClassifier
        X, y = make_classification(n_samples=200, random_state=0)
        GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3, 4, 5, 6, 7, 8]}, cv=3).fit(X, y)
    """)
    assert len(all_runs(cli)) == 9
    lines = cli("runs").stdout.splitlines()
    rows = [line for line in lines if re.match(r"[0-9a-f]{8}  ", line)]
    assert len(rows) == 4 and "GridSearchCV" in rows[0]  # the search and its latest three candidates
    assert all("└ DecisionTree" in row for row in rows[1:])
    assert any("└ … 5 earlier" in line for line in lines)
    assert "1 run " in lines[0]
    assert len([line for line in cli("runs", "--all").stdout.splitlines() if re.match(r"[0-9a-f]{8}  ", line)]) == 9
