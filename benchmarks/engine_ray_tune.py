"""12 trials on a local Ray cluster (2 at once), each fitting a LogisticRegression and reporting 5 iterations"""

from __future__ import annotations

import os

# The trials' worker processes inherit AUTOTRACK=1 when Ray starts them: tracked sweeps run in
# processes of their own (benchmarks/engines.py).
PAIRED = False


def trials(quick: bool) -> int:
    return 4 if quick else 12


def setup(quick: bool, workdir: str) -> dict:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)  # started once, not timed
    return {"trials": trials(quick), "callbacks": [], "storage": os.path.join(workdir, "ray_results")}


def _trainable(config):
    from ray import tune
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(500, 10, random_state=0)
    model = LogisticRegression(C=config["C"], max_iter=200).fit(X[:400], y[:400])
    for _ in range(5):
        tune.report({"accuracy": model.score(X[400:], y[400:])})


def sweep(state: dict, warm_up: bool = False) -> None:
    from ray import tune

    count = 2 if warm_up else state["trials"]
    tuner = tune.Tuner(_trainable, param_space={"C": tune.grid_search([0.1 * (i + 1) for i in range(count)])},
                       tune_config=tune.TuneConfig(metric="accuracy", mode="max", max_concurrent_trials=2),
                       run_config=tune.RunConfig(storage_path=state["storage"], verbose=0,
                                                 callbacks=list(state["callbacks"])))
    tuner.fit()


def mlflow_callback(state: dict, tracking_uri: str) -> None:
    from ray.air.integrations.mlflow import MLflowLoggerCallback

    state["callbacks"] = [MLflowLoggerCallback(tracking_uri=tracking_uri, experiment_name="bench")]
