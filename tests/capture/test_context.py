"""Tests for autotrack.capture.context."""

import getpass
import importlib.metadata
import os
import sys
import types

import pytest

from autotrack.capture import context as context_module
from autotrack.capture.context import imported_top_level_modules, package_versions, system_context
from autotrack.capture.redact import MASK


def test_system_context_keys_and_values(monkeypatch, tmp_path):
    script = tmp_path / "train.py"
    script.write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["train.py", "--lr", "0.1", "--api-key", "sk-123", "--password=pw"])
    ctx = system_context()
    assert set(ctx) >= {"python", "platform", "machine", "host", "user", "pid", "argv", "cwd", "script", "env"}
    assert ctx["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert ctx["python"]["executable"] == sys.executable
    assert ctx["python"]["implementation"]
    assert ctx["pid"] == os.getpid()
    assert ctx["cwd"] == str(tmp_path)
    assert ctx["script"] == str(script)
    assert ctx["argv"] == ["train.py", "--lr", "0.1", "--api-key", MASK, f"--password={MASK}"]
    assert "sk-123" not in repr(ctx)


def test_script_is_none_for_inline_code(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["-c"])
    assert system_context()["script"] is None


def test_module_name_for_python_m(monkeypatch):
    fake_main = types.ModuleType("__main__")
    fake_main.__spec__ = types.SimpleNamespace(name="mypkg.__main__")
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    assert system_context()["module"] == "mypkg"
    fake_main.__spec__ = None
    assert system_context()["module"] is None


def test_user_falls_back_to_none(monkeypatch):
    def no_user():
        raise KeyError("getpwuid(): uid not found: 12345")

    monkeypatch.setattr(getpass, "getuser", no_user)
    assert system_context()["user"] is None


def test_env_selection_is_narrow_and_redacted(monkeypatch):
    monkeypatch.setenv("AUTOTRACK_STORE", "postgres://u:pw@db/runs")
    monkeypatch.setenv("AUTOTRACK_RUN_CONTEXT", '{"run_id": "another run"}')
    monkeypatch.setenv("AUTOTRACK_NOTIFY_URL", "https://hooks.example.com/T000/secret")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_leak")
    monkeypatch.setenv("SOME_OTHER_VAR", "x")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://u:pw@mlflow:5000")
    env = system_context()["env"]
    # autotrack's own machinery (its switch, settings, a parent run's id, a webhook) is not the run's
    assert not [key for key in env if key.startswith("AUTOTRACK")]
    assert env["CUDA_VISIBLE_DEVICES"] == "0,1"
    assert "GITHUB_TOKEN" not in env
    assert "SOME_OTHER_VAR" not in env


def test_package_versions_known_packages():
    versions = package_versions(["pytest", "numpy", "surely_not_a_module_xyz"])
    assert versions["pytest"] == pytest.__version__
    assert versions["numpy"] == importlib.metadata.version("numpy")
    assert "surely_not_a_module_xyz" not in versions
    assert package_versions([]) == {}


def test_package_versions_maps_import_name_to_distribution(monkeypatch):
    monkeypatch.setattr(context_module, "_distributions_by_import_name", lambda: {"yaml": ["PyYAML"]})
    monkeypatch.setattr(context_module, "_distribution_version", {"PyYAML": "6.0.1"}.get)
    assert package_versions(["yaml"]) == {"PyYAML": "6.0.1"}


def test_packages_distributions_is_computed_once_per_environment(monkeypatch, tmp_path):
    # Once per process, and across processes kept in the user's cache folder until a folder on
    # sys.path changes (an install or an uninstall).
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    calls = []
    real = importlib.metadata.packages_distributions
    monkeypatch.setattr(importlib.metadata, "packages_distributions", lambda: calls.append(1) or real())

    def versions_in_a_new_process(name):
        context_module._distributions_by_import_name.cache_clear()
        return package_versions([name])

    try:
        assert versions_in_a_new_process("pytest")["pytest"] == pytest.__version__
        package_versions(["numpy"])
        assert len(calls) == 1
        assert versions_in_a_new_process("pytest")["pytest"] == pytest.__version__
        assert len(calls) == 1  # read back from the cache file
        (site / "newly_installed-1.0.dist-info").mkdir()
        versions_in_a_new_process("pytest")
        assert len(calls) == 2  # the environment changed: scanned again
    finally:
        context_module._distributions_by_import_name.cache_clear()


def test_imported_top_level_modules(monkeypatch):
    monkeypatch.setitem(sys.modules, "fake_thirdparty", types.ModuleType("fake_thirdparty"))
    monkeypatch.setitem(sys.modules, "fake_thirdparty.sub", types.ModuleType("fake_thirdparty.sub"))
    monkeypatch.setitem(sys.modules, "_private_mod", types.ModuleType("_private_mod"))
    monkeypatch.setitem(sys.modules, "blocked_mod", None)
    names = imported_top_level_modules()
    assert names == sorted(names)
    assert "fake_thirdparty" in names and "fake_thirdparty.sub" not in names
    assert "pytest" in names
    assert "os" not in names and "json" not in names and "importlib" not in names
    assert "_private_mod" not in names and "blocked_mod" not in names
    assert "autotrack" not in names
    assert not any(name.startswith("_") for name in names)
