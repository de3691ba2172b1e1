"""The workbench at scale: 100,000 runs and about 10 M metric points in one store, autotrack beside
MLflow on the very same runs.

    python benchmarks/scale.py [--runs 100000] [--curve-runs 10000] [--curve-points 860] [--repeat 3]
                               [--no-mlflow] [--no-browser] [--keep DIR]

1. A store filled by fill_store.py: 100,000 runs (searches with children, failed runs, 16 params,
   2 tags and 5 metrics each), 10,000 of them with a 4-series learning curve: ~10 M points.
2. The same runs, params, tags and every metric point written into an MLflow tracking database
   (SQLite, MLflow's own schema, created by MLflow; rows inserted in bulk).
3. Each the median of --repeat, on this machine's default threads:
   - `autotrack.search_runs()` of every run into a DataFrame, and of a query; `mlflow.search_runs`
     of every run and of the same query in MLflow's syntax (in a subprocess, 10 minutes at most);
   - `autotrack runs --where QUERY` in a new process;
   - in Chromium (a new browser context each time: nothing cached), the first contentful paint and
     the time until the runs are listed of: autotrack's runs page, the same page filtered by the
     query, a 500-run comparison (until its 500 lines are drawn); MLflow's UI (`mlflow server` on
     the MLflow database) for an experiment's runs page, the same filtered (half the query: its UI
     has one filter box and no OR), and its 500-run comparison. autotrack's pages are timed with no
     MLflow server running, and MLflow's with no autotrack server.
   Targets: runs page and filtered query < 1 s, 500-run comparison < 2 s, search_runs < 2 s.

Writes benchmarks/results/scale.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).parent))
from fill_store import fill_store  # noqa: E402
from ui import CHROMIUM, CHROMIUM_ARGS, Dashboard  # noqa: E402

HERE = Path(__file__).resolve().parent
QUERY = "metrics.valid_0.auc > 0.5 and params.max_depth in (3, 5)"
# MLflow's search has neither OR nor IN for params: the query is two searches there, their rows
# put together by the user.
MLFLOW_QUERIES = ["metrics.`valid_0.auc` > 0.5 and params.max_depth = '3'",
                  "metrics.`valid_0.auc` > 0.5 and params.max_depth = '5'"]
COMPARED = 500
TARGETS_S = {"runs page": 1.0, "filtered runs page": 1.0, "500-run comparison": 2.0, "search_runs (all)": 2.0}
MLFLOW_TIMEOUT_S = 600


def median(values: list[float]) -> float | None:
    values = [value for value in values if value is not None]
    return round(statistics.median(values), 3) if values else None


# -- the MLflow copy ------------------------------------------------------------------------------
def mirror_to_mlflow(store: Path, folder: Path) -> tuple[str, dict[str, str]]:
    """MLflow's database with the store's runs; returns (its URI, {experiment name: id})."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    db = folder / "mlflow.db"
    uri = f"sqlite:///{db}"
    SqlAlchemyStore(uri, str(folder / "artifacts"))  # MLflow creates its own schema
    source = sqlite3.connect(f"file:{store / 'runs.db'}?mode=ro", uri=True)
    target = sqlite3.connect(str(db), isolation_level=None)
    target.execute("PRAGMA synchronous = OFF")
    target.execute("PRAGMA journal_mode = MEMORY")
    experiments = {}
    now = int(time.time() * 1000)
    for index, (name,) in enumerate(source.execute("SELECT DISTINCT experiment FROM runs ORDER BY 1"), start=1):
        target.execute("INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time,"
                       " last_update_time) VALUES (?, ?, ?, 'active', ?, ?)",
                       (index, name, str(folder / "artifacts" / str(index)), now, now))
        experiments[name] = str(index)
    statuses = {"finished": "FINISHED", "failed": "FAILED", "running": "RUNNING", "killed": "KILLED"}
    target.execute("BEGIN")
    target.executemany(
        "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time,"
        " end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) VALUES"
        " (?, ?, 'LOCAL', '', '', 'me', ?, ?, ?, '', 'active', ?, ?)",
        ((run_id, name, statuses.get(status, "FINISHED"), int(start * 1000), int(end * 1000) if end else None,
          str(folder / "artifacts" / run_id), experiments[experiment])
         for run_id, name, status, start, end, experiment in source.execute(
            "SELECT id, name, status, start_time, end_time, experiment FROM runs")))
    # MLflow keeps params as text: what `mlflow.log_param(3)` would have sent.
    target.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
                       ((key, str(json.loads(value)), run_id) for run_id, key, value in
                        source.execute("SELECT run_id, key, value FROM params")))
    target.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
                       ((key, value, run_id) for run_id, key, value in source.execute("SELECT run_id, key, value FROM tags")))
    target.executemany("INSERT INTO tags (key, value, run_uuid) VALUES ('mlflow.parentRunId', ?, ?)",
                       source.execute("SELECT parent_id, id FROM runs WHERE parent_id IS NOT NULL"))
    target.executemany(
        "INSERT OR IGNORE INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, 0)",
        source.execute("SELECT s.key, m.value, CAST(m.timestamp * 1000 AS INTEGER), s.run_id, m.step "
                       "FROM series s JOIN metrics m ON m.series = s.id"))
    target.execute("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
                   "SELECT key, value, timestamp, step, is_nan, run_uuid FROM metrics m WHERE rowid = "
                   "(SELECT rowid FROM metrics WHERE run_uuid = m.run_uuid AND key = m.key "
                   "ORDER BY step DESC, timestamp DESC LIMIT 1)")
    target.execute("COMMIT")
    source.close()
    target.close()
    return uri, experiments


