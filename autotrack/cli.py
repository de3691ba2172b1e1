"""The `autotrack` command: run a script tracked, list and show runs, list plugins."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

from autotrack import config


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except _UserError as exc:
        print(f"autotrack: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `autotrack runs | head`
        return 0


class _UserError(Exception):
    """A problem with what the user asked for, reported in one line without a traceback."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autotrack", description="Automatic experiment tracking.")
    commands = parser.add_subparsers(dest="command")

    run = commands.add_parser(
        "run", help="run a Python script or command with tracking on",
        description="autotrack run train.py [args]   or   autotrack run -- python -m pkg [args]")
    _setting_flags(run)
    run.add_argument("target", nargs=argparse.REMAINDER, help="script.py [args], or -- command [args]")
    run.set_defaults(handler=_cmd_run)

    runs = commands.add_parser("runs", help="list runs, newest first")
    _store_flag(runs)
    runs.add_argument("--experiment", "-e", help="only this experiment")
    runs.add_argument("--limit", "-n", type=int, default=50, help="at most this many (0: all)")
    runs.add_argument("--json", action="store_true", help="machine-readable output")
    runs.set_defaults(handler=_cmd_runs)

    show = commands.add_parser("show", help="everything recorded for one run")
    _store_flag(show)
    show.add_argument("run_id", help="run id or a unique prefix")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(handler=_cmd_show)

    plugins = commands.add_parser("plugins", help="list plugins and their state")
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    plugins.set_defaults(handler=_cmd_plugins)
    return parser


def _store_flag(parser) -> None:
    parser.add_argument("--store", help="store directory (default: AUTOTRACK_DIR or ./.autotrack)")


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
        raise _UserError("nothing to run: autotrack run script.py [args]  or  autotrack run -- cmd [args]")
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
    if target[0].endswith(".py") or os.path.isfile(target[0]) and not os.access(target[0], os.X_OK):
        command = [sys.executable, *target]
    else:
        found = shutil.which(target[0])
        if found is None:
            raise _UserError(f"command not found: {target[0]}")
        command = [found, *target[1:]]
    # The child's interpreter enables tracking at start-up (autotrack_startup.pth sees AUTOTRACK=1),
    # as it would for `AUTOTRACK=1 python script.py`; exec keeps signals and exit codes the script's.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(command[0], command, env)
    return 0  # not reached


# -- runs / show ----------------------------------------------------------------------------------
def _reader(args):
    from autotrack.stores.local import StoreError
    from autotrack.stores.reader import StoreReader

    directory = args.store or config.load_settings().dir
    try:
        return StoreReader(directory)
    except StoreError as exc:
        raise _UserError(str(exc)) from None


def _cmd_runs(args) -> int:
    runs = _reader(args).runs(experiment=args.experiment, limit=args.limit or None)
    if args.json:
        _print_json(runs)
        return 0
    if not runs:
        print("no runs yet" + (f" in experiment {args.experiment!r}" if args.experiment else ""))
        return 0
    metric_keys = _common_metric_keys(runs)
    header = ["id", "experiment", "name", "status", "started", "duration", *metric_keys]
    rows = [
        [run["id"][:8], run["experiment"], ("  " if run["parent_id"] else "") + (run["name"] or ""),
         run["status"], _short_time(run["start_time"]), _seconds(run["duration_s"]),
         *(_number(run["metrics"].get(key)) for key in metric_keys)]
        for run in runs
    ]
    _print_table(header, rows, title=f"{len(runs)} runs")
    return 0


def _cmd_show(args) -> int:
    from autotrack.stores.reader import RunNotFound

    reader = _reader(args)
    try:
        run = reader.get_run(args.run_id)
    except RunNotFound as exc:
        raise _UserError(str(exc)) from None
    if args.json:
        _print_json(run)
        return 0
    _print_run(run)
    return 0


def _common_metric_keys(runs: list[dict], limit: int = 4) -> list[str]:
    counts: dict[str, int] = {}
    for run in runs:
        for key in run["metrics"]:
            counts[key] = counts.get(key, 0) + 1
    return sorted(counts, key=lambda key: (-counts[key], key))[:limit]


