"""XGBoost: xgboost.train, binary:logistic with hist, 200 rounds on 100,000 x 50, a 20,000-row eval set."""

from __future__ import annotations

from tabular import State, binary_problem

MLFLOW_FLAVOR = "xgboost"
TARGET = 0.03  # the overhead target: 3 % of the training, with model logging

PARAMS = {"objective": "binary:logistic", "tree_method": "hist", "nthread": 2}


def setup(quick: bool) -> State:
    import xgboost  # noqa: F401  (imported here, untimed, as the harness expects)

    return binary_problem(quick)


def _train(X, y, X_valid, y_valid, rounds: int):
    import xgboost as xgb

    dtrain = xgb.DMatrix(X, label=y)
    dvalid = xgb.DMatrix(X_valid, label=y_valid)
    return xgb.train(PARAMS, dtrain, num_boost_round=rounds, evals=[(dtrain, "train"), (dvalid, "eval")],
                     verbose_eval=False)


def train(state: State) -> None:
    _train(state.X, state.y, state.X_valid, state.y_valid, state.rounds)


def warm_up(state: State) -> None:
    _train(state.X[:500], state.y[:500], state.X_valid[:100], state.y_valid[:100], rounds=3)