def mlflow_search(uri: str, experiment_ids: list[str], queries: list[str]) -> float | str:
    """mlflow.search_runs in a fresh process (as a user's notebook runs it), timed inside: one
    search per query (none: every run), their frames put together."""
    code = (
        "import sys, time, mlflow, pandas\n"
        "mlflow.set_tracking_uri(sys.argv[1])\n"
        "ids = sys.argv[2].split(',')\n"
        "queries = sys.argv[3:] or ['']\n"
        "started = time.perf_counter()\n"
        "frame = pandas.concat([mlflow.search_runs(experiment_ids=ids, filter_string=query, max_results=100000)\n"
        "                       for query in queries])\n"
        "print(len(frame), time.perf_counter() - started)\n")
    try:
        done = subprocess.run([sys.executable, "-c", code, uri, ",".join(experiment_ids), *queries],
                              capture_output=True, text=True, timeout=MLFLOW_TIMEOUT_S,
                              env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"})
    except subprocess.TimeoutExpired:
        return f"over {MLFLOW_TIMEOUT_S} s"
    if done.returncode != 0:
        return "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1]
    rows, seconds = done.stdout.split()[-2:]
    return round(float(seconds), 3)


class MlflowServer:
    def __init__(self, uri: str, folder: Path):
        self.uri, self.folder = uri, folder

    def __enter__(self) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", self.uri, "--host", "127.0.0.1",
             "--port", str(port), "--default-artifact-root", str(self.folder / "artifacts"), "--workers", "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"})
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return url
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("mlflow server did not start")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


# -- the browser ----------------------------------------------------------------------------------
_FCP = """() => { const entry = performance.getEntriesByName('first-contentful-paint')[0];
                   return entry ? entry.startTime / 1000 : null; }"""


