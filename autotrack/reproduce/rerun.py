"""Re-run a run: its code recreated from the snapshot kept with it in a temporary folder, its
command run again from its working directory with tracking on, and the new run compared with the
original: params, data fingerprints, metrics within a tolerance; what differs and its likely cause."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import time

from autotrack.reproduce.check import check, snapshot_files

SEED_WORDS = ("seed", "random_state")


class CannotRerun(ValueError):
    """The run lacks what a re-run needs; the message says what."""


def rerun(reader, run_id: str, rtol: float = 1e-6, timeout: float | None = None) -> dict:
    run = reader.get_run(run_id)
    context = run.get("context") or {}
    files = snapshot_files(run)
    if not files:
        raise CannotRerun(f"run {run_id[:8]} has no source snapshot to re-run (source_snapshot was off, or the "
                          f"run was not started from a script)")
    script, cwd = context.get("script"), context.get("cwd")
    root = (context.get("sources") or {}).get("root")
    if not script or not root or not cwd:
        raise CannotRerun(f"run {run_id[:8]} did not record its script and working directory")
    if not os.path.isdir(cwd):
        raise CannotRerun(f"the run's working directory {cwd} is gone: its data paths are relative to it")
    before = check(run)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="autotrack-reproduce-") as folder:
        for relative, text in files.items():
            path = os.path.join(folder, relative)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        copied = os.path.join(folder, os.path.relpath(script, root))
        argv = list(context.get("argv") or [script])
        env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(reader.directory),
               "AUTOTRACK_EXPERIMENT": run["experiment"]}
        process = subprocess.run([sys.executable, copied, *argv[1:]], cwd=cwd, env=env, capture_output=True,
                                 text=True, timeout=timeout)
    if process.returncode != 0:
        tail = (process.stderr or process.stdout).strip().splitlines()[-1:] or ["(no output)"]
        return {"run_id": run["id"], "verdict": "failed", "exit_code": process.returncode, "error": tail[0],
                "check": before}
    new_id = _matching_run(reader, run, started)
    if new_id is None:
        return {"run_id": run["id"], "verdict": "no run", "check": before,
                "error": f"the re-run recorded no run named {run['name']!r}"}
    _tag(reader.directory, new_id, run["id"])
    new = reader.get_run(new_id)
    return {"run_id": run["id"], "new_run_id": new_id, **compare(run, new, rtol, before)}


def _matching_run(reader, run: dict, since: float) -> str | None:
    """The re-run's run that stands for the original: the same name, at the same place among the
    runs of that name its process made."""
    original = reader.fetch("SELECT host, pid, proc_token FROM runs WHERE id = ?", (run["id"],))[0]
    siblings = [row[0] for row in reader.fetch(
        "SELECT id FROM runs WHERE host = ? AND pid = ? AND proc_token IS ? AND name IS ? AND parent_id IS NULL"
        " ORDER BY start_time, rowid", (*original, run["name"]))]
    index = siblings.index(run["id"]) if run["id"] in siblings else 0
    fresh = [row[0] for row in reader.fetch(
        "SELECT id FROM runs WHERE start_time >= ? AND name IS ? AND parent_id IS NULL AND id != ?"
        " ORDER BY start_time, rowid", (since, run["name"], run["id"]))]
    return fresh[index] if index < len(fresh) else (fresh[-1] if fresh else None)


def _tag(directory, new_id: str, original_id: str) -> None:
    from autotrack.stores.local import LocalStore

    store = LocalStore(str(directory))
    store.write([("tags", new_id, {"autotrack.reproduction_of": original_id})])
    store.conn.close()


def compare(run: dict, new: dict, rtol: float, before: dict) -> dict:
    params = {key: (run["params"].get(key), new["params"].get(key))
              for key in sorted(set(run["params"]) | set(new["params"]))
              if run["params"].get(key) != new["params"].get(key)}
    datasets = _fingerprints(run), _fingerprints(new)
    data = {role: (datasets[0].get(role), datasets[1].get(role))
            for role in sorted(set(datasets[0]) | set(datasets[1])) if datasets[0].get(role) != datasets[1].get(role)}
    metrics = {}
    for key in sorted(set(run["metrics"]) | set(new["metrics"])):
        a, b = run["metrics"].get(key), new["metrics"].get(key)
        if not _close(a, b, rtol):
            metrics[key] = (a, b)
    same = not (params or data or metrics)
    return {"verdict": "reproduced" if same else "differs", "rtol": rtol,
            "params": {k: {"run": a, "now": b} for k, (a, b) in params.items()},
            "datasets": {k: {"run": a, "now": b} for k, (a, b) in data.items()},
            "metrics": {k: {"run": a, "now": b} for k, (a, b) in metrics.items()},
            "likely_causes": [] if same else likely_causes(run, before, params, data),
            "check": before}


def _fingerprints(run: dict) -> dict[str, str]:
    return {d["role"]: d.get("fingerprint") for d in run.get("datasets") or () if d.get("role")}


def _close(a, b, rtol: float) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=rtol, abs_tol=1e-12)
    return a == b


def likely_causes(run: dict, before: dict, params: dict, data: dict) -> list[str]:
    """What changed since the run (check.py's verdict) first; else what the run left to chance."""
    causes = []
    packages = before["packages"].get("differ") or []
    if packages:
        causes.append("packages: " + ", ".join(f"{p['name']} {p['run']} \u2192 {p['now'] or 'missing'}"
                                                for p in packages[:5]))
    if before["data"]["verdict"] == "differs":
        causes.append("data: " + ", ".join(os.path.basename(f["path"]) for f in before["data"]["files"] if not f["same"]))
    if before["python"]["run"] not in (None, before["python"]["now"]):
        causes.append(f"python: {before['python']['run']} \u2192 {before['python']['now']}")
    if causes:
        return causes
    if data:
        return ["data made in code differs between runs (random data without a fixed seed?)"]
    if params:
        return ["params differ: arguments or settings read at run time (environment, clock)"]
    unseeded = sorted(key for key, value in run["params"].items()
                      if value is None and any(word in key.lower() for word in SEED_WORDS))
    if unseeded:
        return [f"nondeterminism without a seed: {', '.join(unseeded[:3])} is None"]
    return ["nondeterminism autotrack cannot see (threads, GPU kernels, the clock)"]


__all__ = ["rerun", "compare", "CannotRerun", "likely_causes"]
