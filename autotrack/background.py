"""autotrack's writer thread must never compete with the user's training for the cores: a model's
predict there (training metrics) runs on one native thread. The user's threads and their settings
are untouched: the limit below belongs to this thread.

Not done: lowering the writer's priority (nice). Threads it starts (the exporter, alerts) would
inherit it, and a niced thread cannot be given its priority back without privileges: the
exporter then lagged behind exits and slow servers (two MLflow end-to-end tests failed)."""

from __future__ import annotations

import sys


class NativeThreads:
    """One OpenMP thread for what runs on this thread (HistGradientBoosting, LightGBM and XGBoost
    predict size their team from this thread's OpenMP setting, which threadpoolctl sets per
    calling thread). Without it, their team of one thread per core spin-waits against the
    user's next fit: eight HistGradientBoosting fits in a row took 6x longer. BLAS pools are
    process-wide: they are left alone. Applied again only once new modules were imported (a
    library loaded since has its own setting)."""

    def __init__(self):
        self._modules_seen = -1

    def limit(self) -> None:
        count = len(sys.modules)
        if count == self._modules_seen:
            return
        self._modules_seen = count
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # scikit-learn depends on it; without it there is nothing to limit
            return
        threadpool_limits(limits=1, user_api="openmp")  # kept: this thread is autotrack's


NATIVE_THREADS = NativeThreads()
