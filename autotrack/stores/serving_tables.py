"""The local store's production tables (schema version 5): training references, serving windows,
predictions kept for labels that arrive later, and the labels. Written by LocalStore's writer
methods below; read by autotrack/serving/queries.py."""

from __future__ import annotations

import json

SERVING_SCHEMA = """
CREATE TABLE IF NOT EXISTS model_references (
    run_id TEXT PRIMARY KEY, fingerprint TEXT, model_class TEXT, created REAL, profiles TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS references_by_fingerprint ON model_references (fingerprint);
CREATE TABLE IF NOT EXISTS serving_windows (
    id TEXT PRIMARY KEY, model TEXT NOT NULL, model_class TEXT, host TEXT, pid INTEGER,
    start REAL, end REAL, calls INTEGER, rows INTEGER, errors INTEGER, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS windows_by_model ON serving_windows (model, start);
CREATE TABLE IF NOT EXISTS serving_predictions (
    model TEXT NOT NULL, id TEXT NOT NULL, window_id TEXT, prediction TEXT, time REAL,
    PRIMARY KEY (model, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS serving_labels (id TEXT PRIMARY KEY, label TEXT, time REAL) WITHOUT ROWID;
"""


def _dumps(value) -> str:
    return json.dumps(value, default=str)


class ServingTables:
    """LocalStore's writer methods for the records serving/ puts on the writer's queue."""

    @staticmethod
    def _write_reference(conn, run_id, payload):
        conn.execute(
            "INSERT OR REPLACE INTO model_references (run_id, fingerprint, model_class, created, profiles)"
            " VALUES (?, ?, ?, ?, ?)",
            (run_id, payload.get("fingerprint"), payload.get("model_class"), payload.get("created"),
             _dumps(payload.get("profiles") or {})))

    @staticmethod
    def _write_serving_window(conn, window_id, record):
        conn.execute(
            "INSERT OR REPLACE INTO serving_windows (id, model, model_class, host, pid, start, end, calls,"
            " rows, errors, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (window_id, record["model"], record.get("model_class"), record.get("host"), record.get("pid"),
             record["start"], record["end"], sum(record.get("calls", {}).values()), record.get("rows", 0),
             record.get("errors", 0), _dumps(record)))

    @staticmethod
    def _write_serving_predictions(conn, window_id, model, rows):
        conn.executemany(
            "INSERT OR REPLACE INTO serving_predictions (model, id, window_id, prediction, time)"
            " VALUES (?, ?, ?, ?, ?)",
            [(model, identifier, window_id, _dumps(prediction), when) for identifier, prediction, when in rows])

    @staticmethod
    def _write_serving_labels(conn, _batch, rows):
        conn.executemany("INSERT OR REPLACE INTO serving_labels (id, label, time) VALUES (?, ?, ?)",
                         [(identifier, _dumps(label), when) for identifier, label, when in rows])


__all__ = ["SERVING_SCHEMA", "ServingTables"]
