"""Can a run be reproduced now? A verdict without running anything: its code (the snapshot kept
with it against the files now, its commit against HEAD), its packages (the versions it ran with
against this environment's) and its data files (what it read against what they hold now)."""

from __future__ import annotations

import difflib
import json
import os
import sys
from importlib import metadata

from autotrack.capture.sources import SOURCES_ARTIFACT


def snapshot_files(run: dict) -> dict[str, str] | None:
    """{relative path: text} of the code the run ran, or None when none was kept."""
    artifact = next((a for a in run.get("artifacts") or () if a["name"] == SOURCES_ARTIFACT), None)
    if artifact is None or not os.path.isfile(artifact["path"]):
        return None
    with open(artifact["path"], encoding="utf-8") as handle:
        return json.load(handle)


def check(run: dict) -> dict:
    """{"code", "packages", "data", "python", "verdict", "causes"}; each part has its own verdict."""
    code, packages, data = check_code(run), check_packages(run), check_data(run)
    python_now = ".".join(map(str, sys.version_info[:3]))
    python_then = ((run.get("context") or {}).get("python") or {}).get("version")
    causes = [part for part, result in (("code", code), ("packages", packages), ("data", data))
              if result["verdict"] == "differs"]
    if python_then and python_then != python_now:
        causes.append("python")
    return {"run_id": run["id"], "code": code, "packages": packages, "data": data,
            "python": {"run": python_then, "now": python_now}, "causes": causes,
            "verdict": "differs" if causes else "reproducible"}


def check_code(run: dict) -> dict:
    from autotrack.capture.redact import redact_text

    context = run.get("context") or {}
    sources = context.get("sources") or {}
    result: dict = {"commit": _commit_check(context)}
    files = snapshot_files(run)
    if not files:
        verdict = result["commit"].get("verdict", "unknown")
        result["verdict"] = {"same commit": "same", "commit differs": "differs"}.get(verdict, "unknown")
        result["detail"] = "no source snapshot was kept with this run (source_snapshot off, or run before it existed)"
        return result
    root = sources.get("root") or ""
    changed, missing = [], []
    for relative, kept in sorted(files.items()):
        path = os.path.join(root, relative)
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                now = handle.read()
        except OSError:
            missing.append(relative)
            continue
        if sources.get("mode") == "redacted":
            now = redact_text(now)  # compared as kept: a masked credential is not a change
        if now != kept:
            diff = "".join(difflib.unified_diff(kept.splitlines(True), now.splitlines(True),
                                                f"a/{relative} (the run)", f"b/{relative} (now)"))
            changed.append({"path": relative, "diff": diff})
    result.update(root=root, files=len(files), changed=changed, missing=missing,
                  verdict="differs" if changed or missing else "same",
                  detail="same snapshot" if not (changed or missing) else
                  f"{len(changed)} file(s) changed, {len(missing)} missing since the run")
    if sources.get("redacted_files"):
        result["redacted_files"] = sources["redacted_files"]
    return result


def _commit_check(context: dict) -> dict:
    git = context.get("git") or {}
    commit = git.get("commit")
    if not commit:
        return {"verdict": "not a git repository"}
    from autotrack.capture.git import head_commit

    root = (context.get("sources") or {}).get("root") or context.get("cwd") or os.getcwd()
    now = head_commit(root) if os.path.isdir(root) else None
    verdict = "same commit" if now == commit else "commit differs" if now else "repository gone"
    return {"verdict": verdict, "run": commit, "now": now, "dirty_at_run": bool(git.get("dirty"))}


def check_packages(run: dict) -> dict:
    then = (run.get("context") or {}).get("packages") or {}
    differ = []
    for name, version in sorted(then.items()):
        try:
            now = metadata.version(name)
        except metadata.PackageNotFoundError:
            now = None
        if now != version:
            differ.append({"name": name, "run": version, "now": now, "change": version_change(version, now)})
    if not then:
        return {"verdict": "unknown", "differ": [], "detail": "the run recorded no package versions"}
    return {"verdict": "differs" if differ else "same", "differ": differ, "checked": len(then)}


def version_change(then: str | None, now: str | None) -> str:
    """How far two versions are apart: major, minor, patch, other; missing when not installed."""
    from autotrack.integration import version_tuple

    if now is None:
        return "missing"
    a, b = version_tuple(then or ""), version_tuple(now)
    for index, name in enumerate(("major", "minor", "patch")):
        if a[index:index + 1] != b[index:index + 1]:
            return name
    return "other"


def check_data(run: dict) -> dict:
    from autotrack.capture.data_files import file_digest

    files = (run.get("context") or {}).get("data_files") or []
    if not files:
        return {"verdict": "unknown", "files": [],
                "detail": "the run read no data file autotrack saw (data made in code is compared by re-running)"}
    checked = []
    for entry in files:
        try:
            now = file_digest(entry["path"])
        except OSError:
            now = None
        checked.append({"path": entry["path"], "run": entry["digest"], "now": now, "same": now == entry["digest"]})
    return {"verdict": "same" if all(item["same"] for item in checked) else "differs", "files": checked}


__all__ = ["check", "check_code", "check_packages", "check_data", "snapshot_files", "version_change"]
