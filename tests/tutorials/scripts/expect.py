"""What a tutorial script says the store must hold, from what the script itself computed and
printed. The script calls `run(...)` for each run it expects and `report()` at its end; the test
(tests/tutorials/test_tutorials.py) reads the last line and checks it against `autotrack show --json`."""

import json

_EXPECTED: dict = {"runs": []}


def _plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def run(name, *, params=None, metrics=None, history=None, tags=None, goals=None, datasets=None,
        children=None, context=None, status="finished", artifacts=None, importances=None):
    """A run named `name` (exactly one) with these params, final metric values, per-step
    histories (values in order), tags, goals, dataset roles (`role:rows`), number of child runs,
    context fields, artifact names and importances (`{kind: {feature: value}}`)."""
    _EXPECTED["runs"].append(_plain({
        "name": name, "params": params or {}, "metrics": metrics or {}, "history": history or {},
        "tags": tags or {}, "goals": goals or {}, "datasets": datasets or [], "children": children,
        "context": context or {}, "status": status, "artifacts": artifacts or [],
        "importances": importances or {},
    }))


def runs_total(count):
    """How many top-level runs the script makes in all."""
    _EXPECTED["top_level_runs"] = count


def report():
    print("EXPECT " + json.dumps(_EXPECTED))
