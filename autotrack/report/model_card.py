"""A run's "Model card" section of the report: who trained it, when and where, its code and data
files, how it ranked among the runs it was compared with, its registry history, where it served,
and what autotrack did not capture (registry/audit.py, as `autotrack audit`)."""

from __future__ import annotations

from autotrack.report.document import Facts, Table, Section
from autotrack.terminal import long_time


def model_card_section(run: dict, reader, anchor: str) -> Section | None:
    from autotrack.capture.manifest import manifest_lines
    from autotrack.registry.audit import audit

    card = audit(reader, run["id"])
    trained, code, compared = card["trained"], card["code"], card["compared_with"]
    ranked = f"; ranked {compared['rank']} of {compared['ranked']} by {compared['metric']}" if "rank" in compared else ""
    facts = [
        ("trained by", f"{trained['user'] or '?'} on {trained['host'] or '?'}"),
        ("when", f"{long_time(trained['started'])} to {long_time(trained['ended'])}"),
        ("command", " ".join(trained["argv"] or [])), ("working directory", trained["cwd"] or ""),
        ("git", f"{code['commit'][:12]} {code['branch'] or ''}{' (dirty)' if code['dirty'] else ''}"
         if code["commit"] else "not a git repository"),
        ("source snapshot", f"{', '.join(code['snapshot'])} ({code['snapshot_mode']})" if code["snapshot"] else "none"),
        ("compared with", f"{compared['runs']} runs in {compared['scope']}{ranked}"),
        ("served", f"{card['serving']['calls']:,} calls from {card['serving']['first'][:16]} to "
                   f"{card['serving']['last'][:16]}" if card["serving"] else "never"),
    ]
    blocks: list = [Facts([(name, str(value)) for name, value in facts if value])]
    if card["data_files"]:
        blocks.append(Table(["data file", "bytes", "digest"], [[f["path"], f"{f['bytes']:,}", f["digest"][:23]]
                                                              for f in card["data_files"]], caption="files it read"))
    rows = [[entry["version"], ", ".join(entry["aliases"]), entry["registered"][:16], entry["by"] or ""]
            for entry in card["registry"]]
    if rows:
        blocks.append(Table(["version", "aliases", "registered", "by"], rows, caption="registry"))
    blocks.append(Facts([(what, text) for what, text in manifest_lines(card["capture"])],
                        caption="what autotrack captured"))
    return Section("Model card", f"{anchor}-model-card", "model-card", blocks)


__all__ = ["model_card_section"]
