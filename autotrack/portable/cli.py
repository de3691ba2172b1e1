"""`autotrack export`, `autotrack import` (a tar file, or --from-mlflow) and `autotrack merge`."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def add_commands(commands, store_flag, handler_of, plain_handler) -> None:
    export = commands.add_parser(
        "export", help="write runs (with their children, points and artifacts) to a tar file",
        description="A tar file with the runs' store and a manifest of checksums; `autotrack import` "
                    "adds it to another store (importing twice adds nothing).")
    store_flag(export)
    export.add_argument("run_ids", nargs="*", metavar="RUN", help="run ids or unique prefixes")
    export.add_argument("--where", "-w", metavar="QUERY", help="every run that matches (docs/query.md)")
    export.add_argument("--experiment", "-e", help="every run of this experiment")
    export.add_argument("--output", "-o", required=True, help="the file to write (.tar, or .tar.gz to compress)")
    export.add_argument("--json", action="store_true", help="machine-readable output")
    export.set_defaults(handler=handler_of(cmd_export))

    load = commands.add_parser(
        "import", help="add the runs of an export (or of an MLflow server) to the store",
        description="autotrack import runs.tar   or   autotrack import --from-mlflow http://host:5000 "
                    "[-e EXPERIMENT]. Runs the store has already are left as they are.")
    store_flag(load)
    load.add_argument("archive", nargs="?", help="a file written by `autotrack export`")
    load.add_argument("--from-mlflow", metavar="URI", nargs="?", const="",
                      help="import an MLflow tracking server's runs (default: MLFLOW_TRACKING_URI)")
    load.add_argument("--experiment", "-e", action="append", metavar="NAME",
                      help="with --from-mlflow: only this experiment (repeat for more)")
    load.add_argument("--no-artifacts", action="store_true", help="with --from-mlflow: leave artifact files there")
    load.add_argument("--json", action="store_true", help="machine-readable output")
    load.set_defaults(handler=plain_handler(cmd_import))

    merge = commands.add_parser(
        "merge", help="add the runs of other store directories (cluster nodes, other machines) to this one",
        description="autotrack merge /mnt/node1/.autotrack /mnt/node2/.autotrack: every run of each, "
                    "with points and artifacts; runs already here are left as they are.")
    store_flag(merge)
    merge.add_argument("sources", nargs="+", metavar="STORE_DIR")
    merge.add_argument("--json", action="store_true", help="machine-readable output")
    merge.set_defaults(handler=plain_handler(cmd_merge))


def _pending_for_backends(directory: Path, run_ids: list[str]) -> list[str]:
    """Runs brought into this store are exported by `autotrack sync` to the backends this store's
    settings name, like runs trained here (a run a backend already has is found there again by
    its autotrack id, not created twice). Returns those backends."""
    from autotrack import config
    from autotrack.export import Exporter

    backends = [name for name in config.load_settings({"dir": str(directory)}).backends if name != "local"]
    if not backends or not run_ids:
        return []
    exporter = Exporter(directory, {})
    try:
        for backend in backends:
            exporter.add_pending(run_ids, backend)
    finally:
        exporter.close()
    return backends


def _sync_hint(backends: list[str]) -> str:
    return f"; pending for {', '.join(backends)}: `autotrack sync` exports them" if backends else ""


def cmd_export(reader, args, print_json) -> int:
    from autotrack.lifecycle.cli import bytes_text
    from autotrack.portable.archive import export_runs
    from autotrack.query.listing import selected_ids

    if args.experiment and not (args.run_ids or args.where):
        ids = [run["id"] for run in reader.runs(experiment=args.experiment)]
        if not ids:
            raise ValueError(f"no runs in experiment {args.experiment!r}")
    else:
        ids = selected_ids(reader, args.run_ids, args.where)
        if args.experiment:
            ids = [run_id for run_id in ids if reader.summaries([run_id])[run_id]["experiment"] == args.experiment]
    output = Path(args.output)
    if output.is_dir():
        raise ValueError(f"--output {output} is a folder: name the file to write (runs.tar)")
    if not output.absolute().parent.is_dir():
        raise ValueError(f"--output {output}: there is no folder {output.absolute().parent}")
    result = export_runs(reader.directory, reader, ids, output)
    if args.json:
        print_json(result)
        return 0
    print(f"exported {len(result['runs'])} run(s), {result['points']:,} metric points and "
          f"{result['artifact_files']} artifact file(s) to {output} ({bytes_text(result['bytes'])})")
    return 0


def cmd_import(directory: Path, args, print_json) -> int:
    from autotrack.portable.archive import import_runs

    if args.from_mlflow is not None:
        if args.archive:
            raise ValueError("give an archive or --from-mlflow, not both")
        return _import_mlflow(directory, args, print_json)
    if not args.archive:
        raise ValueError("name the file to import (written by `autotrack export`), or --from-mlflow URI")
    done = import_runs(directory, Path(args.archive))
    backends = _pending_for_backends(directory, done.runs)
    if args.json:
        print_json({"imported": done.runs, "already": done.already, "points": done.points, "files": done.files,
                    "pending_for": backends})
        return 0
    print(f"imported {len(done.runs)} run(s), {done.points:,} metric points and {done.files} artifact file(s)"
          + (f"; {len(done.already)} were already in the store" if done.already else "") + _sync_hint(backends))
    return 0


def _import_mlflow(directory: Path, args, print_json) -> int:
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise ValueError("--from-mlflow needs MLflow: pip install mlflow") from None
    from autotrack.capture.redact import redact_url
    from autotrack.portable.from_mlflow import import_from_mlflow

    uri = args.from_mlflow or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise ValueError("--from-mlflow: give the server's URI, or set MLFLOW_TRACKING_URI")

    def progress(done: int, total: int) -> None:
        if not args.json and sys.stderr.isatty():
            print(f"\r{done}/{total} runs", end="", file=sys.stderr, flush=True)

    done = import_from_mlflow(directory, uri, args.experiment, artifacts=not args.no_artifacts, progress=progress)
    if args.json:
        print_json({"imported": done.runs, "already": done.already, "points": done.points, "files": done.files,
                    "experiments": done.experiments})
        return 0
    print(f"imported {len(done.runs)} run(s) of {len(done.experiments)} experiment(s) from MLflow at "
          f"{redact_url(uri)}: {done.points:,} metric points, {done.files} artifact file(s)"
          + (f"; {len(done.already)} were already in the store" if done.already else ""))
    return 0


def cmd_merge(directory: Path, args, print_json) -> int:
    from autotrack.portable.archive import merge_store

    results = []
    for source in args.sources:
        done = merge_store(directory, Path(os.path.expanduser(source)))
        results.append({"source": source, "imported": done.runs, "already": done.already, "points": done.points,
                        "files": done.files, "pending_for": _pending_for_backends(directory, done.runs)})
    if args.json:
        print_json(results)
        return 0
    for result in results:
        print(f"{result['source']}: {len(result['imported'])} run(s) added, {result['points']:,} metric points, "
              f"{result['files']} artifact file(s)"
              + (f"; {len(result['already'])} were already here" if result["already"] else "")
              + _sync_hint(result["pending_for"]))
    return 0


__all__ = ["add_commands"]
