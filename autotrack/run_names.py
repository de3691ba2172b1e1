"""Names that tell a process's runs apart. A script that fits the same kind of model in a loop
(`for C in (0.1, 1, 10)`, `for leaves in ...: lightgbm.train(...)`) would give every run one name;
each run after the first is named with the params that differ from the previous run of that name
(`LogisticRegression C=1`), as a search names its candidates."""

from __future__ import annotations

from autotrack.capture.params import flatten, param_value_text

MAX_VARIED = 3  # params named in a run's name; the rest are in its params
MAX_VALUE_CHARS = 20
MAX_NAME_CHARS = 80
MAX_NAMES = 1_000  # distinct base names remembered per process


class SiblingNames:
    def __init__(self):
        self._last: dict[str, dict[str, str]] = {}

    def name(self, base: str, params: dict | None) -> str:
        """`base`, followed by the params whose values differ from the previous run named `base`."""
        current = _texts(params or {})
        previous = self._last.get(base)
        if previous is not None or len(self._last) < MAX_NAMES:
            self._last[base] = current
        if not previous:
            return base
        varied = [(key, value) for key, value in current.items()
                  if previous.get(key) != value and not key.endswith("name")]  # a name is not a setting
        if not varied:
            return base
        varied.sort(key=lambda item: len(item[0]) + len(item[1]))  # the shortest read best
        shown = " ".join(f"{key.rpartition('__')[2]}={_cut(value, MAX_VALUE_CHARS)}"
                         for key, value in varied[:MAX_VARIED])
        return _cut(f"{base} {shown}", MAX_NAME_CHARS)


def _texts(params: dict) -> dict[str, str]:
    """Each param as stored (secrets masked), a string without its JSON quotes."""
    texts = {}
    for key, value in flatten(dict(params)).items():
        shown = param_value_text(str(key), value)
        texts[str(key)] = shown[1:-1] if len(shown) > 1 and shown[0] == shown[-1] == '"' else shown
    return texts


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
