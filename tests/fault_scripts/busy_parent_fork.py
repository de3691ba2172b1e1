"""A parent floods its writer with metric points in a thread while fork children fit: a child
must not wait for its parent's work. Prints the children's wall times."""

import json
import os
import sys
import threading
import time

import numpy as np
from sklearn.linear_model import LogisticRegression

import autotrack

X = np.random.default_rng(0).normal(size=(200, 4))
y = (X[:, 0] > 0).astype(int)
stop = threading.Event()


def flood():
    with autotrack.start_run(name="flood"):
        step = 0
        while not stop.is_set():
            autotrack.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
            step += 1


if __name__ == "__main__":
    n = int(sys.argv[1])
    thread = threading.Thread(target=flood)
    thread.start()
    time.sleep(0.5)
    times = []
    for i in range(n):
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            LogisticRegression(C=1.0 + i).fit(X, y)
            os._exit(0)
        os.waitpid(pid, 0)
        times.append(time.monotonic() - started)
    stop.set()
    thread.join()
    print(json.dumps({"children": n, "slowest_s": max(times)}))
