"""SIGTERM ends the open runs as killed and sends their alerts before the process dies of it.

A scheduler's stop or `kill` sends SIGTERM, which by default ends Python without its exit handlers:
open runs would stay "running" and no alert would say so. When nobody handles SIGTERM yet,
autotrack does, and the process still dies of it (exit status -15)."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import TYPE_CHECKING

from autotrack.safety import report

if TYPE_CHECKING:
    from autotrack.session import Session

# At most this long between SIGTERM and the process's death (bounded by exit_timeout too):
# schedulers send SIGKILL some seconds after SIGTERM (Kubernetes 30 s, Slurm's KillWait 30 s).
GRACE_S = 5.0

_installed: dict = {}  # "session", and "pid": the process that installed the handler


def install(session: Session) -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # signal.signal() only works there
    if session.started_by_a_run:
        # A pool worker or subprocess of a tracked run is its parent's to stop: Pool.terminate()
        # sends SIGTERM and waits for it to die at once, as it did before autotrack, and the
        # parent's run reports how the work ended.
        return
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return  # the program's own handler (or SIG_IGN) stays in charge
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):
        return
    _installed.update(session=session, pid=os.getpid())


def uninstall(session: Session) -> None:
    if _installed.get("session") is not session or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is _on_sigterm:  # nobody replaced it since
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _installed.clear()


def _on_sigterm(signum, frame) -> None:
    """Runs on the main thread between two bytecodes: end open runs as killed, send their alerts
    and write the queue within GRACE_S, then die of SIGTERM as before."""
    if signal.getsignal(signal.SIGTERM) is not _on_sigterm:
        # A handler installed after ours called us as "the previous handler" (Lightning chains
        # them so): without autotrack the previous one was SIG_DFL, which nobody calls, and the
        # program goes on its own way to its end. So does it here.
        return
    try:
        session = _installed.get("session")
        if session is not None and os.getpid() == _installed.get("pid"):  # a forked child dies at once
            session.end_open_runs_killed("SIGTERM", GRACE_S, time.monotonic())
    except Exception as exc:  # dying of SIGTERM matters more than what was not written
        report("SIGTERM", exc)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)


def _default_in_fork_child() -> None:
    """A child made by fork() dies of SIGTERM at once, as without autotrack. With our handler
    inherited, the signal may reach one of the child's other threads (its writer, a BLAS pool):
    Python then only sets a flag for the main thread, which may be blocked for good (a Pool worker
    waits on a queue lock that Pool.terminate() holds) and never runs the handler: the parent's
    join() hung. The child's records are written when each of its runs ends (session.run_ended)."""
    try:
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    except (ValueError, OSError):
        pass
    _installed.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_default_in_fork_child)

__all__ = ["install", "uninstall", "GRACE_S"]
