"""`autotrack serving` and `autotrack drift`: production records on the command line."""

from __future__ import annotations

import time


def add_commands(commands, store_flag, handler_of) -> None:
    serving = commands.add_parser("serving", help="which models served, where, how much, since when")
    store_flag(serving)
    serving.add_argument("--since", help="only windows ending after this: 30m, 24h, 7d")
    serving.add_argument("--json", action="store_true", help="machine-readable output")
    serving.set_defaults(handler=handler_of(cmd_serving))

    drift = commands.add_parser("drift", help="drift of a run's model in production, per feature and window",
                                description="Per feature and for the predictions: the serving data's drift "
                                            "against the run's training data (docs/production.md).")
    store_flag(drift)
    drift.add_argument("run_id", help="the training run (an id or a unique prefix)")
    drift.add_argument("--since", help="only windows ending after this: 30m, 24h, 7d")
    drift.add_argument("--alpha", type=float, help="significance shared by the features (drift_alpha)")
    drift.add_argument("--min-effect", type=float, help="smallest change flagged (drift_min_effect)")
    drift.add_argument("--json", action="store_true", help="machine-readable output")
    drift.set_defaults(handler=handler_of(cmd_drift))


def parse_since(text: str | None) -> float | None:
    """`30m`, `24h`, `7d` (or seconds) before now as a Unix time; None for no limit."""
    if not text:
        return None
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    unit = text[-1].lower()
    try:
        amount = float(text[:-1]) if unit in units else float(text)
    except ValueError:
        raise ValueError(f"--since {text!r}: give a duration such as 30m, 24h or 7d") from None
    return time.time() - amount * units.get(unit, 1)


def cmd_serving(reader, args, print_json) -> int:
    from autotrack.serving.queries import served_models

    models = served_models(reader, parse_since(args.since))
    if args.json:
        print_json(models)
        return 0
    if not models:
        print("no served predictions recorded (run the serving script with AUTOTRACK=1)")
        return 0
    for model in models:
        run = model["run"]
        trained = f'run {run["run_id"][:8]} "{run["run_name"]}" ({run["experiment"]})' if run else \
            "no tracked training run"
        latency = model["latency"]
        p = " ".join(f"{q} {latency[q] * 1000:.2f}ms" for q in ("p50", "p95", "p99") if q in latency)
        print(f"{model['model'][:12]}  {model['model_class'].rsplit('.', 1)[-1]}  trained by {trained}")
        print(f"    {model['calls']:,} calls, {model['rows']:,} rows, {model['errors']} errors, "
              f"{model['windows']} windows on {', '.join(model['hosts'])} ({model['processes']} processes), "
              f"{_when(model['first'])} to {_when(model['last'])}")
        if p:
            print(f"    latency (last window): {p}")
        if model["drifted"]:
            print(f"    drifted in the last window: {', '.join(model['drifted'])}")
    return 0


def cmd_drift(reader, args, print_json) -> int:
    from autotrack.config import load_settings
    from autotrack.serving.queries import drift_report

    settings = load_settings()
    run_id = reader.resolve_id(args.run_id)
    report = drift_report(reader, run_id, args.alpha if args.alpha is not None else settings.drift_alpha,
                          args.min_effect if args.min_effect is not None else settings.drift_min_effect,
                          parse_since(args.since))
    if args.json:
        print_json(report)
        return 0
    if report.get("error"):
        print(f"run {run_id[:8]}: {report['error']}")
        return 0
    if not report["windows"]:
        print(f"run {run_id[:8]}: its model has served no predictions yet")
        return 0
    overall = report["overall"] or {}
    print(f"run {run_id[:8]}: {len(report['windows'])} windows, {overall.get('rows', 0):,} rows served; "
          f"reference: {report['reference_rows']:,} training rows; alpha {report['alpha']} "
          f"(Bonferroni over {len(overall.get('columns', {}))} features), min effect {report['min_effect']}")
    columns = overall.get("columns", {})
    print(f"{'feature':<24} {'drifted':<8} {'since':<17} {'test':<5} {'p-value':>9} {'effect':>7} {'PSI':>7} {'JS':>6}")
    for name, result in columns.items():
        feature = report["features"].get(name, {})
        since = _when(feature["since"]) if feature.get("since") else ""
        print(f"{name[:24]:<24} {'YES' if result['drifted'] else 'no':<8} {since:<17} {result['test']:<5} "
              f"{result['p_value']:>9.2g} {result['effect']:>7.3f} {result['psi']:>7.3f} "
              f"{result['jensen_shannon']:>6.3f}")
    for name, result in (overall.get("prediction_drift") or {}).items():
        print(f"{'(' + name + ')':<24} {'YES' if result['drifted'] else 'no':<8} {'':<17} {result['test']:<5} "
              f"{result['p_value']:>9.2g} {result['effect']:>7.3f} {result['psi']:>7.3f} "
              f"{result['jensen_shannon']:>6.3f}")
    schema = overall.get("schema") or {}
    for key in ("missing_columns", "extra_columns", "changed_types", "unseen_categories"):
        if schema.get(key):
            print(f"schema: {key.replace('_', ' ')}: {schema[key]}")
    for entry in report["windows"]:
        if entry.get("metrics"):
            scores = ", ".join(f"{k} {v:.4g}" for k, v in entry["metrics"].items())
            print(f"measured while serving, window from {_when(entry['start'])}: {scores}")
    for entry in report.get("realised") or []:
        scores = ", ".join(f"{k} {v:.4g}" for k, v in entry.items() if k in ("accuracy", "mae", "rmse"))
        print(f"realised, window from {_when(entry['start'])}: {entry['labelled']} labelled, {scores}")
    return 0


def _when(iso: str | None) -> str:
    from autotrack.terminal import long_time

    return long_time(iso) or ""


__all__ = ["add_commands", "cmd_serving", "cmd_drift", "parse_since"]
