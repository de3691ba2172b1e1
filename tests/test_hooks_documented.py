"""Every hook has a documentation entry and a test; every setting is documented (as datasette does)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autotrack import hookspecs
from autotrack.config import FIELDS

ROOT = Path(__file__).resolve().parents[1]
HOOKS_DOC = ROOT / "docs" / "hooks.md"
SETTINGS_DOC = ROOT / "docs" / "settings.md"

HOOKS = sorted(name for name, value in vars(hookspecs).items()
               if name.startswith("autotrack_") and hasattr(value, "autotrack_spec"))


def _test_sources() -> str:
    this = Path(__file__).resolve()
    return "\n".join(path.read_text() for path in (ROOT / "tests").rglob("*.py") if path.resolve() != this)


def test_there_are_hooks_to_check():
    assert len(HOOKS) >= 10, HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_documentation_section(hook):
    headings = re.findall(r"^## (\w+)\s*$", HOOKS_DOC.read_text(), flags=re.MULTILINE)
    assert hook in headings, f"docs/hooks.md has no '## {hook}' section"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_named_in_a_test(hook):
    assert re.search(rf"\b{hook}\b", _test_sources()), f"no test under tests/ mentions {hook}"


def test_documentation_names_no_hook_that_does_not_exist():
    headings = re.findall(r"^## (autotrack_\w+)\s*$", HOOKS_DOC.read_text(), flags=re.MULTILINE)
    assert sorted(headings) == HOOKS


@pytest.mark.parametrize("setting", sorted(FIELDS))
def test_setting_is_documented_with_its_variable(setting):
    row = next((line for line in SETTINGS_DOC.read_text().splitlines() if line.startswith(f"| `{setting}` |")),
               None)
    assert row is not None, f"docs/settings.md has no table row for {setting}"
    assert f"`{FIELDS[setting].env}`" in row


def test_documentation_names_no_variable_that_is_not_a_setting():
    documented = set(re.findall(r"`(AUTOTRACK_[A-Z_]+)`", SETTINGS_DOC.read_text()))
    known = {field.env for field in FIELDS.values()} | {"AUTOTRACK_RUN_CONTEXT", "AUTOTRACK_LOG"}
    assert documented <= known, documented - known
