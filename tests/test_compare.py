"""`autotrack compare`: real scikit-learn runs recorded by a tracked script, compared as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from autotrack.compare import compare_runs, metric_goal

pytest.importorskip("sklearn")

# Three forests: a shallow and a deep one on the same data, a deep one on other data; then two
# explicit runs in another experiment whose name and params look like markup.
TRAIN = """
import json
import numpy as np
import autotrack
from sklearn.ensemble import RandomForestClassifier

rng = np.random.default_rng(0)
X_train = rng.normal(size=(300, 4))
y_train = (X_train[:, 0] + rng.normal(scale=0.8, size=300) > 0).astype(int)
X_other = X_train[:200] * 2.0
y_other = y_train[:200]
ids = {}
for label, depth, X, y in (("shallow", 1, X_train, y_train), ("deep", 8, X_train, y_train),
                           ("other", 8, X_other, y_other)):
    RandomForestClassifier(n_estimators=5, max_depth=depth, random_state=0, n_jobs=1).fit(X, y)
    ids[label] = autotrack.active_run().id
with autotrack.start_run(name="[bold]x[/bold]", experiment="weird",
                         params={"note": "<script>alert(1)</script>", "style": "[red]r[/red]"}) as run:
    autotrack.log_metrics({"quality": 0.5}, goals={"quality": "max"})
    ids["weird"] = run.id
with autotrack.start_run(name="plain", experiment="weird", params={"note": "plain"}) as run:
    autotrack.log_metrics({"quality": 0.75})
    ids["plain"] = run.id
