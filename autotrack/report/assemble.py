"""The whole report for the runs chosen: one run's sections, or the comparison then each run."""

from __future__ import annotations

from autotrack.report.build import run_label, run_sections
from autotrack.report.comparison import comparison_sections
from autotrack.report.document import Document, Section


def build_document(runs: list[dict], reader) -> Document:
    """`runs` are full run dicts in display order; `reader` fetches child runs for their summary."""
    experiments = sorted({run.get("experiment") or "" for run in runs})
    where = f"experiment {experiments[0]}" if len(experiments) == 1 else f"experiments {', '.join(experiments)}"
    if len(runs) == 1:
        run = runs[0]
        return Document(f"Run {run_label(run)}", f"{where} · {run.get('status') or ''}",
                        run_sections(run, reader, _anchor(run)))
    sections = comparison_sections(runs)
    for run in runs:
        # Each run folded (<details>): the comparison above is what a reader of several runs came for.
        sections.append(Section(f"Run {run_label(run)}", _anchor(run), "run",
                                run_sections(run, reader, _anchor(run)), folded=True))
    return Document(f"{len(runs)} runs compared", where, sections)


def _anchor(run: dict) -> str:
    return f"run-{run['id'][:12]}"


__all__ = ["build_document"]
