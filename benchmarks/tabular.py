"""The data of the gradient-boosting scenarios: a seeded binary problem of 100,000 x 50 (+ validation)."""

from __future__ import annotations

FEATURES = 50


class State:
    """The arrays of one scenario; the framework's data objects are built anew in every training,
    as a user's are."""

    def __init__(self, X, y, X_valid, y_valid, rounds: int):
        self.X, self.y, self.X_valid, self.y_valid, self.rounds = X, y, X_valid, y_valid, rounds


def binary_problem(quick: bool) -> State:
    """Rows from a noisy linear rule, seed 0: 200 rounds on 100,000 rows (10 on 2,000 when quick)."""
    import numpy as np

    rows, valid_rows = (2_000, 400) if quick else (100_000, 20_000)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows + valid_rows, FEATURES))
    weights = rng.normal(size=FEATURES)
    y = (X @ weights + rng.normal(scale=2.0, size=len(X)) > 0).astype(np.int32)
    return State(X[:rows], y[:rows], X[rows:], y[rows:], rounds=10 if quick else 200)
