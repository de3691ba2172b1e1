"""Ray Tune and Ray Train end to end, on a local Ray cluster the scripts start (workers are
separate processes), under AUTOTRACK=1; the store read back.

Each script prints, as its last line, what Ray itself says (each trial's config, reported
results and status, the best result), which the stored runs must match.
"""

from __future__ import annotations

import pytest
from scripting import printed, script

import autotrack

pytest.importorskip("ray.tune")
pytest.importorskip("sklearn")

ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_DEDUP_LOGS": "0"}

TUNE = """
import json, os, time
from ray import tune
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression


def train_fn(config):
    X, y = make_classification(300, 5, random_state=0)
    if config["C"] > 50:
        raise ValueError("C too big")
    model = LogisticRegression(C=config["C"]).fit(X[:200], y[:200])
    time.sleep(1)  # long enough for the two trials allowed at once to overlap
    for step in range(3):
        tune.report({"accuracy": model.score(X[200:], y[200:]) - 0.01 * (2 - step), "extra": {"step": step}})


if __name__ == "__main__":
    tuner = tune.Tuner(train_fn, param_space={"C": tune.grid_search([0.1, 1.0, 10.0, 100.0])},
                       tune_config=tune.TuneConfig(metric="accuracy", mode="max", max_concurrent_trials=2),
                       run_config=tune.RunConfig(storage_path=os.path.abspath("ray_results"), verbose=0))
    grid = tuner.fit()
    trials = [{"config": result.config, "error": str(result.error) if result.error else None,
               "accuracy": list(result.metrics_dataframe["accuracy"])
               if result.metrics_dataframe is not None and "accuracy" in result.metrics_dataframe else []}
              for result in grid]
    best = grid.get_best_result()
    print(json.dumps({"trials": trials, "best": best.config, "best_accuracy": best.metrics["accuracy"]}))
"""


def stored(store) -> list[dict]:
    return [autotrack.get_run(run["id"], store=str(store)) for run in autotrack.runs(store=str(store), limit=0)]


def test_a_tuning_is_a_run_and_each_trial_a_child_with_what_its_worker_fitted(run_script, store):
    """The driver records the trials; each trial's worker process, through the Ray plugin's
    `autotrack_enclosing_run`, records the model it fits into the trial's run."""
    ray_says = printed(run_script(TUNE, env=ENV, timeout=400))
    runs = stored(store)
    tunings = [run for run in runs if run["parent_id"] is None]
    assert [run["name"] for run in tunings] == ["ray.tune train_fn"]
    tuning = tunings[0]
    trials = [run for run in runs if run["parent_id"] == tuning["id"]]
    assert len(trials) + 1 == len(runs) == 5  # nothing else: the workers' fits are the trials'
    by_c = {run["params"]["C"]: run for run in trials}
    assert sorted(by_c) == [0.1, 1.0, 10.0, 100.0]
    for trial in ray_says["trials"]:
        run = by_c[trial["config"]["C"]]
        if trial["error"]:
            assert run["status"] == "failed" and "ValueError: C too big" in run["error"]
            assert run["tags"]["ray.status"] == "ERROR"
            continue
        assert run["status"] == "finished" and run["tags"]["ray.status"] == "TERMINATED"
        assert [value for _, value in run["history"]["accuracy"]] == pytest.approx(trial["accuracy"])
        assert [step for step, _ in run["history"]["accuracy"]] == [1, 2, 3]  # training_iteration
        assert run["goals"]["accuracy"] == "max" and "extra/step" in run["history"]
        # the model the trial's worker process fitted is recorded into the trial's run
        assert run["tags"]["model.class"].endswith("LogisticRegression") and "fit_s" in run["timings"]
        assert run["params"]["max_iter"] == 100 and "model.pkl" in [a["name"] for a in run["artifacts"]]
        assert run["timings"]["iterations"] == 3
    # two trials at once (max_concurrent_trials=2): their runs overlap in time
    spans = sorted((run["start_time"], run["end_time"]) for run in trials)
    assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:]))
    assert tuning["params"]["metric"] == "accuracy" and tuning["params"]["mode"] == "max"
    assert tuning["params"]["best.C"] == ray_says["best"]["C"]
    assert tuning["metrics"]["best.accuracy"] == pytest.approx(ray_says["best_accuracy"])


def test_ray_train_workers_record_from_world_rank_zero_only(run_script, store):
    """Rank 1's fit: `autotrack_enclosing_run` says it is part of rank 0's work, not a run."""
    pytest.importorskip("ray.train.v2.api.data_parallel_trainer")
    printed(run_script(script("""
        import json
        import ray.train
        from ray.train import ScalingConfig
        from ray.train.v2.api.data_parallel_trainer import DataParallelTrainer
        from sklearn.datasets import make_classification
        from sklearn.linear_model import LogisticRegression


        def loop(config):
            rank = ray.train.get_context().get_world_rank()
            X, y = make_classification(300, 5, random_state=rank)
            model = LogisticRegression(C=1.0 + rank).fit(X, y)
            ray.train.report({"accuracy": model.score(X, y), "rank": rank})


        if __name__ == "__main__":
            trainer = DataParallelTrainer(loop, scaling_config=ScalingConfig(num_workers=2))
            print(json.dumps(trainer.fit().metrics))
    """), env=ENV, timeout=400))
    runs = stored(store)
    assert [run["params"]["C"] for run in runs] == [1.0]  # rank 0's model, and only it
