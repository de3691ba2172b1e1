"""One benchmark scenario in one tracking mode, in a fresh interpreter; prints one JSON line of raw samples.

    python benchmarks/scenario.py <scenario> <mode> [--quick]

Modes: baseline (no tracking), autotrack, autotrack_nomodels (log_models=False), mlflow
(`mlflow.sklearn.autolog()`), mlflow_nomodels (`autolog(log_models=False)`). benchmarks/run.py
spawns one process per (scenario, mode, repetition) so imports and patches never leak between
modes, points both trackers at a fresh temporary directory, and turns the samples into the table.

Every scenario warms up first (imports, store creation, the first run's one-off context capture)
and times only what follows; the cold first fit is reported separately where it matters.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from time import perf_counter

from trackers import MODES, Tracker, collect, is_mlflow, make_tracker, paired, timed_fit


# -- scenarios -------------------------------------------------------------------------------------
def scenario_rf_fit(tracker: Tracker, quick: bool) -> dict:
    """RandomForestClassifier(n_estimators=100) on 100,000 x 20 (n_jobs=-1: both cores).

    Each fit takes half a minute or more here, so an autotrack process fits twice, tracked and
    untracked back to back (in alternating order between the two autotrack modes): the pair is
    the comparison, and the untracked fits are the baseline for MLflow's figures too.
    """
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    rows = 5_000 if quick else 100_000
    X, y = make_classification(n_samples=rows, n_features=20, random_state=0)
    warm_X, warm_y = X[:2_000], y[:2_000]
    warm = timed_fit(tracker, lambda: RandomForestClassifier(n_estimators=5, random_state=0).fit(warm_X, warm_y))

    def fit_tracked():
        model = RandomForestClassifier(n_estimators=100, n_jobs=-1, random_state=0)
        sample = timed_fit(tracker, lambda: model.fit(X, y))
        run_id = tracker.last_run_id()
        inner = tracker.inner_fit_seconds([run_id]) if run_id else []
        if inner:
            sample["caller_overhead"] = sample["fit"] - inner[0]
        return sample

    def fit_untracked():
        model = RandomForestClassifier(n_estimators=100, n_jobs=-1, random_state=0)
        return paired(tracker, lambda: timed_fit(tracker, lambda: model.fit(X, y)))

    if MODE == "autotrack":
        untracked, sample = fit_untracked(), fit_tracked()
    else:
        sample, untracked = fit_tracked(), fit_untracked()
    result = {k: [v] for k, v in sample.items()}
    result["cold_fit_flush"] = [warm["fit_flush"]]
    if untracked is not None:
        result["paired_untracked_fit"] = [untracked["fit"]]
        result["paired_fit_ratio"] = [sample["fit"] / untracked["fit"]]
        result["paired_fit_flush_ratio"] = [sample["fit_flush"] / untracked["fit"]]
    return result


def scenario_lr_fit(tracker: Tracker, quick: bool) -> dict:
    """LogisticRegression on 1,000 x 20: many fits, each alone (fit, then flush), then back to back."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=1_000, n_features=20, random_state=0)
    fits = {"mlflow": 4, "mlflow_nomodels": 8}.get(MODE, 50)
    warmups = 1 if is_mlflow(tracker) else 4
    if quick:
        fits = min(fits, 5)
    cold = timed_fit(tracker, lambda: LogisticRegression().fit(X, y))
    for _ in range(warmups):
        timed_fit(tracker, lambda: LogisticRegression().fit(X, y))

    alone, run_ids, untracked = [], [], []
    for _ in range(fits):
        model = LogisticRegression()
        alone.append(timed_fit(tracker, lambda: model.fit(X, y)))
        run_ids.append(tracker.last_run_id())
        pair = paired(tracker, lambda: timed_fit(tracker, lambda: LogisticRegression().fit(X, y)))
        if pair is not None:
            untracked.append(pair)

    # Back to back: the writer's work overlaps the next fits, and is paid for by the final flush.
    start = perf_counter()
    for _ in range(fits):
        LogisticRegression().fit(X, y)
    loop_done = perf_counter()
    tracker.flush()
    done = perf_counter()

    result = collect(alone)
    result["cold_fit_flush"] = [cold["fit_flush"]]
    result["burst_per_fit"] = [(done - start) / fits]
    result["burst_fit_only_per_fit"] = [(loop_done - start) / fits]
    if untracked:
        result["paired_fit_extra"] = [a["fit"] - u["fit"] for a, u in zip(alone, untracked)]
        result["paired_fit_flush_extra"] = [a["fit_flush"] - u["fit"] for a, u in zip(alone, untracked)]
        result["paired_untracked_fit"] = [u["fit"] for u in untracked]
    inner = tracker.inner_fit_seconds([r for r in run_ids if r])
    if inner:
        result["caller_overhead"] = [s["fit"] - i for s, i in zip(alone, inner)]
    return result


