"""A run's "In production" section of the report: its model's serving traffic, drift against the
training data per feature (docs/production.md) and realised metrics, when it was served."""

from __future__ import annotations

from autotrack.report.document import Facts, Note, Section, Table
from autotrack.terminal import long_time, number


def production_section(run: dict, reader, anchor: str) -> Section | None:
    from autotrack.config import load_settings
    from autotrack.serving.queries import drift_report, models_of_run, served_models

    if not models_of_run(reader, run["id"]):
        return None
    settings = load_settings()
    report = drift_report(reader, run["id"], settings.drift_alpha, settings.drift_min_effect)
    served = next((m for m in served_models(reader) if m["model"] == report["model"]), None)
    blocks: list = []
    if served is not None:
        blocks.append(Facts([
            ("served", f"{served['calls']:,} calls, {served['rows']:,} rows, {served['errors']} errors"),
            ("windows", f"{served['windows']} on {', '.join(served['hosts'])} ({served['processes']} processes)"),
            ("from", f"{long_time(served['first'])} to {long_time(served['last'])}"),
            ("model", report["model"]),
        ]))
    overall = report.get("overall") or {}
    columns = overall.get("columns") or {}
    if columns:
        rows = [[name, "yes" if result["drifted"] else "no",
                 long_time(report["features"].get(name, {}).get("since")) or "", result["test"],
                 f"{result['p_value']:.2g}", number(result["effect"]), number(result["psi"]),
                 number(result["jensen_shannon"])] for name, result in columns.items()]
        blocks.append(Table(["feature", "drifted", "since", "test", "p-value", "effect", "PSI", "Jensen-Shannon"],
                            rows, caption=f"drift against the training data over {len(report['windows'])} windows "
                                          f"(alpha {report['alpha']} shared by the features, min effect "
                                          f"{report['min_effect']})"))
    schema = overall.get("schema") or {}
    changes = [f"{key.replace('_', ' ')}: {value}" for key, value in schema.items() if value]
    if changes:
        blocks.append(Note("schema changes: " + "; ".join(changes)))
    realised = report.get("realised") or []
    if realised:
        keys = [key for key in ("accuracy", "mae", "rmse") if any(key in entry for entry in realised)]
        blocks.append(Table(["window", "labelled", *keys],
                            [[long_time(entry["start"]) or "", str(entry["labelled"]),
                              *(number(entry.get(key)) for key in keys)] for entry in realised],
                            caption="realised performance (labels logged with autotrack.log_labels)"))
    return Section("In production", f"{anchor}-production", "production", blocks)


__all__ = ["production_section"]
