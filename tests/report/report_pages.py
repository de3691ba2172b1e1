"""Reading a report back as a browser sees its structure (the stdlib's html.parser): elements,
tables and text, each with the kinds of section they sit in; and checks on its images."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict
    sections: list[str]  # classes of the enclosing <section>/<details>, outermost first


@dataclass
class HtmlTable:
    sections: list[str]
    rows: list[list[str]] = field(default_factory=list)
    best: list[tuple[int, int]] = field(default_factory=list)  # (row, column) of class="best" cells

    def as_dict(self) -> dict[str, list[str]]:
        """First column -> the other cells, header row left out."""
        return {row[0]: row[1:] for row in self.rows[1:]}


class Page(HTMLParser):
    """Elements, tables and text of a page, each with the kinds of section it sits in."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.tables: list[HtmlTable] = []
        self.texts: list[tuple[list[str], str]] = []
        self._open: list[tuple[str, dict]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self.feed(source)
        self.close()

    def _sections(self) -> list[str]:
        kinds = []
        for tag, attrs in self._open:
            if tag in ("section", "details"):
                kinds += (attrs.get("class") or "").split()
        return kinds

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append(Element(tag, attrs, self._sections()))
        if tag == "table":
            self.tables.append(HtmlTable(self._sections()))
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
            if "best" in (attrs.get("class") or "").split():
                table = self.tables[-1]
                table.best.append((len(table.rows), len(self._row or [])))
        if tag not in _VOID:
            self._open.append((tag, attrs))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].rows.append(self._row)
            self._row = None
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        self.texts.append((self._sections(), data))

    # -- queries ---------------------------------------------------------------------------------
    def find(self, tag: str, section: str | None = None) -> list[Element]:
        return [e for e in self.elements if e.tag == tag and (section is None or section in e.sections)]

    def tables_in(self, section: str) -> list[HtmlTable]:
        return [table for table in self.tables if section in table.sections]

    def text_in(self, section: str) -> str:
        return " ".join(data for sections, data in self.texts if section in sections)


def read_page(path: Path) -> Page:
    return Page(path.read_text(encoding="utf-8"))


def png_of(img: Element) -> bytes:
    prefix = "data:image/png;base64,"
    assert img.attrs["src"].startswith(prefix), img.attrs["src"][:60]
    return base64.b64decode(img.attrs["src"][len(prefix):], validate=True)


def assert_png_drawn(data: bytes) -> None:
    """A PNG that decodes, and is not blank: more than one colour in it."""
    import matplotlib.image
    import numpy as np

    pixels = matplotlib.image.imread(io.BytesIO(data), format="png")
    assert pixels.ndim == 3 and pixels.shape[0] > 50 and pixels.shape[1] > 50
    colours = np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)
    assert len(colours) > 1, "blank image"


def assert_offline(page: Page, source: str) -> None:
    """Nothing the page would fetch: no script, stylesheet link, frame or remote src/href/url()."""
    assert not page.find("script"), "a <script> element"
    assert not page.find("link"), "a <link> element"
    for tag in ("iframe", "object", "embed", "base"):
        assert not page.find(tag), f"a <{tag}> element"
    for element in page.elements:
        for name in ("src", "href", "srcset", "action", "data", "poster"):
            value = (element.attrs.get(name) or "").strip()
            if value:
                assert value.startswith(("#", "data:image/png;base64,")), f"<{element.tag} {name}={value[:80]}>"
    for element in page.elements:
        assert "url(" not in (element.attrs.get("style") or ""), element
    # No URL anywhere, nor a CSS url() or @import: the page's own text (no user text here holds one).
    lowered = source.lower()
    for marker in ("http://", "https://", "url(", "@import"):
        assert marker not in lowered, f"{marker} in the page"
