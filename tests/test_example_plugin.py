"""examples/plugin, installed for real with pip, as a third party's package would be."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plugin"

FIT = """
from sklearn.linear_model import LogisticRegression
model = LogisticRegression().fit([[0.0], [1.0], [0.2], [0.9]], [0, 1, 0, 1])
print("fitted")
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """`pip install --target` of a copy (building in place would leave build files in the repo)."""
    root = tmp_path_factory.mktemp("example-plugin")
    source = root / "source"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), str(source)],
                   check=True, capture_output=True, text=True, timeout=180)
    return target


def _env(installed: Path, tmp_path: Path, **extra) -> dict:
    return {"PYTHONPATH": str(installed), "XDG_CACHE_HOME": str(tmp_path / "cache"), **extra}


def _records(store: Path) -> list[dict]:
    path = store / "records.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_autotrack_plugins_lists_the_installed_example(cli, installed, tmp_path):
    plugins = {row["name"]: row for row in cli("plugins", "--json", env=_env(installed, tmp_path))}
    assert plugins["example"]["kind"] == "context" and plugins["jsonl"]["kind"] == "store"
    for name in ("example", "jsonl"):
        assert plugins[name]["state"] == "active"
        assert plugins[name]["distribution"] == "autotrack-example-plugin"


def test_example_context_and_jsonl_store_record_a_training_script(cli, run_script, store, installed, tmp_path):
    env = _env(installed, tmp_path, EXAMPLE_LABEL="nightly")
    assert "fitted" in run_script(FIT, env=env).stdout
    (summary,) = cli("runs", "--json", env=env)
    run = cli("show", summary["id"], "--json", env=env)
    example = run["context"]["example"]
    assert example["plugin"] == "autotrack-example-plugin" and example["label"] == "nightly"
    records = _records(store)
    kinds = {record["kind"] for record in records if record["run_id"] == run["id"]}
    assert {"run_start", "params", "run_end", "merge", "artifact"} <= kinds
    start = next(r for r in records if r["kind"] == "run_start")
    assert start["data"][0]["name"] == "LogisticRegression"
    # The built-in local store comes first, so it holds the artifact files the CLI points at.
    model = next(a for a in run["artifacts"] if a["name"].startswith("model"))
    assert Path(model["path"]).is_file() and Path(model["path"]).is_relative_to(store)
    assert (store / "records.jsonl").stat().st_mode & 0o077 == 0  # private, as the local store


@pytest.mark.parametrize("disabled, context_on, store_on", [
    ("example", False, True), ("jsonl", True, False), ("example,jsonl", False, False),
])
def test_disable_switches_each_example_plugin_off(cli, run_script, store, installed, tmp_path,
                                                  disabled, context_on, store_on):
    env = _env(installed, tmp_path, AUTOTRACK_DISABLE=disabled)
    plugins = {row["name"]: row["state"] for row in cli("plugins", "--json", env=env)}
    assert plugins["example"] == ("active" if context_on else "disabled")
    assert plugins["jsonl"] == ("active" if store_on else "disabled")
    run_script(FIT, env=env)
    (summary,) = cli("runs", "--json", env=env)
    assert ("example" in cli("show", summary["id"], "--json", env=env)["context"]) == context_on
    assert bool(_records(store)) == store_on
