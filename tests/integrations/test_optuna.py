"""Optuna end to end: real studies in subprocesses under AUTOTRACK=1, the store read back.

Each script prints, as its last line, what Optuna itself says of the study (its trials' numbers,
states, params, values and intermediate values, the best trial), which the stored runs must match.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from scripting import printed, script

import autotrack

pytest.importorskip("optuna")
pytest.importorskip("sklearn")

HEADER = """
import json
import optuna
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

optuna.logging.set_verbosity(optuna.logging.WARNING)
X, y = make_classification(300, 6, random_state=0)
X_train, y_train, X_valid, y_valid = X[:200], y[:200], X[200:], y[200:]


def report(study):
    trials = [{"number": t.number, "state": t.state.name, "params": t.params, "values": t.values,
               "intermediate": {str(k): v for k, v in t.intermediate_values.items()}}
              for t in study.get_trials()]
    best = None
    if len(study.directions) == 1 and any(t.state.name == "COMPLETE" for t in study.get_trials()):
        best = {"number": study.best_trial.number, "value": study.best_value, "params": study.best_params}
    print(json.dumps({"trials": trials, "best": best,
                      "pareto": sorted(t.number for t in study.best_trials) if len(study.directions) > 1 else None}))
"""

# A tutorial-style objective: a model fitted per trial, scored per "epoch", a pruned trial and
# one that fails with an error the study catches.
OBJECTIVE = """
def objective(trial):
    C = trial.suggest_float("C", 1e-3, 10.0, log=True)
    solver = trial.suggest_categorical("solver", ["lbfgs", "liblinear"])
    model = LogisticRegression(C=C, solver=solver).fit(X_train, y_train)
    accuracy = model.score(X_valid, y_valid)
    for step in range(3):
        trial.report(accuracy - 0.01 * (2 - step), step)
    if trial.number == 2:
        raise optuna.TrialPruned()
    if trial.number == 3:
        raise ValueError("no good")
    return accuracy
