"""One query language for runs: `autotrack runs --where`, `autotrack.search_runs` and the dashboard's
filter box (docs/query.md)."""

from autotrack.query.language import QueryError, parse
from autotrack.query.sql import install, where_sql

__all__ = ["QueryError", "parse", "where_sql", "install"]
