"""One run's part of the report: summary, params, metrics, curves, importances, timings, datasets,
environment and child runs, gathered from the run dict (docs/schema.md) into document sections."""

from __future__ import annotations

import math

from autotrack.compare import metric_goal
from autotrack.curves import downsample, group_curves, role, split_key
from autotrack.report.charts import curve_chart, importance_chart
from autotrack.report.document import Facts, Note, Section, Table
from autotrack.report.model_card import model_card_section
from autotrack.report.production import production_section
from autotrack.terminal import duration, flat, number, text

POINTS_PER_SERIES = 2000  # a chart 700 pixels wide shows no more
MAX_CURVE_CHARTS = 24  # per run: a Lightning run can log dozens of series
MAX_CHILDREN = 50
MAX_CHILD_PARAMS = 8
MAX_CHILD_METRICS = 6
MAX_SCHEMA_COLUMNS = 30
_BETTER = {"min": "lower", "max": "higher", "none": "—"}


def run_label(run: dict) -> str:
    """How a run is named in headings and legends: its name and short id."""
    return f"{run.get('name') or '(unnamed)'} {run['id'][:8]}"


def show(value) -> str:
    """A param, metric or timing value as text: numbers to 4 significant digits, JSON otherwise."""
    if value is None:
        return ""
    if isinstance(value, float):
        return number(value)
    return text(value)


def param_text(value) -> str:
    """A param as recorded (JSON), at full precision: a learning rate of 0.012345 is not 0.01235."""
    return text(value)


