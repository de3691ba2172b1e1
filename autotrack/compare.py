"""What changed between runs: params, metrics, timings, datasets and code, side by side."""

from __future__ import annotations

import json

from autotrack.metric_goals import GOALS, NONE, best_value, guess_goal, is_finite as _finite
from autotrack.terminal import UserError, flat

_SOURCE_RANK = {"logged": 0, "setting": 1, "name": 2}


def metric_goal(key: str, runs: list[dict] = ()) -> str:
    """A metric's goal across runs: the one logged with it wins over a setting's, which wins over
    the name's (metric_goals.py); runs without the metric have no say."""
    best = None
    for run in runs:
        goal = (run.get("goals") or {}).get(key)
        if goal in GOALS:
            rank = _SOURCE_RANK.get((run.get("goal_sources") or {}).get(key), 0)
            if best is None or rank < best[0]:
                best = (rank, goal)
    return best[1] if best else guess_goal(key)


def compare_runs(runs: list[dict]) -> dict:
    """Runs (as StoreReader.get_run returns them, in display order) compared: see docs/compare.md."""
    return {
        "runs": [{key: run.get(key) for key in ("id", "name", "experiment", "status", "start_time",
                                                  "duration_s")} for run in runs],
        "params": _compare_params(runs),
        "metrics": _compare_metrics(runs),
        "timings": _compare_timings(runs),
        "datasets": _compare_datasets(runs),
        "code": _compare_code(runs),
    }


def best_run_ids(reader, experiment: str | None, metric: str, top: int = 5,
                 goal: str | None = None) -> list[str]:
    """The `top` runs with the best latest value of `metric`, best first (ties: newest first)."""
    runs = reader.runs(experiment=experiment, limit=None)
    scored = [(run["metrics"][metric], run["id"]) for run in runs
              if _finite(run["metrics"].get(metric))]
    if not scored:
        raise UserError(_no_metric_message(runs, metric, experiment))
    goal = goal or metric_goal(metric, [run for run in runs if metric in run["metrics"]])
    if goal == NONE:
        raise UserError(f"{metric!r} is not known as a quality measure (its goal is none), so no run is "
                        f"best at it: pass --max or --min, or set metric_goals (docs/metrics.md)")
    scored.sort(key=lambda item: item[0], reverse=goal == "max")  # stable: newest first among ties
    return [run_id for _, run_id in scored[:max(top, 0)]]


def _no_metric_message(runs: list[dict], metric: str, experiment: str | None) -> str:
    where = f" in experiment {experiment!r}" if experiment is not None else ""
    if not runs:
        return f"no runs{where}"
    counts: dict[str, int] = {}
    for run in runs:
        for key in run["metrics"]:
            counts[key] = counts.get(key, 0) + 1
    known = sorted(counts, key=lambda key: (-counts[key], key))[:8]
    if not known:
        return f"no run{where} logged metric {metric!r}, nor any other metric"
    more = ", ..." if len(counts) > len(known) else ""
    return f"no run{where} logged metric {metric!r}; metrics logged: {', '.join(known)}{more}"



def _same(values: list) -> bool:
    """Equal as stored: JSON text, so that 1 and 1.0, or True and 1, count as different."""
    first = _canonical(values[0])
    return all(_canonical(value) == first for value in values[1:])


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _union(dicts: list[dict]) -> list[str]:
    """Every key, in the order first seen."""
    keys: dict[str, None] = {}
    for item in dicts:
        keys.update(dict.fromkeys(item))
    return list(keys)


def _compare_params(runs: list[dict]) -> dict:
    params = [run.get("params") or {} for run in runs]
    differ, same = {}, {}
    for key in sorted(_union(params)):
        values = [p.get(key) for p in params]
        if all(key in p for p in params) and _same(values):
            same[key] = values[0]
        else:
            differ[key] = values
    return {"differ": differ, "same": same}


def _compare_metrics(runs: list[dict]) -> dict:
    latest = [run.get("metrics") or {} for run in runs]
    out = {}
    for key in sorted(_union(latest)):
        values = [m.get(key) for m in latest]
        goal = metric_goal(key, runs)
        target = best_value(values, goal)
        best = [index for index, value in enumerate(values) if _finite(value) and value == target] \
            if target is not None else []
        out[key] = {"values": values, "goal": goal, "best": best}
    return out


def _compare_timings(runs: list[dict]) -> dict:
    timings = [flat(run.get("timings") or {}) for run in runs]
    return {key: [t.get(key) for t in timings] for key in _union(timings)}


