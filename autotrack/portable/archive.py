"""Runs carried between machines: `autotrack export` writes them to one tar file (a small store of
their own: runs.db and artifacts/, with a manifest of every file's SHA-256), `autotrack import`
reads one back after checking every checksum, and `autotrack merge` takes the runs of other store
directories (one per cluster node, each its own AUTOTRACK_DIR).

Carrying runs twice adds nothing (stores/transfer.py keeps a run the target has); run ids are
uuid4s, kept as they are, so parents and children stay linked.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from autotrack.stores import transfer
from autotrack.stores.local import DB_NAME, connect

FORMAT = "autotrack-runs"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class ArchiveError(ValueError):
    """An archive or store that cannot be read or carried; the message says which and why."""


def export_runs(directory: Path, reader, run_ids: list[str], output: Path) -> dict:
    """Write these runs (and every run below them) to a tar file; `.tar.gz`/`.tgz` compress it."""
    import autotrack

    every = transfer.descendants(reader.fetch, run_ids)
    with tempfile.TemporaryDirectory(prefix="autotrack-export-") as scratch:
        staged = Path(scratch) / "store"
        carried = transfer.carry(Path(directory), staged, every, move=False)
        _settle(staged)
        files = sorted(_files(staged))
        manifest = {
            "format": FORMAT, "version": FORMAT_VERSION, "autotrack": autotrack.__version__,
            "created": datetime.now(timezone.utc).isoformat(), "runs": every, "points": carried.points,
            "files": {name: _sha256(staged / name) for name in files},
        }
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=1))
        partial = output.with_name(output.name + ".partial")
        mode = "w:gz" if output.name.endswith((".tar.gz", ".tgz")) else "w"
        try:
            with tarfile.open(partial, mode) as archive:
                for name in [MANIFEST, *files]:
                    archive.add(staged / name, arcname=name, recursive=False)
            os.replace(partial, output)  # a reader never sees half an archive
        except BaseException:
            with _quiet():
                os.remove(partial)
            raise
    return {"runs": every, "points": carried.points, "artifact_files": len(files) - 1, "path": str(output),
            "bytes": output.stat().st_size}


def import_runs(directory: Path, archive_path: Path) -> transfer.Carried:
    """Add the runs of an export to the store, after every file's checksum is verified."""
    if not archive_path.is_file():
        raise ArchiveError(f"no file {archive_path}")
    with tempfile.TemporaryDirectory(prefix="autotrack-import-") as scratch:
        staged = Path(scratch)
        try:
            with tarfile.open(archive_path) as archive:
                # The `data` filter refuses links, devices, absolute paths and `..`: an archive cannot
                # write outside the scratch folder.
                archive.extractall(staged, filter="data")
        except tarfile.ReadError:
            raise ArchiveError(f"{archive_path} cannot be read as an autotrack export: it is not a tar file "
                               f"(or it is truncated)") from None
        except (tarfile.TarError, OSError, EOFError) as exc:
            what = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ArchiveError(f"{archive_path} cannot be read as an autotrack export ({what})") from None
        manifest = _manifest(staged, archive_path)
        _verify(staged, manifest, archive_path)
        return merge_store(directory, staged, manifest["runs"])


def merge_store(directory: Path, source: Path, run_ids: list[str] | None = None) -> transfer.Carried:
    """Add another store's runs (all of them, or these) to this one."""
    source = Path(source)
    if not (source / DB_NAME).is_file():
        raise ArchiveError(f"no autotrack store at {source} (no {DB_NAME} there)")
    if os.path.realpath(source) == os.path.realpath(directory):
        raise ArchiveError(f"{source} is this store: merge other stores into it")
    try:
        check = connect(source, create=False)
        try:
            ids = run_ids if run_ids is not None else [row[0] for row in check.execute(
                "SELECT id FROM runs ORDER BY start_time, rowid")]
        finally:
            check.close()
        return transfer.carry(source, Path(directory), ids, move=False) if ids else transfer.Carried()
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(f"the store at {source} cannot be read ({exc})") from None


def _manifest(staged: Path, archive_path: Path) -> dict:
    try:
        manifest = json.loads((staged / MANIFEST).read_text())
    except (OSError, ValueError):
        raise ArchiveError(f"{archive_path} has no readable {MANIFEST}: not an autotrack export") from None
    if manifest.get("format") != FORMAT:
        raise ArchiveError(f"{archive_path} is not an autotrack export (format {manifest.get('format')!r})")
    if int(manifest.get("version", 0)) > FORMAT_VERSION:
        raise ArchiveError(f"{archive_path} was written by a newer autotrack (export format "
                           f"{manifest['version']}): upgrade autotrack to import it")
    return manifest


def _verify(staged: Path, manifest: dict, archive_path: Path) -> None:
    expected = manifest.get("files") or {}
    if DB_NAME not in expected:
        raise ArchiveError(f"{archive_path} holds no {DB_NAME}: not an autotrack export")
    present = set(_files(staged)) - {MANIFEST}
    for name in sorted(set(expected) | present):
        if name not in expected:
            raise ArchiveError(f"{archive_path} holds {name}, which its manifest does not list: damaged or altered")
        if name not in present:
            raise ArchiveError(f"{archive_path} lacks {name}: the archive is incomplete")
        if _sha256(staged / name) != expected[name]:
            raise ArchiveError(f"{archive_path}: {name} does not match its checksum: the archive is damaged")


def _settle(store: Path) -> None:
    """Everything in the database file itself: no -wal file beside it in the archive."""
    conn = sqlite3.connect(str(store / DB_NAME))
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()


def _files(root: Path) -> list[str]:
    names = []
    for folder, _, files in os.walk(root):
        for name in files:
            names.append(os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/"))
    return names


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _quiet():
    import contextlib

    return contextlib.suppress(OSError)


__all__ = ["export_runs", "import_runs", "merge_store", "ArchiveError", "FORMAT", "MANIFEST"]
