"""`autotrack report`: runs written to one self-contained HTML file, or Markdown with its images."""

from __future__ import annotations

from pathlib import Path

from autotrack.terminal import UserError

_MARKDOWN_SUFFIXES = (".md", ".markdown")


def command(args, reader) -> int:
    """Resolve the runs asked for, build the report and write it; print the path written."""
    _require_libraries()
    from autotrack.report.assemble import build_document

    suffix = Path(args.output).suffix.lower() if args.output else ""
    if args.format is None and suffix not in ("", ".html", ".htm", *_MARKDOWN_SUFFIXES):
        raise UserError(f"report writes HTML (.html) or Markdown (.md), not {suffix}: give -o report.html "
                        f"or -o report.md (for a PDF, print the HTML page from a browser)")
    runs = _chosen_runs(args, reader)
    fmt = args.format or ("md" if suffix in _MARKDOWN_SUFFIXES else "html")
    path = Path(args.output or f"report.{fmt}")
    if path.is_dir():
        raise UserError(f"{path} is a directory: give a file name, e.g. -o {path / ('report.' + fmt)}")
    if not path.parent.is_dir():
        raise UserError(f"no such directory: {path.parent}")
    document = build_document(runs, reader)
    try:
        if fmt == "md":
            from autotrack.report.markdown import write_markdown

            write_markdown(document, path)
        else:
            from autotrack.report.html import render_html

            path.write_text(render_html(document), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {exc.filename or path}: {exc.strerror or exc}") from None
    print(path.resolve())
    return 0


def _require_libraries() -> None:
    try:
        import jinja2  # noqa: F401
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise UserError(f"the report needs jinja2 and matplotlib ({exc.name or exc} is missing): "
                        f"pip install 'autotrack[report]'") from None


def _chosen_runs(args, reader) -> list[dict]:
    """Full run dicts: the ids given, then the experiment's best (--best) or newest top-level runs."""
    from autotrack.stores.reader import RunNotFound

    if args.top < 1:
        raise UserError("--top must be at least 1")
    wanted = list(args.run_ids)
    if args.experiment is not None and args.experiment not in reader.experiments():
        known = ", ".join(repr(name) for name in reader.experiments()[:10]) or "none"
        raise UserError(f"no experiment {args.experiment!r} in {reader.directory} (experiments: {known})")
    if args.best is not None:
        from autotrack.compare import best_run_ids

        wanted += best_run_ids(reader, args.experiment, args.best, args.top, args.goal)
    elif args.experiment is not None:
        top_level = [run["id"] for run in reader.runs(experiment=args.experiment) if run["parent_id"] is None]
        if not top_level:
            raise UserError(f"no top-level runs in experiment {args.experiment!r}")
        wanted += top_level[:args.top]
    elif not wanted:
        raise UserError("nothing to report: give run ids (autotrack report RUN [RUN ...]) or "
                        "--experiment E [--best METRIC]")
    try:
        full_ids = list(dict.fromkeys(reader.resolve_id(run_id) for run_id in wanted))
        return [reader.get_run(run_id) for run_id in full_ids]
    except RunNotFound as exc:
        raise UserError(str(exc)) from None


__all__ = ["command"]
