"""The local store's registry tables (schema version 6): named model versions, their aliases, and
what happened to them (registered, aliased), kept for audits. Written and read by
autotrack/registry/models.py."""

from __future__ import annotations

REGISTRY_SCHEMA = """
CREATE TABLE IF NOT EXISTS model_versions (
    name TEXT NOT NULL, version INTEGER NOT NULL, run_id TEXT NOT NULL,
    artifact TEXT NOT NULL,                 -- the run's artifact that holds the model
    fingerprint TEXT,                       -- what the model learned (serving/lineage.py)
    created REAL NOT NULL, user TEXT, host TEXT, description TEXT,
    mirrored TEXT NOT NULL DEFAULT '{}',    -- {backend: the version's id there}
    PRIMARY KEY (name, version)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS versions_by_run ON model_versions (run_id);
CREATE TABLE IF NOT EXISTS model_aliases (
    name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL, updated REAL NOT NULL, user TEXT,
    PRIMARY KEY (name, alias)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS registry_events (
    time REAL NOT NULL, name TEXT NOT NULL, version INTEGER, action TEXT NOT NULL, alias TEXT,
    user TEXT, detail TEXT
);
CREATE INDEX IF NOT EXISTS registry_events_by_name ON registry_events (name, time);
"""

__all__ = ["REGISTRY_SCHEMA"]
