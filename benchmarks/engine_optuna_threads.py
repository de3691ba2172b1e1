"""the same 40 trials with n_jobs=2 (Optuna's threads)"""

from __future__ import annotations

import engine_optuna
from engine_optuna import mlflow_callback, setup, trials  # noqa: F401  (the scenario's API)


def sweep(state: dict, warm_up: bool = False) -> None:
    engine_optuna.N_JOBS = 2
    engine_optuna.sweep(state, warm_up)
