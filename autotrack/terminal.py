"""Terminal output shared by the `autotrack` commands: tables, JSON, numbers, durations."""

from __future__ import annotations

import json
import shutil
import sys


class UserError(Exception):
    """A problem with what the user asked for, reported in one line without a traceback."""


def print_json(value) -> None:
    from autotrack.stores.local import dumps

    print(dumps(value))


# rich lays out every cell (about 1.4 ms a row): past this many rows a listing is printed as plain
# columns, so that `autotrack runs -n 0` over 10,000 runs still takes under a second.
_RICH_MOST_ROWS = 300


def print_table(header: list[str], rows: list[list], title: str = "",
                widths: list[tuple[int, int]] | None = None, compact: bool = False) -> None:
    """A table for people; with `widths` [(least, most)], cells are cut with an ellipsis, never wrapped."""
    if widths and len(rows) > _RICH_MOST_ROWS:
        _print_plain(header, rows, title, widths)
        return
    try:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text
    except ImportError:  # rich is optional (autotrack[cli]); plain columns do the job
        _print_plain(header, rows, title, widths)
        return
    # Text everywhere: names, params and titles are user data, and "[bold]" in them stays text.
    options = {"box": None, "padding": (0, 1), "pad_edge": False} if compact else {}
    table = Table(title=Text(title) if title else None, show_header=any(header), title_justify="left",
                  header_style="bold", **options)
    for index, column in enumerate(header):
        if widths:
            least, most = widths[index]
            table.add_column(Text(column), min_width=least, max_width=most, no_wrap=True, overflow="ellipsis")
        else:
            table.add_column(Text(column), overflow="fold", no_wrap=compact and index < 3)
    for row in rows:
        table.add_row(*(Text(str(cell)) for cell in row))
    Console(highlight=False).print(table)


def _print_plain(header, rows, title, widths=None) -> None:
    if title:
        print(f"== {title}")
    cells = [[str(cell) for cell in row] for row in ([header] if any(header) else []) + rows]
    if widths:
        cells = [[_cut(cell, most) for cell, (_, most) in zip(row, widths)] for row in cells]
    column_widths = [max(len(cell) for cell in column) for column in zip(*cells)] if cells else []
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, column_widths)).rstrip() for row in cells]
    sys.stdout.write("\n".join(lines) + "\n")


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"


def text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def number(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def seconds(value) -> str:
    return "" if value is None else f"{value:.3f}s"


def duration(value) -> str:
    """At most 8 characters: 0.153s, 12.3s, 12m03s, 26h05m."""
    if value is None:
        return ""
    if value < 10:
        return f"{value:.3f}s"
    if value < 60:
        return f"{value:.1f}s"
    minutes, seconds = divmod(int(round(value)), 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def short_time(iso: str | None) -> str:
    """`11-26 06:35` in local time: the year and seconds rarely matter in a list of runs."""
    if not iso:
        return ""
    from datetime import datetime

    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%m-%d %H:%M")
    except ValueError:
        return iso[:16].replace("T", " ")


def long_time(iso: str | None) -> str | None:
    """`2026-12-03 10:21:33 CET`: local time with its zone, as `runs` shows times (JSON: UTC)."""
    if not iso:
        return None
    from datetime import datetime

    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    except ValueError:
        return iso


def terminal_width() -> int:
    try:
        from rich.console import Console

        return Console().width  # honours COLUMNS; 80 when the output is not a terminal
    except ImportError:
        return shutil.get_terminal_size((80, 24)).columns


def flat(value: dict, prefix: str = "", separator: str = ".") -> dict:
    out = {}
    for key, item in value.items():
        if isinstance(item, dict):
            out.update(flat(item, f"{prefix}{key}{separator}", separator))
        else:
            out[f"{prefix}{key}"] = item
    return out
