"""`autotrack models`: list registered models; register a run's model; point aliases at versions."""

from __future__ import annotations

import argparse
import sys

from autotrack.registry.models import NeedsForce, Registry, RegistryError, check_name


def add_commands(commands, outer_store_flag, handler_of) -> None:
    models = commands.add_parser(
        "models", help="registered models: names, versions, aliases (champion, challenger)",
        description="autotrack models [NAME]: list; autotrack models register RUN NAME; "
                    "autotrack models alias NAME VERSION ALIAS; autotrack models unalias NAME ALIAS")
    outer_store_flag(models)
    models.add_argument("--json", action="store_true", help="machine-readable output")
    actions = models.add_subparsers(dest="action")

    def store_flag(parser):  # given before or after the action: `models --store S list`, `models list --store S`
        parser.add_argument("--store", default=argparse.SUPPRESS, help="store directory (default: AUTOTRACK_DIR)")

    listing = actions.add_parser("list", help="names, versions, aliases, source runs, key metrics")
    store_flag(listing)
    listing.add_argument("name", nargs="?", help="only this model")
    listing.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")

    register = actions.add_parser("register", help="a run's model as the next version of NAME")
    store_flag(register)
    register.add_argument("run_id", help="the training run (an id or a unique prefix)")
    register.add_argument("name", help="the model's name (churn)")
    register.add_argument("--description", "-d", help="what this version is")
    register.add_argument("--alias", help="also point this alias at the new version")
    register.add_argument("--force", action="store_true", help="alias it even when its validation metric is worse")
    register.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")

    alias = actions.add_parser("alias", help="point ALIAS of NAME at VERSION (moving it from another)")
    store_flag(alias)
    alias.add_argument("name")
    alias.add_argument("version", type=int)
    alias.add_argument("alias", help="champion, challenger, production, ...")
    alias.add_argument("--force", action="store_true",
                       help="even when this version's validation metric is worse than the alias's current one")
    alias.add_argument("--metric", help="compare by this metric (default: a validation metric both runs have)")
    alias.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")

    unalias = actions.add_parser("unalias", help="remove ALIAS of NAME")
    store_flag(unalias)
    unalias.add_argument("name")
    unalias.add_argument("alias")
    audit = commands.add_parser(
        "audit", help="a model's audit (model card): who, when, where, data, code, params, packages, "
                      "metrics, comparisons, serving, what was not captured",
        description="MODEL: a registered model (churn@champion, churn/2, churn), a run id, or a model file.")
    outer_store_flag(audit)
    audit.add_argument("model", help="churn@champion, churn/2, a run id, or a model file's path")
    audit.add_argument("--json", action="store_true", help="machine-readable output")
    audit.set_defaults(handler=handler_of(cmd_audit))

    for parser, command in ((models, cmd_list), (listing, cmd_list), (register, cmd_register),
                            (alias, cmd_alias), (unalias, cmd_unalias)):
        parser.set_defaults(handler=handler_of(command))


# -- list -----------------------------------------------------------------------------------------
def cmd_list(reader, args, print_json) -> int:
    from autotrack.registry.key_metric import validation_metrics

    with Registry(str(reader.directory)) as registry:
        name = getattr(args, "name", None)
        versions = registry.versions(name)
        if name and not versions:
            registry.resolve(name)  # raises, naming what is registered
    runs = reader.summaries(sorted({version.run_id for version in versions}))
    models: dict[str, dict] = {}
    for version in versions:
        entry = models.setdefault(version.name, {"name": version.name, "versions": [], "aliases": {}})
        run = runs.get(version.run_id)
        # Its validation metrics; a run with none (nothing scored on held-out data) shows its
        # training metrics rather than nothing.
        keys = (validation_metrics(run)[:3] or list(run["metrics"])[:2]) if run else []
        entry["versions"].append({
            **version.as_dict(),
            "run": {key: run[key] for key in ("id", "name", "experiment", "status")} if run else None,
            "metrics": {key: run["metrics"][key] for key in keys}})
        for alias in version.aliases:
            entry["aliases"][alias] = version.version
    listed = list(models.values())
    if args.json:
        print_json(listed)
        return 0
    if not listed:
        print("no registered models (autotrack models register RUN NAME)")
        return 0
    for entry in listed:
        aliases = ", ".join(f"{alias} \u2192 v{version}" for alias, version in sorted(entry["aliases"].items()))
        count = len(entry["versions"])
        print(f"{entry['name']}  ({count} version{'s' if count != 1 else ''})" + (f"  {aliases}" if aliases else ""))
        for version in entry["versions"]:
            run = version["run"]
            source = f'run {version["run_id"][:8]} "{run["name"]}" ({run["experiment"]})' if run else \
                f"run {version['run_id'][:8]} (gone from the store)"
            metrics = "  ".join(f"{key} {_number(value)}" for key, value in version["metrics"].items())
            marks = f"  [{', '.join(version['aliases'])}]" if version["aliases"] else ""
            print(f"  v{version['version']:<3} {source}  {version['created'][:16].replace('T', ' ')}"
                  + (f"  {metrics}" if metrics else "") + marks)
    return 0


