"""Wall time of OpenMP-heavy training scripts with the machine's default thread settings, untracked,
under AUTOTRACK=1 and under MLflow's autolog (issue 11: background work must not compete with the
user's native thread pools). Each script runs as a user runs it, in a fresh process, rounds
alternating between modes; the table gives the median wall time and the ratio to untracked.

    python benchmarks/openmp.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

SCRIPTS = {
    "HistGradientBoosting, 8 fits in a row": """
        from sklearn.datasets import make_classification
        from sklearn.ensemble import HistGradientBoostingClassifier
        X, y = make_classification(n_samples=20000, n_features=20, random_state=0)
        for seed in range(8):
            HistGradientBoostingClassifier(max_iter=50, random_state=seed).fit(X, y)
    """,
    "StackingClassifier of boosted models": """
        from sklearn.datasets import make_classification
        from sklearn.ensemble import HistGradientBoostingClassifier, StackingClassifier
        from sklearn.linear_model import LogisticRegression
        X, y = make_classification(n_samples=10000, n_features=20, random_state=0)
        StackingClassifier([("a", HistGradientBoostingClassifier(max_iter=50)),
                            ("b", HistGradientBoostingClassifier(max_iter=30, max_depth=3))],
                           final_estimator=LogisticRegression(), cv=3).fit(X, y)
    """,
    "LightGBM scikit-learn API, 8 fits in a row": """
        import lightgbm as lgb
        from sklearn.datasets import make_classification
        X, y = make_classification(n_samples=20000, n_features=20, random_state=0)
        for leaves in range(8, 40, 4):
            lgb.LGBMClassifier(n_estimators=60, num_leaves=leaves, verbose=-1).fit(X, y)
    """,
}
MLFLOW = "import mlflow, tempfile\nmlflow.set_tracking_uri('sqlite:///' + tempfile.mkdtemp() + '/m.db')\nmlflow.autolog(silent=True)\n"


def _run(code: str, mode: str, directory: Path) -> float:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AUTOTRACK", "MLFLOW_"))}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    if mode == "autotrack":
        env.update(AUTOTRACK="1", AUTOTRACK_DIR=str(directory / "store"))
    script = directory / f"script_{mode}.py"  # not mlflow.py: it would shadow the package
    script.write_text((MLFLOW if mode == "mlflow" else "") + textwrap.dedent(code))
    started = time.perf_counter()
    result = subprocess.run([sys.executable, str(script)], cwd=directory, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{mode} run of a script failed:\n{result.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default="untracked,autotrack,mlflow")
    args = parser.parse_args()
    modes = args.modes.split(",")
    print(f"cores: {os.cpu_count()}, thread settings: the machine's defaults "
          f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})\n")
    print("| Script | " + " | ".join(f"{mode} (median s)" for mode in modes) + " | autotrack / untracked | MLflow / untracked |")
    print("|---|" + "---|" * (len(modes) + 2))
    for name, code in SCRIPTS.items():
        times: dict[str, list[float]] = {mode: [] for mode in modes}
        with tempfile.TemporaryDirectory() as folder:
            for _ in range(args.rounds):
                for mode in modes:
                    times[mode].append(_run(code, mode, Path(folder)))
        median = {mode: statistics.median(values) for mode, values in times.items()}
        ratio = lambda mode: f"{median[mode] / median['untracked']:.3f}x" if mode in median else "—"  # noqa: E731
        print(f"| {name} | " + " | ".join(f"{median[mode]:.2f} [{min(times[mode]):.2f}–{max(times[mode]):.2f}]"
                                          for mode in modes) + f" | {ratio('autotrack')} | {ratio('mlflow')} |",
              flush=True)


if __name__ == "__main__":
    main()
