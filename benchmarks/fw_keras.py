"""Keras 3 (torch backend): a 20-64-64-1 dense classifier, 20,000 x 20 rows, batch 64, 3 epochs."""

from __future__ import annotations

import os

MLFLOW_FLAVOR = "keras"
TARGET = 0.05  # the overhead target: 5 % of the fit

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported, as a user sets it

FEATURES = 20


class State:
    """The data and the sizes of one scenario; the model is built anew for every training."""

    def __init__(self, X, y, X_valid, y_valid, epochs: int):
        self.X, self.y, self.X_valid, self.y_valid, self.epochs = X, y, X_valid, y_valid, epochs


def setup(quick: bool) -> State:
    import keras
    import numpy as np

    rows = 500 if quick else 20_000
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, FEATURES)).astype("float32")
    weights = rng.normal(size=FEATURES)
    y = (X @ weights + rng.normal(scale=0.5, size=rows) > 0).astype("float32")
    valid = rows // 10  # explicit validation data: the last tenth
    keras.utils.set_random_seed(0)
    return State(X[:-valid], y[:-valid], X[-valid:], y[-valid:], epochs=1 if quick else 3)


def _model():
    import keras

    model = keras.Sequential([
        keras.Input((FEATURES,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def train(state: State) -> None:
    model = _model()
    model.fit(state.X, state.y, batch_size=64, epochs=state.epochs,
              validation_data=(state.X_valid, state.y_valid), verbose=0)


def warm_up(state: State) -> None:
    model = _model()
    model.fit(state.X[:256], state.y[:256], batch_size=64, epochs=1,
              validation_data=(state.X_valid[:64], state.y_valid[:64]), verbose=0)