def visit(browser, url: str, ready: str, timeout_s: float = 60) -> dict:
    """A first visit (new context: empty cache): first contentful paint, and until `ready` (a JS
    expression) is true."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    started = time.perf_counter()
    try:
        page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        page.wait_for_function(ready, timeout=timeout_s * 1000, polling=50)
        listed = time.perf_counter() - started
        page.wait_for_function("() => performance.getEntriesByName('first-contentful-paint').length > 0",
                               timeout=timeout_s * 1000)
        fcp = page.evaluate(_FCP)
    except Exception as exc:  # noqa: BLE001: a page that never gets there is a figure too
        return {"listed_s": None, "fcp_s": None, "error": f"not ready in {timeout_s:.0f} s ({type(exc).__name__})"}
    finally:
        context.close()
    return {"listed_s": round(listed, 3), "fcp_s": round(fcp, 3) if fcp is not None else None}


def browse(autotrack_url: str | None, mlflow_url: str | None, compared: list[str], experiment_ids: list[str],
           repeat: int) -> dict:
    from playwright.sync_api import sync_playwright

    pages = {}
    if autotrack_url:
        pages["runs page"] = (f"{autotrack_url}/", "() => document.querySelectorAll('#runs tbody tr').length >= 50")
        pages["filtered runs page"] = (f"{autotrack_url}/?filter={quote(QUERY)}",
                                       "() => document.querySelectorAll('#runs tbody tr').length >= 50")
        pages["500-run comparison"] = (f"{autotrack_url}/compare?runs={','.join(compared)}",
                                       f"() => document.querySelectorAll('.parcoords-svg path.line').length >= {len(compared)}")
    if mlflow_url:
        experiments = quote(json.dumps(experiment_ids))
        rows = "() => document.querySelectorAll('.ag-row').length >= 20"
        runs_page = f"{mlflow_url}/#/experiments/{experiment_ids[0]}/runs"
        pages["MLflow: runs page"] = (runs_page, rows)
        pages["MLflow: filtered (half the query)"] = (f"{runs_page}?searchFilter={quote(MLFLOW_QUERIES[0])}", rows)
        pages["MLflow: 500-run comparison"] = (
            f"{mlflow_url}/#/compare-runs?runs={quote(json.dumps(compared))}&experiments={experiments}",
            f"() => document.body.innerText.includes({json.dumps(compared[-1][:8])})")
    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # One visit not timed: each server's first request (imports, the database's first pages) is
        # not what a user waits for each time.
        first_url, first_ready = next(iter(pages.values()))
        visit(browser, first_url, first_ready, timeout_s=120)
        for label, (url, ready) in pages.items():
            visits = [visit(browser, url, ready) for _ in range(repeat)]
            results[label] = {"listed_s": median([v["listed_s"] for v in visits]),
                              "fcp_s": median([v["fcp_s"] for v in visits]),
                              "error": next((v["error"] for v in visits if v.get("error")), None)}
            print(f"  {label}: {results[label]}", flush=True)
        browser.close()
    return results


# -- autotrack in process -------------------------------------------------------------------------
def time_search(store: Path, query: str | None, repeat: int) -> float:
    import autotrack

    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        frame = autotrack.search_runs(where=query, store=str(store))
        times.append(time.perf_counter() - started)
    print(f"  search_runs({query!r}): {len(frame)} runs x {len(frame.columns)} columns", flush=True)
    return median(times)


def time_cli(store: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "autotrack", "runs", "--where", QUERY, "--store", str(store)],
                       check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--curve-runs", type=int, default=10_000)
    parser.add_argument("--curve-points", type=int, default=860)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--keep", help="build (or reuse) the stores in this folder")
    args = parser.parse_args(argv)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="autotrack-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    store = folder / "store"
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                     "runs": args.runs, "query": QUERY, "mlflow_queries": MLFLOW_QUERIES, "targets_s": TARGETS_S}
    try:
        if not (store / "runs.db").exists():
            filled = fill_store(store, runs=args.runs, points=100_000, curve_runs=args.curve_runs,
                                curve_points=args.curve_points)
            print(f"filled the store: {filled}", flush=True)
        conn = sqlite3.connect(f"file:{store / 'runs.db'}?mode=ro", uri=True)
        results["points"] = conn.execute("SELECT count(*) FROM metrics").fetchone()[0]
        compared = [row[0] for row in conn.execute(
            f"SELECT id FROM runs WHERE parent_id IS NULL ORDER BY start_time DESC LIMIT {COMPARED}")]
        conn.close()
        print(f"{args.runs} runs, {results['points']:,} points", flush=True)
        results["autotrack"] = {"search_runs (all)": time_search(store, None, args.repeat),
                                "search_runs (query)": time_search(store, QUERY, args.repeat),
                                "runs --where (new process)": time_cli(store, args.repeat)}
        print(f"autotrack: {results['autotrack']}", flush=True)
        uri, experiments = None, {}
        if not args.no_mlflow:
            mlflow_folder = folder / "mlflow"
            if not (mlflow_folder / "mlflow.db").exists():
                mlflow_folder.mkdir(exist_ok=True)
                started = time.perf_counter()
                uri, experiments = mirror_to_mlflow(store, mlflow_folder)
                print(f"MLflow copy written in {time.perf_counter() - started:.0f} s", flush=True)
            else:
                uri = f"sqlite:///{mlflow_folder / 'mlflow.db'}"
                mirror = sqlite3.connect(str(mlflow_folder / "mlflow.db"))
                experiments = {name: str(eid) for eid, name in mirror.execute(
                    "SELECT experiment_id, name FROM experiments WHERE experiment_id > 0")}
                mirror.close()
            ids = sorted(experiments.values(), key=int)
            results["mlflow"] = {"search_runs (all)": mlflow_search(uri, ids, []),
                                 "search_runs (query)": mlflow_search(uri, ids, MLFLOW_QUERIES)}
            print(f"MLflow: {results['mlflow']}", flush=True)
        if not args.no_browser and Path(CHROMIUM).exists():
            with Dashboard(str(store), start_timeout=120) as url:
                results["browser"] = browse(url, None, compared, [], args.repeat)
            if uri:
                with MlflowServer(uri, folder / "mlflow") as mlflow_url:
                    results["browser"].update(browse(None, mlflow_url, compared, sorted(experiments.values(), key=int),
                                                     args.repeat))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "scale.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
