"""`make bench`: every scenario in every tracking mode, each in a fresh interpreter, as one table.

    python benchmarks/run.py [--quick] [--only rf_fit,lr_fit,...] [--blas-threads N]

Writes the Markdown table to stdout and to benchmarks/results/latest.md (raw samples in
latest.json). Targets come from issue 2, "Performance". Medians everywhere; the figures in
brackets are the spread (min-max over every sample) so noise is visible next to the target.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import Figures, Table, detail_rows, render, target_rows

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCENARIO = HERE / "scenario.py"
RESULTS = HERE / "results"

# Processes per mode for each scenario, run interleaved (round-robin) so that drift in the
# machine's load spreads over every mode instead of landing on one.
PLAN = {
    # RandomForest: the untracked fits are the pairs inside the autotrack processes (see scenario.py).
    "rf_fit": {"autotrack": 1, "autotrack_nomodels": 1, "mlflow": 1, "mlflow_nomodels": 1},
    "lr_fit": {"baseline": 2, "autotrack": 2, "autotrack_nomodels": 2, "mlflow": 1, "mlflow_nomodels": 1},
    "predict": {"baseline": 1, "autotrack": 1, "autotrack_nomodels": 1, "mlflow": 1, "mlflow_nomodels": 1},
    "gridsearch": {"baseline": 2, "autotrack": 2, "autotrack_nomodels": 2, "mlflow": 1, "mlflow_nomodels": 1},
    "log_metrics": {"baseline": 1, "autotrack": 2, "mlflow_nomodels": 1},
}
IMPORT_REPS = 30  # `python -c pass` and `import autotrack; autotrack.enable()`, each
MLFLOW_IMPORT_REPS = 8
FRAMEWORKS = ("sklearn", "numpy", "scipy", "pandas", "torch", "lightgbm", "xgboost", "tensorflow",
              "keras", "mlflow", "pyarrow")
PACKAGES = ("scikit-learn", "numpy", "scipy", "pandas", "mlflow", "pluggy")


# -- running things ------------------------------------------------------------------------------
def child_env(blas_threads: int) -> dict:
    """The environment of every child: no tracking switched on from outside, no telemetry."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AUTOTRACK", "MLFLOW_")) and k != "DO_NOT_TRACK"}
    # MLflow 3 sends usage telemetry from a background thread; a benchmark must not phone home.
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["PYTHONWARNINGS"] = "ignore"
    # Byte-code caching as on a user's machine. This sandbox sets PYTHONDONTWRITEBYTECODE=1, so an
    # editable install compiles autotrack from source at every start (+15 ms on `import
    # autotrack`); the cache goes inside the benchmark's venv, out of the source tree.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(sys.prefix, "pycache")
    if blas_threads > 0:
        # On 2 shared cores, BLAS threads spin-waiting against other processes turn a 2 ms fit
        # into 50 ms at random; one BLAS thread keeps small fits comparable. RandomForest still
        # uses both cores (n_jobs=-1, joblib threads).
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(blas_threads)
    return env


def log(message: str) -> None:
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def run_scenario(name: str, mode: str, env: dict, quick: bool) -> dict:
    workdir = tempfile.mkdtemp(prefix=f"bench-{name}-{mode}-")
    command = [sys.executable, str(SCENARIO), name, mode, "--workdir", workdir]
    if quick:
        command.append("--quick")
    try:
        started = time.perf_counter()
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        elapsed = time.perf_counter() - started
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} {mode} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_s"] = elapsed
    errors = result.get("sanity", {}).get("background_errors")
    if errors:
        log(f"WARNING {name} {mode}: autotrack reported tracking errors: {errors[:3]}")
    return result


def run_plan(names: list[str], env: dict, quick: bool, modes: list[str]) -> dict:
    """{scenario: {mode: {key: [samples...]}}, plus the sanity figures of each process."""
    results: dict = {}
    for name in names:
        plan = {mode: (1 if quick else count) for mode, count in PLAN[name].items()
                if not modes or mode in modes}
        merged: dict = {}
        sanity: dict = {}
        for round_index in range(max(plan.values())):
            for mode, count in plan.items():
                if round_index >= count:
                    continue
                log(f"{name:12s} {mode:20s} round {round_index + 1}/{count}")
                result = run_scenario(name, mode, env, quick)
                log(f"{'':12s} {'':20s} done in {result['process_s']:.1f} s, "
                    f"load {result['loadavg'][0]:.2f}")
                for key, values in result["samples"].items():
                    merged.setdefault(mode, {}).setdefault(key, []).extend(values)
                sanity.setdefault(mode, []).append(result.get("sanity", {}))
        results[name] = {"samples": merged, "sanity": sanity}
    return results


