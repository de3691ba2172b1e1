"""Named model versions and their aliases in the local store: register a run's model under a name,
point aliases (champion, challenger) at versions, resolve `churn@champion`, `churn/2` or `churn`."""

from __future__ import annotations

import json
import re
import socket
import time
from dataclasses import dataclass

from autotrack.stores.local import StoreError, connect, store_dir, write_transaction

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
LATEST = "latest"  # `churn` and `churn@latest`: the newest version


class RegistryError(ValueError):
    """A name, version, alias or run the registry cannot act on; the message says what to give."""


class NeedsForce(RegistryError):
    """Aliasing a version that is worse than the alias's current one: repeat with --force."""


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    run_id: str
    artifact: str
    fingerprint: str | None
    created: float
    user: str | None
    host: str | None
    description: str | None
    aliases: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.name}/{self.version}"

    def as_dict(self) -> dict:
        from autotrack.stores.reader import iso_time

        return {"name": self.name, "version": self.version, "run_id": self.run_id, "artifact": self.artifact,
                "fingerprint": self.fingerprint, "created": iso_time(self.created), "user": self.user,
                "host": self.host, "description": self.description, "aliases": list(self.aliases)}


_VERSION_COLUMNS = "name, version, run_id, artifact, fingerprint, created, user, host, description"


def parse_ref(text: str) -> tuple[str, int | None, str | None]:
    """`churn@champion` -> (churn, None, champion); `churn/2` -> (churn, 2, None); `churn` ->
    (churn, None, None); MLflow's `models:/churn@champion` is read the same way."""
    text = (text or "").strip()
    if text.startswith("models:/"):
        text = text[len("models:/"):]
    if "@" in text:
        name, alias = text.split("@", 1)
        return name, None, alias
    if "/" in text:
        name, version = text.rsplit("/", 1)
        if not version.isdigit():
            raise RegistryError(f"{text!r}: give a version number after the slash (churn/2) or an alias (churn@champion)")
        return name, int(version), None
    return text, None, None


def check_name(name: str, what: str = "model name") -> str:
    if not _NAME.match(name or ""):
        raise RegistryError(f"{what} {name!r}: use letters, digits, '_', '.' or '-' (at most 128), "
                            f"starting with a letter or digit")
    return name


