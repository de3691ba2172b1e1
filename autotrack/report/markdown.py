"""The report as Markdown (GitHub pipe tables) with its charts as PNG files in a folder beside it."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import quote

from autotrack.report.document import Cell, Chart, Document, Facts, Note, Section, Table

# Characters Markdown would read as formatting (and `$` as GitHub's math): escaped so that user text
# shows as typed.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]#~$])")


def images_folder(path: Path) -> Path:
    """`report.md` keeps its images in `report_files/` beside it."""
    return path.with_name(f"{path.stem}_files")


def write_markdown(document: Document, path: Path) -> None:
    """Write `path` and its PNGs; image links are relative, so the pair can move together."""
    folder = images_folder(path)
    charts = document.charts()
    if charts:
        folder.mkdir(parents=True, exist_ok=True)
        for chart in charts:
            (folder / f"{chart.name}.png").write_bytes(chart.png)
    lines = [f"# {escape(document.title)}", "", escape(document.subtitle), ""]
    for section in document.sections:
        lines += _section(section, 2, folder.name)
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


def escape(value) -> str:
    """User text for a Markdown line or table cell: HTML escaped (GitHub renders inline HTML),
    formatting characters and `|` escaped, newlines as <br>."""
    text = html.escape(str(value), quote=False)
    text = _MARKDOWN_SPECIALS.sub(r"\\\1", text).replace("|", r"\|")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def _section(section: Section, level: int, folder: str) -> list[str]:
    if section.folded:
        lines = ["<details>", f"<summary>{html.escape(section.title)}</summary>", ""]
    else:
        lines = [f"{'#' * min(level, 6)} {escape(section.title)}", ""]
    for block in section.blocks:
        lines += _block(block, level, folder)
    if section.folded:
        lines += ["</details>", ""]
    return lines


def _block(block, level: int, folder: str) -> list[str]:
    if isinstance(block, Table):
        lines = [f"_{escape(block.caption)}_", ""] if block.caption else []
        lines.append("| " + " | ".join(escape(name) or " " for name in block.header) + " |")
        lines.append("|" + "---|" * len(block.header))
        for row in block.rows:
            lines.append("| " + " | ".join(_cell(cell) for cell in row) + " |")
        lines.append("")
        if block.note:
            lines += [escape(block.note), ""]
        return lines
    if isinstance(block, Facts):
        lines = [f"_{escape(block.caption)}_", ""] if block.caption else []
        return lines + [f"- **{escape(name)}**: {escape(value)}" for name, value in block.items] + [""]
    if isinstance(block, Chart):
        link = f"{quote(folder)}/{quote(block.name)}.png"
        return [f"![{escape(block.alt)}]({link})", "", f"_{escape(block.caption)}_", ""]
    if isinstance(block, Note):
        return [f"_{escape(block.text)}_", ""]
    if isinstance(block, Section):
        return _section(block, level + 1, folder)
    raise TypeError(f"not a report block: {block!r}")


def _cell(cell) -> str:
    if isinstance(cell, Cell):
        return f"**{escape(cell.text)}**" if cell.best and cell.text else escape(cell.text)
    return escape(cell)


__all__ = ["write_markdown", "images_folder", "escape"]
