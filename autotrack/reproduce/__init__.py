"""Reproduce any run: a verdict on what changed since it ran (code, packages, data) and a re-run
of its code as it was, compared with the original."""
