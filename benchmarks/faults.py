"""The fault campaign of issue 12, with more trials than `make test` runs: what is lost, what stalls,
what hangs, what leaks. Each scenario runs the scripts of tests/fault_scripts in subprocesses with
AUTOTRACK=1, as tests/test_durability.py does, and counts; the table is for BENCHMARKS.md.

    python benchmarks/faults.py [--kills 50] [--lock-s 20] [--only kill,fork,...]

Exits 1 when a promise of README's "Where runs go" does not hold in some trial.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "tests" / "fault_scripts"
sys.path.insert(0, str(ROOT))
from autotrack.writer import DURABLE_WITHIN_S  # noqa: E402


def _env(store: Path, **extra) -> dict:
    return {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(store), "AUTOTRACK_STRICT": "1",
            **{key: str(value) for key, value in extra.items()}}


def _script(name: str, *args, store: Path, timeout: float = 300, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPTS / name), *map(str, args)], env=_env(store, **env),
                          capture_output=True, text=True, timeout=timeout)


def _runs(store: Path) -> list[tuple]:
    conn = sqlite3.connect((store / "runs.db").as_uri() + "?mode=ro", uri=True)
    try:
        return conn.execute("SELECT id, name, status, dropped FROM runs").fetchall()
    finally:
        conn.close()


def _intact(store: Path) -> bool:
    conn = sqlite3.connect((store / "runs.db").as_uri() + "?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def kills(work: Path, trials: int) -> dict:
    """SIGKILL at a random moment of a loop of fits and short runs."""
    rng = random.Random(50)
    settled = lost = finished_as_killed = damaged = 0
    oldest_lost = 0.0
    for trial in range(trials):
        store = work / f"kill{trial}"
        process = subprocess.Popen([sys.executable, str(SCRIPTS / "fits_until_killed.py")],
                                   stdout=subprocess.PIPE, text=True, env=_env(store))
        first = process.stdout.readline()
        time.sleep(rng.uniform(0.2, 2 * DURABLE_WITHIN_S + 2))
        process.send_signal(signal.SIGKILL)
        killed_at = time.time()
        out = first + process.communicate()[0]
        ended = {parts[1]: killed_at - float(parts[2]) for parts in
                 (line.split() for line in out.splitlines() if line.startswith("ended "))}
        stored = {run_id: status for run_id, _name, status, _ in _runs(store)}
        for run_id, age in ended.items():
            if age > DURABLE_WITHIN_S:
                settled += 1
                if run_id not in stored:
                    lost += 1
                    oldest_lost = max(oldest_lost, age)
                elif stored[run_id] != "finished":
                    finished_as_killed += 1
        damaged += not _intact(store)
    return {"scenario": f"kill -9 at random moments ({trials} trials)",
            "measured": f"{settled} runs ended > {DURABLE_WITHIN_S:.0f} s before a kill: {lost} lost "
                        f"(oldest {oldest_lost:.1f} s), {finished_as_killed} shown killed; "
                        f"{damaged} stores damaged",
            "ok": lost == finished_as_killed == damaged == 0 and settled > 0}


def forks(work: Path, n: int) -> dict:
    store = work / "fork"
    started = time.monotonic()
    result = _script("fork_children.py", n, store=store)
    expected = json.loads(result.stdout.splitlines()[-1]) if result.returncode == 0 else {}
    statuses = Counter(("manual" if name.startswith("manual") else "fit", status)
                       for _, name, status, _ in _runs(store))
    want = {("fit", "finished"): expected.get("fits"), ("manual", "finished"): expected.get("manual")}
    return {"scenario": f"fork Pool ({n} fits, {n} start_run, terminate()) and {n} raw fork() + os._exit",
            "measured": f"{statuses[('fit', 'finished')]}/{2 * n} fits and {statuses[('manual', 'finished')]}/{n} "
                        f"runs recorded finished; {time.monotonic() - started:.1f} s; exit {result.returncode}",
            "ok": result.returncode == 0 and dict(statuses) == want and _intact(store)}


def pool_repeats(work: Path, n: int) -> dict:
    """A fork Pool ended by terminate(), again and again: a hang shows as a timeout."""
    hangs = failures = 0
    for trial in range(n):
        try:
            result = _script("fork_children.py", 2, store=work / f"repeat{trial}", timeout=60)
            failures += result.returncode != 0
        except subprocess.TimeoutExpired:
            hangs += 1
    return {"scenario": f"fork Pool ended by terminate(), {n} times",
            "measured": f"{hangs} hangs, {failures} failures", "ok": hangs == failures == 0}


def busy_parent(work: Path, n: int) -> dict:
    store = work / "busy"
    result = _script("busy_parent_fork.py", n, store=store)
    outcome = json.loads(result.stdout.splitlines()[-1]) if result.returncode == 0 else {"slowest_s": float("nan")}
    fits = [status for _, name, status, _ in _runs(store) if name.startswith("LogisticRegression")]
    return {"scenario": f"{n} fork children while the parent floods its writer",
            "measured": f"{fits.count('finished')}/{n} recorded; slowest child {outcome['slowest_s']:.2f} s",
            "ok": result.returncode == 0 and fits.count("finished") == n and outcome["slowest_s"] < 5}


def locked(work: Path, lock_s: float) -> dict:
    store = work / "locked"
    _script("metric_flood.py", 0.1, 1000, store=store)
    locker = subprocess.Popen([sys.executable, str(SCRIPTS / "lock_store.py"), str(store / "runs.db"), str(lock_s)],
                              stdout=subprocess.PIPE, text=True)
    locker.stdout.readline()
    # The loop ends while the lock is held; exit may wait for it (exit_timeout above the lock).
    result = _script("metric_flood.py", lock_s / 4, 100_000, store=store, AUTOTRACK_EXIT_TIMEOUT=2 * lock_s)
    locker.wait()
    outcome = json.loads(result.stdout.splitlines()[-1])
    conn = sqlite3.connect(store / "runs.db")
    kept = conn.execute("SELECT count(*) FROM metrics m JOIN series s ON s.id = m.series WHERE s.run_id = ?",
                        (outcome["run"],)).fetchone()[0]
    dropped = json.loads(conn.execute("SELECT dropped FROM runs WHERE id = ?", (outcome["run"],)).fetchone()[0] or "{}")
    conn.close()
    counted = kept + dropped.get("points", 0) == outcome["logged"]
    return {"scenario": f"store write-locked by another program for {lock_s:.0f} s, log_metrics loop",
            "measured": f"slowest log_metrics {outcome['slowest_s'] * 1000:.1f} ms; {outcome['logged']:,} logged, "
                        f"{kept:,} kept, {dropped.get('points', 0):,} dropped and counted"
                        f"{'' if counted else ' (counts do not add up)'}",
            "ok": result.returncode == 0 and counted and outcome["slowest_s"] < 0.5}


def full_disk(work: Path) -> dict:
    mount = work / "tiny"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True).returncode:
        return {"scenario": "full disk (3 MiB tmpfs)", "measured": "skipped: cannot mount here", "ok": True}
    try:
        store = mount / "store"
        started = time.monotonic()
        result = _script("metric_flood.py", 3.0, 1_000_000, store=store, AUTOTRACK_EXIT_TIMEOUT=2)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        named = any("the disk is full" in line for line in lines)
        return {"scenario": "full disk (3 MiB tmpfs), log_metrics loop of 3 s",
                "measured": f"exit {result.returncode} after {time.monotonic() - started:.1f} s; {len(lines)} "
                            f"stderr lines, disk full named: {named}; "
                            f"lost reported: {any('are lost' in line for line in lines)}",
                "ok": result.returncode == 0 and named and len(lines) <= 3 and _intact(store)}
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


SCENARIOS = {"kill": kills, "fork": forks, "repeat": pool_repeats, "busy": busy_parent, "lock": locked,
             "disk": full_disk}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--forks", type=int, default=20)
    parser.add_argument("--lock-s", type=float, default=20.0)
    parser.add_argument("--only", default=",".join(SCENARIOS))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="autotrack-faults-") as tmp:
        work = Path(tmp)
        for name in args.only.split(","):
            if name == "kill":
                rows.append(kills(work, args.kills))
            elif name in ("fork", "busy", "repeat"):
                rows.append(SCENARIOS[name](work, args.forks))
            elif name == "lock":
                rows.append(locked(work, args.lock_s))
            else:
                rows.append(SCENARIOS[name](work))
            print(f"{rows[-1]['scenario']}: {rows[-1]['measured']}", flush=True)
    print("\n| scenario | measured | holds |\n|---|---|---|")
    for row in rows:
        print(f"| {row['scenario']} | {row['measured']} | {'yes' if row['ok'] else '**no**'} |")
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
