"""Each run's capture manifest (`context.capture`): which integrations tracked it and their
framework versions, what was patched, what was skipped and why (a version out of range, a plugin
disabled or broken), which plugins gave context, and how many tracking errors were swallowed
during the run and where, so a user can tell what was not captured (`show`, `audit`, the report)."""

from __future__ import annotations

from autotrack.plugins import hookimpl

_errors_at_start: dict[str, dict] = {}  # run id -> the process's error counts when it started


@hookimpl
def autotrack_run_started(run):
    from autotrack.safety import error_counts

    _errors_at_start[run.id] = dict(error_counts)


@hookimpl
def autotrack_run_finished(run):
    from autotrack.session import SESSION

    run.set_context({"capture": capture_manifest(SESSION, _errors_at_start.pop(run.id, {}))})


def capture_manifest(session, errors_before: dict) -> dict:
    from autotrack.plugins import ACTIVE
    from autotrack.safety import error_counts

    states = session.integration_states
    integrations = {}
    for integration in session.plugins.integrations if session.plugins else ():
        integrations[integration.name] = dict(states.get(integration.name) or
                                              {"framework": integration.distribution, "state": "not imported"})
    plugins = session.plugins.infos.values() if session.plugins else ()
    errors = {where: count - errors_before.get(where, 0) for where, count in dict(error_counts).items()
              if count > errors_before.get(where, 0)}
    settings = session.settings
    return {
        "integrations": integrations,
        "plugins_off": {info.name: f"{info.state}: {info.detail}".rstrip(": ")
                        for info in plugins if info.state != ACTIVE},
        "tracking_errors": errors,
        "settings": {name: getattr(settings, name) for name in
                     ("log_models", "training_metrics", "runs_for", "git_diff", "source_snapshot", "serving")
                     if settings is not None and hasattr(settings, name)},
    }


def manifest_lines(capture: dict) -> list[tuple[str, str]]:
    """(what, text) rows of a manifest, for `show`, `audit` and the report."""
    if not capture:
        return [("capture", "no manifest (a run recorded before autotrack kept one)")]
    integrations = capture.get("integrations") or {}
    tracked = [f"{name} ({state.get('framework')} {state.get('version') or '?'}, {state.get('patched', 0)} patched)"
               for name, state in integrations.items() if state.get("state") == "tracked"]
    skipped = [f"{name}: {state.get('why')}" for name, state in integrations.items() if state.get("state") == "skipped"]
    absent = [name for name, state in integrations.items() if state.get("state") == "not imported"]
    rows = [("tracked by", ", ".join(tracked) or "no integration (logged by hand)")]
    if skipped:
        rows.append(("skipped", "; ".join(skipped)))
    if absent:
        rows.append(("not imported", ", ".join(absent)))
    if capture.get("plugins_off"):
        rows.append(("plugins off", "; ".join(f"{name} ({why})" for name, why in capture["plugins_off"].items())))
    errors = capture.get("tracking_errors") or {}
    rows.append(("tracking errors", ", ".join(f"{count} in {where}" for where, count in errors.items()) or "none"))
    return rows
