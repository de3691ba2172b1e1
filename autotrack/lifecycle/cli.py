"""The commands of a run's life after training: delete, restore, trash, gc, tag, note, rename, du."""

from __future__ import annotations

import time

from autotrack.terminal import print_table, short_time


def add_commands(commands, store_flag, handler_of) -> None:
    delete = commands.add_parser(
        "delete", help="move runs (with their children) to the store's trash",
        description="Deleted runs leave every list, query, dashboard and export; `autotrack restore` "
                    "brings them back until `autotrack gc` purges the trash.")
    store_flag(delete)
    delete.add_argument("run_ids", nargs="*", metavar="RUN", help="run ids or unique prefixes")
    delete.add_argument("--where", "-w", metavar="QUERY", help="every run that matches (docs/query.md)")
    delete.add_argument("--dry-run", "-n", action="store_true", help="say what would be deleted, delete nothing")
    delete.add_argument("--force", action="store_true",
                        help="delete runs still running or registered as model versions too")
    delete.add_argument("--json", action="store_true", help="machine-readable output")
    delete.set_defaults(handler=handler_of(cmd_delete))

    restore = commands.add_parser("restore", help="bring deleted runs back from the trash")
    store_flag(restore)
    restore.add_argument("run_ids", nargs="*", metavar="RUN", help="ids or unique prefixes of deleted runs")
    restore.add_argument("--all", action="store_true", help="every run in the trash")
    restore.set_defaults(handler=handler_of(cmd_restore))

    trash = commands.add_parser("trash", help="list the deleted runs that `restore` can bring back")
    store_flag(trash)
    trash.add_argument("--json", action="store_true", help="machine-readable output")
    trash.set_defaults(handler=handler_of(cmd_trash))

    gc = commands.add_parser(
        "gc", help="purge the trash and what no run refers to; compact the store",
        description="Purges deleted runs for good, removes artifact files no run refers to (older than "
                    "an hour: a training process may be saving one), and compacts the database.")
    store_flag(gc)
    gc.add_argument("--dry-run", "-n", action="store_true", help="say what would be reclaimed, remove nothing")
    gc.add_argument("--json", action="store_true", help="machine-readable output")
    gc.set_defaults(handler=handler_of(cmd_gc))

    tag = commands.add_parser("tag", help="set (or --remove) tags of a run: autotrack tag RUN key=value ...")
    store_flag(tag)
    tag.add_argument("run_id", metavar="RUN")
    tag.add_argument("tags", nargs="*", metavar="KEY=VALUE")
    tag.add_argument("--remove", "-r", action="append", default=[], metavar="KEY", help="remove this tag")
    tag.set_defaults(handler=handler_of(cmd_tag))

    note = commands.add_parser("note", help="write a run's note (\"\" removes it)")
    store_flag(note)
    note.add_argument("run_id", metavar="RUN")
    note.add_argument("text")
    note.set_defaults(handler=handler_of(cmd_note))

    rename = commands.add_parser("rename", help="give a run another name")
    store_flag(rename)
    rename.add_argument("run_id", metavar="RUN")
    rename.add_argument("name")
    rename.set_defaults(handler=handler_of(cmd_rename))

    du = commands.add_parser("du", help="how much of the store each experiment and run takes")
    store_flag(du)
    du.add_argument("--experiment", "-e", help="only this experiment")
    du.add_argument("--top", "-n", type=int, default=10, help="the largest runs to list (0: all)")
    du.add_argument("--json", action="store_true", help="machine-readable output")
    du.set_defaults(handler=handler_of(cmd_du))


def cmd_delete(reader, args, print_json) -> int:
    from autotrack.lifecycle.trash import delete
    from autotrack.query.listing import selected_ids
    from autotrack.stores.transfer import descendants

    ids = selected_ids(reader, args.run_ids, args.where)
    if args.dry_run:
        every = descendants(reader.fetch, ids)
        if args.json:
            print_json({"deleted": [], "would_delete": every})
        else:
            print(f"would delete {_runs(len(every))}" + _children_text(len(every) - len(ids)) + ": " +
                  " ".join(run_id[:8] for run_id in every[:20]) + (" ..." if len(every) > 20 else ""))
        return 0
    deleted = delete(reader.directory, reader, ids, force=args.force)
    if args.json:
        print_json({"deleted": deleted.runs, "exported": deleted.exported})
        return 0
    print(f"deleted {_runs(len(deleted.runs))}" + _children_text(len(deleted.runs) - len(ids)) +
          f" (moved to the trash: `autotrack restore {deleted.runs[0][:8]}` brings "
          f"{'it' if len(deleted.runs) == 1 else 'them'} back until `autotrack gc`)")
    for backend, run_ids in sorted(deleted.exported.items()):
        print(f"{_runs(len(run_ids))} had been exported to {backend}: still there (autotrack deletes "
              f"only from its own store)")
    return 0


def cmd_restore(reader, args, print_json) -> int:
    from autotrack.lifecycle.trash import restore, resolve_in_trash, trash_runs

    if args.all:
        ids = [run["id"] for run in trash_runs(reader.directory)]
        if not ids:
            print("the trash is empty")
            return 0
    elif not args.run_ids:
        raise ValueError("name deleted runs (see `autotrack trash`), or --all")
    else:
        ids = resolve_in_trash(reader.directory, args.run_ids)
    restored = restore(reader.directory, ids)
    print(f"restored {_runs(len(restored))}" + _children_text(len(restored) - len(ids)))
    return 0


