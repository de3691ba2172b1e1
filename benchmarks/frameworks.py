"""`make bench`, part two: training overhead in LightGBM, XGBoost, Lightning and Keras.

    python benchmarks/frameworks.py [--quick] [--only lightgbm,keras] [--pairs N]

Each framework's scenario lives in `benchmarks/fw_<name>.py` (`setup`, `warm_up`, `train`,
`MLFLOW_FLAVOR`, `TARGET`). Every process is fresh and warms up first (imports, the first run's
one-off context capture); only what follows is timed: one `train(state)` call and the flush after
it, so that the writer thread's work counts too.

- autotrack: one process per logging mode trains `pairs` times tracked and `pairs` times with
  autotrack disabled in the same process, alternating (disable() restores the originals). The
  overhead is the median over the pairs of tracked / untracked: the machine's drift between
  processes, and within one over time, stays out.
- MLflow: `mlflow.<flavor>.autolog()` in its own processes, against untracked ("baseline")
  processes of the same scenario, interleaved with them.

Writes the table to stdout and benchmarks/results/frameworks.md (raw samples in frameworks.json).
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
SCENARIOS = ("lightgbm", "xgboost", "lightning", "keras")
# Processes per mode; the autotrack ones hold `pairs` tracked/untracked pairs each.
PROCESSES = {"autotrack": 1, "autotrack_nomodels": 1, "baseline": 3, "mlflow": 3, "mlflow_nomodels": 3}


# -- inside one child process ---------------------------------------------------------------------
def child(scenario: str, mode: str, workdir: str, quick: bool, pairs: int) -> dict:
    sys.path.insert(0, str(HERE))
    module = importlib.import_module(f"fw_{scenario}")
    flush = _start_tracker(module, mode, workdir)
    state = module.setup(quick)
    module.warm_up(state)
    flush()
    if not mode.startswith("autotrack"):
        return {"train": [_timed(module.train, state, flush)]}
    import autotrack

    tracked, untracked = [], []
    for index in range(pairs):
        order = (True, False) if index % 2 == 0 else (False, True)
        for with_tracking in order:
            if with_tracking:
                tracked.append(_timed(module.train, state, flush))
            else:
                autotrack.disable()  # flushes, then restores every original
                untracked.append(_timed(module.train, state, flush))
                autotrack.enable()
    runs = len(autotrack.runs(store=os.path.join(workdir, "store"), limit=0))
    return {"train": tracked, "untracked": untracked, "runs": [runs]}


def _start_tracker(module, mode: str, workdir: str):
    """Switch the mode's tracking on; return the function that waits until it has persisted."""
    log_models = not mode.endswith("_nomodels")
    if mode.startswith("autotrack"):
        import autotrack

        autotrack.enable(dir=os.path.join(workdir, "store"), log_models=log_models)
        return lambda: autotrack.flush(timeout=600)
    if mode.startswith("mlflow"):
        import mlflow

        mlflow.set_tracking_uri("sqlite:///" + os.path.join(workdir, "mlflow.db"))
        mlflow.set_experiment("bench")  # creates the database before anything is timed
        flavor = importlib.import_module(f"mlflow.{module.MLFLOW_FLAVOR}")
        flavor.autolog(log_models=log_models, silent=True)
    return lambda: None  # MLflow logs synchronously; the baseline logs nothing


def _timed(train, state, flush) -> float:
    start = time.perf_counter()
    train(state)
    flush()
    return time.perf_counter() - start


# -- the parent: plan, run, report ----------------------------------------------------------------
def child_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AUTOTRACK", "MLFLOW_")) and k != "DO_NOT_TRACK"}
    env.update(MLFLOW_DISABLE_TELEMETRY="true", PYTHONWARNINGS="ignore", KERAS_BACKEND="torch")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # byte-code caching as on a user's machine
    env["PYTHONPYCACHEPREFIX"] = os.path.join(sys.prefix, "pycache")
    return env


