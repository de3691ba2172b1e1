"""The `autotrack` command: run a script tracked; list, show, compare and report runs; browse them
in a dashboard; sync them; list plugins."""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from autotrack import config
from autotrack.terminal import (UserError, duration, flat, long_time, number, print_json, print_table,
                                short_time, terminal_width, text)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except UserError as exc:
        print(f"autotrack: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `autotrack runs | head`
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # A store that opens but is not an autotrack store (an empty or foreign SQLite file)
        # fails on its first query: a message, not a traceback.
        if type(exc).__module__ == "sqlite3":
            print(f"autotrack: cannot read the store ({exc}); is it an autotrack store?", file=sys.stderr)
            return 1
        raise



def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autotrack", description="Automatic experiment tracking.")
    from autotrack import __version__

    parser.add_argument("--version", action="version", version=f"autotrack {__version__}")
    commands = parser.add_subparsers(dest="command")

    run = commands.add_parser(
        "run", help="run a Python script or command with tracking on",
        description="autotrack run [flags] train.py [args]   or   "
                    "autotrack run [flags] -- python -m pkg [args]. autotrack's flags go before the "
                    "script: everything after it is the script's own.")
    _setting_flags(run)
    run.add_argument("target", nargs=argparse.REMAINDER, help="script.py [args], or -- command [args]")
    run.set_defaults(handler=_cmd_run)

    runs = commands.add_parser("runs", help="list runs, newest first")
    _store_flag(runs)
    runs.add_argument("--experiment", "-e", help="only this experiment")
    runs.add_argument("--limit", "-n", type=int, default=50, help="at most this many (0: all)")
    runs.add_argument("--where", "-w", metavar="QUERY",
                      help="only runs that match, e.g. \"metrics.auc > 0.9 and params.max_depth in (3, 5)\" "
                           "(docs/query.md)")
    runs.add_argument("--sort", "-s", metavar="KEY",
                      help="order by started (default, newest first), name, status, duration, metrics.NAME "
                           "(best first, by its goal), params.NAME or tags.NAME; prefix - to reverse")
    runs.add_argument("--columns", "-c", metavar="COLUMNS",
                      help="the columns to show, comma-separated: metrics.NAME (or a metric's bare name), "
                           "params.NAME, tags.NAME (default: the most common metrics that fit)")
    runs.add_argument("--all", "-a", action="store_true",
                      help="every run: all children of a search, and preprocessing fitted on its own "
                           "(by default a parent shows its latest 3 children and preprocessing is folded "
                           "into the model fitted on its output)")
    runs.add_argument("--json", action="store_true", help="machine-readable output: every run, as --all")
    runs.set_defaults(handler=_cmd_runs)

    show = commands.add_parser("show", help="everything recorded for one run")
    _store_flag(show)
    show.add_argument("run_id", help="run id or a unique prefix")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(handler=_cmd_show)

    sync = commands.add_parser(
        "sync", help="export pending runs to their backends (MLflow), resuming where they stopped",
        description="Push everything the backends have not received yet from the local store: runs "
                    "recorded while a backend was down, or from a process that exited first. Safe to "
                    "run again: nothing is sent twice.")
    _store_flag(sync)
    sync.add_argument("--backend", "-b", help="only this backend (default: every one with pending runs)")
    sync.add_argument("--experiment", "-e", help="only this experiment")
    sync.set_defaults(handler=_cmd_sync)

    compare = commands.add_parser(
        "compare", help="what changed between runs: params, metrics, timings, data, code",
        description="Side by side: the params that differ (equal ones folded away), metrics with the "
                    "best value marked, timings, dataset fingerprints and code version.")
    _store_flag(compare)
    compare.add_argument("run_ids", nargs="*", metavar="RUN",
                         help="run ids or unique prefixes, or registered models (churn@champion, churn/2)")
    compare.add_argument("--serving", action="store_true",
                         help="compare on the served traffic: agreement, predictions, latency, realised metrics")
    compare.add_argument("--experiment", "-e", help="with --best: the experiment to choose runs from")
    compare.add_argument("--best", metavar="METRIC", help="compare the runs best at this metric")
    compare.add_argument("--top", "-n", type=int, default=5, help="with --best: how many runs (default 5)")
    _goal_flags(compare)
    compare.add_argument("--all", action="store_true", help="show equal params too")
    compare.add_argument("--json", action="store_true", help="machine-readable output")
    compare.set_defaults(handler=_cmd_compare)

    report = commands.add_parser(
        "report", help="write a self-contained HTML (or Markdown) report of runs",
        description="One HTML file that opens offline: summary, params, metrics, learning curves, "
                    "importances, timings, datasets, environment; for several runs, their comparison.")
    _store_flag(report)
    report.add_argument("run_ids", nargs="*", metavar="RUN", help="run ids or unique prefixes")
    report.add_argument("--experiment", "-e", help="report this experiment's runs")
    report.add_argument("--best", metavar="METRIC", help="with --experiment: only the runs best at METRIC")
    report.add_argument("--top", "-n", type=int, default=10, help="with --experiment: how many runs")
    _goal_flags(report)
    report.add_argument("--output", "-o", help="file to write (default: report.html or report.md)")
    report.add_argument("--format", choices=("html", "md"), default=None,
                        help="html (default) or md: Markdown with its images in a folder beside it")
    report.set_defaults(handler=_cmd_report)

    ui = commands.add_parser(
        "ui", help="browse runs in a local web dashboard (read-only unless --allow-edit)",
        description="A dashboard over the store, on this machine only unless --allow-remote; read-only "
                    "unless --allow-edit.")
    _store_flag(ui)
    ui.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    ui.add_argument("--port", "-p", type=int, default=5151, help="port (default 5151; 0: any free port)")
    ui.add_argument("--allow-remote", action="store_true",
                    help="allow a --host other than loopback: anyone who reaches it sees every run")
    ui.add_argument("--no-browser", action="store_true", help="do not open a browser")
    ui.add_argument("--allow-edit", action="store_true",
                    help="let the dashboard's pages tag, note and delete runs (read-only by default)")
    ui.set_defaults(handler=_cmd_ui)

    from autotrack.serving import cli as serving_cli

    serving_cli.add_commands(commands, _store_flag, _with_reader)
    from autotrack.registry import cli as registry_cli

    registry_cli.add_commands(commands, _store_flag, _with_reader)
    from autotrack.registry import backtest

    backtest.add_commands(commands, _store_flag, _with_reader)
    from autotrack.reproduce import cli as reproduce_cli

    reproduce_cli.add_commands(commands, _store_flag, _with_reader)
    from autotrack.lifecycle import cli as lifecycle_cli

    lifecycle_cli.add_commands(commands, _store_flag, _with_reader)
    from autotrack.portable import cli as portable_cli

    portable_cli.add_commands(commands, _store_flag, _with_reader, _with_store)

    plugins = commands.add_parser("plugins", help="list plugins and their state")
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    plugins.set_defaults(handler=_cmd_plugins)
    return parser


def _store_flag(parser) -> None:
    parser.add_argument("--store", help="store directory (default: AUTOTRACK_DIR or ./.autotrack)")


def _goal_flags(parser) -> None:
    goal = parser.add_mutually_exclusive_group()
    goal.add_argument("--max", dest="goal", action="store_const", const="max",
                      help="higher is better for the --best metric")
    goal.add_argument("--min", dest="goal", action="store_const", const="min",
                      help="lower is better for the --best metric (default: guessed from its name)")


def _setting_flags(parser) -> None:
    parser.add_argument("--experiment", help="experiment name (default: the script's file stem)")
    parser.add_argument("--store", help="store directory (AUTOTRACK_DIR)")
    parser.add_argument("--no-models", action="store_true", help="do not save fitted models")
    parser.add_argument("--disable", help="comma-separated plugins to switch off, or *")
    parser.add_argument("--strict", action="store_true", help="fail on tracking errors (tests)")


# -- run ------------------------------------------------------------------------------------------
def _cmd_run(args) -> int:
    target = list(args.target)
    if target and target[0] == "--":
        target = target[1:]
    if not target:
        raise UserError("nothing to run: autotrack run script.py [args]  or  autotrack run -- cmd [args]")
    env = dict(os.environ)
    env[config.ENV_SWITCH] = "1"
    for flag, name in (("experiment", "EXPERIMENT"), ("store", "DIR"), ("disable", "DISABLE")):
        value = getattr(args, flag)
        if value:
            env[config.ENV_PREFIX + name] = os.path.abspath(value) if name == "DIR" else value
    if args.no_models:
        env["AUTOTRACK_LOG_MODELS"] = "0"
    if args.strict:
        env["AUTOTRACK_STRICT"] = "1"
    if target[0].endswith(".py") and not os.path.isfile(target[0]):
        raise UserError(f"no such script: {target[0]}")
    if target[0].endswith(".py") or os.path.isfile(target[0]) and not os.access(target[0], os.X_OK):
        command = [sys.executable, *target]
    elif _is_bare_python(target[0]):
        # `python` on PATH may be another interpreter, one without autotrack, which would run the
        # program untracked without a word: use the interpreter autotrack is installed in.
        command = [sys.executable, *target[1:]]
    else:
        found = shutil.which(target[0])
        if found is None:
            raise UserError(f"command not found: {target[0]}")
        command = [found, *target[1:]]
    # The child's interpreter enables tracking at start-up (autotrack_startup.pth sees AUTOTRACK=1),
    # as it would for `AUTOTRACK=1 python script.py`; exec keeps signals and exit codes the script's.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(command[0], command, env)
    return 0  # not reached


def _is_bare_python(name: str) -> bool:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return name in ("python", "python3", f"python{version}")


# -- runs / show ----------------------------------------------------------------------------------
def _store_directory(args) -> str:
    return args.store or config.load_settings().dir


def _reader(args):
    from autotrack.stores.local import StoreError
    from autotrack.stores.reader import StoreReader

    try:
        return StoreReader(_store_directory(args))
    except StoreError as exc:
        raise UserError(str(exc)) from None


def _with_reader(command):
    """A command of another module, given the store's reader and print_json; a wrong run id or
    duration is a one-line message."""
    from autotrack.stores.local import StoreError
    from autotrack.stores.reader import RunNotFound

    def handler(args) -> int:
        try:
            return command(_reader(args), args, print_json)
        except (RunNotFound, ValueError, StoreError) as exc:
            text = str(exc)
            if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":  # a KeyError's quotes
                text = text[1:-1]
            raise UserError(text) from None
        except OSError as exc:  # a file written or read by the command (export -o, gc): one line
            raise UserError(_file_problem(exc)) from None

    return handler


def _file_problem(exc: OSError) -> str:
    from autotrack.stores.local import describe_error

    where = f"{exc.filename}: " if exc.filename else ""
    if isinstance(exc, FileNotFoundError):
        return f"{where}no such file or folder"
    return where + describe_error(exc)


def _with_store(command):
    """A command that writes to the store, which it may create (import, merge): given the store's
    directory; a ValueError or a store that cannot be written is a one-line message."""
    from autotrack.stores.local import StoreError, store_dir

    def handler(args) -> int:
        try:
            return command(store_dir(_store_directory(args)), args, print_json)
        except (ValueError, StoreError) as exc:
            raise UserError(str(exc)) from None
        except OSError as exc:
            raise UserError(_file_problem(exc)) from None

    return handler


def _cmd_runs(args) -> int:
    from autotrack.query.listing import Column

    reader = _reader(args)
    if args.limit < 0:
        raise UserError("--limit must be 0 (all) or more")
    columns = [Column.parse(key) for key in (args.columns or "").split(",") if key.strip()]
    folded: dict[str, int] | None = None  # set when children are folded (no --all)
    unlisted = 0
    parents_first = False  # the runs come parents first, each followed by its children
    if args.where or args.sort or columns:
        runs, total, folded, unlisted = _queried_runs(reader, args, columns)
        parents_first = True
    elif args.all or args.json:
        runs = reader.runs(experiment=args.experiment, limit=args.limit or None)
        total = reader.count_runs(experiment=args.experiment) if args.limit and len(runs) == args.limit else len(runs)
    else:
        runs, total, folded, unlisted = _folded_runs(reader, args.experiment, args.limit)
    if args.json:
        print_json(runs)
        return 0
    if not runs:
        print("no runs" + (" match" if args.where else " yet")
              + (f" in experiment {args.experiment!r}" if args.experiment else ""))
        return 0
    missing = [column for column in columns if not any(column.value(run) is not None for run in runs)]
    if missing:
        raise UserError(f"--columns: no run listed has {missing[0].kind} {missing[0].key!r}")
    _print_runs_table(runs, total, columns, parents_first=parents_first, folded=folded, unlisted=unlisted)
    return 0


def _queried_runs(reader, args, columns) -> tuple[list[dict], int, dict[str, int] | None, int]:
    """`runs --where/--sort/--columns`: every run that matches, sorted; top-level ones limited, each
    followed by its children (the latest 3 unless --all). Returns (runs, top-level total, folded, unlisted)."""
    from autotrack.query import QueryError
    from autotrack.query.listing import Column, ListingError, fold, needs, sort_runs
    from autotrack.stores.reader import UNLISTED_SOURCES

    try:
        runs = reader.runs(experiment=args.experiment, where=args.where)
    except QueryError as exc:
        raise UserError(f"--where: {exc}") from None
    every = args.all or args.json
    unlisted = 0
    if not every:
        kept = [run for run in runs if run["source"] not in UNLISTED_SOURCES]
        unlisted, runs = len(runs) - len(kept), kept
    kinds = needs([*columns, *([Column.parse(args.sort.lstrip("-"))] if args.sort else [])])
    if "param" in kinds:
        reader.attach_params(runs)
    if "tag" in kinds:
        reader.attach_tags(runs)
    if args.sort:
        try:
            runs = sort_runs(runs, args.sort)
        except ListingError as exc:
            raise UserError(str(exc)) from None
    listed, total, folded = fold(runs, args.limit, every_child=every, children_shown=FOLDED_CHILDREN)
    return listed, total, (None if every else folded), unlisted


FOLDED_CHILDREN = 3  # children shown under a parent by `autotrack runs`; --all shows every one


def _folded_runs(reader, experiment: str | None, limit: int) -> tuple[list[dict], int, dict[str, int], int]:
    """What `autotrack runs` lists unless --all: top-level runs other than preprocessing and monitoring runs, newest
    first, each with its latest children (a search's hundreds of candidates fold into a count of
    earlier ones).
    Returns (runs, top-level total, {parent id: children not shown}, runs not listed at all)."""
    top = reader.runs(experiment=experiment, limit=limit or None, listed=True)
    total = reader.count_runs(experiment=experiment, listed=True) if limit and len(top) == limit else len(top)
    runs, folded, shown_children = [], {}, 0
    for run in top:
        runs.append(run)
        count = reader.count_runs(parent_id=run["id"])
        if count:
            children = reader.runs(parent_id=run["id"], limit=FOLDED_CHILDREN)
            runs += children
            shown_children += len(children)
            if count > len(children):
                folded[run["id"]] = count - len(children)
    unlisted = reader.count_runs(experiment=experiment) - reader.count_runs(experiment=experiment, listed=True)
    return runs, total, folded, unlisted - shown_children


# Widths for `autotrack runs`, chosen so that the table fits 80 columns with one metric column.
_GAP = 2  # spaces between columns
_NAME_WIDTH = (10, 20)  # (least, most) at 80 columns; longer names end in an ellipsis
_EXPERIMENT_WIDTH = (8, 14)
_METRIC_WIDTH = 14
_MAX_METRICS = 3


def _print_runs_table(runs: list[dict], total: int | None = None, chosen: list = (),
                      parents_first: bool = False, folded: dict[str, int] | None = None, unlisted: int = 0) -> None:
    """Runs as people read them: children under their parent, ids and statuses never wrapped, the
    columns asked for (query.listing.Column) or as many metric columns as there is room for. `parents_first`:
    the runs already come parents first. Times are local, as everywhere people read them; `--json`
    gives ISO 8601 in UTC."""
    from autotrack.query.listing import Column

    experiments = {run["experiment"] for run in runs}
    ordered = _depths(runs) if parents_first else _parents_first(runs)
    columns = [("id", 8, 8)]
    if len(experiments) > 1:
        experiment_names = ["experiment", *(run["experiment"] or "" for run in runs)]
        columns.append(("experiment", *_fit(_EXPERIMENT_WIDTH, experiment_names)))
    # Sorted by something else, children are not under their parent: "… " marks them.
    names = [_indent(run, depth) + (run["name"] or "") for run, depth in ordered]
    width = terminal_width()
    # A wider terminal shows more of a name (`Pipeline(LogisticRegression) C=1`): what is beyond
    # 80 columns goes to the name first, one metric column keeping its room.
    name_width = (_NAME_WIDTH[0], max(_NAME_WIDTH[1], _NAME_WIDTH[1] + width - 80))
    columns += [("name", *_fit(name_width, ["name", *names])), ("status", 8, 9), ("started", 11, 11),
                ("duration", 8, 8)]
    exported = any(run.get("exports") for run in runs)
    if exported:
        columns.append(("export", *_fit((6, 24), ["export", *(_export_text(run) for run in runs)])))
    used = sum(most for _, _, most in columns) + _GAP * (len(columns) - 1)
    shown = []
    for column in chosen or [Column("metric", key) for key in _common_metric_keys(runs, _MAX_METRICS)]:
        values = [_cell(column.value(run)) for run in runs]
        most = max(len(column.label), *map(len, values))
        most = most if chosen else min(_METRIC_WIDTH, most)  # asked for: shown whole
        if not chosen and used + _GAP + most > width:
            break
        shown.append(column)
        columns.append((column.label, min(most, 6), most))
        used += _GAP + most
    rows = [
        [run["id"][:8], *([run["experiment"] or ""] if len(experiments) > 1 else []), name,
         run["status"] + ("*" if run.get("dropped") else ""), short_time(run["start_time"]),
         duration(run["duration_s"]),
         *([_export_text(run)] if exported else []),
         *(_cell(column.value(run)) for column in shown)]
        for (run, _depth), name in zip(ordered, names)
    ]
    if folded is not None:  # `runs` without --all: "└ … 97 earlier" after a parent's last child shown
        for index in reversed(range(len(ordered))):
            run, depth = ordered[index]
            last_child = depth == 1 and (index + 1 == len(ordered) or ordered[index + 1][1] == 0)
            if last_child and run["parent_id"] in folded:
                fold = [""] * len(columns)
                fold[[name for name, _, _ in columns].index("name")] = f"└ … {folded[run['parent_id']]} earlier"
                rows.insert(index + 1, fold)
    # Folded, the count is of the top-level runs: a parent's children are part of it.
    listed = sum(1 for _, depth in ordered if depth == 0) if folded is not None else len(runs)
    total = listed if total is None else total
    title = f"{listed} of {total} runs" if total > listed else f"{listed} run{'s' if listed != 1 else ''}"
    if len(experiments) == 1:
        title += f" in experiment {next(iter(experiments))!r}"
    title += " (times local)"
    if total > listed:
        title += "; --limit 0 shows all"
    if unlisted:
        title += f"; {unlisted} folded, --all shows them"
    print_table([name for name, _, _ in columns], rows, title=title,
                 widths=[(least, most) for _, least, most in columns], compact=True)
    incomplete = [run for run, _ in ordered if run.get("dropped")]
    if incomplete:
        print(f"* incomplete: {_dropped_text(incomplete[0]['dropped'])}"
              + (f" (and {len(incomplete) - 1} more runs)" if len(incomplete) > 1 else "")
              + f"; `autotrack show {incomplete[0]['id'][:8]}` says more")


_EXPORT_MARKS = {"done": "✓", "pending": "pending", "error": "error"}


def _export_text(run: dict) -> str:
    """`mlflow ✓`, `mlflow pending`: where each backend stands with this run."""
    return ", ".join(f"{backend} {_EXPORT_MARKS.get(state['status'], state['status'])}"
                     for backend, state in sorted((run.get("exports") or {}).items()))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number(value)
    return text(value)


def _depths(runs: list[dict]) -> list[tuple[dict, int]]:
    """Runs that already come parents first, each with its depth under the listed parents."""
    depth: dict[str, int] = {}
    ordered = []
    for run in runs:
        depth[run["id"]] = depth[run["parent_id"]] + 1 if run["parent_id"] in depth else 0
        ordered.append((run, depth[run["id"]]))
    return ordered


def _parents_first(runs: list[dict]) -> list[tuple[dict, int]]:
    """Newest top-level runs first, each followed by its children (oldest first), as a tree."""
    present = {run["id"] for run in runs}
    children: dict[str, list[dict]] = {}
    for run in runs:
        if run["parent_id"] in present:
            children.setdefault(run["parent_id"], []).append(run)
    ordered: list[tuple[dict, int]] = []

    def visit(run: dict, depth: int) -> None:
        ordered.append((run, depth))
        for child in reversed(children.get(run["id"], [])):  # runs come newest first
            visit(child, depth + 1)

    for run in runs:
        if run["parent_id"] not in present:
            visit(run, 0)
    return ordered


def _indent(run: dict, depth: int) -> str:
    if depth:
        return "  " * (depth - 1) + "└ "
    return "… " if run["parent_id"] else ""  # a child whose parent is not listed


def _fit(bounds: tuple[int, int], values: list[str]) -> tuple[int, int]:
    least, most = bounds
    natural = max((len(value) for value in values), default=least)
    return min(least, natural), max(min(most, natural), min(least, natural))


def _cmd_show(args) -> int:
    from autotrack.stores.reader import RunNotFound

    reader = _reader(args)
    try:
        run = reader.get_run(args.run_id)
    except RunNotFound as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print_json(run)
        return 0
    _print_run(run)
    return 0


def _common_metric_keys(runs: list[dict], limit: int) -> list[str]:
    """The metrics most top-level runs have, then those most runs have: a search's candidates
    outnumber the models people compare, and should not push their metrics out of the table."""
    counts: dict[str, list[int]] = {}
    for run in runs:
        for key in run["metrics"]:
            count = counts.setdefault(key, [0, 0])
            count[0] += run["parent_id"] is None
            count[1] += 1
    return sorted(counts, key=lambda key: (-counts[key][0], -counts[key][1], key))[:limit]


def _dropped_text(dropped: dict | None) -> str | None:
    """`100,000 points and 2 records dropped: the store could not be written (the disk is full)`."""
    if not dropped:
        return None
    parts = [f"{dropped[key]:,} {key}" for key in ("points", "records") if dropped.get(key)]
    return f"{' and '.join(parts) or 'records'} dropped" + (f": {dropped['why']}" if dropped.get("why") else "")


def _print_run(run: dict) -> None:
    print(f"run {run['id']}  {run['name'] or ''}")
    facts = [
        ("experiment", run["experiment"]), ("status", run["status"]), ("error", run["error"]),
        ("incomplete", _dropped_text(run.get("dropped"))),
        ("parent", run["parent_id"]), ("started", long_time(run["start_time"])),
        ("ended", long_time(run["end_time"])), ("duration", duration(run["duration_s"])),
        ("children", len(run["children"]) or None),
    ]
    process = (run.get("context") or {}).get("process") or {}
    if process.get("outcome") in ("failed", "killed") and run["status"] == "finished":
        verb = "was killed" if process["outcome"] == "killed" else "failed"
        facts.append(("script", f"{verb} after this run: {process.get('error') or ''}".rstrip(": ")))
    print_table(["", ""], [[k, str(v)] for k, v in facts if v is not None], title="summary")
    if run["params"]:
        print_table(["param", "value"], [[k, text(v)] for k, v in run["params"].items()], title="params")
    if run["metrics"]:
        from autotrack.metric_goals import LABELS as GOAL_LABELS

        goals = run.get("goals") or {}
        print_table(["metric", "goal", "latest", "best", "points"],
                     [[k, GOAL_LABELS.get(goals.get(k), ""), number(v), _best_text(run["history"][k], goals.get(k)),
                       str(len(run["history"][k]))] for k, v in run["metrics"].items()],
                     title="metrics (↑ higher is better, ↓ lower is better)")
    if run["timings"]:
        print_table(["timing", "value"], [[k, _timing_text(k, v)] for k, v in flat(run["timings"]).items()],
                     title="timings")
    if run.get("tags"):
        print_table(["tag", "value"], [[k, str(v)] for k, v in run["tags"].items()], title="tags")
    if run.get("exports"):
        print_table(["backend", "export", "remote id", "error"],
                     [[backend, state.get("status", ""), str(state.get("remote_id") or ""), state.get("error") or ""]
                      for backend, state in sorted(run["exports"].items())], title="exports")
    for kind, values in run["importances"].items():
        top = sorted(values.items(), key=lambda item: -abs(item[1] or 0))[:15]
        print_table(["feature", kind], [[k, number(v)] for k, v in top], title=f"importances ({kind})")
    if run["datasets"]:
        print_table(["role", "name", "rows", "columns", "fingerprint"],
                     [[d.get("role"), d.get("name") or "", str(d.get("rows", "")), str(d.get("columns", "")),
                       d.get("fingerprint") or ""] for d in run["datasets"]], title="datasets")
    context = run["context"]
    git = context.get("git") or {}
    env_rows = [["python", (context.get("python") or {}).get("version", "")], ["host", context.get("host", "")],
                ["user", context.get("user") or ""], ["script", context.get("script") or ""],
                ["git", f"{git.get('commit', '')[:12]} {git.get('branch') or ''}"
                        f"{' (dirty)' if git.get('dirty') else ''}" if git else "not a git repository"]]
    print_table(["context", ""], env_rows, title="context")
    from autotrack.capture.manifest import manifest_lines

    print_table(["captured", ""], [list(row) for row in manifest_lines(context.get("capture"))],
                title="what autotrack captured")
    if run["artifacts"]:
        print_table(["artifact", "bytes", "path"],
                     [[a["name"], str(a["bytes"]), a["path"]] for a in run["artifacts"]], title="artifacts")


def _best_text(points: list, goal: str | None) -> str:
    """The best point of a series for its goal, with its step when it has several points."""
    from autotrack.metric_goals import best_value

    value = best_value([point[1] for point in points], goal)
    if value is None:
        return ""
    step = next(point[0] for point in points if point[1] == value)
    return number(value) + (f" @{step}" if len(points) > 1 else "")


def _timing_text(key: str, value) -> str:
    """Seconds as people read them (`fit_s` 0.153s, 12m03s); counts and lists as they are."""
    if key.endswith("_s") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return duration(value)
    if key.endswith("_s") and isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
        return ", ".join(duration(v) for v in value[:10]) + (" ..." if len(value) > 10 else "")
    return text(value)


# -- compare / report / ui: each in its own module, imported only when used ----------------------
def _cmd_compare(args) -> int:
    from autotrack.compare import command

    return command(args, _reader(args))


def _cmd_report(args) -> int:
    from autotrack.report import command

    return command(args, _reader(args))


def _cmd_ui(args) -> int:
    from autotrack.ui import command

    return command(args, _store_directory(args))


# -- sync -----------------------------------------------------------------------------------------
def _cmd_sync(args) -> int:
    from autotrack.export import BackendNotConfigured, Exporter
    from autotrack.plugins import load_plugins
    from autotrack.stores.local import StoreError, store_dir

    settings = config.load_settings({"dir": args.store} if args.store else None)
    factories = dict(load_plugins(settings, raise_errors=False).backends)
    directory = store_dir(settings.dir)
    if not (directory / "runs.db").exists():
        raise UserError(f"no autotrack store at {directory} (set AUTOTRACK_DIR or --store)")
    try:
        exporter = Exporter(directory, {})
    except StoreError as exc:
        raise UserError(str(exc)) from None
    wanted = [args.backend] if args.backend else exporter.backends_with_pending()
    for name in wanted:
        if name not in factories:
            raise UserError(f"no backend {name!r}: installed backends are "
                             f"{', '.join(sorted(factories)) or 'none'} (see `autotrack plugins`)")
    if not wanted:
        backends = [name for name in settings.backends if name != "local"]
        if not backends and not args.backend:
            print("nothing to sync: no backend is set besides the local store (set AUTOTRACK_BACKENDS="
                  "local,mlflow, or `backends` in pyproject.toml, before training)")
            return 0
        print("nothing to sync: every run is exported")
        summary = None
    else:
        try:
            exporter.backends = {name: factories[name](settings) for name in wanted}
        except BackendNotConfigured as exc:
            raise UserError(str(exc)) from None
        with _progress() as advance:
            summary = exporter.export(wanted, experiment=args.experiment, progress=advance)
        print(f"exported {summary.done} run{'s' if summary.done != 1 else ''} "
              f"({summary.points} metric points) to {', '.join(wanted)}")
    models_ok = _sync_models(exporter, settings, directory, args.backend)
    if summary is None:
        return 0 if models_ok else 1
    if summary.busy:
        print(f"{len(set(summary.busy))} run(s) are being exported by another process now (a training "
              f"process or another sync): left to it")
    for backend, why in summary.unavailable.items():
        print(f"autotrack: {backend} is unavailable ({why}); {len(set(summary.pending))} run(s) "
              f"still pending: run `autotrack sync` again when it answers", file=sys.stderr)
    for run_id, why in summary.errors.items():
        print(f"autotrack: run {run_id[:8]} was refused: {why}", file=sys.stderr)
    return 1 if summary.unavailable or summary.errors or not models_ok else 0


def _sync_models(exporter, settings, directory, only: str | None) -> bool:
    """Each exported run's saved model as the backend's kind of model (an MLflow model), then the
    registry mirrored; False when a backend was unavailable for it."""
    from autotrack.export import BackendUnavailable
    from autotrack.registry.mirror import backends_that_mirror, export_models, mirror_registry
    from autotrack.stores.reader import StoreReader

    backends, _ = backends_that_mirror(settings)
    backends = {name: backend for name, backend in backends.items() if only in (None, name)}
    if not backends:
        return True
    reader = StoreReader(str(directory))
    ok = True
    try:
        with_models = {run_id for (run_id,) in reader.fetch("SELECT DISTINCT run_id FROM artifacts")}
        for name, backend in backends.items():
            try:
                done = export_models(exporter, reader, name, backend,
                                     [run_id for run_id in exporter.exported_runs(name) if run_id in with_models])
            except BackendUnavailable as exc:
                print(f"autotrack: {name} is unavailable for models ({exc}): run `autotrack sync` again",
                      file=sys.stderr)
                ok = False
                continue
            if done.logged:
                print(f"logged {done.logged} model{'s' if done.logged != 1 else ''} to {name}")
            for run_id, why in done.skipped.items():
                print(f"autotrack: the model of run {run_id[:8]} is not logged to {name}: {why}", file=sys.stderr)
    finally:
        reader.close()
    for name, result in mirror_registry(str(directory), backends).items():
        if result.get("error"):
            print(f"autotrack: the registry is not mirrored to {name} ({result['error']})", file=sys.stderr)
            ok = False
        elif result.get("versions"):
            print(f"registry mirrored to {name}: {result['versions']} version(s)")
    return ok


class _progress:
    """A progress bar on a terminal (rich), plain lines otherwise; yields advance(backend, i, n)."""

    def __enter__(self):
        try:
            from rich.progress import Progress
        except ImportError:
            return lambda backend, done, total: print(f"{backend}: {done}/{total} runs", flush=True)
        self._bar = Progress(transient=False)
        self._bar.start()
        tasks: dict = {}

        def advance(backend, done, total):
            if backend not in tasks:
                tasks[backend] = self._bar.add_task(f"export to {backend}", total=total)
            self._bar.update(tasks[backend], completed=done)

        return advance

    def __exit__(self, *exc):
        bar = getattr(self, "_bar", None)
        if bar is not None:
            bar.stop()
        return False


# -- plugins --------------------------------------------------------------------------------------
def _cmd_plugins(args) -> int:
    from autotrack.plugins import BUILTIN_DISTRIBUTION, load_plugins

    # raise_errors=False: this command exists to show a broken plugin, even in strict mode.
    infos = load_plugins(config.load_settings(), raise_errors=False).infos.values()
    infos = sorted(infos, key=lambda info: (info.distribution != BUILTIN_DISTRIBUTION, info.name))
    rows = [[i.name, i.kind, i.state, i.detail, i.distribution] for i in infos]
    if args.json:
        print_json([dict(zip(["name", "kind", "state", "detail", "distribution"], row)) for row in rows])
        return 0
    print_table(["plugin", "kind", "state", "detail", "package"], rows, title="plugins", compact=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
