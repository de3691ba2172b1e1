"""The tracking modes a benchmark scenario runs under, and the timing helpers they share."""

from __future__ import annotations

import os
from time import perf_counter, process_time, thread_time

MODES = ("baseline", "autotrack", "autotrack_nomodels", "mlflow", "mlflow_nomodels")


class Tracker:
    """What a scenario needs from the mode it runs under: set-up, flush, and sanity figures."""

    kind = "baseline"

    def flush(self) -> None:
        """Wait until everything tracked so far is persisted (no-op where logging is synchronous)."""

    def last_run_id(self) -> str | None:
        return None

    def inner_fit_seconds(self, run_ids: list[str]) -> list[float]:
        """The fit time each run recorded itself (the wrapped call alone), where the tracker has it."""
        return []

    def sanity(self) -> dict:
        return {}

    def can_pause(self) -> bool:
        return False

    def pause(self) -> None:
        """Restore the untracked code in this same process (for paired A/B timings)."""

    def resume(self) -> None:
        """Patch again after pause()."""


class AutotrackTracker(Tracker):
    kind = "autotrack"

    def __init__(self, workdir: str, log_models: bool):
        import autotrack

        self.autotrack = autotrack
        self.store = os.path.join(workdir, "autotrack-store")
        autotrack.enable(dir=self.store, log_models=log_models)

    def flush(self) -> None:
        if not self.autotrack.flush(timeout=600):
            raise RuntimeError("autotrack.flush() timed out")

    def can_pause(self) -> bool:
        return True

    def pause(self) -> None:
        self.autotrack.disable()  # restores every original method, after a flush

    def resume(self) -> None:
        self.autotrack.enable()

    def last_run_id(self):
        run = self.autotrack.active_run()
        return run.id if run is not None else None

    def inner_fit_seconds(self, run_ids):
        return [float(self.autotrack.get_run(run_id, store=self.store)["timings"]["fit_s"])
                for run_id in run_ids]

    def sanity(self) -> dict:
        from autotrack.safety import background_errors

        self.flush()
        import sqlite3

        conn = sqlite3.connect(os.path.join(self.store, "runs.db"))
        try:
            counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                      for table in ("runs", "metrics", "artifacts", "datasets")}
            counts["model_artifacts"] = conn.execute(
                "SELECT count(*) FROM artifacts WHERE name = 'model.pkl'").fetchone()[0]
        finally:
            conn.close()
        return {"store": counts, "background_errors": list(background_errors)}


class MlflowTracker(Tracker):
    kind = "mlflow"

    def __init__(self, workdir: str, log_models: bool):
        import mlflow

        self.mlflow = mlflow
        mlflow.set_tracking_uri("sqlite:///" + os.path.join(workdir, "mlflow.db"))
        mlflow.set_experiment("bench")  # creates the database (schema migrations) before timing
        mlflow.sklearn.autolog(log_models=log_models, silent=True)

    def last_run_id(self):
        run = self.mlflow.last_active_run()
        return run.info.run_id if run is not None else None

    def sanity(self) -> dict:
        runs = self.mlflow.search_runs(search_all_experiments=True, output_format="list")
        return {"store": {"runs": len(runs)}}


def make_tracker(mode: str, workdir: str) -> Tracker:
    if mode == "baseline":
        return Tracker()
    if mode.startswith("autotrack"):
        return AutotrackTracker(workdir, log_models=not mode.endswith("_nomodels"))
    if mode.startswith("mlflow"):
        return MlflowTracker(workdir, log_models=not mode.endswith("_nomodels"))
    raise SystemExit(f"unknown mode {mode!r}; one of {', '.join(MODES)}")


def is_mlflow(tracker: Tracker) -> bool:
    return tracker.kind == "mlflow"


def timed_fit(tracker: Tracker, fit) -> dict:
    """Time one fit call, then the flush after it; CPU other threads spent over both (background)."""
    cpu0, main0 = process_time(), thread_time()
    start = perf_counter()
    fit()
    fitted = perf_counter()
    tracker.flush()
    flushed = perf_counter()
    other_cpu = (process_time() - cpu0) - (thread_time() - main0)
    return {"fit": fitted - start, "flush": flushed - fitted, "fit_flush": flushed - start,
            "other_cpu": other_cpu}


def paired(tracker: Tracker, measure) -> dict | None:
    """The same measurement with tracking switched off in this process, right after the tracked one.

    Comparing with a separate baseline process mixes in the machine's drift; a pair taken
    back to back in one process does not. None where the mode cannot switch tracking off.
    """
    if not tracker.can_pause():
        return None
    tracker.pause()
    try:
        return measure()
    finally:
        tracker.resume()


def collect(samples: list[dict]) -> dict[str, list[float]]:
    return {key: [sample[key] for sample in samples] for key in samples[0]} if samples else {}
