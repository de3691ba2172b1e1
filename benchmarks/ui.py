"""How fast 10,000 runs read: `autotrack runs` in a fresh process, and the dashboard in a browser.

    python benchmarks/ui.py [--store DIR] [--runs 10000] [--points 100000] [--repeat 5] [--no-browser]

Without --store, a store is filled in a temporary directory by benchmarks/fill_store.py (10,000
runs, one of them with a 100,000-point training history). Then, median of --repeat each:

1. `autotrack runs` (default limit 50), `runs -n 0` and `runs --json -n 0`: wall time of the whole
   command in a new interpreter, output to a pipe (as `autotrack runs | less` would).
2. The dashboard: `autotrack ui --port 0 --no-browser` is started once; Playwright drives
   /usr/bin/chromium and times a first visit (a new browser context: empty cache) and a return
   visit (one context kept: plotly.js cached) of
   - the runs page `/` until the `load` event and until `networkidle` (Playwright's networkidle
     waits for 500 ms without requests, and those 500 ms are part of the figure);
   - the run page `/runs/<id>` of the long-history run until every chart is drawn: as many
     `.js-plotly-plot` elements holding an svg as the page has figures (its `curve-data` and
     `importance-data` JSON).
   Targets: `autotrack runs` < 1 s, runs page < 1 s, run page < 2 s.

Prints a table and writes benchmarks/results/ui.json. If the dashboard cannot start (not installed,
not written yet) or the browser is missing, that part is reported as skipped, with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TARGETS_S = {"runs": 1.0, "runs -n 0": 1.0, "runs --json -n 0": 1.0, "runs page (networkidle)": 1.0,
             "run page (charts drawn)": 2.0, "runs page, cached (networkidle)": 1.0,
             "run page, cached (charts drawn)": 2.0}
_URL = re.compile(r"http://127\.0\.0\.1:\d+")

# True once every figure the page embeds is a drawn plotly chart.
_CHARTS_DRAWN = """() => {
  let expected = 0;
  for (const id of ["curve-data", "importance-data"]) {
    const element = document.getElementById(id);
    if (!element) continue;
    try {
      const figures = JSON.parse(element.textContent);
      expected += Array.isArray(figures) ? figures.length : 0;
    } catch (error) {}
  }
  const plots = Array.from(document.querySelectorAll(".js-plotly-plot"));
  return plots.length > 0 && plots.length >= expected && plots.every((plot) => plot.querySelector("svg.main-svg"));
}"""


def time_command(args: list[str], repeat: int) -> list[float]:
    """Wall seconds of `autotrack ARGS` in a fresh interpreter, `repeat` times (after one warm-up)."""
    command = [sys.executable, "-m", "autotrack", *args]
    samples = []
    for attempt in range(repeat + 1):
        started = time.perf_counter()
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()}")
        if attempt:  # the first run warms the page cache and the .pyc files
            samples.append(elapsed)
    return samples


class Dashboard:
    """`autotrack ui` on a free port, for the length of a `with` block."""

    def __init__(self, store: str, start_timeout: float = 60):
        self.store = store
        self.start_timeout = start_timeout
        self.url: str | None = None
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> str:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "autotrack", "ui", "--store", self.store, "--port", "0", "--no-browser"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_pump, args=(self._process.stdout, lines), daemon=True).start()
        deadline = time.monotonic() + self.start_timeout
        said = []
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                if self._process.poll() is not None and lines.empty():
                    break
                continue
            if line is None:
                break
            said.append(line.rstrip())
            found = _URL.search(line)
            if found:
                self.url = found.group(0)
                return self.url
        self.__exit__()
        raise RuntimeError("`autotrack ui` did not print its URL: " + (" | ".join(said[-5:]) or "no output"))

    def __exit__(self, *exc) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()


def _pump(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def time_dashboard(store: str, run_id: str, repeat: int) -> dict:
    """Seconds per visit: a first visit (a new browser context: empty cache) and a return visit
    (one context kept throughout: plotly.js, which the dashboard serves as immutable, is cached)."""
    from playwright.sync_api import sync_playwright

    samples: dict[str, list[float]] = {name: [] for name in _DASHBOARD_MEASURES}
    with Dashboard(store) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            returning = browser.new_context()
            for attempt in range(repeat + 1):  # the first round warms the server (imports, plotly.js)
                first = browser.new_context()
                measured = {**_visit(first.new_page(), url, run_id, ""),
                            **_visit(returning.new_page(), url, run_id, ", cached")}
                first.close()
                if attempt:
                    for name, seconds in measured.items():
                        samples[name].append(seconds)
        finally:
            browser.close()
    return samples


_DASHBOARD_MEASURES = ["runs page (load)", "runs page (networkidle)", "run page (charts drawn)",
                       "runs page, cached (networkidle)", "run page, cached (charts drawn)"]


def _visit(page, url: str, run_id: str, label: str) -> dict:
    started = time.perf_counter()
    page.goto(url + "/", wait_until="load")
    loaded = time.perf_counter() - started
    page.wait_for_load_state("networkidle")
    idle = time.perf_counter() - started
    started = time.perf_counter()
    response = page.goto(f"{url}/runs/{run_id}", wait_until="commit")
    if response is None or not response.ok:
        raise RuntimeError(f"/runs/{run_id} answered {response.status if response else 'nothing'}")
    page.wait_for_function(_CHARTS_DRAWN, timeout=60_000, polling=10)
    drawn = time.perf_counter() - started
    page.close()
    measured = {f"runs page{label} (networkidle)": idle, f"run page{label} (charts drawn)": drawn}
    if not label:
        measured["runs page (load)"] = loaded
    return measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="an existing store (default: fill a temporary one)")
    parser.add_argument("--run", help="with --store: the run whose page to time (default: most metric points)")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true", help="time `autotrack runs` only")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="autotrack-ui-bench-") as scratch:
        if args.store:
            store, run_id, fill = args.store, args.run or _longest_run(args.store), None
        else:
            sys.path.insert(0, str(HERE))
            from fill_store import fill_store

            store = os.path.join(scratch, "store")
            fill = fill_store(store, runs=args.runs, points=args.points)
            run_id = fill["points_run"]
            print(f"filled {store}: {fill['runs']} runs in {fill['seconds']} s", flush=True)
        samples = {
            "runs": time_command(["runs", "--store", store], args.repeat),
            "runs -n 0": time_command(["runs", "--store", store, "-n", "0"], args.repeat),
            "runs --json -n 0": time_command(["runs", "--store", store, "--json", "-n", "0"], args.repeat),
        }
        skipped = None
        if args.no_browser:
            skipped = "--no-browser"
        else:
            try:
                samples.update(time_dashboard(store, run_id, args.repeat))
            except Exception as exc:  # the dashboard or the browser is not there: say why, keep the rest
                skipped = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "store": {"runs": args.runs if fill else None, "points_run": run_id,
                  "points": args.points if fill else None, "filled_in_s": fill["seconds"] if fill else None},
        "repeat": args.repeat,
        "median_s": {name: round(statistics.median(values), 4) for name, values in samples.items() if values},
        "samples_s": {name: [round(value, 4) for value in values] for name, values in samples.items()},
        "targets_s": TARGETS_S,
        "dashboard_skipped": skipped,
    }
    _print_table(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ui.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS / 'ui.json'}")
    return 0


def _longest_run(store: str) -> str:
    from autotrack.stores.local import connect, store_dir

    conn = connect(store_dir(store), create=False)
    try:
        row = conn.execute("SELECT s.run_id FROM series s JOIN metrics m ON m.series = s.id "
                           "GROUP BY s.run_id ORDER BY count(*) DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    if row is None:
        raise SystemExit(f"no metric points in {store}: give --run")
    return row[0]


def _print_table(report: dict) -> None:
    print(f"\n{'measure':<34} {'median':>9} {'min':>9} {'max':>9} {'target':>8}  pass")
    for name, values in report["samples_s"].items():
        if not values:
            continue
        target = TARGETS_S.get(name)
        median = statistics.median(values)
        verdict = "" if target is None else ("yes" if median < target else "NO")
        print(f"{name:<34} {median:>8.3f}s {min(values):>8.3f}s {max(values):>8.3f}s "
              f"{'' if target is None else f'< {target:g} s':>8}  {verdict}")
    if report["dashboard_skipped"]:
        print(f"dashboard skipped: {report['dashboard_skipped']}")


if __name__ == "__main__":
    sys.exit(main())
