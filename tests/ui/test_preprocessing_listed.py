"""The dashboard's runs list leaves preprocessing fitted on its own out, as `autotrack runs` does,
until children are shown (tests/test_runs_granularity.py covers the records and the CLI)."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

from ui_helpers import Dashboard

sys.path.insert(0, str(Path(__file__).parent.parent))
from test_runs_granularity import PREPROCESSED  # noqa: E402


def test_the_dashboard_leaves_preprocessing_out_until_children_are_shown(run_script, store):
    run_script(PREPROCESSED)
    server = Dashboard(store)
    try:
        def names(query: str) -> list[str]:
            with urllib.request.urlopen(f"{server.url}api/runs?{query}", timeout=10) as response:
                return sorted(run["name"].split()[0] for run in json.load(response)["runs"])

        assert names("") == ["LogisticRegression"]
        assert names("children=1") == ["LogisticRegression", "PCA", "StandardScaler", "StandardScaler"]
    finally:
        assert server.stop() == 0
