"""LightGBM: lightgbm.train, binary objective, 200 rounds on 100,000 x 50, a 20,000-row validation set."""

from __future__ import annotations

MLFLOW_FLAVOR = "lightgbm"
TARGET = 0.03  # the overhead target: 3 % of the training, with model logging

FEATURES = 50
PARAMS = {"objective": "binary", "num_threads": 2, "verbose": -1}


class State:
    """The arrays of one scenario; the Datasets are built anew in every training, as a user's are."""

    def __init__(self, X, y, X_valid, y_valid, rounds: int):
        self.X, self.y, self.X_valid, self.y_valid, self.rounds = X, y, X_valid, y_valid, rounds


def setup(quick: bool) -> State:
    import lightgbm  # noqa: F401  (imported here, untimed, as the harness expects)
    import numpy as np

    rows, valid_rows = (2_000, 400) if quick else (100_000, 20_000)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows + valid_rows, FEATURES))
    weights = rng.normal(size=FEATURES)
    y = (X @ weights + rng.normal(scale=2.0, size=len(X)) > 0).astype(np.int32)
    return State(X[:rows], y[:rows], X[rows:], y[rows:], rounds=10 if quick else 200)


def _train(X, y, X_valid, y_valid, rounds: int):
    import lightgbm as lgb

    train_set = lgb.Dataset(X, y)
    valid_set = lgb.Dataset(X_valid, y_valid, reference=train_set)
    return lgb.train(PARAMS, train_set, num_boost_round=rounds, valid_sets=[valid_set])


def train(state: State) -> None:
    _train(state.X, state.y, state.X_valid, state.y_valid, state.rounds)


def warm_up(state: State) -> None:
    _train(state.X[:500], state.y[:500], state.X_valid[:100], state.y_valid[:100], rounds=3)
