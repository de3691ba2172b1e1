"""LightGBM: lightgbm.train, binary objective, 200 rounds on 100,000 x 50, a 20,000-row validation set."""

from __future__ import annotations

from tabular import State, binary_problem

MLFLOW_FLAVOR = "lightgbm"
TARGET = 0.03  # the overhead target: 3 % of the training, with model logging

PARAMS = {"objective": "binary", "num_threads": 2, "verbose": -1}


def setup(quick: bool) -> State:
    import lightgbm  # noqa: F401  (imported here, untimed, as the harness expects)

    return binary_problem(quick)


def _train(X, y, X_valid, y_valid, rounds: int):
    import lightgbm as lgb

    train_set = lgb.Dataset(X, y)
    valid_set = lgb.Dataset(X_valid, y_valid, reference=train_set)
    return lgb.train(PARAMS, train_set, num_boost_round=rounds, valid_sets=[valid_set])


def train(state: State) -> None:
    _train(state.X, state.y, state.X_valid, state.y_valid, state.rounds)


def warm_up(state: State) -> None:
    _train(state.X[:500], state.y[:500], state.X_valid[:100], state.y_valid[:100], rounds=3)
