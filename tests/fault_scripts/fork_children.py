"""Fits in fork-started children: a Pool's workers (ended by Pool.terminate()), runs opened with
start_run inside them, and raw os.fork() children ending with os._exit(). Prints what it expects."""

import json
import multiprocessing
import os
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression

import autotrack

X = np.random.default_rng(0).normal(size=(200, 4))
y = (X[:, 0] > 0).astype(int)


def fit(i):
    LogisticRegression(C=1.0 + i).fit(X, y)
    return os.getpid()


def manual_run(i):
    with autotrack.start_run(name=f"manual-{i}"):
        autotrack.log_metrics({"i": float(i)})
    return i


if __name__ == "__main__":
    n = int(sys.argv[1])
    with multiprocessing.get_context("fork").Pool(2) as pool:  # __exit__ calls terminate()
        pool.map(fit, range(n))
        pool.map(manual_run, range(n))
    for i in range(n):
        pid = os.fork()
        if pid == 0:
            LogisticRegression(C=1000.0 + i).fit(X, y)
            os._exit(0)
        os.waitpid(pid, 0)
    print(json.dumps({"fits": 2 * n, "manual": n}))
