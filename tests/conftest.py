"""Shared test helpers: strict mode everywhere, an isolated store, scripts run as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# tests/scripting.py holds helpers the end-to-end tests share; with --import-mode=importlib the
# tests folder is not on sys.path by itself.
sys.path.insert(0, str(Path(__file__).parent))

# Tracking errors must fail the tests, in this process and in every subprocess it starts.
os.environ["AUTOTRACK_STRICT"] = "1"
os.environ.pop("AUTOTRACK", None)


@pytest.fixture
def store(tmp_path) -> Path:
    """A fresh store directory; AUTOTRACK_DIR points at it for this test."""
    path = tmp_path / "store"
    return path


@pytest.fixture
def run_script(tmp_path, store):
    """Write `code` to a script and run it with AUTOTRACK=1 in a subprocess, as a user would."""

    def run(code: str, name: str = "train.py", env: dict | None = None, args: list[str] = (),
            check: bool = True, tracked: bool = True, timeout: float = 240) -> subprocess.CompletedProcess:
        script = tmp_path / name
        script.write_text(textwrap.dedent(code))
        full_env = {**os.environ, "AUTOTRACK_DIR": str(store), "AUTOTRACK_STRICT": "1"}
        if tracked:
            full_env["AUTOTRACK"] = "1"
        full_env.update(env or {})
        result = subprocess.run([sys.executable, str(script), *args], cwd=tmp_path, env=full_env,
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"script failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    return run


@pytest.fixture
def cli(store, tmp_path):
    """Run the `autotrack` command; with --json, return the parsed output."""

    def run(*args: str, check: bool = True, env: dict | None = None):
        full_env = {**os.environ, "AUTOTRACK_DIR": str(store), **(env or {})}
        result = subprocess.run([sys.executable, "-m", "autotrack", *args], cwd=tmp_path, env=full_env,
                                capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"autotrack {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        if "--json" in args and result.returncode == 0:
            return json.loads(result.stdout)
        return result

    return run