def scenario_predict(tracker: Tracker, quick: bool) -> dict:
    """Single-row predict in a loop on a LogisticRegression fitted (and so tracked) in this process.

    Timed in blocks of 200 calls; under autotrack each block is followed by the same block with
    tracking switched off in this process. A block takes ~30 ms, so most blocks run undisturbed by
    the machine's other work: run.py reports the best block of each kind (as timeit does) next to
    the median of the paired differences. A DummyClassifier, whose predict costs next to nothing,
    shows what the tracking wrapper itself costs.
    """
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression

    calls, blocks = (300, 3) if is_mlflow(tracker) else (200, 60)
    if quick:
        blocks = 2
    X, y = make_classification(n_samples=max(calls, 1_000), n_features=20, random_state=0)
    model = LogisticRegression().fit(X[:1_000], y[:1_000])
    dummy = DummyClassifier().fit(X[:1_000], y[:1_000])
    tracker.flush()
    # A new request each call: a fresh one-row array (as a server gets), prepared outside timing.
    rows = [np.ascontiguousarray(X[i % len(X):i % len(X) + 1]) for i in range(calls * blocks)]
    same_row = rows[0]

    def new_rows(block, estimator=model):
        predict, chunk = estimator.predict, rows[block * calls:(block + 1) * calls]
        start = perf_counter()
        for row in chunk:
            predict(row)
        return (perf_counter() - start) / calls

    def same_rows(block):
        predict = model.predict
        start = perf_counter()
        for _ in range(calls):  # the same array object every call
            predict(same_row)
        return (perf_counter() - start) / calls

    def dummy_rows(block):
        return new_rows(block, dummy)

    loops = [("per_call", new_rows), ("per_call_same_row", same_rows)]
    if not is_mlflow(tracker):
        loops.append(("per_call_dummy", dummy_rows))
    for row in rows[:200]:  # warm-up; also uses up the first calls whose inputs get described
        model.predict(row)
        dummy.predict(row)
    result: dict = {}
    for block in range(blocks):
        for key, loop in loops:
            tracked = loop(block)
            result.setdefault(key, []).append(tracked)
            untracked = paired(tracker, lambda: loop(block))
            if untracked is not None:
                result.setdefault(f"paired_{key}_extra", []).append(tracked - untracked)
                result.setdefault(f"paired_{key}_untracked", []).append(untracked)
    tracker.flush()
    return result


def scenario_gridsearch(tracker: Tracker, quick: bool) -> dict:
    """GridSearchCV(LogisticRegression(), 20 values of C, cv=3) on 2,000 x 20."""
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    X, y = make_classification(n_samples=2_000, n_features=20, random_state=0)
    grid = {"C": list(np.logspace(-3, 3, 20))}
    searches = 2 if is_mlflow(tracker) else 6
    if quick:
        searches = 1
    cold = timed_fit(tracker, lambda: GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=3).fit(X, y))
    samples, run_ids, untracked = [], [], []
    for _ in range(searches):
        search = GridSearchCV(LogisticRegression(), grid, cv=3)
        samples.append(timed_fit(tracker, lambda: search.fit(X, y)))
        run_ids.append(tracker.last_run_id())
        pair = paired(tracker, lambda: timed_fit(tracker, lambda: GridSearchCV(
            LogisticRegression(), grid, cv=3).fit(X, y)))
        if pair is not None:
            untracked.append(pair)
    result = collect(samples)
    result["cold_fit_flush"] = [cold["fit_flush"]]
    if untracked:
        result["paired_fit_ratio"] = [a["fit"] / u["fit"] for a, u in zip(samples, untracked)]
        result["paired_fit_flush_ratio"] = [a["fit_flush"] / u["fit"] for a, u in zip(samples, untracked)]
        result["paired_untracked_fit"] = [u["fit"] for u in untracked]
    inner = tracker.inner_fit_seconds([r for r in run_ids if r])
    if inner:
        result["caller_overhead"] = [s["fit"] - i for s, i in zip(samples, inner)]
    return result


def scenario_log_metrics(tracker: Tracker, quick: bool) -> dict:
    """`autotrack.log_metrics({"loss": x}, step=i)` in a loop; MLflow: `mlflow.log_metric` (fewer)."""
    points = 200 if is_mlflow(tracker) else 300_000
    loops = 2 if is_mlflow(tracker) else 3
    if quick:
        points, loops = min(points, 20_000), 2

    if tracker.kind == "autotrack":
        import autotrack

        log_metrics = autotrack.log_metrics

        def log(i, x):
            log_metrics({"loss": x}, step=i)
    elif is_mlflow(tracker):
        import mlflow

        mlflow.start_run()
        log_metric = mlflow.log_metric

        def log(i, x):
            log_metric("loss", x, step=i)
    else:
        log = None

    if log is not None:  # warm-up: opens the run and the store
        for i in range(100):
            log(i, 1.0 / (i + 1))
        tracker.flush()

    per_call, rate = [], []
    offset = 100
    for _ in range(loops):
        start = perf_counter()
        if log is None:
            for i in range(offset, offset + points):
                x = 1.0 / (i + 1)  # noqa: F841 - the loop body without the logging call
        else:
            for i in range(offset, offset + points):
                log(i, 1.0 / (i + 1))
        logged = perf_counter()
        tracker.flush()
        flushed = perf_counter()
        offset += points
        per_call.append((logged - start) / points)
        rate.append(points / (flushed - start))
    if is_mlflow(tracker):
        import mlflow

        mlflow.end_run()
    result = {"per_call": per_call, "points": [points]}
    if log is not None:
        result["ingest_rate"] = rate
    return result


SCENARIOS = {
    "rf_fit": scenario_rf_fit,
    "lr_fit": scenario_lr_fit,
    "predict": scenario_predict,
    "gridsearch": scenario_gridsearch,
    "log_metrics": scenario_log_metrics,
}
MODE = "baseline"


def main(argv=None) -> None:
    global MODE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--workdir", required=True, help="an empty temporary directory for the stores")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the harness only")
    args = parser.parse_args(argv)
    MODE = args.mode
    os.chdir(args.workdir)  # MLflow puts its artifact folders in the working directory
    tracker = make_tracker(args.mode, args.workdir)
    started = time.time()
    samples = SCENARIOS[args.scenario](tracker, args.quick)
    tracker.flush()
    result = {"scenario": args.scenario, "mode": args.mode, "samples": samples,
              "sanity": tracker.sanity(), "wall_s": time.time() - started,
              "loadavg": list(os.getloadavg())}
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