def seconds(value) -> str:
    """`12.345s`, or milliseconds below a second: a 0.4 ms predict call does not read `0.000s`."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    if abs(value) < 1:
        return f"{value * 1000:.3g} ms"
    return f"{value:.3g} s" if abs(value) < 100 else f"{value:.0f} s"


def run_sections(run: dict, reader, anchor: str) -> list[Section]:
    """Every section of one run, in reading order; empty ones are left out."""
    sections = [
        _summary(run, anchor), _params(run, anchor), _metrics(run, anchor), _curves(run, anchor),
        _importances(run, anchor), _timings(run, anchor), _datasets(run, anchor),
        _environment(run, anchor), _children(run, reader, anchor), production_section(run, reader, anchor),
        model_card_section(run, reader, anchor),
    ]
    return [section for section in sections if section is not None]


def _section(title: str, kind: str, anchor: str, blocks: list, folded: bool = False) -> Section:
    return Section(title, f"{anchor}-{kind}", kind, blocks, folded)


def _summary(run: dict, anchor: str) -> Section:
    children = run.get("children") or []
    facts = [
        ("name", run.get("name") or ""), ("id", run["id"]), ("experiment", run.get("experiment") or ""),
        ("status", run.get("status") or ""), ("error", run.get("error")), ("source", run.get("source")),
        ("started", run.get("start_time")), ("ended", run.get("end_time")),
        ("duration", duration(run.get("duration_s")) or None), ("parent", run.get("parent_id")),
        ("children", f"{len(children)} run{'s' if len(children) != 1 else ''}" if children else None),
    ]
    blocks: list = [Facts([(name, str(value)) for name, value in facts if value not in (None, "")])]
    if run.get("tags"):
        blocks.append(Table(["tag", "value"], [[key, str(value)] for key, value in run["tags"].items()],
                            caption="tags"))
    if run.get("artifacts"):
        blocks.append(Table(["artifact", "bytes"], [[item["name"], str(item["bytes"])]
                                                    for item in run["artifacts"]], caption="artifacts"))
    return _section("Summary", "summary", anchor, blocks)


def _params(run: dict, anchor: str) -> Section | None:
    params = run.get("params") or {}
    if not params:
        return None
    return _section("Parameters", "params", anchor,
                    [Table(["param", "value"], [[key, param_text(value)] for key, value in params.items()])])


def _metrics(run: dict, anchor: str) -> Section | None:
    history = run.get("history") or {}
    if not history:
        return None
    rows = []
    for key, points in history.items():
        goal = metric_goal(key, [run])
        finite = [point for point in points if _finite(point[1])]
        best = (min if goal == "min" else max)(finite, key=lambda point: point[1]) \
            if finite and goal in ("min", "max") else None
        rows.append([key, show((run.get("metrics") or {}).get(key)),
                     f"{number(best[1])} (step {best[0]})" if best else "", _BETTER.get(goal, ""), str(len(points))])
    return _section("Metrics", "metrics", anchor,
                    [Table(["metric", "latest", "best", "better", "points"], rows)])


def _curves(run: dict, anchor: str) -> Section | None:
    history = run.get("history") or {}
    groups = group_curves(history)
    if not groups:
        return None
    blocks: list = []
    for index, group in enumerate(groups[:MAX_CURVE_CHARTS]):
        series = [{"label": split_key(key)[0] or key, "points": downsample(history[key], POINTS_PER_SERIES),
                   "role": role(key), "color": number_in_group}
                  for number_in_group, key in enumerate(group["keys"])]
        blocks.append(curve_chart(group["title"], series, name=f"{anchor}-curve-{index + 1}"))
    if len(groups) > MAX_CURVE_CHARTS:
        blocks.append(Note(f"{len(groups) - MAX_CURVE_CHARTS} more metrics not drawn; see the metrics table"))
    return _section("Learning curves", "curves", anchor, blocks)


def _importances(run: dict, anchor: str) -> Section | None:
    kinds = {kind: values for kind, values in (run.get("importances") or {}).items() if values}
    if not kinds:
        return None
    blocks = [importance_chart(kind, values, name=f"{anchor}-importance-{index + 1}")
              for index, (kind, values) in enumerate(kinds.items())]
    return _section("Feature importance", "importances", anchor, blocks)


def _timings(run: dict, anchor: str) -> Section | None:
    timings = run.get("timings") or {}
    if not timings:
        return None
    plain, calls = [], []
    for key, value in timings.items():
        if isinstance(value, dict) and "count" in value:  # a predict-type method: latency statistics
            calls.append([key, str(value.get("count", "")),
                          *(seconds(value.get(stat)) for stat in ("total_s", "mean_s", "p50_s", "p95_s"))])
        elif isinstance(value, dict):
            plain += [[name, timing_text(name, item)] for name, item in flat(value, f"{key}.").items()]
        else:
            plain.append([key, timing_text(key, value)])
    blocks: list = []
    if plain:
        blocks.append(Table(["timing", "value"], plain, caption="fit"))
    if calls:
        blocks.append(Table(["method", "calls", "total", "mean", "p50", "p95"], calls, caption="calls"))
    return _section("Timings", "timings", anchor, blocks)


def timing_text(key: str, value) -> str:
    """A flat timing key's value: seconds for `*_s` keys and Pipeline steps (stored as bare seconds
    under `steps`), as recorded otherwise (`iterations` is a count)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and (
            key.endswith("_s") or key.startswith("steps.")):
        return seconds(value)
    return show(value)


def _datasets(run: dict, anchor: str) -> Section | None:
    datasets = run.get("datasets") or []
    if not datasets:
        return None
    rows = [[dataset.get("role") or "", dataset.get("name") or "", show(dataset.get("rows")),
             show(dataset.get("columns")), _schema(dataset), _target(dataset.get("target")),
             dataset.get("fingerprint") or ""] for dataset in datasets]
    return _section("Datasets", "datasets", anchor, [
        Table(["role", "name", "rows", "columns", "schema", "target", "fingerprint"], rows)])


def _schema(dataset: dict) -> str:
    schema = dataset.get("schema") or []
    shown = ", ".join(f"{column.get('name')}: {column.get('dtype')}" for column in schema[:MAX_SCHEMA_COLUMNS])
    if len(schema) > MAX_SCHEMA_COLUMNS or dataset.get("schema_truncated"):
        shown += f", … ({dataset.get('columns') or len(schema)} columns)"
    return shown