def _number(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# -- register / alias -----------------------------------------------------------------------------
def cmd_register(reader, args, print_json) -> int:
    from autotrack.registry.loading import model_artifact
    from autotrack.serving.queries import fingerprint_of_run

    run_id = reader.resolve_id(args.run_id)
    check_name(args.name)
    artifact, _, _ = model_artifact(reader, run_id)
    fingerprint = fingerprint_of_run(reader, run_id)
    with Registry(str(reader.directory), writable=True) as registry:
        version, created = registry.register(run_id, args.name, artifact, fingerprint, args.description)
        if args.alias:
            try:
                checked_alias(reader, registry, args.name, version.version, args.alias, args.force, None,
                              quiet=args.json)
            except NeedsForce as exc:
                _mirror(reader)
                raise NeedsForce(f"registered {version.ref}, not aliased: {exc}") from None
    status = _run_status(reader, run_id)
    mirrored = _mirror(reader)
    if args.json:
        print_json({**version.as_dict(), "created_now": created, "mirrored": mirrored})
        return 0
    if created:
        print(f"registered {version.ref} from run {run_id[:8]}" + (f" as {args.name}@{args.alias}" if args.alias else ""))
    else:
        print(f"run {run_id[:8]} is already {version.ref}: nothing registered")
    if status != "finished":
        print(f"note: run {run_id[:8]} is {status}", file=sys.stderr)
    return 0


def cmd_alias(reader, args, print_json) -> int:
    with Registry(str(reader.directory), writable=True) as registry:
        registry.resolve(f"{args.name}/{args.version}")
        before, detail = checked_alias(reader, registry, args.name, args.version, args.alias, args.force,
                                       args.metric, quiet=args.json)
    mirrored = _mirror(reader)
    if args.json:
        print_json({"name": args.name, "alias": args.alias, "version": args.version, "replaced": before,
                    "mirrored": mirrored, **detail})
        return 0
    moved = f" (was v{before})" if before not in (None, args.version) else ""
    print(f"{args.name}@{args.alias} \u2192 v{args.version}{moved}")
    return 0


def checked_alias(reader, registry, name: str, version: int, alias: str, force: bool, metric: str | None,
                  quiet: bool = False) -> tuple[int | None, dict]:
    """Point `alias` at `version`, unless the version it points at now is better by a validation
    metric both runs recorded (NeedsForce, unless `force`); (the version replaced, what was compared)."""
    from autotrack.registry.key_metric import is_worse, shared_metric

    holder_version = registry.aliases(name).get(alias)
    detail: dict = {}
    if holder_version is not None and holder_version != version:
        candidate, holder = registry.resolve(f"{name}/{version}"), registry.resolve(f"{name}/{holder_version}")
        runs = reader.summaries([candidate.run_id, holder.run_id])
        mine, theirs = runs.get(candidate.run_id), runs.get(holder.run_id)
        key = shared_metric(mine, theirs, metric) if mine and theirs else None
        if metric and key is None:
            raise RegistryError(f"--metric {metric}: not recorded by both v{version} and v{holder_version}")
        if key is not None:
            detail = {"metric": key, "value": mine["metrics"][key], "replaced_value": theirs["metrics"][key]}
            if is_worse(mine, theirs, key):
                text = (f"{name}/{version} has {key} {_number(mine['metrics'][key])}, worse than "
                        f"{name}@{alias} (v{holder_version}): {_number(theirs['metrics'][key])} "
                        f"(goal: {mine['goals'].get(key)})")
                if not force:
                    raise NeedsForce(text + "; repeat with --force to alias it anyway")
                print(f"warning: {text}; aliased because of --force", file=sys.stderr)
                detail["forced"] = True
        elif not quiet:
            print(f"note: v{version} and v{holder_version} share no validation metric: not compared",
                  file=sys.stderr)
    return registry.set_alias(name, alias, version, detail), detail


def cmd_unalias(reader, args, print_json) -> int:
    with Registry(str(reader.directory), writable=True) as registry:
        version = registry.remove_alias(args.name, args.alias)
    _mirror(reader)
    print(f"removed {args.name}@{args.alias} (was v{version})")
    return 0


# -- audit ----------------------------------------------------------------------------------------
def cmd_audit(reader, args, print_json) -> int:
    from autotrack.capture.manifest import manifest_lines
    from autotrack.registry.audit import audit
    from autotrack.terminal import long_time, print_table

    card = audit(reader, args.model)
    if args.json:
        print_json(card)
        return 0
    model, trained, code = card["model"], card["trained"], card["code"]
    print(f"audit of {model['ref']}: run {model['run_id'][:8]} \"{model['name']}\" ({model['found_by']})")
    rows = [("model class", model["class"]), ("status", model["status"]),
            ("trained by", f"{trained['user'] or '?'} on {trained['host'] or '?'}"),
            ("when", f"{long_time(trained['started'])} to {long_time(trained['ended'])}"),
            ("script", trained["script"]), ("command", " ".join(trained["argv"] or [])), ("in", trained["cwd"]),
            ("experiment", trained["experiment"])]
    print_table(["", ""], [[k, str(v)] for k, v in rows if v], title="who, when, where")
    commit = f"{code['commit'][:12]} {code['branch'] or ''}{' (dirty)' if code['dirty'] else ''}" if code["commit"] \
        else "not a git repository"
    print_table(["", ""], [["git", commit], ["diff kept", "yes" if code["diff_kept"] else "no"],
                           ["source snapshot", f"{len(code['snapshot'])} files ({code['snapshot_mode']})"
                            if code["snapshot"] else "none"]], title="code")
    if card["data"]:
        print_table(["role", "rows", "columns", "fingerprint", "schema"],
                    [[d["role"], str(d["rows"] or ""), str(d["columns"] or ""), d["fingerprint"] or "", d["schema"] or ""]
                     for d in card["data"]], title="data")
    for entry in card["data_files"]:
        print(f"  data file {entry['path']} ({entry['bytes']:,} bytes, {entry['digest'][:20]})")
    if card["params"]:
        print_table(["param", "value"], [[k, str(v)] for k, v in card["params"].items()], title="params")
    if card["metrics"]:
        print_table(["metric", "goal", "value"], [[k, v["goal"] or "", _number(v["value"])]
                                                  for k, v in card["metrics"].items()], title="metrics")
    compared = card["compared_with"]
    text = f"{compared['runs']} runs in {compared['scope']}"
    if "rank" in compared:
        text += f"; ranked {compared['rank']} of {compared['ranked']} by {compared['metric']} ({compared['goal']})"
    print(f"compared with: {text}")
    for entry in card["registry"]:
        aliases = f" [{', '.join(entry['aliases'])}]" if entry["aliases"] else ""
        print(f"registry: {entry['version']}{aliases}, registered {entry['registered'][:16]} by {entry['by']}")
        for event in entry["events"]:
            detail = event.get("detail") or {}
            extra = f" ({detail['metric']} {_number(detail['value'])} vs {_number(detail['replaced_value'])}" \
                    f"{', forced' if detail.get('forced') else ''})" if "metric" in detail else ""
            print(f"    {event['time'][:16]} {event['action']} {event['alias'] or ''} by {event['user']}{extra}")
    serving = card["serving"]
    print(f"served: {serving['calls']:,} calls, {serving['rows']:,} rows on {', '.join(serving['hosts'])}, "
          f"{serving['first'][:16]} to {serving['last'][:16]}" if serving else "served: never (no serving records)")
    packages = card["packages"]
    print(f"packages: {', '.join(f'{k} {v}' for k, v in sorted(packages.items()))}" if packages else "packages: none recorded")
    print_table(["captured", ""], [list(row) for row in manifest_lines(card["capture"])], title="what autotrack captured")
    return 0


def _run_status(reader, run_id: str) -> str:
    return reader.summaries([run_id])[run_id]["status"]


def _mirror(reader) -> dict:
    """Mirror the registry to the backends set besides the local store (MLflow's Model Registry);
    {backend: what happened}. A backend that is down is said in one line: `autotrack sync` retries."""
    from autotrack.registry.mirror import mirror_registry

    outcome = mirror_registry(str(reader.directory))
    for backend, result in outcome.items():
        if result.get("error"):
            print(f"autotrack: the registry is not mirrored to {backend} yet ({result['error']}); "
                  f"`autotrack sync` retries", file=sys.stderr)
    return outcome


__all__ = ["add_commands"]
