"""Run by autotrack_startup.pth at interpreter start when AUTOTRACK is set: enable tracking."""

import sys


def _start() -> None:
    try:
        import autotrack

        autotrack.enable()
    except Exception as exc:  # the user's program must start whatever happens here
        from autotrack.safety import is_strict

        if is_strict():
            raise
        first_line = (str(exc).splitlines() or [""])[0]  # one line: the user's output comes next
        sys.stderr.write(f"autotrack: not tracking this run: {type(exc).__name__}: {first_line}\n")


_start()