def _target(target) -> str:
    if not isinstance(target, dict):
        return ""
    if target.get("kind") == "classes":
        classes = target.get("classes") or {}
        return f"{target.get('n_classes', len(classes))} classes: " + ", ".join(
            f"{label} ({count})" for label, count in list(classes.items())[:10])
    if target.get("kind") == "numeric":
        return ", ".join(f"{stat} {show(target.get(stat))}" for stat in ("min", "max", "mean", "std")
                         if target.get(stat) is not None)
    return show({key: value for key, value in target.items() if key != "kind"}) if target else ""


def _environment(run: dict, anchor: str) -> Section | None:
    context = run.get("context") or {}
    if not context:
        return None
    python = context.get("python") or {}
    git = context.get("git")
    facts = [
        ("python", " ".join(str(python.get(key)) for key in ("implementation", "version") if python.get(key))),
        ("platform", context.get("platform")), ("host", context.get("host")), ("user", context.get("user")),
        ("script", context.get("script")), ("module", context.get("module")), ("cwd", context.get("cwd")),
        ("argv", " ".join(map(str, context.get("argv") or [])) or None),
    ]
    if git:
        facts += [("git commit", git.get("commit")), ("git branch", git.get("branch")),
                  ("git dirty", "yes" if git.get("dirty") else "no"), ("git remote", git.get("remote"))]
    else:
        facts.append(("git", "not a git repository (or git not installed)"))
    blocks: list = [Facts([(name, str(value)) for name, value in facts if value not in (None, "")])]
    if context.get("env"):
        blocks.append(Table(["variable", "value"], [[key, str(value)] for key, value in context["env"].items()],
                            caption="environment variables"))
    packages = context.get("packages") or {}
    if packages:
        blocks.append(_section(f"Packages ({len(packages)})", "packages", anchor, [
            Table(["package", "version"], [[name, str(version)] for name, version in sorted(packages.items())])],
            folded=True))
    known = {"python", "platform", "machine", "host", "user", "pid", "argv", "cwd", "script", "module", "env",
             "git", "packages"}
    for key, value in context.items():  # plugins' own sections (docs/schema.md: context)
        if key not in known and isinstance(value, dict) and value:
            blocks.append(Table(["key", "value"], [[k, show(v)] for k, v in flat(value).items()], caption=key))
    return _section("Environment and code", "environment", anchor, blocks)


def _children(run: dict, reader, anchor: str) -> Section | None:
    child_ids = run.get("children") or []
    if not child_ids:
        return None
    children = [reader.get_run(child_id) for child_id in child_ids[:MAX_CHILDREN]]
    param_keys = _varying_keys([child.get("params") or {} for child in children])[:MAX_CHILD_PARAMS]
    metric_keys = _common_keys([child.get("metrics") or {} for child in children])[:MAX_CHILD_METRICS]
    rows = [[child["id"][:8], child.get("name") or "", child.get("status") or "",
             *(param_text((child.get("params") or {}).get(key)) for key in param_keys),
             *(show((child.get("metrics") or {}).get(key)) for key in metric_keys)] for child in children]
    note = (f"first {len(children)} of {len(child_ids)} child runs" if len(child_ids) > len(children) else "")
    return _section(f"Child runs ({len(child_ids)})", "children", anchor, [
        Table(["id", "name", "status", *param_keys, *metric_keys], rows, note=note)])


def _varying_keys(dicts: list[dict]) -> list[str]:
    """The keys whose values differ between the dicts (a search's tuned params), else every key."""
    keys = _common_keys(dicts)
    varying = [key for key in keys if len({text(d.get(key)) for d in dicts}) > 1]
    return varying or keys


def _common_keys(dicts: list[dict]) -> list[str]:
    counts: dict[str, int] = {}
    for item in dicts:
        for key in item:
            counts[key] = counts.get(key, 0) + 1
    return sorted(counts, key=lambda key: -counts[key])  # stable: first-seen order among equals


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


__all__ = ["run_sections", "run_label", "show", "param_text", "seconds", "timing_text", "POINTS_PER_SERIES",
           "MAX_CURVE_CHARTS"]