def _print_run(run: dict) -> None:
    print(f"run {run['id']}  {run['name'] or ''}")
    facts = [
        ("experiment", run["experiment"]), ("status", run["status"]), ("error", run["error"]),
        ("parent", run["parent_id"]), ("started", run["start_time"]), ("duration", _seconds(run["duration_s"])),
        ("children", len(run["children"]) or None),
    ]
    _print_table(["", ""], [[k, str(v)] for k, v in facts if v is not None], title="summary")
    if run["params"]:
        _print_table(["param", "value"], [[k, _text(v)] for k, v in run["params"].items()], title="params")
    if run["metrics"]:
        _print_table(["metric", "latest", "points"],
                     [[k, _number(v), str(len(run["history"][k]))] for k, v in run["metrics"].items()],
                     title="metrics")
    if run["timings"]:
        _print_table(["timing", "value"], [[k, _text(v)] for k, v in _flat(run["timings"]).items()],
                     title="timings")
    for kind, values in run["importances"].items():
        top = sorted(values.items(), key=lambda item: -abs(item[1] or 0))[:15]
        _print_table(["feature", kind], [[k, _number(v)] for k, v in top], title=f"importances ({kind})")
    if run["datasets"]:
        _print_table(["role", "name", "rows", "columns", "fingerprint"],
                     [[d.get("role"), d.get("name") or "", str(d.get("rows", "")), str(d.get("columns", "")),
                       d.get("fingerprint") or ""] for d in run["datasets"]], title="datasets")
    context = run["context"]
    git = context.get("git") or {}
    env_rows = [["python", (context.get("python") or {}).get("version", "")], ["host", context.get("host", "")],
                ["user", context.get("user") or ""], ["script", context.get("script") or ""],
                ["git", f"{git.get('commit', '')[:12]} {git.get('branch') or ''}"
                        f"{' (dirty)' if git.get('dirty') else ''}" if git else "not a git repository"]]
    _print_table(["context", ""], env_rows, title="context")
    if run["artifacts"]:
        _print_table(["artifact", "bytes", "path"],
                     [[a["name"], str(a["bytes"]), a["path"]] for a in run["artifacts"]], title="artifacts")


def _flat(value: dict, prefix: str = "") -> dict:
    out = {}
    for key, item in value.items():
        if isinstance(item, dict):
            out.update(_flat(item, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = item
    return out


# -- plugins --------------------------------------------------------------------------------------
def _cmd_plugins(args) -> int:
    from autotrack.plugins import load_plugins

    infos = load_plugins(config.load_settings()).infos
    rows = [[i.name, i.kind, i.state, i.detail, i.distribution] for i in infos.values()]
    if args.json:
        _print_json([dict(zip(["name", "kind", "state", "detail", "distribution"], row)) for row in rows])
        return 0
    _print_table(["plugin", "kind", "state", "detail", "package"], rows, title="plugins")
    return 0


# -- output ---------------------------------------------------------------------------------------
def _print_json(value) -> None:
    from autotrack.stores.local import dumps

    print(dumps(value))


def _print_table(header: list[str], rows: list[list], title: str = "") -> None:
    try:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text
    except ImportError:  # rich is optional (autotrack[cli]); plain columns do the job
        _print_plain(header, rows, title)
        return
    table = Table(title=title or None, show_header=any(header), title_justify="left")
    for column in header:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(str(cell)) for cell in row))  # Text: markup in user data stays text
    Console(highlight=False).print(table)


def _print_plain(header, rows, title) -> None:
    if title:
        print(f"== {title}")
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    for row in ([header] if any(header) else []) + rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _number(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _seconds(value) -> str:
    return "" if value is None else f"{value:.3f}s"


def _short_time(iso: str | None) -> str:
    return (iso or "")[:19].replace("T", " ")


if __name__ == "__main__":
    sys.exit(main())
