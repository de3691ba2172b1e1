"""Helpers for end-to-end tests that write a script, run it, and read the store back."""

from __future__ import annotations

import json
import textwrap


def script(*parts: str) -> str:
    """Join dedented code fragments into one script."""
    return "\n".join(textwrap.dedent(part) for part in parts)


def printed(result) -> dict:
    """The JSON object a script printed last."""
    return json.loads(result.stdout.strip().splitlines()[-1])


def all_runs(cli) -> list[dict]:
    """Every run in the store, or [] when nothing was ever recorded (no store yet)."""
    listing = cli("runs", "--json", "--limit", "0", check=False)  # parsed JSON, or the process
    if isinstance(listing, list):
        return listing
    assert "no autotrack store" in listing.stderr, listing.stderr
    return []
