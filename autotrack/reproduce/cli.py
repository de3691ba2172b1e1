"""`autotrack reproduce RUN [--check]`: what changed since a run, or a re-run compared with it."""

from __future__ import annotations


def add_commands(commands, store_flag, handler_of) -> None:
    reproduce = commands.add_parser(
        "reproduce", help="re-run a run from the code kept with it and compare; --check: a verdict without running",
        description="--check says whether the run's code, packages and data files are as they were. "
                    "Without it, the code kept with the run is recreated in a temporary folder and its "
                    "command run again (tracked, from its working directory); the new run is compared "
                    "with the original. Exit status 0: reproducible / reproduced; 1: it differs.")
    store_flag(reproduce)
    reproduce.add_argument("run_id", help="the run (an id or a unique prefix)")
    reproduce.add_argument("--check", action="store_true", help="only say what changed; run nothing")
    reproduce.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance for metrics (default 1e-6)")
    reproduce.add_argument("--timeout", type=float, help="give up on the re-run after this many seconds")
    reproduce.add_argument("--json", action="store_true", help="machine-readable output")
    reproduce.set_defaults(handler=handler_of(cmd_reproduce))


def cmd_reproduce(reader, args, print_json) -> int:
    from autotrack.reproduce.check import check
    from autotrack.reproduce.rerun import rerun

    run_id = reader.resolve_id(args.run_id)
    if args.check:
        result = check(reader.get_run(run_id))
        ok = result["verdict"] == "reproducible"
    else:
        if not args.json:
            print(f"re-running run {run_id[:8]} from the code kept with it ...", flush=True)
        result = rerun(reader, run_id, args.rtol, args.timeout)
        ok = result["verdict"] == "reproduced"
    if args.json:
        print_json(result)
        return 0 if ok else 1
    if args.check:
        _print_check(result)
    else:
        _print_rerun(result)
    return 0 if ok else 1


def _print_check(result: dict) -> None:
    print(f"run {result['run_id'][:8]}: {result['verdict']}")
    code = result["code"]
    commit = code.get("commit") or {}
    commit_text = commit.get("verdict", "")
    if commit.get("run"):
        commit_text += f" {commit['run'][:10]}" + (f" (HEAD now {commit['now'][:10]})" if commit.get("now") not in
                                                   (None, commit["run"]) else "")
    print(f"  code      {code['verdict']}: {code.get('detail', '')}  [git: {commit_text}]")
    for change in code.get("changed", [])[:10]:
        for line in change["diff"].splitlines()[:40]:
            print(f"            {line}")
    for missing in code.get("missing", []):
        print(f"            missing now: {missing}")
    packages = result["packages"]
    if packages["differ"]:
        text = ", ".join(f"{p['name']} {p['run']} \u2192 {p['now'] or 'not installed'} ({p['change']})"
                         for p in packages["differ"])
        print(f"  packages  differ: {text}")
    else:
        print(f"  packages  {packages['verdict']}" + (f" ({packages['checked']} checked)" if "checked" in packages else
                                                       f": {packages.get('detail', '')}"))
    data = result["data"]
    if data["files"]:
        for entry in data["files"]:
            state = "same" if entry["same"] else ("gone" if entry["now"] is None else "changed")
            print(f"  data      {state}: {entry['path']}")
    else:
        print(f"  data      {data['verdict']}: {data.get('detail', '')}")
    python = result["python"]
    print(f"  python    {python['run']} \u2192 {python['now']}" if python["run"] != python["now"] else
          f"  python    {python['now']} (same)")


def _print_rerun(result: dict) -> None:
    if result["verdict"] in ("failed", "no run"):
        print(f"run {result['run_id'][:8]}: the re-run {result['verdict']}: {result['error']}")
        return
    print(f"run {result['run_id'][:8]} re-run as {result['new_run_id'][:8]}: {result['verdict']}")
    for part in ("params", "datasets", "metrics"):
        for key, values in result[part].items():
            print(f"  {part[:-1] if part != 'datasets' else 'data'} {key}: {values['run']} \u2192 {values['now']}")
    for cause in result.get("likely_causes", []):
        print(f"  likely cause: {cause}")


__all__ = ["add_commands"]
