"""Run by autotrack_startup.pth at interpreter start when AUTOTRACK is set: enable tracking."""

import sys


def _start() -> None:
    try:
        import autotrack

        autotrack.enable()
    except Exception as exc:  # the user's program must start whatever happens here
        from autotrack.safety import first_line, is_strict

        if is_strict():
            raise
        # One line: the user's output comes next.
        sys.stderr.write(f"autotrack: not tracking this run: {type(exc).__name__}: {first_line(str(exc))}\n")


_start()
