"""The report as one self-contained HTML page: Jinja2 with autoescape, images as data: URIs."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

from autotrack.report.document import Cell, Chart, Document, Facts, Note, Section, Table

_KINDS = ((Table, "table"), (Facts, "facts"), (Chart, "chart"), (Note, "note"), (Section, "section"))


def render_html(document: Document) -> str:
    """The page's text. Nothing in it points outside the file, so it opens offline and mailed."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    # autoescape on for every template: run names, params and error texts are untrusted.
    environment = Environment(loader=PackageLoader("autotrack.report", "templates"), autoescape=True,
                              undefined=StrictUndefined)
    template = environment.get_template("report.html.j2")
    return template.render(document=document, kind_of=_kind_of, is_best=_is_best, cell_text=_cell_text,
                           data_uri=_data_uri, written=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def _kind_of(block) -> str:
    for kind, name in _KINDS:
        if isinstance(block, kind):
            return name
    raise TypeError(f"not a report block: {block!r}")


def _is_best(cell) -> bool:
    return isinstance(cell, Cell) and cell.best


def _cell_text(cell) -> str:
    return cell.text if isinstance(cell, Cell) else str(cell)


def _data_uri(chart: Chart) -> str:
    # Built here from PNG bytes matplotlib wrote: base64's alphabet needs no HTML escaping.
    return "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")


__all__ = ["render_html"]