"""


def runs_of(store, parent_id=None) -> list[dict]:
    runs = autotrack.runs(store=str(store), limit=0)
    return [autotrack.get_run(run["id"], store=str(store)) for run in runs
            if parent_id is None or run["parent_id"] == parent_id]


def the_study_and_trials(store):
    runs = runs_of(store)
    studies = [run for run in runs if run["parent_id"] is None]
    assert len(studies) == 1, [(run["name"], run["parent_id"]) for run in runs]
    study = studies[0]
    trials = {int(run["tags"]["optuna.trial"]): run for run in runs if run["parent_id"] == study["id"]}
    assert len(trials) + 1 == len(runs), "every run is the study or one of its trials"
    return study, trials


def test_each_trial_is_a_child_run_with_its_params_value_state_and_the_model_it_fitted(run_script, store):
    result = run_script(script(HEADER, OBJECTIVE, """
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
        study.optimize(objective, n_trials=6, n_jobs=2, catch=(ValueError,))
        report(study)
    """))
    optuna_says = printed(result)
    study, trials = the_study_and_trials(store)
    assert sorted(trials) == [trial["number"] for trial in optuna_says["trials"]]
    for trial in optuna_says["trials"]:
        run = trials[trial["number"]]
        assert run["name"] == f"trial {trial['number']}"
        assert run["params"]["C"] == pytest.approx(trial["params"]["C"])
        assert run["params"]["solver"] == trial["params"]["solver"]
        # the model the trial fitted is the trial's: its class, its other params, its fit time
        assert run["tags"]["model.class"].endswith("LogisticRegression")
        assert run["params"]["max_iter"] == 100 and "fit_s" in run["timings"] and "trial_s" in run["timings"]
        assert [[str(step), value] for step, value in run["history"]["intermediate_value"]] == [
            [step, pytest.approx(value)] for step, value in trial["intermediate"].items()]
        state = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}[trial["state"]]
        assert run["tags"]["optuna.state"] == state
        assert run["status"] == ("failed" if state == "failed" else "finished")
        if trial["values"] is not None:
            assert run["metrics"]["value"] == pytest.approx(trial["values"][0])
            assert run["goals"]["value"] == "max" and run["goals"]["intermediate_value"] == "max"
    assert trials[3]["error"] == "ValueError: no good"
    assert study["name"] == "optuna study" and study["status"] == "finished"
    assert study["params"]["direction"] == "maximize" and study["params"]["sampler"] == "TPESampler"
    assert study["params"]["n_jobs"] == 2 and study["params"]["storage"] == "memory"
    best = optuna_says["best"]
    assert study["tags"]["optuna.best_trial"] == str(best["number"])
    assert study["metrics"]["best_value"] == pytest.approx(best["value"]) and study["goals"]["best_value"] == "max"
    assert study["params"]["best.C"] == pytest.approx(best["params"]["C"])
    assert study["tags"]["optuna.trials.complete"] == str(sum(t["state"] == "COMPLETE" for t in optuna_says["trials"]))
    # the study's optimization history: each trial's value at its number
    assert {step for step, _ in study["history"]["value"]} == {
        t["number"] for t in optuna_says["trials"] if t["values"] is not None}


def test_two_processes_optimizing_one_study_in_a_database_record_under_one_run(tmp_path, store):
    """Each process's run of the study has the id `autotrack_search_run_id` derives from the study."""
    (tmp_path / "create.py").write_text(script("""
        import optuna
        optuna.create_study(study_name="shared", storage="sqlite:///study.db", direction="minimize")
    """))
    (tmp_path / "worker.py").write_text(script("""
        import optuna
        from sklearn.datasets import make_regression
        from sklearn.linear_model import Ridge

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        X, y = make_regression(200, 5, noise=1.0, random_state=0)

        def objective(trial):
            alpha = trial.suggest_float("alpha", 1e-3, 100.0, log=True)
            model = Ridge(alpha=alpha).fit(X[:150], y[:150])
            return float(((model.predict(X[150:]) - y[150:]) ** 2).mean())

        study = optuna.load_study(study_name="shared", storage="sqlite:///study.db")
        study.optimize(objective, n_trials=5)
    """))
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(store)}
    subprocess.run([sys.executable, "create.py"], cwd=tmp_path, env=env, check=True, timeout=120)
    workers = [subprocess.Popen([sys.executable, "worker.py"], cwd=tmp_path, env=env, stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
    for worker in workers:
        assert worker.wait(timeout=240) == 0, worker.stderr.read()
    import optuna

    shared = optuna.load_study(study_name="shared", storage=f"sqlite:///{tmp_path / 'study.db'}")
    study, trials = the_study_and_trials(store)
    assert sorted(trials) == list(range(10)) == sorted(trial.number for trial in shared.trials)
    for trial in shared.trials:
        assert trials[trial.number]["metrics"]["value"] == pytest.approx(trial.value)
    # the study's best is over both processes' trials, and its storage's URL is nowhere
    assert study["metrics"]["best_value"] == pytest.approx(shared.best_value)
    assert study["goals"]["best_value"] == "min" and study["params"]["storage"] == "sqlite"
    assert study["status"] == "finished" and study["name"] == "optuna study shared"
    assert "study.db" not in str(study)


def test_a_multi_objective_study_keeps_each_objective_with_its_direction(run_script, store):
    result = run_script(script(HEADER, """
        def objective(trial):
            C = trial.suggest_float("C", 1e-3, 10.0, log=True)
            model = LogisticRegression(C=C).fit(X_train, y_train)
            return model.score(X_valid, y_valid), float(abs(model.coef_).sum())

        study = optuna.create_study(directions=["maximize", "minimize"],
                                    sampler=optuna.samplers.NSGAIISampler(seed=0))
        study.set_metric_names(["accuracy", "weight"])
        study.optimize(objective, n_trials=6)
        report(study)
    """))
    optuna_says = printed(result)
    study, trials = the_study_and_trials(store)
    for trial in optuna_says["trials"]:
        run = trials[trial["number"]]
        assert run["metrics"]["accuracy"] == pytest.approx(trial["values"][0])
        assert run["metrics"]["weight"] == pytest.approx(trial["values"][1])
        assert run["goals"]["accuracy"] == "max" and run["goals"]["weight"] == "min"
    assert study["params"]["directions"] == "maximize,minimize"
    assert study["tags"]["optuna.best_trials"] == ",".join(map(str, optuna_says["pareto"]))


def test_an_error_that_stops_the_study_reaches_the_user_and_ends_every_run(run_script, store):
    result = run_script(script(HEADER, """
        def objective(trial):
            x = trial.suggest_float("x", -1, 1)
            if trial.number == 2:
                raise RuntimeError("out of memory")
            return x ** 2

        study = optuna.create_study()
        callbacks = []
        try:
            study.optimize(objective, n_trials=5, callbacks=callbacks)
        except RuntimeError as error:
            print(json.dumps({"error": str(error), "callbacks": len(callbacks)}))
    """))
    assert printed(result) == {"error": "out of memory", "callbacks": 0}  # the user's list untouched
    study, trials = the_study_and_trials(store)
    assert sorted(trials) == [0, 1, 2]
    assert [trials[n]["status"] for n in (0, 1)] == ["finished", "finished"]
    assert trials[2]["status"] == "failed" and trials[2]["error"] == "RuntimeError: out of memory"
    assert trials[2]["tags"]["optuna.state"] == "failed"
    assert study["status"] == "failed" and "out of memory" in study["error"]
    assert study["tags"]["optuna.best_trial"] in ("0", "1")


def test_a_seeded_study_finds_the_same_trials_tracked_or_not(run_script, store):
    code = script(HEADER, OBJECTIVE, """
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=3))
        study.optimize(objective, n_trials=8, catch=(ValueError,))
        report(study)
    """)
    tracked = printed(run_script(code))
    untracked = printed(run_script(code, tracked=False))
    assert tracked == untracked
    study, trials = the_study_and_trials(store)
    assert len(trials) == 8


def test_machines_with_their_own_stores_merge_into_one_study_run(tmp_path):
    """Two processes, each with its own store as on two machines, optimize one study in a shared
    database; `autotrack merge` joins their stores into one study run with every trial."""
    (tmp_path / "worker.py").write_text(script("""
        import optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(study_name="shared", storage="sqlite:///study.db", load_if_exists=True)
        study.optimize(lambda trial: (trial.suggest_float("x", -5, 5) - 1) ** 2, n_trials=4)
    """))
    stores = [tmp_path / "machine-a", tmp_path / "machine-b"]
    for store in stores:  # one after the other: SQLite's create_study is not for racing processes
        env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(store)}
        subprocess.run([sys.executable, "worker.py"], cwd=tmp_path, env=env, check=True, timeout=120)
    merged = subprocess.run([sys.executable, "-m", "autotrack", "merge", str(stores[1])], cwd=tmp_path,
                            env={**os.environ, "AUTOTRACK_DIR": str(stores[0])}, capture_output=True, text=True,
                            timeout=120)
    assert merged.returncode == 0, merged.stderr
    study, trials = the_study_and_trials(stores[0])
    assert sorted(trials) == list(range(8))
    assert study["name"] == "optuna study shared"
