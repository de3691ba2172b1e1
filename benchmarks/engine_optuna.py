"""40 trials of TPE, each fitting a LogisticRegression on 500 rows (a few ms), one thread"""

from __future__ import annotations

N_JOBS = 1


def trials(quick: bool) -> int:
    return 5 if quick else 40


def setup(quick: bool, workdir: str) -> dict:
    import optuna
    from sklearn.datasets import make_classification

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    X, y = make_classification(500, 10, random_state=0)
    return {"X": X[:400], "y": y[:400], "X_valid": X[400:], "y_valid": y[400:], "callbacks": [],
            "trials": trials(quick)}


def sweep(state: dict, warm_up: bool = False) -> None:
    import optuna
    from sklearn.linear_model import LogisticRegression

    def objective(trial):
        C = trial.suggest_float("C", 1e-3, 10.0, log=True)
        model = LogisticRegression(C=C, max_iter=200).fit(state["X"], state["y"])
        return model.score(state["X_valid"], state["y_valid"])

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=2 if warm_up else state["trials"], n_jobs=N_JOBS,
                   callbacks=state["callbacks"])


def mlflow_callback(state: dict, tracking_uri: str) -> None:
    from optuna.integration.mlflow import MLflowCallback

    state["callbacks"] = [MLflowCallback(tracking_uri=tracking_uri, metric_name="accuracy")]
