"""Champion vs challenger on the same traffic (`autotrack compare churn@champion churn@challenger
--serving`): for each model, what it served (live or in shadow), its latency, the distribution of
its predictions and its realised metrics once labels arrived; between them, how often they agree
(a shadow's predictions against its primary's, else predictions kept under the same row ids)."""

from __future__ import annotations

import json

from autotrack.serving.profile import merge_profiles, summarise_column
from autotrack.serving.queries import _rows, fingerprint_of_run, realised_metrics, windows


def compare_serving(reader, refs: list[str]) -> dict:
    from autotrack.registry.loading import resolve_model
    from autotrack.registry.models import RegistryError

    models, found = [], {}
    for ref in refs:
        run_id, version = resolve_model(reader, ref)
        fingerprint = (version.fingerprint if version is not None else None) or fingerprint_of_run(reader, run_id)
        if fingerprint is None:
            raise RegistryError(f"{ref}: its run {run_id[:8]} has no model fingerprint (its training reference "
                                f"was not recorded), so its serving records cannot be found")
        found[ref] = windows(reader, fingerprint)
        models.append({"ref": ref, "version": version.ref if version is not None else None, "run_id": run_id, "fingerprint": fingerprint,
                       **served_summary(reader, fingerprint, found[ref])})
    pairs = []
    for index, first in enumerate(models):
        for second in models[index + 1:]:
            pairs.append({"models": [first["ref"], second["ref"]],
                          **agreement(reader, (first, found[first["ref"]]), (second, found[second["ref"]]))})
    return {"models": models, "agreement": pairs}


def served_summary(reader, fingerprint: str, found: list[dict]) -> dict:
    """What the model with this fingerprint served, from its windows (`found`)."""
    if not found:
        return {"served": False}
    latency = merge_profiles([w.get("latency_profile") for w in found])
    seconds = summarise_column(latency["columns"]["seconds"]) if latency and "seconds" in latency["columns"] else {}
    quantiles = seconds.get("quantiles") or {}
    predictions = {}
    for method in sorted({method for w in found for method in (w.get("predictions") or {})}):
        merged = merge_profiles([(w.get("predictions") or {}).get(method) for w in found])
        if merged:
            predictions[method] = {name: summarise_column(column) for name, column in merged["columns"].items()}
    labelled = realised_metrics(reader, fingerprint)
    return {
        "served": True, "mode": "shadow" if any(w.get("mode") == "shadow" for w in found) else "live",
        "windows": len(found), "first": found[0]["start"], "last": found[-1]["end"],
        "calls": sum(sum((w.get("calls") or {}).values()) for w in found), "rows": sum(w.get("rows", 0) for w in found),
        "errors": sum(w.get("errors", 0) for w in found),
        "latency": {q: quantiles.get(key) for q, key in (("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99"))
                    if quantiles.get(key) is not None},
        "predictions": predictions,
        "realised": _pooled(labelled),
    }


def _pooled(per_window: list[dict]) -> dict | None:
    """The realised metrics over every window, each window weighted by its labelled rows."""
    total = sum(entry["labelled"] for entry in per_window)
    if not total:
        return None
    pooled: dict = {"labelled": total}
    for key in ("accuracy", "mae", "rmse"):
        values = [(entry[key], entry["labelled"]) for entry in per_window if key in entry]
        if values:
            pooled[key] = sum(value * weight for value, weight in values) / sum(weight for _, weight in values)
    return pooled


def agreement(reader, first: tuple[dict, list], second: tuple[dict, list]) -> dict:
    """How often two models' predictions agree: from a shadow's windows (it predicted on every
    call of its primary), else from predictions both kept under the same row ids. Each model is
    given with its windows."""
    (first, first_windows), (second, second_windows) = first, second
    for found in (second_windows, first_windows):
        stats = [window["shadow"] for window in found if (window.get("shadow") or {}).get("rows")]
        if stats:
            rows = sum(s["rows"] for s in stats)
            return {"rows": rows, "rate": sum(s["agree"] for s in stats) / rows, "source": "shadow",
                    "mean_abs_diff": sum(s["mean_abs_diff"] * s["rows"] for s in stats) / rows}
    paired = _rows(reader, "SELECT a.prediction, b.prediction FROM serving_predictions a JOIN serving_predictions b"
                           " ON a.id = b.id WHERE a.model = ? AND b.model = ?",
                   (first["fingerprint"], second["fingerprint"]))
    if paired:
        same = sum(1 for a, b in paired if json.loads(a) == json.loads(b))
        return {"rows": len(paired), "rate": same / len(paired), "source": "row ids"}
    return {"rows": 0, "rate": None, "source": None}


def print_serving_comparison(result: dict) -> None:
    from autotrack.terminal import print_table

    models = result["models"]
    header = ["", *[model["ref"] for model in models]]

    def row(name, fn):
        return [name, *[fn(model) if model.get("served") else "not served" for model in models]]

    rows = [
        ["version", *[model["version"] or "(run)" for model in models]],
        ["run", *[model["run_id"][:8] for model in models]],
        row("mode", lambda m: m["mode"]),
        row("calls / rows", lambda m: f"{m['calls']:,} / {m['rows']:,}"),
        row("errors", lambda m: str(m["errors"])),
        row("latency p50 / p95", lambda m: " / ".join(f"{m['latency'][q] * 1000:.2f} ms" for q in ("p50", "p95")
                                                       if q in m["latency"]) or "-"),
        row("realised", lambda m: ", ".join(f"{k} {v:.4g}" for k, v in (m["realised"] or {}).items()
                                            if k != "labelled") + (f" ({m['realised']['labelled']:,} labelled)"
                                                                   if m["realised"] else "no labels yet")),
    ]
    for method in sorted({method for m in models if m.get("served") for method in m["predictions"]}):
        columns = sorted({c for m in models if m.get("served") for c in m["predictions"].get(method, {})})
        for column in columns:
            rows.append(row(f"{method} {column}", lambda m, me=method, c=column: _distribution(
                m["predictions"].get(me, {}).get(c))))
    print_table(header, rows, title="on the served traffic")
    for pair in result["agreement"]:
        first, second = pair["models"]
        if pair["rate"] is None:
            print(f"agreement of {first} and {second}: unknown (no shadow, no shared row ids: "
                  f"set serving_id_column, or run one in shadow)")
        else:
            extra = f", mean |difference| {pair['mean_abs_diff']:.4g}" if pair.get("mean_abs_diff") else ""
            print(f"agreement of {first} and {second}: {pair['rate']:.1%} of {pair['rows']:,} rows "
                  f"(from {pair['source']}{extra})")


def _distribution(summary: dict | None) -> str:
    if not summary:
        return "-"
    if summary.get("top"):
        total = sum(count for _, count in summary["top"]) or 1
        return ", ".join(f"{item}: {count / total:.0%}" for item, count in summary["top"][:4])
    quantiles = summary.get("quantiles") or {}
    return f"mean {summary['mean']:.4g}, p5 {quantiles.get('0.05', 0):.3g}, p95 {quantiles.get('0.95', 0):.3g}"


__all__ = ["compare_serving", "print_serving_comparison"]
