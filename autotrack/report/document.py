"""The report as plain data (sections of tables, facts and charts) that the HTML and Markdown
writers render alike; every string in it is user text to escape, never markup."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Cell:
    """A table cell; `best` marks the best value of a metric among runs."""

    text: str
    best: bool = False


@dataclass
class Table:
    header: list[str]
    rows: list[list]  # of str or Cell
    caption: str = ""
    note: str = ""  # e.g. "first 50 of 120 shown"


@dataclass
class Facts:
    """Name/value pairs shown as a two-column list."""

    items: list[tuple[str, str]]
    caption: str = ""


@dataclass
class Chart:
    """A drawn chart: PNG bytes, the alt text that says what it shows, a caption and a file stem."""

    png: bytes
    alt: str
    caption: str
    name: str


@dataclass
class Note:
    text: str


@dataclass
class Section:
    """A titled part of the report; `folded` ones start collapsed (<details>) in HTML."""

    title: str
    anchor: str  # a stable id, also the CSS class naming the section's kind (e.g. "curves")
    kind: str
    blocks: list = field(default_factory=list)
    folded: bool = False


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section]

    def charts(self) -> list[Chart]:
        return [chart for section in _walk(self.sections) for chart in section.blocks
                if isinstance(chart, Chart)]


def _walk(sections: list[Section]):
    for section in sections:
        yield section
        yield from _walk([block for block in section.blocks if isinstance(block, Section)])


__all__ = ["Cell", "Table", "Facts", "Chart", "Note", "Section", "Document"]
