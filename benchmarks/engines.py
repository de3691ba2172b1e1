"""`make bench`, engines: the overhead per trial of a hyperparameter sweep, tracked by autotrack,
against the same sweep untracked and against the engine's own MLflow callback.

    python benchmarks/engines.py [--quick] [--only optuna,optuna_threads,ray_tune] [--pairs N]

Each scenario lives in `benchmarks/engine_<name>.py` (`setup(quick)`, `sweep(state)`,
`mlflow_callback(state, tracking_uri)`: the engine's own MLflow callback, `TRIALS`). Every process
is fresh and warms up first (one small sweep), then only the sweep and the flush after it are timed.

- autotrack: one process trains `pairs` sweeps tracked and `pairs` untracked, alternating
  (`autotrack.disable()` restores the originals): the overhead per trial is the median over the
  pairs of (tracked - untracked) / trials. A scenario whose workers are processes the engine
  starts (Ray's, `PAIRED = False`) is tracked in processes of its own, AUTOTRACK=1 set before
  the engine starts, against the untracked processes.
- the engine's MLflow callback (`optuna.integration.MLflowCallback`,
  `ray.air.integrations.mlflow.MLflowLoggerCallback`) to a local SQLite tracking database, in
  its own processes, against untracked processes of the same sweep, interleaved.

Both with the machine's default thread settings and pinned to one thread per process
(OMP_NUM_THREADS=1 ...). Writes benchmarks/results/engines.md (raw samples in engines.json).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIOS = ("optuna", "optuna_threads", "ray_tune")
PROCESSES = {"autotrack": 1, "baseline": 3, "mlflow_callback": 3}
PINNED = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


# -- inside one child process ---------------------------------------------------------------------
def child(scenario: str, mode: str, workdir: str, quick: bool, pairs: int) -> dict:
    sys.path.insert(0, str(HERE))
    module = importlib.import_module(f"engine_{scenario}")
    if mode == "autotrack" and not getattr(module, "PAIRED", True):
        return _unpaired_child(module, workdir, quick)
    state = module.setup(quick, workdir)
    if mode == "mlflow_callback":
        uri = "sqlite:///" + os.path.join(workdir, "mlflow.db")
        module.mlflow_callback(state, uri)
    if mode != "autotrack":
        module.sweep(state, warm_up=True)
        return {"sweep": [_timed(lambda: module.sweep(state), lambda: None)], "trials": [module.trials(quick)]}
    import autotrack

    autotrack.enable(dir=os.path.join(workdir, "store"))
    flush = lambda: autotrack.flush(timeout=600)  # noqa: E731
    module.sweep(state, warm_up=True)
    flush()
    tracked, untracked = [], []
    for index in range(pairs):
        for with_tracking in ((True, False) if index % 2 == 0 else (False, True)):
            if with_tracking:
                tracked.append(_timed(lambda: module.sweep(state), flush))
            else:
                autotrack.disable()
                untracked.append(_timed(lambda: module.sweep(state), flush))
                autotrack.enable(dir=os.path.join(workdir, "store"))
    runs = len(autotrack.runs(store=os.path.join(workdir, "store"), limit=0))
    return {"sweep": tracked, "untracked": untracked, "trials": [module.trials(quick)], "runs": [runs]}


def _unpaired_child(module, workdir: str, quick: bool) -> dict:
    """A sweep whose worker processes track too (Ray's): they inherit AUTOTRACK=1 when the engine
    starts them, so one process cannot switch tracking off for half its sweeps. Tracked in
    processes of its own, against the baseline's."""
    import autotrack

    store = os.path.join(workdir, "store")
    os.environ.update(AUTOTRACK="1", AUTOTRACK_DIR=store)
    autotrack.enable(dir=store)
    state = module.setup(quick, workdir)
    flush = lambda: autotrack.flush(timeout=600)  # noqa: E731
    module.sweep(state, warm_up=True)
    flush()
    sample = _timed(lambda: module.sweep(state), flush)
    runs = len(autotrack.runs(store=store, limit=0))
    return {"sweep": [sample], "trials": [module.trials(quick)], "runs": [runs]}


def _timed(work, flush) -> float:
    start = time.perf_counter()
    work()
    flush()
    return time.perf_counter() - start


# -- the parent -----------------------------------------------------------------------------------
def child_env(pinned: bool) -> dict:
    sys.path.insert(0, str(HERE))
    from frameworks import child_env as framework_env  # the same clean environment, and Ray's

    env = framework_env()
    env.update(RAY_USAGE_STATS_ENABLED="0", RAY_DEDUP_LOGS="0", TUNE_DISABLE_AUTO_CALLBACK_LOGGERS="1")
    if pinned:
        env.update(PINNED)
    return env


def run_child(scenario: str, mode: str, quick: bool, pairs: int, pinned: bool) -> dict:
    workdir = tempfile.mkdtemp(prefix=f"bench-{scenario}-{mode}-")
    command = [sys.executable, __file__, "--child", scenario, mode, "--workdir", workdir,
               "--pairs", str(pairs)] + (["--quick"] if quick else [])
    done = subprocess.run(command, cwd=workdir, env=child_env(pinned), capture_output=True, text=True,
                          timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"{scenario}/{mode} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(scenarios: list[str], quick: bool, pairs: int) -> dict:
    sys.path.insert(0, str(HERE))
    results: dict = {}
    for pinned in (False, True):
        for scenario in scenarios:
            rounds = max(PROCESSES.values())
            paired = getattr(importlib.import_module(f"engine_{scenario}"), "PAIRED", True)
            counts = PROCESSES if paired else {**PROCESSES, "autotrack": PROCESSES["baseline"]}
            plan = [mode for index in range(1 if quick else rounds)
                    for mode, count in counts.items() if index < count]
            samples: dict = {}
            for mode in plan:
                started = time.time()
                result = run_child(scenario, mode, quick, pairs, pinned)
                sys.stderr.write(f"[bench] {scenario:14} {'pinned' if pinned else 'default':7} {mode:16} "
                                 f"{time.time() - started:6.1f}s {json.dumps(result)}\n")
                for key, values in result.items():
                    samples.setdefault(mode, {}).setdefault(key, []).extend(values)
            results[f"{scenario}{' (pinned)' if pinned else ''}"] = samples
    return results


def table(results: dict) -> str:
    lines = ["| Sweep | threads | untracked | autotrack | per trial | MLflow callback | per trial |",
             "|---|---|---|---|---|---|---|"]
    sys.path.insert(0, str(HERE))
    for name, samples in results.items():
        scenario = name.split(" ")[0]
        module = importlib.import_module(f"engine_{scenario}")
        summary = (module.__doc__ or scenario).strip().splitlines()[0]
        trials = samples["autotrack"]["trials"][0]
        own = samples["autotrack"]
        baseline = statistics.median(samples["baseline"]["sweep"])
        tracked = statistics.median(own["sweep"])
        if "untracked" in own:  # paired in one process
            per_trial = statistics.median((t - u) / trials for t, u in zip(own["sweep"], own["untracked"]))
            untracked = statistics.median(own["untracked"])
        else:  # in processes of its own: against the baseline processes
            per_trial, untracked = (tracked - baseline) / trials, baseline
        callback = statistics.median(samples["mlflow_callback"]["sweep"])
        lines.append(
            f"| {scenario}: {summary} | {'pinned to 1' if 'pinned' in name else 'default'} "
            f"| {untracked:.3f} s | {tracked:.3f} s ({tracked / untracked - 1:+.1%}) | {per_trial * 1000:+.2f} ms "
            f"| {callback:.3f} s vs {baseline:.3f} s untracked ({callback / baseline - 1:+.1%}) "
            f"| {(callback - baseline) / trials * 1000:+.2f} ms |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the harness only")
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(SCENARIOS))
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--child", nargs=2, metavar=("SCENARIO", "MODE"), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = child(*args.child, args.workdir, args.quick, args.pairs)
        sys.stdout.write("\n" + json.dumps(result) + "\n")
        return
    scenarios = [name for name in args.only.split(",") if name] or list(SCENARIOS)
    started = time.time()
    results = measure(scenarios, args.quick, 1 if args.quick else args.pairs)
    text = (f"Sweep overhead, medians, `python benchmarks/engines.py{' --quick' if args.quick else ''}`, "
            f"{time.time() - started:.0f} s wall, {time.strftime('%Y-%m-%d')}:\n\n{table(results)}\n")
    sys.stdout.write(text)
    sys.path.insert(0, str(HERE))
    from report import save

    save("engines", text, results, args.quick)


if __name__ == "__main__":
    main()