print(json.dumps(ids))
"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """(store, ids, commit): the script above, committed to a git repository, run once with AUTOTRACK=1."""
    root = tmp_path_factory.mktemp("compare")
    repo, store = root / "repo", root / "store"
    repo.mkdir()
    (repo / "train.py").write_text(textwrap.dedent(TRAIN))
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "train.py"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "train"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(store), "AUTOTRACK_STRICT": "1"}
    result = subprocess.run([sys.executable, "train.py"], cwd=repo, env=env, capture_output=True, text=True,
                            timeout=240)
    assert result.returncode == 0, result.stderr
    ids = json.loads(result.stdout.strip().splitlines()[-1])
    return store, ids, commit


def autotrack(store, *args: str, check: bool = True):
    """The `autotrack` command on `store`; parsed JSON with --json, else the finished process."""
    env = {**os.environ, "AUTOTRACK_DIR": str(store), "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "autotrack", *args], env=env, capture_output=True,
                            text=True, timeout=120)
    if check:
        assert result.returncode == 0, f"autotrack {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        if "--json" in args:
            return json.loads(result.stdout)
    return result


def test_json_shows_what_differs_and_what_is_equal(recorded):
    store, ids, commit = recorded
    shallow, deep, other = ids["shallow"], ids["deep"], ids["other"]
    comparison = autotrack(store, "compare", shallow[:8], deep, other, "--json")

    assert [run["id"] for run in comparison["runs"]] == [shallow, deep, other]
    assert comparison["params"]["differ"]["max_depth"] == [1, 8, 8]
    assert comparison["params"]["same"]["n_estimators"] == 5
    assert comparison["params"]["same"]["random_state"] == 0
    assert "n_estimators" not in comparison["params"]["differ"]

    # the best index is the run whose stored value is best, by each metric's own goal
    stored = {run["id"]: run["metrics"] for run in autotrack(store, "runs", "--json", "-n", "0")}
    log_loss = comparison["metrics"]["training_log_loss"]
    assert log_loss["goal"] == "min"
    assert log_loss["values"] == [stored[run_id]["training_log_loss"] for run_id in (shallow, deep, other)]
    lowest = min(log_loss["values"])
    assert log_loss["best"] == [i for i, value in enumerate(log_loss["values"]) if value == lowest]
    accuracy = comparison["metrics"]["training_accuracy"]
    assert accuracy["goal"] == "max"
    assert 0 not in accuracy["best"]  # a one-level forest fits noisy training data worse than deep ones

    datasets = {dataset["role"]: dataset for dataset in comparison["datasets"]}
    assert datasets["train.X"]["same"] is False
    assert datasets["train.X"]["shapes"] == [[300, 4], [300, 4], [200, 4]]
    same_data = autotrack(store, "compare", shallow, deep, "--json")
    assert {d["role"]: d["same"] for d in same_data["datasets"]}["train.X"] is True

    assert comparison["code"]["same_commit"] is True
    assert comparison["code"]["commits"] == [commit] * 3
    assert comparison["code"]["dirty"] == [False] * 3
    assert comparison["timings"]["fit_s"][0] > 0


def test_text_marks_the_best_and_folds_equal_params(recorded):
    store, ids, _ = recorded
    shown = autotrack(store, "compare", ids["shallow"], ids["other"]).stdout
    assert ids["shallow"][:8] in shown and "RandomForestClassifier" in shown
    assert "max_depth" in shown
    assert "n_estimators" not in shown
    comparison = autotrack(store, "compare", ids["shallow"], ids["other"], "--json")
    assert f"{len(comparison['params']['same'])} equal params hidden (--all to show)" in shown
    assert "★" in next(line for line in shown.splitlines() if "training_log_loss" in line)
    assert "DIFFERENT data" in shown and "same commit" in shown

    everything = autotrack(store, "compare", ids["shallow"], ids["other"], "--all").stdout
    assert "n_estimators" in everything and "hidden" not in everything

    # an explicit run fed no data: its column is empty, and the data is not called different
    partial = autotrack(store, "compare", ids["shallow"], ids["plain"]).stdout
    assert "not in every run" in next(line for line in partial.splitlines() if "train.X" in line)


def test_best_orders_runs_by_the_metric_goal(recorded):
    store, ids, _ = recorded
    forests = [ids["shallow"], ids["deep"], ids["other"]]
    stored = {run["id"]: run["metrics"]["training_log_loss"]
              for run in autotrack(store, "runs", "--json", "-n", "0") if run["id"] in forests}
    lowest_first = sorted(forests, key=stored.get)

    chosen = autotrack(store, "compare", "--experiment", "train", "--best", "training_log_loss", "--json")
    assert [run["id"] for run in chosen["runs"]] == lowest_first  # log loss: lower is better
    highest_first = autotrack(store, "compare", "-e", "train", "--best", "training_log_loss", "--max", "--json")
    assert [run["id"] for run in highest_first["runs"]] == lowest_first[::-1]
    top_two = autotrack(store, "compare", "-e", "train", "--best", "training_log_loss", "--top", "2", "--json")
    assert [run["id"] for run in top_two["runs"]] == lowest_first[:2]

    # without --experiment every experiment counts; quality is higher-is-better as logged
    quality = autotrack(store, "compare", "--best", "quality", "--json")
    assert [run["id"] for run in quality["runs"]] == [ids["plain"], ids["weird"]]
    assert [run["id"] for run in autotrack(store, "compare", "--best", "quality", "--min", "--json")["runs"]] \
        == [ids["weird"], ids["plain"]]
    shown = autotrack(store, "compare", "--best", "quality").stdout
    assert "best runs by quality" in shown


def test_markup_in_names_and_params_prints_literally(recorded):
    store, ids, _ = recorded
    shown = autotrack(store, "compare", ids["weird"], ids["plain"], "--all").stdout
    assert "[bold]x[/bold]" in shown
    assert "<script>alert(1)</script>" in shown
    assert "[red]r[/red]" in shown


@pytest.mark.parametrize("args, message", [
    (["compare", "RUN1"], "at least 2 runs"),
    (["compare"], "at least 2 runs"),
    (["compare", "ffffffffff", "RUN1"], "no run 'ffffffffff'"),
    (["compare", "RUN1", "RUN1"], "at least 2 different runs"),
    (["compare", "--best", "no_such_metric"], "metrics logged: "),
    (["compare", "-e", "train", "--best", "quality"], "no run in experiment 'train' logged metric 'quality'"),
    (["compare", "-e", "nope", "--best", "quality"], "no experiment 'nope'"),
    (["compare", "-e", "weird", "--best", "quality", "--top", "1"], "--top must be at least 2"),
    (["compare", "RUN1", "RUN2", "--best", "quality"], "not both"),
    (["compare", "-e", "train", "RUN1", "RUN2"], "--experiment goes with --best"),
])
def test_bad_input_is_one_line(recorded, args, message):
    store, ids, _ = recorded
    args = [ids["shallow"] if arg == "RUN1" else ids["deep"] if arg == "RUN2" else arg for arg in args]
    result = autotrack(store, *args, check=False)
    assert result.returncode == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    if args[-1] == "no_such_metric":
        assert "training_log_loss" in result.stderr and "quality" in result.stderr


def test_ambiguous_prefix_and_missing_store(recorded, tmp_path):
    store, ids, _ = recorded
    result = autotrack(store, "compare", "", ids["deep"], check=False)
    assert result.returncode == 1 and "give a run id" in result.stderr
    # ids are random: a prefix two of them share exists only sometimes (about one store in two)
    first, second = min(zip(sorted(ids.values()), sorted(ids.values())[1:]),
                        key=lambda pair: os.path.commonprefix(pair) == "")
    shared = os.path.commonprefix([first, second])
    if shared:
        result = autotrack(store, "compare", shared, ids["deep"], check=False)
        assert result.returncode == 1 and "ambiguous" in result.stderr
    missing = tmp_path / "nothing"
    expected = autotrack(missing, "runs", check=False).stderr
    result = autotrack(missing, "compare", "a", "b", check=False)
    assert result.returncode == 1 and result.stderr == expected and "no autotrack store" in expected


def test_metric_goal_reads_the_metric_name_when_nothing_else_is_known():
    for key in ("loss", "val_loss", "valid_0.l2", "training.binary_logloss", "training_log_loss", "rmse",
                "test.mean_absolute_error", "validation_0.mlogloss", "holdout.error", "rank_test_score"):
        assert metric_goal(key) == "min", key
    for key in ("accuracy", "val_accuracy", "valid_0.auc", "training_f1", "r2", "cv.test_score",
                "neg_mean_squared_error", "holdout.precision", "my_score", "X_test.score"):
        assert metric_goal(key) == "max", key
    for key in ("fit_s", "std_test_score", "cv.test_score.std", "best_iteration", "time.epoch_s",
                "samples_per_s", "quality", "lr", "valid.auc-std", "n_features"):
        assert metric_goal(key) == "none", key
    # what the runs recorded wins over the name
    assert metric_goal("quality", [{"goals": {}}, {"goals": {"quality": "min"}}]) == "min"


def test_a_metric_with_no_goal_is_never_best(recorded):
    store, ids, _ = recorded
    runs = autotrack(store, "compare", ids["shallow"], ids["deep"], "--json")
    assert runs["metrics"]["training_log_loss"]["goal"] == "min" and runs["metrics"]["training_log_loss"]["best"]

    def with_goals(setting, *args):
        env = {**os.environ, "AUTOTRACK_DIR": str(store), "AUTOTRACK_METRIC_GOALS": setting, "COLUMNS": "200"}
        return subprocess.run([sys.executable, "-m", "autotrack", *args], env=env, capture_output=True,
                              text=True, timeout=120)

    # a setting read when the store is read: a metric said to be no quality measure has no best
    result = with_goals("training_*=none", "compare", "-e", "train", "--best", "training_log_loss")
    assert result.returncode == 1 and "not known as a quality measure" in result.stderr
    assert "--max or --min" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    table = with_goals("training_*=none", "compare", ids["shallow"], ids["deep"]).stdout
    assert "★" not in next(line for line in table.splitlines() if "training_log_loss" in line)
    assert with_goals("training_*=none", "compare", "-e", "train", "--best", "training_log_loss", "--min").returncode == 0
    env_goal = with_goals("quality=min", "compare", "--best", "quality", "--json")
    # the goal logged with the metric wins over the setting (logged > setting > name)
    assert [run["id"] for run in json.loads(env_goal.stdout)["runs"]] == [ids["plain"], ids["weird"]]


def test_a_missing_fingerprint_is_unknown_data_not_different_data():
    def run(*fingerprints):
        return {"id": "x", "datasets": [{"role": "train.X", "fingerprint": fp, "rows": 10, "columns": 2}
                                        for fp in fingerprints]}

    verdicts = [compare_runs([run(a), run(b)])["datasets"][0]["verdict"]
                for a, b in (("f1", "f1"), ("f1", "f2"), ("f1", None), (None, None))]
    assert verdicts == ["same", "different", "unknown", "unknown"]
