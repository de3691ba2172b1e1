"""guard(): tracking errors are logged once and swallowed, or raised under AUTOTRACK_STRICT=1."""

from __future__ import annotations

import collections
import os
import threading

_strict = os.environ.get("AUTOTRACK_STRICT", "").strip().lower() in ("1", "true", "yes", "on")
_reported: set[str] = set()
_lock = threading.Lock()
# Tracking errors swallowed in this process, by where they happened.
error_counts: collections.Counter = collections.Counter()


def _new_lock_after_fork() -> None:
    # Held by another thread at the instant of a fork(), a lock stays held forever in the child.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_after_fork)
# Errors raised where nobody can receive them (the background writer): kept for flush() and exit.
background_errors: list[str] = []


def set_strict(value: bool) -> None:
    global _strict
    _strict = bool(value)


def is_strict() -> bool:
    return _strict


class guard:
    """Context manager around tracking code: never lets a tracking error reach the user's code.

    `with guard("fit of LogisticRegression"):` logs the first error of each `where` on the
    `autotrack` logger with its traceback and swallows it; in strict mode it lets it propagate.
    Written as a class rather than with contextlib so entering it costs next to nothing.
    """

    __slots__ = ("where",)

    def __init__(self, where: str):
        self.where = where

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None or not issubclass(exc_type, Exception):
            return False  # KeyboardInterrupt and SystemExit are the user's, never ours to swallow
        if _strict:
            return False
        report(self.where, exc)
        return True

    def handle(self, exc: Exception) -> None:
        """For an `except Exception` block on a hot path: raise in strict mode, else report."""
        if _strict:
            raise exc
        report(self.where, exc)


def report(where: str, exc: BaseException) -> None:
    """Log a tracking error once per place, so a failing hook in a loop does not flood the log."""
    with _lock:
        error_counts[where] += 1  # every one: each run's capture manifest says how many, and where
        first = where not in _reported
        _reported.add(where)
    if first:
        import traceback

        # One line by default; the traceback with AUTOTRACK_LOG=debug (or a DEBUG handler of yours).
        log = logger()
        log.warning("autotrack: tracking error in %s (your code is unaffected; this is logged once): %s",
                    where, first_line("".join(traceback.format_exception_only(type(exc), exc))))
        log.debug("autotrack: the tracking error in %s", where, exc_info=exc)


def first_line(text: str) -> str:
    """The first line of a message (an exception's can run to twenty): what autotrack prints."""
    return (text.strip().splitlines() or [""])[0]


def report_background(where: str, exc: BaseException) -> None:
    """An error off the user's thread: logged, and kept so strict mode can fail at flush/exit."""
    if _strict:
        import traceback

        with _lock:
            from autotrack.capture.redact import redact_text

            background_errors.append(redact_text(f"{where}: " + "".join(traceback.format_exception(exc))))
    report(where, exc)


def warn_once(key: str, message: str, *args) -> None:
    """A warning about the user's input (NaN metric, unserialisable param) shown once per key."""
    with _lock:
        if key in _reported:
            return
        _reported.add(key)
    logger().warning("autotrack: " + message, *args)


_log_ready = False


def _redact_record(record) -> bool:
    """A logging filter: the message (and a traceback's text) with credentials masked."""
    from autotrack.capture.redact import redact_text

    message = record.getMessage()
    redacted = redact_text(message)
    if redacted != message:
        record.msg, record.args = redacted, ()
    if record.exc_info and not record.exc_text:
        import traceback

        record.exc_text = redact_text("".join(traceback.format_exception(*record.exc_info)).rstrip())
    return True


def logger():
    """The `autotrack` logger, imported on first use: `import logging` alone costs milliseconds.
    Its warnings are one line each. `AUTOTRACK_LOG=debug` adds the details (tracebacks, what each
    background step did) on stderr; the logging config of the user's program is not touched."""
    global _log_ready
    import logging

    log = logging.getLogger("autotrack")
    if not _log_ready:
        _log_ready = True
        log.addFilter(_redact_record)  # no credential in what autotrack says (a URL in an error)
        if os.environ.get("AUTOTRACK_LOG", "").strip().lower() == "debug":
            import sys

            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(message)s"))
            log.addHandler(handler)
            log.setLevel(logging.DEBUG)
            log.propagate = False  # printed once, by this handler
    return log


__all__ = ["guard", "report", "report_background", "warn_once", "set_strict", "is_strict", "logger", "first_line"]