def time_command(command: list[str], env: dict, cwd: str) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure_imports(env: dict, quick: bool) -> dict:
    """Interpreter start-up with and without `import autotrack; autotrack.enable()`, and MLflow's."""
    reps = 5 if quick else IMPORT_REPS
    ml_reps = 2 if quick else MLFLOW_IMPORT_REPS
    workdir = tempfile.mkdtemp(prefix="bench-import-")
    env = dict(env, AUTOTRACK_DIR=os.path.join(workdir, "store"))
    py = sys.executable
    commands = {
        "python": [py, "-c", "pass"],
        "autotrack": [py, "-c", "import autotrack; autotrack.enable()"],
        "autotrack_env": [py, "-c", "pass"],  # AUTOTRACK=1: the start-up hook enables tracking
        "mlflow": [py, "-c", "import mlflow"],
    }
    envs = {name: env for name in commands}
    envs["autotrack_env"] = dict(env, AUTOTRACK="1")
    samples: dict = {name: [] for name in commands}
    try:
        for name, command in commands.items():  # warm the page cache
            time_command(command, envs[name], workdir)
        for index in range(reps):
            for name in ("python", "autotrack", "autotrack_env"):
                samples[name].append(time_command(commands[name], envs[name], workdir))
            if index < ml_reps:
                samples["mlflow"].append(time_command(commands["mlflow"], envs["mlflow"], workdir))
        probe = ("import sys, json; {setup}; "
                 f"print(json.dumps([m for m in {FRAMEWORKS!r} if m in sys.modules] + [len(sys.modules)]))")
        loaded = {}
        for name, setup in (("autotrack", "import autotrack; autotrack.enable()"),
                            ("mlflow", "import mlflow"), ("python", "pass")):
            out = subprocess.run([py, "-c", probe.format(setup=setup)], env=env, cwd=workdir,
                                 check=True, capture_output=True, text=True).stdout
            found = json.loads(out.strip().splitlines()[-1])
            loaded[name] = {"frameworks": found[:-1], "modules": found[-1]}
        patching = [t for t in (_patching_seconds(py, env, workdir) for _ in range(2 if quick else 5))
                    if t is not None]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"samples": samples, "loaded": loaded, "patching": patching}


# Time spent in autotrack's post-import hooks while scikit-learn is imported after enable(): the
# part of enabling that is deferred to the framework's import. Uses an internal name; when that
# changes the figure is left out rather than the run failing.
_PATCHING_PROBE = """
import json, time
import autotrack
autotrack.enable()
try:
    from autotrack.patching import PostImportHooks
    original = PostImportHooks._call
except (ImportError, AttributeError):
    print(json.dumps(None)); raise SystemExit
spent = [0.0]
def timed(callback, module):
    started = time.perf_counter()
    try:
        return original(callback, module)
    finally:
        spent[0] += time.perf_counter() - started
PostImportHooks._call = staticmethod(timed)
import sklearn.ensemble, sklearn.linear_model, sklearn.model_selection, sklearn.pipeline
print(json.dumps(spent[0]))
"""


def _patching_seconds(py: str, env: dict, cwd: str) -> float | None:
    out = subprocess.run([py, "-c", _PATCHING_PROBE], env=env, cwd=cwd, capture_output=True, text=True)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


# -- the machine ---------------------------------------------------------------------------------
def machine() -> dict:
    from importlib import metadata

    def version(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    cpu = ""
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "")
    except OSError:
        pass
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: version(name) for name in PACKAGES},
        "autotrack": f"{version('autotrack')} @ {commit}{' (uncommitted changes)' if dirty else ''}",
        "loadavg_start": list(os.getloadavg()),
    }


def _git(*args) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def tables(imports: dict | None, results: dict) -> tuple[Table, Table]:
    figures = Figures(results)
    targets, details = Table(), Table(("Figure", "Value", "Relative"))
    target_rows(targets, imports, figures)
    detail_rows(details, imports, figures)
    return targets, details


def rerender(path: str) -> None:
    """Rebuild latest.md from a saved latest.json (after a change to the report only)."""
    saved = json.loads(Path(path).read_text())
    targets, details = tables(saved["imports"], saved["results"])
    text = render(saved["machine"], targets, details, saved.get("command", "make bench"),
                  saved.get("blas_threads", 1), saved["wall_s"])
    (RESULTS / "latest.md").write_text(text)
    sys.stdout.write(text)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and one process per mode")
    parser.add_argument("--only", default="", help="comma-separated: imports," + ",".join(PLAN))
    parser.add_argument("--modes", default="", help="comma-separated subset of the modes (development)")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="OMP/OpenBLAS/MKL threads in every child (0: library default)")
    parser.add_argument("--render", metavar="JSON", help="only rebuild the tables from a saved latest.json")
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    if args.render:
        rerender(args.render)
        return
    only = [name for name in args.only.split(",") if name]
    unknown = set(only) - set(PLAN) - {"imports"}
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    info = machine()
    env = child_env(args.blas_threads)
    imports = None
    if not only or "imports" in only:
        log("import cost")
        imports = measure_imports(env, args.quick)
    names = [name for name in PLAN if not only or name in only]
    results = run_plan(names, env, args.quick, [m for m in args.modes.split(",") if m])
    info["loadavg_end"] = list(os.getloadavg())
    wall = time.perf_counter() - started
    targets, details = tables(imports, results)
    arguments = " ".join(argv if argv is not None else sys.argv[1:])
    command = "make bench" if os.environ.get("MAKELEVEL") and not arguments else (
        f"python benchmarks/run.py {arguments}".strip())
    text = render(info, targets, details, command, args.blas_threads, wall)
    (RESULTS / "latest.md").write_text(text)
    (RESULTS / "latest.json").write_text(json.dumps(
        {"machine": info, "command": command, "blas_threads": args.blas_threads, "imports": imports,
         "results": results, "wall_s": wall}, indent=1))
    sys.stdout.write(text)
    log(f"done in {wall / 60:.1f} min; written to {RESULTS / 'latest.md'}")


if __name__ == "__main__":
    main()
