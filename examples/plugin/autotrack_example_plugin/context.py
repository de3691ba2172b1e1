"""The `example` plugin: adds `context.example` to every run."""

import os
import platform

from autotrack import hookimpl

from autotrack_example_plugin import __version__


@hookimpl
def autotrack_collect_context():
    # Called on autotrack's writer thread once per run: cheap values only, nothing that blocks.
    return {
        "example": {
            "plugin": "autotrack-example-plugin",
            "version": __version__,
            "cpus": os.cpu_count(),
            "python_build": platform.python_build()[0],
            # A value the test sets, to show the collector sees the training process's environment.
            "label": os.environ.get("EXAMPLE_LABEL"),
        }
    }
