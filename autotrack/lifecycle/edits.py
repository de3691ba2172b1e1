"""Changes people make to a run after it ended: tags, a note, its name.

A run a backend has already received goes back to `pending` there, so that the change reaches it
on the next export (the MLflow backend sends only the tags that changed; the name is its
`mlflow.runName` tag, the note its `mlflow.note.content`)."""

from __future__ import annotations

from pathlib import Path

from autotrack.stores.local import connect, write_transaction

NOTE_TAG = "autotrack.note"
RESERVED = "autotrack."  # tags autotrack writes itself: not set by hand, except the note


class EditError(ValueError):
    """A change that cannot be made as asked."""


def parse_tags(pairs: list[str]) -> dict[str, str]:
    """`key=value` pairs (the value may hold `=`); a one-line error for anything else."""
    tags = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        key = key.strip()
        if not equals or not key:
            raise EditError(f"{pair!r} is not key=value")
        if key.startswith(RESERVED):
            raise EditError(f"tag {key!r}: tags starting with {RESERVED!r} are autotrack's own")
        tags[key] = value
    return tags


def set_tags(directory: Path, run_id: str, tags: dict[str, str], remove: list[str] = ()) -> list[str]:
    """Set and remove tags of one run; returns the backends the change will be exported to."""
    for key in remove:
        if key.startswith(RESERVED):
            raise EditError(f"tag {key!r}: tags starting with {RESERVED!r} are autotrack's own")
    return _edit(directory, run_id, tags, list(remove))


def set_note(directory: Path, run_id: str, text: str) -> list[str]:
    """The run's note (shown by `show`, the dashboard and the report); an empty text removes it."""
    return _edit(directory, run_id, {NOTE_TAG: text} if text.strip() else {}, [] if text.strip() else [NOTE_TAG])


def rename(directory: Path, run_id: str, name: str) -> list[str]:
    if not name.strip():
        raise EditError("give the run a name that is not empty")
    conn = connect(Path(directory), create=True)
    try:
        with write_transaction(conn):
            conn.execute("UPDATE runs SET name = ? WHERE id = ?", (name.strip(), run_id))
            return _export_again(conn, run_id)
    finally:
        conn.close()


def _edit(directory: Path, run_id: str, tags: dict[str, str], remove: list[str]) -> list[str]:
    conn = connect(Path(directory), create=True)
    try:
        with write_transaction(conn):
            conn.executemany("INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?, ?, ?)",
                             [(run_id, key, value) for key, value in tags.items()])
            conn.executemany("DELETE FROM tags WHERE run_id = ? AND key = ?", [(run_id, key) for key in remove])
            return _export_again(conn, run_id)
    finally:
        conn.close()


def _export_again(conn, run_id: str) -> list[str]:
    backends = [row[0] for row in conn.execute(
        "SELECT backend FROM exports WHERE run_id = ? AND status = 'done'", (run_id,))]
    conn.execute("UPDATE exports SET status = 'pending' WHERE run_id = ? AND status = 'done'", (run_id,))
    return backends


__all__ = ["parse_tags", "set_tags", "set_note", "rename", "EditError", "NOTE_TAG"]