class Registry:
    """The registry of one store. Reads open the store read-only; a change opens it for writing
    (creating the tables in a store an older autotrack wrote)."""

    def __init__(self, directory: str, writable: bool = False):
        self.directory = store_dir(directory)
        self.writable = writable
        self._conn = connect(self.directory, create=writable)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _rows(self, sql: str, args=()) -> list[tuple]:
        try:
            return self._conn.execute(sql, args).fetchall()
        except Exception as exc:  # a store from before the registry (schema < 6), opened read-only
            if "no such table" in str(exc):
                return []
            raise

    # -- reading --------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return [name for (name,) in self._rows("SELECT DISTINCT name FROM model_versions ORDER BY name")]

    def versions(self, name: str | None = None) -> list[ModelVersion]:
        """Every version (of `name`), by name then newest first, with its aliases."""
        where, args = (" WHERE name = ?", (name,)) if name else ("", ())
        aliases: dict[tuple[str, int], list[str]] = {}
        for alias_name, alias, version in self._rows(f"SELECT name, alias, version FROM model_aliases{where}"
                                                     " ORDER BY alias", args):
            aliases.setdefault((alias_name, version), []).append(alias)
        return [ModelVersion(*row, aliases=tuple(aliases.get((row[0], row[1]), ())))
                for row in self._rows(f"SELECT {_VERSION_COLUMNS} FROM model_versions{where}"
                                      " ORDER BY name, version DESC", args)]

    def aliases(self, name: str) -> dict[str, int]:
        return dict(self._rows("SELECT alias, version FROM model_aliases WHERE name = ?", (name,)))

    def resolve(self, ref: str) -> ModelVersion:
        """The version `ref` names: `churn@champion`, `churn/2`, `churn` (its newest version)."""
        name, version, alias = parse_ref(ref)
        if not name:
            raise RegistryError("give a model as name@alias, name/version or name")
        if alias and alias != LATEST:
            row = self._rows("SELECT version FROM model_aliases WHERE name = ? AND alias = ?", (name, alias))
            if not row:
                known = sorted(self.aliases(name))
                raise RegistryError(f"model {name!r} has no alias {alias!r}" + (
                    f" (its aliases: {', '.join(known)})" if known else self._no_versions_hint(name)))
            version = row[0][0]
        if version is None:
            row = self._rows("SELECT max(version) FROM model_versions WHERE name = ?", (name,))
            version = row[0][0] if row else None
            if version is None:
                raise RegistryError(f"no registered model {name!r}{self._no_versions_hint(name)}")
        found = self._rows(f"SELECT {_VERSION_COLUMNS} FROM model_versions WHERE name = ? AND version = ?",
                           (name, version))
        if not found:
            raise RegistryError(f"model {name!r} has no version {version}" + self._no_versions_hint(name))
        aliases = tuple(sorted(a for a, v in self.aliases(name).items() if v == version))
        return ModelVersion(*found[0], aliases=aliases)

    def _no_versions_hint(self, name: str) -> str:
        versions = [v for (v,) in self._rows("SELECT version FROM model_versions WHERE name = ? ORDER BY version",
                                             (name,))]
        if versions:
            return f" (its versions: {', '.join(map(str, versions))})"
        names = self.names()
        return f" (registered: {', '.join(names)})" if names else " (nothing is registered: autotrack models register RUN NAME)"

    def versions_of_run(self, run_id: str) -> list[ModelVersion]:
        return [ModelVersion(*row) for row in self._rows(
            f"SELECT {_VERSION_COLUMNS} FROM model_versions WHERE run_id = ? ORDER BY name, version", (run_id,))]

    def events(self, name: str, version: int | None = None) -> list[dict]:
        from autotrack.stores.reader import iso_time

        sql, args = "SELECT time, version, action, alias, user, detail FROM registry_events WHERE name = ?", [name]
        if version is not None:
            sql += " AND version = ?"
            args.append(version)
        return [{"time": iso_time(t), "version": v, "action": action, "alias": alias, "user": user,
                 "detail": json.loads(detail) if detail else None}
                for t, v, action, alias, user, detail in self._rows(sql + " ORDER BY time, rowid", args)]

    def mirrored(self, name: str, version: int) -> dict:
        row = self._rows("SELECT mirrored FROM model_versions WHERE name = ? AND version = ?", (name, version))
        return json.loads(row[0][0] or "{}") if row else {}

    # -- changing -------------------------------------------------------------------------------
    def register(self, run_id: str, name: str, artifact: str, fingerprint: str | None,
                 description: str | None = None) -> tuple[ModelVersion, bool]:
        """A new version of `name` for the run's model; (version, created). A run registered
        under `name` before gets its version back: registering twice makes no second version."""
        check_name(name)
        with self._transaction() as conn:
            existing = conn.execute(f"SELECT {_VERSION_COLUMNS} FROM model_versions WHERE name = ? AND run_id = ?"
                                    " AND artifact = ?", (name, run_id, artifact)).fetchone()
            if existing:
                return ModelVersion(*existing), False
            version = conn.execute("SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE name = ?",
                                   (name,)).fetchone()[0]
            row = (name, version, run_id, artifact, fingerprint, time.time(), _user(), socket.gethostname(),
                   description)
            conn.execute(f"INSERT INTO model_versions ({_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            self._event(conn, name, version, "registered", None, {"run_id": run_id})
        return ModelVersion(*row), True

    def set_alias(self, name: str, alias: str, version: int, detail: dict | None = None) -> int | None:
        """Point `alias` at `version`; the version it pointed at before, if any."""
        check_name(alias, "alias")
        if alias == LATEST or alias.isdigit():
            raise RegistryError(f"alias {alias!r} is reserved: `{name}` and `{name}@latest` name the newest version")
        with self._transaction() as conn:
            if not conn.execute("SELECT 1 FROM model_versions WHERE name = ? AND version = ?",
                                (name, version)).fetchone():
                raise RegistryError(f"model {name!r} has no version {version}{self._no_versions_hint(name)}")
            before = conn.execute("SELECT version FROM model_aliases WHERE name = ? AND alias = ?",
                                  (name, alias)).fetchone()
            conn.execute("INSERT OR REPLACE INTO model_aliases (name, alias, version, updated, user) "
                         "VALUES (?, ?, ?, ?, ?)", (name, alias, version, time.time(), _user()))
            self._event(conn, name, version, "aliased", alias,
                        {**(detail or {}), **({"replaced": before[0]} if before else {})})
        return before[0] if before else None

    def remove_alias(self, name: str, alias: str) -> int:
        with self._transaction() as conn:
            row = conn.execute("SELECT version FROM model_aliases WHERE name = ? AND alias = ?",
                               (name, alias)).fetchone()
            if not row:
                raise RegistryError(f"model {name!r} has no alias {alias!r}")
            conn.execute("DELETE FROM model_aliases WHERE name = ? AND alias = ?", (name, alias))
            self._event(conn, name, row[0], "unaliased", alias, None)
        return row[0]

    def set_mirrored(self, name: str, version: int, backend: str, remote: str) -> None:
        with self._transaction() as conn:
            row = conn.execute("SELECT mirrored FROM model_versions WHERE name = ? AND version = ?",
                               (name, version)).fetchone()
            mirrored = {**json.loads(row[0] or "{}"), backend: remote} if row else {backend: remote}
            conn.execute("UPDATE model_versions SET mirrored = ? WHERE name = ? AND version = ?",
                         (json.dumps(mirrored), name, version))

    def _transaction(self):
        if not self.writable:
            raise StoreError("the registry was opened read-only")
        return write_transaction(self._conn)

    @staticmethod
    def _event(conn, name, version, action, alias, detail) -> None:
        conn.execute("INSERT INTO registry_events (time, name, version, action, alias, user, detail)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (time.time(), name, version, action, alias, _user(),
                      json.dumps(detail) if detail else None))


def _user() -> str | None:
    from autotrack.capture.context import _current_user

    return _current_user()


__all__ = ["Registry", "ModelVersion", "RegistryError", "NeedsForce", "parse_ref", "check_name", "LATEST"]
