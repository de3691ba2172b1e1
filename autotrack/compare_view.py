"""`autotrack compare` on a terminal: one table per section, one column per run."""

from __future__ import annotations

from autotrack.metric_goals import ARROWS as _GOAL_ARROWS
from autotrack.terminal import duration, number, print_table, short_time, text

_MISSING = "—"


def print_comparison(comparison: dict, show_equal: bool = False, best: str | None = None,
                     goal: str | None = None) -> None:
    """Print compare_runs' dict; `best`/`goal` name the metric the runs were chosen by, if any."""
    runs = comparison["runs"]
    heads = [_heading(run) for run in runs]
    if best:
        arrow = _GOAL_ARROWS.get(goal or comparison["metrics"].get(best, {}).get("goal"), "")
        print(f"the {len(runs)} best runs by {best} {arrow}, best first")
    _print_runs(runs, heads)
    _print_params(comparison["params"], heads, show_equal)
    _print_metrics(comparison["metrics"], heads)
    _print_timings(comparison["timings"], heads)
    _print_datasets(comparison["datasets"], heads)
    _print_code(comparison["code"], heads)


def _heading(run: dict) -> str:
    return f"{run['id'][:8]} {run['name'] or ''}".rstrip()


def _print_runs(runs: list[dict], heads: list[str]) -> None:
    # The headings carry each run's short id (any unique prefix works in every command); the
    # full ids are in --json.
    rows = [["name", *(run["name"] or "" for run in runs)],
            ["experiment", *(run["experiment"] or "" for run in runs)],
            ["status", *(run["status"] for run in runs)],
            ["started", *(short_time(run["start_time"]) for run in runs)],
            ["duration", *(duration(run["duration_s"]) for run in runs)]]
    print_table(["run", *heads], rows, title="runs")


def _print_params(params: dict, heads: list[str], show_equal: bool) -> None:
    differ, same = params["differ"], params["same"]
    if differ:
        rows = [[key, *(_MISSING if value is None else text(value) for value in values)]
                for key, values in differ.items()]
        print_table(["param", *heads], rows, title="params that differ")
    elif not same:
        print("no params")
    else:
        print("every param is equal")
    if same and show_equal:
        print_table(["param", "value (every run)"], [[key, text(value)] for key, value in same.items()],
                    title="equal params")
    elif same:
        print(f"{len(same)} equal param{'s' if len(same) != 1 else ''} hidden (--all to show)")


def _print_metrics(metrics: dict, heads: list[str]) -> None:
    if not metrics:
        print("no metrics")
        return
    rows = []
    for key, metric in metrics.items():
        best = set(metric["best"]) if len(heads) > 1 else set()
        cells = [_MISSING if value is None else number(value) + (" ★" if index in best else "")
                 for index, value in enumerate(metric["values"])]
        rows.append([f"{key} {_GOAL_ARROWS.get(metric['goal'], '')}".rstrip(), *cells])
    print_table(["metric", *heads], rows, title="metrics (★ best; ↑ higher, ↓ lower is better)")


def _print_timings(timings: dict, heads: list[str]) -> None:
    if not timings:
        return
    rows = [[key, *(_MISSING if value is None else number(value) for value in values)]
            for key, values in timings.items()]
    print_table(["timing", *heads], rows, title="timings (seconds)")


def _print_datasets(datasets: list[dict], heads: list[str]) -> None:
    if not datasets:
        return
    rows = []
    for dataset in datasets:
        cells = [_dataset_cell(fingerprint, shape)
                 for fingerprint, shape in zip(dataset["fingerprints"], dataset["shapes"])]
        label = dataset["role"] + (f" ({dataset['name']})" if dataset["name"] else "")
        rows.append([label, *cells, _data_verdict(dataset)])
    print_table(["dataset", *heads, ""], rows, title="datasets (fingerprint, rows×columns)")


_DATA_VERDICTS = {"same": "same data", "different": "DIFFERENT data", "unknown": "cannot tell"}


def _data_verdict(dataset: dict) -> str:
    if dataset["verdict"] == "unknown" and None in dataset["shapes"]:
        return "not in every run"
    return _DATA_VERDICTS[dataset["verdict"]]


def _dataset_cell(fingerprint: str | None, shape: list | None) -> str:
    if not fingerprint and not shape:
        return _MISSING
    size = f" {shape[0]}×{shape[1]}" if shape and shape[0] is not None else ""
    return f"{(fingerprint or '?')[:8]}{size}"


def _print_code(code: dict, heads: list[str]) -> None:
    commits = [(commit[:8] if commit else "no git") + (" dirty" if dirty else "")
               for commit, dirty in zip(code["commits"], code["dirty"])]
    if not any(code["commits"]):
        verdict = "no git commit recorded"
    else:
        verdict = "same commit" if code["same_commit"] else "different commits"
    rows = [["commit", *commits, verdict],
            ["branch", *(branch or "" for branch in code["branches"]), ""],
            ["script", *(script or "" for script in code["scripts"]), ""]]
    print_table(["code", *heads, ""], rows, title="code")


__all__ = ["print_comparison"]
