"""Registry reads and load_model on a store with 10,000 runs, against MLflow's registry on SQLite.

A 10,000-run store (fill_store.py), a real model trained into it with AUTOTRACK=1, 200 versions
under 20 names; then, each the median of several repeats:
- in-process: resolving `churn@champion`, `autotrack.load_model("churn@champion")` (warm), the
  same model from MLflow's registry (`mlflow.sklearn.load_model("models:/churn@champion")`, SQLite
  tracking store, local artifacts);
- new processes: `autotrack models --json`, `autotrack audit churn@champion --json`, and a script
  that only imports autotrack and loads the model, against `autotrack --version` and a script that
  imports scikit-learn.

    python benchmarks/registry.py [--runs 10000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from fill_store import fill_store  # noqa: E402

TRAIN = """
import numpy as np
from sklearn.linear_model import LogisticRegression
rng = np.random.RandomState(0)
X = rng.rand(2000, 20); y = (X[:, 0] > 0.5).astype(int)
LogisticRegression(max_iter=500).fit(X, y)
"""


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _process_seconds(args: list[str], env: dict, repeats: int) -> float:
    return _median_seconds(lambda: subprocess.run(args, env=env, check=True, capture_output=True), repeats)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="autotrack-bench-registry-"))
    store = folder / "store"
    env = {**os.environ, "AUTOTRACK_DIR": str(store)}
    env.pop("AUTOTRACK", None)
    try:
        filled = fill_store(store, runs=args.runs, points=1000)
        (folder / "train.py").write_text(TRAIN)
        subprocess.run([sys.executable, "train.py"], cwd=folder, env={**env, "AUTOTRACK": "1"}, check=True)
        os.environ["AUTOTRACK_DIR"] = str(store)
        import autotrack
        from autotrack.registry.models import Registry
        from autotrack.stores.local import connect, store_dir

        trained = autotrack.runs(limit=1)[0]["id"]
        _fake_versions(store, trained, connect, store_dir)
        cli = [sys.executable, "-m", "autotrack"]
        subprocess.run([*cli, "models", "register", trained, "churn", "--alias", "champion"], env=env, check=True,
                       capture_output=True)

        def resolve():
            with Registry(str(store)) as registry:
                registry.resolve("churn@champion")

        autotrack.load_model("churn@champion")  # plugins loaded once per process
        results = {
            "runs in the store": filled["runs"] + 1,
            "versions registered": len(Registry(str(store)).versions()),
            "resolve churn@champion (in process)": _median_seconds(resolve, args.repeats * 5),
            "load_model churn@champion (in process, warm)": _median_seconds(
                lambda: autotrack.load_model("churn@champion"), args.repeats * 5),
            "mlflow.sklearn.load_model models:/churn@champion (in process, warm)": _mlflow_load(folder, store, trained,
                                                                                            args.repeats * 5),
            "autotrack --version (process)": _process_seconds([*cli, "--version"], env, args.repeats),
            "autotrack models --json (process)": _process_seconds([*cli, "models", "--json"], env, args.repeats),
            "autotrack audit churn@champion --json (process)": _process_seconds(
                [*cli, "audit", "churn@champion", "--json"], env, args.repeats),
            "python: import sklearn.linear_model (process)": _process_seconds(
                [sys.executable, "-c", "import numpy, sklearn.linear_model"], env, args.repeats),
            "python: import autotrack; load_model (process)": _process_seconds(
                [sys.executable, "-c", "import autotrack; autotrack.load_model('churn@champion')"], env, args.repeats),
        }
        print(json.dumps(results, indent=2))
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fake_versions(store: Path, trained: str, connect, store_dir) -> None:
    """200 versions under 20 names: runs of the filled store given a copy of the trained model."""
    from autotrack.registry.models import Registry

    conn = connect(store_dir(str(store)), create=True)
    model = store / "artifacts" / trained / "model.pkl"
    run_ids = [row[0] for row in conn.execute("SELECT id FROM runs WHERE parent_id IS NULL LIMIT 200")]
    for run_id in run_ids:
        target = store / "artifacts" / run_id
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model, target / "model.pkl")
        conn.execute("INSERT OR REPLACE INTO artifacts (run_id, name, path, bytes) VALUES (?, ?, ?, ?)",
                     (run_id, "model.pkl", f"artifacts/{run_id}/model.pkl", model.stat().st_size))
    conn.close()
    with Registry(str(store), writable=True) as registry:
        for index, run_id in enumerate(run_ids):
            version, _ = registry.register(run_id, f"model{index % 20}", "model.pkl", None)
            if version.version == 1:
                registry.set_alias(version.name, "champion", 1)


def _mlflow_load(folder: Path, store: Path, trained: str, repeats: int) -> float | None:
    try:
        import mlflow
    except ImportError:
        return None
    import pickle

    with open(store / "artifacts" / trained / "model.pkl", "rb") as handle:
        model = pickle.load(handle)
    mlflow.set_tracking_uri(f"sqlite:///{folder / 'mlflow.db'}")
    mlflow.set_registry_uri(f"sqlite:///{folder / 'mlflow.db'}")
    # Its artifacts in the benchmark's folder: MLflow's default is ./mlruns where it is started.
    experiment = mlflow.MlflowClient().create_experiment("registry-benchmark",
                                                         artifact_location=(folder / "mlartifacts").as_uri())
    with mlflow.start_run(experiment_id=experiment):
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name="churn")
    mlflow.MlflowClient().set_registered_model_alias("churn", "champion", "1")
    assert info is not None
    mlflow.sklearn.load_model("models:/churn@champion")
    return _median_seconds(lambda: mlflow.sklearn.load_model("models:/churn@champion"), repeats)


if __name__ == "__main__":
    sys.exit(main())