def _compare_datasets(runs: list[dict]) -> list[dict]:
    # A role can repeat within a run (several distinct predict inputs): the n-th input of a role
    # is compared with the n-th input of that role in the other runs.
    per_run: list[dict[str, dict]] = []
    for run in runs:
        seen: dict[str, int] = {}
        slots = {}
        for dataset in run.get("datasets") or []:
            role = str(dataset.get("role") or "")
            seen[role] = seen.get(role, 0) + 1
            slots[role if seen[role] == 1 else f"{role} #{seen[role]}"] = dataset
        per_run.append(slots)
    out = []
    for role in _union(per_run):
        found = [slots.get(role) for slots in per_run]
        fingerprints = [d.get("fingerprint") if d else None for d in found]
        out.append({
            "role": role,
            "name": next((d.get("name") for d in found if d and d.get("name")), None),
            "fingerprints": fingerprints,
            "shapes": [[d.get("rows"), d.get("columns")] if d else None for d in found],
            "same": None not in fingerprints and len(set(fingerprints)) == 1,
            "verdict": _data_verdict(fingerprints),
        })
    return out


def _data_verdict(fingerprints: list) -> str:
    """"same", "different", or "unknown" when a run lacks the dataset or its fingerprint (a file
    path, a LightGBM Dataset whose raw data was freed): two different fingerprints are proof of
    different data, a missing one is not."""
    known = {fingerprint for fingerprint in fingerprints if fingerprint is not None}
    if len(known) > 1:
        return "different"
    return "same" if None not in fingerprints else "unknown"


def _compare_code(runs: list[dict]) -> dict:
    contexts = [run.get("context") or {} for run in runs]
    gits = [context.get("git") or {} for context in contexts]
    commits = [git.get("commit") for git in gits]
    return {
        "commits": commits,
        "branches": [git.get("branch") for git in gits],
        "dirty": [git.get("dirty") if git else None for git in gits],
        "same_commit": None not in commits and len(set(commits)) == 1,
        "scripts": [context.get("script") for context in contexts],
    }


def command(args, reader) -> int:
    """`autotrack compare`: resolve the runs asked for, then print their comparison."""
    from autotrack.registry.loading import resolve_model
    from autotrack.registry.models import RegistryError
    from autotrack.stores.reader import RunNotFound
    from autotrack.terminal import print_json

    run_ids = _chosen_ids(args, reader)
    if getattr(args, "serving", False):
        return _compare_serving(args, reader, run_ids)
    try:
        full_ids = list(dict.fromkeys(resolve_model(reader, run_id)[0] for run_id in run_ids))
        runs = [reader.get_run(run_id) for run_id in full_ids]
    except (RunNotFound, RegistryError) as exc:
        raise UserError(str(exc)) from None
    if len(runs) < 2:
        raise UserError("compare needs at least 2 different runs: autotrack compare RUN RUN [...]")
    comparison = compare_runs(runs)
    if args.json:
        print_json(comparison)
        return 0
    from autotrack.compare_view import print_comparison

    print_comparison(comparison, show_equal=args.all, best=args.best, goal=args.goal)
    return 0


def _compare_serving(args, reader, refs: list[str]) -> int:
    from autotrack.registry.models import RegistryError
    from autotrack.serving.champion import compare_serving, print_serving_comparison
    from autotrack.terminal import print_json

    if len(refs) < 2:
        raise UserError("compare --serving needs 2 models: autotrack compare churn@champion churn@challenger --serving")
    try:
        result = compare_serving(reader, refs)
    except RegistryError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print_json(result)
    else:
        print_serving_comparison(result)
    return 0


def _chosen_ids(args, reader) -> list[str]:
    if args.best is None:
        if args.experiment is not None:
            raise UserError("--experiment goes with --best METRIC: autotrack compare --experiment E --best METRIC")
        if len(args.run_ids) < 2:
            raise UserError("compare needs at least 2 runs: autotrack compare RUN RUN [...]  or  "
                            "autotrack compare --best METRIC [--experiment E]")
        return list(args.run_ids)
    if args.run_ids:
        raise UserError("give run ids or --best METRIC, not both")
    if args.top < 2:
        raise UserError("--top must be at least 2: compare needs 2 runs")
    if args.experiment is not None and args.experiment not in reader.experiments():
        raise UserError(f"no experiment {args.experiment!r} in {reader.directory}")
    chosen = best_run_ids(reader, args.experiment, args.best, args.top, args.goal)
    if len(chosen) < 2:
        raise UserError(f"only one run logged metric {args.best!r}: nothing to compare it with")
    return chosen


__all__ = ["compare_runs", "metric_goal", "best_run_ids", "command"]
