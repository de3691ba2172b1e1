"""Scripts written the way the frameworks' tutorials write them (pipelines mutated after fit,
continued training, schedules, validation splits, CV estimators, stacking), run with AUTOTRACK=1
and AUTOTRACK_STRICT=1 as a user runs them. Each says what it computed (scripts/expect.py); the
store read back through `autotrack show --json` must hold exactly that."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parent / "scripts"
TUTORIALS = sorted(path.name for path in SCRIPTS.glob("*.py") if path.name != "expect.py")
NEEDS = {"sklearn_": ["sklearn"], "lightgbm_": ["lightgbm", "sklearn"], "xgboost_": ["xgboost", "sklearn"],
         "keras_": ["keras", "torch"], "lightning_": ["lightning", "torch"]}


def _cli(store: Path, *args: str):
    result = subprocess.run([sys.executable, "-m", "autotrack", *args, "--store", str(store)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _same(stored, expected) -> bool:
    if isinstance(expected, float) and isinstance(stored, (int, float)):
        return math.isclose(stored, expected, rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(expected, list) and isinstance(stored, list):
        return len(stored) == len(expected) and all(map(_same, stored, expected))
    return stored == expected


def test_tutorial_pattern_script_records_what_it_computed(name, tmp_path):
    for prefix, modules in NEEDS.items():
        if name.startswith(prefix):
            for module in modules:  # looked up, not imported: only the script imports them
                if importlib.util.find_spec(module) is None:
                    pytest.skip(f"{module} is not installed")
    store = tmp_path / "store"
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_STRICT": "1", "AUTOTRACK_DIR": str(store),
           "KERAS_BACKEND": "torch", "PYTHONPATH": str(SCRIPTS), "PYTHONWARNINGS": "ignore"}
    result = subprocess.run([sys.executable, str(SCRIPTS / name)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    expected = json.loads(result.stdout.strip().splitlines()[-1].removeprefix("EXPECT "))

    listed = _cli(store, "runs", "--json", "--limit", "0")
    if "top_level_runs" in expected:
        assert len([run for run in listed if run["parent_id"] is None]) == expected["top_level_runs"], \
            [run["name"] for run in listed]
    for want in expected["runs"]:
        matches = [run for run in listed if run["name"] == want["name"]]
        assert len(matches) == 1, (want["name"], [run["name"] for run in listed])
        run = _cli(store, "show", matches[0]["id"], "--json")
        label = f"{name}: {want['name']}"
        assert run["status"] == want["status"], (label, run["status"], run["error"])
        for key, value in want["params"].items():
            assert key in run["params"] and _same(run["params"][key], value), (label, key, run["params"].get(key), value)
        for key, value in want["metrics"].items():
            assert key in run["metrics"] and _same(run["metrics"][key], value), (label, key, run["metrics"].get(key), value)
        for key, values in want["history"].items():
            stored = [point[1] for point in run["history"].get(key, [])]
            assert _same(stored, values), (label, key, stored, values)
        for key, value in want["tags"].items():
            assert run["tags"].get(key) == str(value), (label, key, run["tags"].get(key), value)
        for key, goal in want["goals"].items():
            assert run["goals"].get(key) == goal, (label, key, run["goals"].get(key), goal)
        roles = {dataset["role"]: dataset for dataset in run["datasets"]}
        for role in want["datasets"]:
            role, _, rows = role.partition(":")
            assert role in roles, (label, role, sorted(roles))
            if rows:
                assert roles[role]["rows"] == int(rows), (label, role, roles[role]["rows"], rows)
        if want["children"] is not None:
            assert len([r for r in listed if r["parent_id"] == run["id"]]) == want["children"], label
        for key, value in want["context"].items():
            assert run["context"].get(key) == value, (label, key, run["context"].get(key), value)
        for kind, values in want["importances"].items():
            stored = run["importances"].get(kind) or {}
            assert set(stored) == set(values), (label, kind, sorted(stored), sorted(values))
            assert all(_same(stored[key], value) for key, value in values.items()), (label, kind, stored, values)
        names = [artifact["name"] for artifact in run["artifacts"]]
        for artifact in want["artifacts"]:
            assert artifact in names, (label, artifact, names)
        # Params never hold memory addresses or multi-line reprs.
        for key, value in run["params"].items():
            assert " at 0x" not in str(value) and "\n" not in str(value), (label, key, value)


def pytest_generate_tests(metafunc):
    if "name" in metafunc.fixturenames:
        metafunc.parametrize("name", TUTORIALS)
