"""The frameworks' own test suites, run as their developers run them, without autotrack and under
AUTOTRACK=1 AUTOTRACK_STRICT=1 (issue 11: invisible on code nobody here wrote). Each test's outcome
must be identical in both; the table gives the suite's wall time in each and their ratio (target:
under 1.3x), with the machine's default thread settings.

The suites are the installed packages' own tests (`pytest --pyargs`), or, written
`package:path`, tests from the package's source distribution at the installed version (Optuna's
wheel has no tests; its sdist, fetched from PyPI once into benchmarks/.sdists, does). LightGBM's
and XGBoost's wheels and source distributions carry no tests of their scikit-learn API (only the
projects' git repositories do), so they are not run here.

    python benchmarks/suites.py [--suites sklearn.tests.test_base,...] [--rounds N]

Exits 1 when an outcome differs, after printing which.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

SUITES = (
    "sklearn.tests.test_pipeline",
    "sklearn.tests.test_base",
    "sklearn.tests.test_multiclass",
    "sklearn.model_selection.tests.test_search",
    # Optuna's own: study.optimize (threads, callbacks, catch, every storage), its callbacks.
    "optuna:tests/study_tests/test_optimize.py",
    "optuna:tests/study_tests/test_study.py",
    "optuna:tests/test_callbacks.py",
)
SDISTS = Path(__file__).resolve().parent / ".sdists"


def _sdist(package: str) -> Path:
    """The source distribution of the installed version of `package`, unpacked (fetched once)."""
    import importlib.metadata
    import tarfile

    version = importlib.metadata.version(package)
    root = SDISTS / f"{package}-{version}"
    if not root.exists():
        SDISTS.mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory() as download:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                            f"{package}=={version}", "-d", download], check=True)
            archive = next(Path(download).glob("*.tar.gz"))
            with tarfile.open(archive) as tar:
                tar.extractall(SDISTS, filter="data")
    return root


def _outcomes(report: Path) -> dict[str, str]:
    """test id -> passed | failed | error | skipped, from pytest's JUnit XML."""
    outcomes = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}.get(kinds[0] if kinds else "", "passed")
        outcomes[f"{case.get('classname')}::{case.get('name')}"] = outcome
    return outcomes


def _run(suite: str, tracked: bool, folder: Path) -> tuple[float, dict[str, str]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTOTRACK")}
    if tracked:
        env.update(AUTOTRACK="1", AUTOTRACK_STRICT="1", AUTOTRACK_DIR=str(folder / "store"))
    report = folder / f"{suite}.{'tracked' if tracked else 'untracked'}.xml"
    if ":" in suite:  # tests from the package's source distribution, run from its root
        package, path = suite.split(":", 1)
        where, target = _sdist(package), [path]
        report = folder / f"{suite.replace(':', '-').replace('/', '-')}.{'tracked' if tracked else 'untracked'}.xml"
    else:
        where, target = folder, ["--pyargs", suite]
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *target,
                    "-o", "junit_family=xunit2", f"--junitxml={report}"],
                   cwd=where, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    if not report.exists():
        raise SystemExit(f"{suite} did not run ({'tracked' if tracked else 'untracked'}): no report")
    return elapsed, _outcomes(report)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--suites", default=",".join(SUITES))
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, thread settings: the machine's defaults "
          f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})\n")
    print("| Suite | tests (passed/skipped/failed) | identical outcomes | untracked (median s) | tracked (median s) | ratio |")
    print("|---|---|---|---|---|---|")
    differences = []
    for suite in args.suites.split(","):
        times: dict[bool, list[float]] = {False: [], True: []}
        with tempfile.TemporaryDirectory() as name:
            for _ in range(args.rounds):
                for tracked in (False, True):
                    elapsed, outcomes = _run(suite, tracked, Path(name))
                    times[tracked].append(elapsed)
                    if tracked:
                        tracked_outcomes = outcomes
                    else:
                        untracked_outcomes = outcomes
        differing = sorted(test for test in untracked_outcomes.keys() | tracked_outcomes.keys()
                           if untracked_outcomes.get(test) != tracked_outcomes.get(test))
        differences += [f"{test}: {untracked_outcomes.get(test)} untracked, {tracked_outcomes.get(test)} tracked"
                        for test in differing]
        counts = "/".join(str(list(untracked_outcomes.values()).count(kind)) for kind in ("passed", "skipped", "failed"))
        plain, under = statistics.median(times[False]), statistics.median(times[True])
        print(f"| `{suite}` | {len(untracked_outcomes)} ({counts}) | {'yes' if not differing else f'no: {len(differing)}'}"
              f" | {plain:.1f} | {under:.1f} | {under / plain:.2f}x |", flush=True)
    for line in differences:
        print(line)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
