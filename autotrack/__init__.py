"""autotrack: automatic experiment tracking for machine learning.

`import autotrack` is cheap and changes nothing; tracking starts with `autotrack.enable()`,
`AUTOTRACK=1`, or `autotrack run script.py`.
"""

from __future__ import annotations

from autotrack.api import (
    active_run,
    disable,
    enable,
    end_run,
    flush,
    get_run,
    load_model,
    log_artifact,
    log_labels,
    log_metric,
    log_metrics,
    log_params,
    runs,
    search_runs,
    set_tags,
    shadow,
    start_run,
)

__version__ = "0.1.0"


def __getattr__(name):
    # Plugins use these; importing pluggy only when one is asked for keeps `import autotrack` light.
    if name == "hookimpl":
        from autotrack.plugins import hookimpl

        return hookimpl
    if name in ("Integration", "Target"):
        from autotrack import integration

        return getattr(integration, name)
    raise AttributeError(f"module 'autotrack' has no attribute {name!r}")


__all__ = [
    "enable", "disable", "start_run", "end_run", "active_run", "log_params", "log_metrics",
    "log_metric", "set_tags", "log_artifact", "log_labels", "load_model", "shadow", "flush", "runs", "search_runs", "get_run",
    "hookimpl",
    "Integration", "Target", "__version__",
]
