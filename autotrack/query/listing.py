"""What `autotrack runs` lists when asked for a query, a sort or columns: the runs that match, top-level
ones ordered, each followed by its children (a search's candidates fold under their search and do
not count against --limit)."""

from __future__ import annotations

from dataclasses import dataclass

# Run fields a column or a sort may name, as the run summaries call them.
RUN_COLUMNS = {"started": "start_time", "start": "start_time", "name": "name", "status": "status",
               "duration": "duration_s", "experiment": "experiment", "id": "id", "ended": "end_time"}
_PREFIXES = {"metrics": "metric", "metric": "metric", "params": "param", "param": "param",
             "tags": "tag", "tag": "tag"}


class ListingError(ValueError):
    """A column or sort key that names nothing the runs have."""


@dataclass(frozen=True)
class Column:
    kind: str  # run, metric, param, tag
    key: str

    @classmethod
    def parse(cls, text: str) -> "Column":
        """`metrics.valid.auc`, `params.max_depth`, `tags.team`, a run field, or a bare metric name."""
        text = text.strip()
        head, dot, rest = text.partition(".")
        if dot and head.lower() in _PREFIXES and rest:
            return cls(_PREFIXES[head.lower()], rest)
        if text.lower() in RUN_COLUMNS:
            return cls("run", RUN_COLUMNS[text.lower()])
        return cls("metric", text)

    @property
    def label(self) -> str:
        return self.key if self.kind in ("metric", "run") else f"{self.kind}s.{self.key}"

    def value(self, run: dict):
        if self.kind == "run":
            return run.get(self.key)
        return (run.get({"metric": "metrics", "param": "params", "tag": "tags"}[self.kind]) or {}).get(self.key)


def needs(columns: list[Column]) -> set[str]:
    """Which of params and tags the runs must be given for these columns."""
    return {column.kind for column in columns} & {"param", "tag"}


def sort_runs(runs: list[dict], key: str) -> list[dict]:
    """Ordered by a run field, a metric (best first by its goal), a param or a tag; `-` reverses;
    runs without the value last."""
    from autotrack.compare import metric_goal

    reverse = key.startswith("-")
    column = Column.parse(key.lstrip("-"))
    present = [run for run in runs if _sortable(column.value(run))]
    if not present:
        if column.kind == "run":
            return runs
        raise ListingError(f"--sort {key.lstrip('-')!r}: no run has a field, metric, param or tag of that name "
                           f"(fields: {', '.join(sorted(set(RUN_COLUMNS) - {'start'}))})")
    if column.kind == "metric":
        descending = metric_goal(column.key, present) != "min"  # best first
    else:  # newest first, longest first: what people look for; names, statuses and params A to Z
        descending = column.key in ("start_time", "end_time", "duration_s")
    ordered = sorted(present, key=lambda run: _sort_key(column.value(run)), reverse=descending != reverse)
    return ordered + [run for run in runs if not _sortable(column.value(run))]


def _sortable(value) -> bool:
    return value is not None and not (isinstance(value, float) and value != value)


def _sort_key(value):
    """Numbers before text, each in its order (a param is 3 in one run, "auto" in another)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value, "")
    return (1, 0, str(value))


def fold(runs: list[dict], limit: int, every_child: bool, children_shown: int) -> tuple[list[dict], int, dict[str, int]]:
    """(top-level runs in their order, each followed by its children; how many top-level runs
    matched; {parent id: children not shown}). A run whose parent did not match is top-level here."""
    ids = {run["id"] for run in runs}
    top = [run for run in runs if run["parent_id"] not in ids]
    children: dict[str, list[dict]] = {}
    for run in runs:
        if run["parent_id"] in ids:
            children.setdefault(run["parent_id"], []).append(run)
    total = len(top)
    listed: list[dict] = []
    folded: dict[str, int] = {}

    def add(run: dict) -> None:
        listed.append(run)
        below = children.get(run["id"], [])
        shown = below if every_child else below[:children_shown]
        if len(below) > len(shown):
            folded[run["id"]] = len(below) - len(shown)
        for child in shown:
            add(child)

    for run in top[:limit] if limit else top:
        add(run)
    return listed, total, folded




def selected_ids(reader, run_ids: list[str], where: str | None) -> list[str]:
    """Full ids of the runs a command acts on: ids (or unique prefixes) given, and/or a query's
    matches; a ValueError (one line) when neither names any run."""
    if not run_ids and not where:
        raise ListingError("name runs (ids or unique prefixes), or --where QUERY")
    ids = [reader.resolve_id(text) for text in run_ids]
    if where:
        from autotrack.query import QueryError

        try:
            ids += [run["id"] for run in reader.runs(where=where)]
        except QueryError as exc:
            raise ListingError(f"--where: {exc}") from None
    if not ids:
        raise ListingError(f"no run matches --where {where!r}")
    return list(dict.fromkeys(ids))


__all__ = ["Column", "ListingError", "needs", "sort_runs", "fold", "selected_ids"]
