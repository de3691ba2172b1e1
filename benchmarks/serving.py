"""What serving records cost the serving process (issue 13): a loaded model's single-row and batch
predict, untracked, under AUTOTRACK=1 with serving off (the wrapper alone) and on; and the profile
throughput against Apache DataSketches' own raw update rate.

Each mode runs in a fresh process, rounds alternating; the time is the calls' own (measured inside
the script), not start-up. Run with the machine's default threads and with every pool pinned to one.

    python benchmarks/serving.py [--rounds N]
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

TRAIN = """
import pickle, numpy as np
from sklearn.linear_model import LogisticRegression
rng = np.random.default_rng(0)
X = rng.normal(size=(5000, 50))
pickle.dump(LogisticRegression(max_iter=300).fit(X, (X[:, 0] > 0).astype(int)), open("model.pkl", "wb"))
"""

SERVE = """
import pickle, time, numpy as np
model = pickle.load(open("model.pkl", "rb"))
rng = np.random.default_rng(1)
row = rng.normal(size=(1, 50))
batch = rng.normal(size=(10_000, 50))
for _ in range(200):  # warm up
    model.predict(row)
started = time.perf_counter()
for _ in range(CALLS):
    model.predict(row)
single = (time.perf_counter() - started) / CALLS
best = []
for _ in range(BATCHES):
    started = time.perf_counter()
    model.predict(batch)
    best.append(time.perf_counter() - started)
best.sort()
print(single, sum(best[:len(best) // 2]) / (len(best) // 2))  # the faster half: the machine's noise out
"""

MODES = {"untracked": {}, "serving off": {"AUTOTRACK": "1", "AUTOTRACK_SERVING": "off"},
         "serving on": {"AUTOTRACK": "1"}}
PINNED = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def _env(extra: dict, pinned: bool, store: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTOTRACK")}
    env.update(extra, AUTOTRACK_DIR=str(store))
    if pinned:
        env.update(PINNED)
    return env


def _serve(directory: Path, mode: str, pinned: bool, calls: int, batches: int) -> tuple[float, float]:
    script = directory / "serve.py"
    script.write_text(textwrap.dedent(SERVE).replace("CALLS", str(calls)).replace("BATCHES", str(batches)))
    result = subprocess.run([sys.executable, str(script)], cwd=directory, capture_output=True, text=True,
                            env=_env(MODES[mode], pinned, directory / "store"), timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{result.stderr}")
    single, batch = map(float, result.stdout.split())
    return single, batch


def predict_table(rounds: int, pinned: bool, calls: int, batches: int) -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        (directory / "train.py").write_text(textwrap.dedent(TRAIN))
        subprocess.run([sys.executable, "train.py"], cwd=directory, check=True,
                       env=_env({"AUTOTRACK": "1"}, pinned, directory / "store"))
        times: dict[str, list] = {mode: [] for mode in MODES}
        for _ in range(rounds):
            for mode in MODES:
                times[mode].append(_serve(directory, mode, pinned, calls, batches))
    median = {mode: (statistics.median(t[0] for t in values), statistics.median(t[1] for t in values))
              for mode, values in times.items()}
    base_single, base_batch = median["untracked"]
    lines = [f"| mode | single-row predict | added | batch 10,000 x 50 | ratio |", "|---|---|---|---|---|"]
    for mode, (single, batch) in median.items():
        lines.append(f"| {mode} | {single * 1e6:.1f} µs | {(single - base_single) * 1e6:+.1f} µs | "
                     f"{batch * 1e3:.2f} ms | {batch / base_batch:.3f}x |")
    return lines


def profile_throughput() -> list[str]:
    """Cells a second: ProfileBuilder on 200,000 x 50 (numbers), and on 200,000 x 10 categories,
    against KLL's vectorised update alone (the sketch library's raw rate, the floor we build on)."""
    import numpy as np
    import datasketches

    from autotrack.serving.profile import ProfileBuilder, table_columns

    rng = np.random.default_rng(0)
    numbers = rng.normal(size=(200_000, 50))
    categories = rng.choice(np.array([f"city_{i}" for i in range(40)], dtype=object), size=(200_000, 10))
    lines = ["| what | cells/s |", "|---|---|"]
    started = time.perf_counter()
    for column in numbers.T:
        datasketches.kll_doubles_sketch(200).update(np.ascontiguousarray(column))
    rate = numbers.size / (time.perf_counter() - started) / 1e6
    lines.append(f"| raw KLL update (DataSketches alone), numbers | {rate:.1f} M |")
    for name, data, kept in (("numbers", numbers, "count, missing, min/max, mean/std, KLL, HLL"),
                             ("categories", categories, "count, missing, frequent items, HLL")):
        started = time.perf_counter()
        ProfileBuilder().add(table_columns(data))
        lines.append(f"| autotrack profile, {name} ({kept}) | {data.size / (time.perf_counter() - started) / 1e6:.1f} M |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--batches", type=int, default=400)
    args = parser.parse_args()
    print(f"# serving overhead, {os.cpu_count()} cores, {args.rounds} rounds, median; LogisticRegression on 50 "
          f"features, loaded from a pickle")
    for pinned in (False, True):
        print(f"\n{'pinned to one thread' if pinned else 'default threads'}:\n")
        print("\n".join(predict_table(args.rounds, pinned, args.calls, args.batches)))
    print("\nprofile throughput, one core (autotrack's serving thread):\n")
    print("\n".join(profile_throughput()))


if __name__ == "__main__":
    main()
