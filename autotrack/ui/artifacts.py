"""A run's artifacts on its page: where each file is (only inside the store), and a preview of
what can be read inline: images, text and diffs, JSON pretty-printed, CSV's first rows."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

PREVIEW_BYTES = 64 * 1024  # text read for a preview; the download has the whole file
CSV_ROWS = 20
IMAGES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
          ".webp": "image/webp", ".svg": "image/svg+xml"}
TEXT = {".txt", ".log", ".md", ".py", ".yaml", ".yml", ".cfg", ".ini", ".toml", ".sh", ".sql", ".rst", ".ipynb"}
DIFFS = {".diff", ".patch"}
TABLES = {".csv": ",", ".tsv": "\t"}


def artifact_file(directory: Path, run: dict, name: str) -> str | None:
    """The file of a run's artifact `name`, when it is a regular file inside the run's own artifact
    folder or the store's shared one (a git diff many runs share): never a link out of it, nor the
    database itself. None otherwise."""
    recorded = {artifact["name"]: artifact["path"] for artifact in run["artifacts"]}
    if name not in recorded:
        return None
    path = os.path.realpath(os.path.join(directory, recorded[name]))
    roots = [os.path.realpath(os.path.join(directory, "artifacts", folder)) for folder in (run["id"], "shared")]
    if not any(os.path.commonpath([path, root]) == root for root in roots) or not os.path.isfile(path):
        return None
    return path


def preview(directory: Path, run: dict, artifact: dict) -> dict:
    """{kind: image|text|diff|json|table|none, ...} for one artifact of the run page."""
    name = artifact["name"]
    suffix = os.path.splitext(name)[1].lower()
    path = artifact_file(directory, run, name)
    if path is None:
        return {"kind": "none", "why": "the file is missing"}
    if suffix in IMAGES:
        return {"kind": "image"}
    if suffix not in TEXT | DIFFS | set(TABLES) and suffix != ".json":
        return {"kind": "none"}
    with open(path, "rb") as handle:
        data = handle.read(PREVIEW_BYTES + 1)
    truncated = len(data) > PREVIEW_BYTES
    content = data[:PREVIEW_BYTES].decode("utf-8", errors="replace")
    if suffix == ".json" and not truncated:
        try:
            return {"kind": "json", "text": json.dumps(json.loads(content), indent=2, ensure_ascii=False)}
        except ValueError:
            pass  # shown as the text it is
    if suffix in TABLES:
        rows = list(csv.reader(io.StringIO(content), delimiter=TABLES[suffix]))
        if truncated and rows:
            rows = rows[:-1]  # the last line read may be cut
        return {"kind": "table", "header": rows[0] if rows else [], "rows": rows[1:CSV_ROWS + 1],
                "more": len(rows) - 1 > CSV_ROWS or truncated}
    if suffix in DIFFS:
        return {"kind": "diff", "lines": [(_diff_class(line), line) for line in content.splitlines()],
                "truncated": truncated}
    return {"kind": "text", "text": content, "truncated": truncated}


def _diff_class(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    return {"+": "add", "-": "del"}.get(line[:1], "")


__all__ = ["artifact_file", "preview", "IMAGES"]