def run_child(scenario: str, mode: str, quick: bool, pairs: int) -> dict:
    workdir = tempfile.mkdtemp(prefix=f"bench-{scenario}-{mode}-")
    command = [sys.executable, __file__, "--child", scenario, mode, "--workdir", workdir,
               "--pairs", str(pairs)] + (["--quick"] if quick else [])
    done = subprocess.run(command, cwd=workdir, env=child_env(), capture_output=True, text=True,
                          timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"{scenario}/{mode} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(scenarios: list[str], quick: bool, pairs: int) -> dict:
    results: dict = {}
    for scenario in scenarios:
        rounds = max(PROCESSES.values())
        plan = [mode for index in range(1 if quick else rounds)  # round-robin over the modes,
                for mode, count in PROCESSES.items() if index < count]  # so drift spreads over all
        samples: dict = {}
        for mode in plan:
            started = time.time()
            result = run_child(scenario, mode, quick, pairs)
            sys.stderr.write(f"[bench] {scenario:9} {mode:18} {time.time() - started:6.1f}s "
                             f"{json.dumps(result)}\n")
            for key, values in result.items():
                samples.setdefault(mode, {}).setdefault(key, []).extend(values)
        results[scenario] = samples
    return results


def _median(samples: dict, mode: str, key: str = "train") -> float | None:
    values = samples.get(mode, {}).get(key)
    return statistics.median(values) if values else None


def _paired_overhead(samples: dict) -> float:
    """The median over pairs of tracked/untracked - 1: each pair ran back to back in one process,
    so the machine's drift (other load, turbo, cache) cancels within it."""
    ratios = [tracked / untracked for tracked, untracked in zip(samples["train"], samples["untracked"])]
    return statistics.median(ratios) - 1


def table(results: dict, quick: bool) -> str:
    lines = [
        "| Framework (scenario) | untracked | autotrack, models | autotrack, no models | target |"
        " MLflow autolog, models | MLflow, no models | result |",
        "|---|---|---|---|---|---|---|---|",
    ]
    sys.path.insert(0, str(HERE))
    for scenario, samples in results.items():
        module = importlib.import_module(f"fw_{scenario}")
        summary = (module.__doc__ or scenario).strip().splitlines()[0]
        cells, overheads = [], []
        base = _median(samples, "autotrack", "untracked")
        for mode in ("autotrack", "autotrack_nomodels"):
            tracked = _median(samples, mode)
            overhead = _paired_overhead(samples[mode])
            overheads.append(overhead)
            spread = samples[mode]["train"]
            cells.append(f"{tracked:.3f} s ({overhead:+.1%}; {min(spread):.3f}–{max(spread):.3f})")
        baseline = _median(samples, "baseline")
        mlflow = []
        for mode in ("mlflow", "mlflow_nomodels"):
            value = _median(samples, mode)
            mlflow.append(f"{value:.3f} s ({value / baseline:.2f}x, {value - baseline:+.2f} s)")
        verdict = "PASS" if overheads[0] < module.TARGET else "FAIL"
        lines.append(f"| {scenario}: {summary} | {base:.3f} s (separate processes: {baseline:.3f} s) "
                     f"| {cells[0]} | {cells[1]} | < {module.TARGET:.0%} | {mlflow[0]} | {mlflow[1]} "
                     f"| {verdict if not quick else 'quick run: sizes too small to judge'} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the harness only")
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(SCENARIOS))
    parser.add_argument("--pairs", type=int, default=6, help="tracked/untracked pairs per autotrack process")
    parser.add_argument("--child", nargs=2, metavar=("SCENARIO", "MODE"), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = child(*args.child, args.workdir, args.quick, args.pairs)
        sys.stdout.write("\n" + json.dumps(result) + "\n")
        return
    scenarios = [name for name in args.only.split(",") if name] or list(SCENARIOS)
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenario(s) {sorted(unknown)}; choose from {', '.join(SCENARIOS)}")
    started = time.time()
    results = measure(scenarios, args.quick, 1 if args.quick else args.pairs)
    text = (f"Training overhead, medians (range over samples), `python benchmarks/frameworks.py"
            f"{' --quick' if args.quick else ''}`, {time.time() - started:.0f} s wall, "
            f"{time.strftime('%Y-%m-%d')}:\n\n{table(results, args.quick)}\n")
    sys.stdout.write(text)
    sys.path.insert(0, str(HERE))
    from report import save

    save("frameworks", text, results, args.quick)


if __name__ == "__main__":
    main()
