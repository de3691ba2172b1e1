"""The several-runs part of the report: compare_runs as tables (best metric values marked) and the
runs' learning curves overlaid, one chart per metric."""

from __future__ import annotations

from autotrack.compare import compare_runs
from autotrack.curves import downsample, group_curves, role, split_key
from autotrack.report.build import (MAX_CURVE_CHARTS, POINTS_PER_SERIES, param_text, run_label, show,
                                    timing_text)
from autotrack.report.charts import curve_chart
from autotrack.report.document import Cell, Facts, Note, Section, Table
from autotrack.terminal import duration, short_time

_ANCHOR = "comparison"


def comparison_sections(runs: list[dict]) -> list[Section]:
    """What differs between the runs, then their curves together."""
    compared = compare_runs(runs)
    labels = [run_label(run) for run in runs]
    sections = [_runs(compared, labels), _params(compared, runs, labels), _metrics(compared, labels),
                _timings(compared, labels), _datasets(compared, labels), _code(compared, labels),
                _curves(runs, labels)]
    return [section for section in sections if section is not None]


def _section(title: str, kind: str, blocks: list, folded: bool = False) -> Section:
    return Section(title, f"{_ANCHOR}-{kind}", kind, blocks, folded)


def _runs(compared: dict, labels: list[str]) -> Section:
    rows = [[label, run["id"], run.get("experiment") or "", run.get("status") or "",
             short_time(run.get("start_time")), duration(run.get("duration_s"))]
            for label, run in zip(labels, compared["runs"])]
    return _section("Runs compared", "runs",
                    [Table(["run", "id", "experiment", "status", "started", "duration"], rows)])


def _params(compared: dict, runs: list[dict], labels: list[str]) -> Section | None:
    differ, same = compared["params"]["differ"], compared["params"]["same"]
    if not differ and not same:
        return None
    blocks: list = []
    if differ:
        rows = [[key, *(param_text(value) if key in (run.get("params") or {}) else "—"
                        for run, value in zip(runs, values))] for key, values in differ.items()]
        blocks.append(Table(["param", *labels], rows,
                            caption=f"{len(differ)} param{'s' if len(differ) != 1 else ''} differ; "
                                    "— where a run has no such param"))
    else:
        blocks.append(Note("every param is the same in every run"))
    if same:
        blocks.append(Section(f"Same in every run ({len(same)})", f"{_ANCHOR}-params-same", "params-same",
                              [Table(["param", "value"], [[key, param_text(value)] for key, value in same.items()])],
                              folded=True))
    return _section("Parameters", "params", blocks)


def _metrics(compared: dict, labels: list[str]) -> Section | None:
    metrics = compared["metrics"]
    if not metrics:
        return None
    rows = []
    for key, entry in metrics.items():
        # A metric only one run logged has no contest to win: nothing marked.
        best = entry["best"] if sum(value is not None for value in entry["values"]) > 1 else []
        cells = [Cell(show(value) + (" ★" if index in best else ""), best=index in best)
                 for index, value in enumerate(entry["values"])]
        rows.append([key, {"min": "lower", "max": "higher"}.get(entry["goal"], "—"), *cells])
    return _section("Metrics", "metrics", [
        Table(["metric", "better", *labels], rows, caption="latest values; ★ marks the best run")])


def _timings(compared: dict, labels: list[str]) -> Section | None:
    timings = compared["timings"]
    if not timings:
        return None
    rows = [[key, *(timing_text(key, value) for value in values)] for key, values in timings.items()]
    return _section("Timings", "timings", [Table(["timing", *labels], rows)])


def _datasets(compared: dict, labels: list[str]) -> Section | None:
    datasets = compared["datasets"]
    if not datasets:
        return None
    rows = []
    for dataset in datasets:
        cells = [f"{fingerprint[:12]} ({shape[0]}×{shape[1]})" if fingerprint and shape else (fingerprint or "—")
                 for fingerprint, shape in zip(dataset["fingerprints"], dataset["shapes"])]
        rows.append([dataset["role"], dataset.get("name") or "", dataset["verdict"],
                     *cells])
    return _section("Datasets", "datasets", [
        Table(["role", "name", "data", *labels], rows, caption="fingerprint (rows × columns)")])


def _code(compared: dict, labels: list[str]) -> Section:
    code = compared["code"]
    rows = [[label, (commit or "")[:12], branch or "", "" if dirty is None else ("yes" if dirty else "no"),
             script or ""]
            for label, commit, branch, dirty, script in zip(labels, code["commits"], code["branches"],
                                                            code["dirty"], code["scripts"])]
    if code["same_commit"]:
        verdict = "same commit"
    elif not any(code["commits"]):
        verdict = "no git commit recorded"
    else:
        verdict = "different commits" if all(code["commits"]) else "a run has no git commit recorded"
    return _section("Code", "code", [Facts([("code", verdict)]),
                                     Table(["run", "commit", "branch", "dirty", "script"], rows)])


def _curves(runs: list[dict], labels: list[str]) -> Section | None:
    """One chart per metric, one line per run and data set: colour is the run, line style the set."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for index, run in enumerate(runs):
        for group in group_curves(run.get("history") or {}):
            groups.setdefault(group["title"], []).extend((index, key) for key in group["keys"])
    if not groups:
        return None
    blocks: list = []
    for number, (title, members) in enumerate(list(groups.items())[:MAX_CURVE_CHARTS]):
        series = [{"label": f"{labels[index]} {split_key(key)[0] or key}".strip(),
                   "points": downsample(runs[index]["history"][key], POINTS_PER_SERIES),
                   "role": role(key), "color": index} for index, key in members]
        blocks.append(curve_chart(title, series, name=f"{_ANCHOR}-curve-{number + 1}"))
    if len(groups) > MAX_CURVE_CHARTS:
        blocks.append(Note(f"{len(groups) - MAX_CURVE_CHARTS} more metrics not drawn"))
    return _section("Learning curves", "curves", blocks)


__all__ = ["comparison_sections"]
