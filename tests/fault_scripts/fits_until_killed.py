"""Fit small models and log short runs until killed; print each run's id as it ends, with the time."""

import time

import numpy as np
from sklearn.linear_model import LogisticRegression

import autotrack

X = np.random.default_rng(0).normal(size=(300, 5))
y = (X[:, 0] > 0).astype(int)
i = 0
while True:
    model = LogisticRegression(C=1.0 + i).fit(X, y)
    print("ended", autotrack.active_run().id, time.time(), flush=True)
    with autotrack.start_run(name=f"loop-{i}") as run:
        for step in range(20):
            autotrack.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
    print("ended", run.id, time.time(), flush=True)
    i += 1
    time.sleep(0.02)