def cmd_trash(reader, args, print_json) -> int:
    from autotrack.lifecycle.trash import trash_runs

    runs = trash_runs(reader.directory)
    if args.json:
        print_json(runs)
        return 0
    if not runs:
        print("the trash is empty")
        return 0
    print_table(["id", "experiment", "name", "started", "deleted"],
                [[run["id"][:8], run["experiment"], run["name"] or "", short_time(run["start_time"]),
                  _ago(run["deleted_at"])] for run in runs], widths=[(8, 8), (6, 16), (10, 40), (11, 11), (8, 9)],
                title=f"{_runs(len(runs))} in the trash (`autotrack restore RUN`, `autotrack gc` purges)", compact=True)
    return 0


def cmd_gc(reader, args, print_json) -> int:
    from autotrack.lifecycle.trash import gc

    directory = reader.directory
    reader.close()  # compacting needs no reader holding the database
    done = gc(directory, dry_run=args.dry_run)
    if args.json:
        print_json({**done.__dict__, "reclaimed": done.reclaimed, "dry_run": args.dry_run})
        return 0
    verb = "would reclaim" if args.dry_run else "reclaimed"
    parts = []
    if done.trash_runs:
        parts.append(f"{_runs(done.trash_runs)} purged from the trash ({bytes_text(done.trash_bytes)})")
    if done.orphan_folders or done.orphan_files:
        parts.append(f"{done.orphan_folders + done.orphan_files} artifact folder(s) and file(s) no run refers to "
                     f"({bytes_text(done.file_bytes)})")
    if done.orphan_rows:
        parts.append(f"{done.orphan_rows} row(s) of runs no longer in the store")
    if not args.dry_run:
        parts.append(f"the database compacted by {bytes_text(done.database_bytes)}" if done.compacted
                     else "the database not compacted")
    print(f"{verb} {bytes_text(done.reclaimed)}: " + "; ".join(parts) if parts else "nothing to reclaim")
    for error in done.errors:
        print(f"autotrack: {error}")
    return 0


def cmd_tag(reader, args, print_json) -> int:
    from autotrack.lifecycle.edits import parse_tags, set_tags

    run_id = reader.resolve_id(args.run_id)
    tags = parse_tags(args.tags)
    if not tags and not args.remove:
        raise ValueError("give tags as key=value, or --remove KEY")
    backends = set_tags(reader.directory, run_id, tags, args.remove)
    changed = [f"{key}={value}" for key, value in tags.items()] + [f"-{key}" for key in args.remove]
    print(f"run {run_id[:8]}: {' '.join(changed)}" + _export_text(backends))
    return 0


def cmd_note(reader, args, print_json) -> int:
    from autotrack.lifecycle.edits import set_note

    run_id = reader.resolve_id(args.run_id)
    backends = set_note(reader.directory, run_id, args.text)
    print(f"run {run_id[:8]}: note {'written' if args.text.strip() else 'removed'}" + _export_text(backends))
    return 0


def cmd_rename(reader, args, print_json) -> int:
    from autotrack.lifecycle.edits import rename

    run_id = reader.resolve_id(args.run_id)
    backends = rename(reader.directory, run_id, args.name)
    print(f"run {run_id[:8]} is now {args.name.strip()!r}" + _export_text(backends))
    return 0


def cmd_du(reader, args, print_json) -> int:
    from autotrack.lifecycle.usage import usage

    if args.top < 0:
        raise ValueError("--top must be 0 (all) or more")
    report = usage(reader, args.experiment, args.top)
    if args.json:
        print_json(report)
        return 0
    print(f"{report['store']}: database {bytes_text(report['database_bytes'])}, artifacts "
          f"{bytes_text(report['artifacts_bytes'])} ({bytes_text(report['shared_artifact_bytes'])} shared by runs)"
          + (f", trash {bytes_text(report['trash_bytes'])}" if report["trash_bytes"] else "")
          + f"; a metric point takes about {report['bytes_per_point']:.0f} bytes")
    print_table(["experiment", "runs", "points", "artifacts", "size"],
                [[entry["experiment"], str(entry["runs"]), f"{entry['points']:,}", bytes_text(entry["artifact_bytes"]),
                  bytes_text(entry["bytes"])] for entry in report["experiments"]], title="by experiment", compact=True)
    print_table(["id", "experiment", "name", "points", "artifacts", "size"],
                [[run["id"][:8], run["experiment"], run["name"] or "", f"{run['points']:,}",
                  bytes_text(run["artifact_bytes"]), bytes_text(run["bytes"])] for run in report["runs"]],
                title="largest runs", compact=True, widths=[(8, 8), (6, 14), (10, 40), (6, 12), (9, 9), (8, 8)])
    return 0


def bytes_text(size: int) -> str:
    """1.2 MB, 340 kB, 12 B: sizes as people read them (powers of 1000, as `du -h --si`)."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def _runs(count: int) -> str:
    return f"{count} run{'s' if count != 1 else ''}"


def _children_text(children: int) -> str:
    return f" ({children} of them children of the runs named)" if children > 0 else ""


def _export_text(backends: list[str]) -> str:
    return f"; sent to {', '.join(backends)} on the next `autotrack sync`" if backends else ""


def _ago(when: float) -> str:
    if not when:
        return ""
    seconds = max(0, time.time() - when)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return "just now"


__all__ = ["add_commands", "bytes_text"]
