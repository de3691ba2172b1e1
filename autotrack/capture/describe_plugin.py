"""The core's fallback answer to autotrack_describe_dataset: numpy, pandas, scipy and lists."""

from __future__ import annotations

from autotrack.capture.datasets import describe_dataset
from autotrack.plugins import hookimpl


@hookimpl(trylast=True)
def autotrack_describe_dataset(data, role, name):
    return describe_dataset(data, role, name)
