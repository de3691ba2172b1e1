"""An example autotrack plugin package: a context collector and a JSON-lines store."""

__version__ = "0.1.0"
