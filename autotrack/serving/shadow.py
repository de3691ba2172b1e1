"""Shadow models: a challenger that predicts on the same traffic as the model actually serving,
off the caller's thread, its predictions recorded (a served model in `shadow` mode) and compared
with the primary's, never returned. `autotrack.shadow("churn@challenger")` or the setting
`shadow = churn@challenger` (of `churn@champion` unless `of=` names the primary)."""

from __future__ import annotations

import threading
import time

# Rows of one call kept for the shadow model (a copy: the caller may reuse its array); a larger
# call is shadowed on its first rows.
MAX_SHADOW_ROWS = 10_000


class Shadow:
    """One challenger watching one primary (by the fingerprint of what it learned)."""

    def __init__(self, model, ref: str, primary: str | None, primary_ref: str):
        self.model, self.ref, self.primary, self.primary_ref = model, ref, primary, primary_ref


class Shadows:
    """The session's shadows, by the primary's fingerprint (None: whatever model serves)."""

    def __init__(self):
        self._by_primary: dict[str | None, list[Shadow]] = {}
        self._lock = threading.Lock()
        self.models: set[int] = set()  # id() of the shadow models: their windows are marked

    def add(self, shadow: Shadow) -> None:
        with self._lock:
            self._by_primary.setdefault(shadow.primary, []).append(shadow)
            self.models.add(id(shadow.model))

    def of(self, fingerprint: str | None, instance) -> list[Shadow]:
        if id(instance) in self.models:
            return []  # a shadow never shadows itself
        return self._by_primary.get(fingerprint, []) + self._by_primary.get(None, [])


def kept_copy(data):
    """What the shadow predicts on: a copy of the caller's data (at most MAX_SHADOW_ROWS rows)."""
    import copy

    head = getattr(data, "iloc", None)
    if head is not None:
        return data.iloc[:MAX_SHADOW_ROWS].copy()
    if hasattr(data, "shape") and hasattr(data, "copy") and getattr(data, "ndim", 0) >= 1:
        return data[:MAX_SHADOW_ROWS].copy()
    if isinstance(data, list):
        return list(data[:MAX_SHADOW_ROWS])
    return copy.copy(data)


def run_shadows(recorder, shadows: list[Shadow], method: str, data, primary_result) -> None:
    """On the serving thread: each shadow predicts on `data`; its call is recorded as its own
    served call, and how far it agrees with the primary is added to its window."""
    for shadow in shadows:
        predict = getattr(shadow.model, method, None)
        if predict is None:
            continue
        started = time.perf_counter()
        try:
            result = predict(data)
        except Exception:  # the challenger's own failure: counted on its record, never raised
            recorder.observe_error(shadow.model)
            continue
        elapsed = time.perf_counter() - started
        recorder.observe(shadow.model, method, data, result, elapsed)
        served = recorder.models.get(id(shadow.model))
        if served is not None:
            served.shadow_stats.add(primary_result, result, shadow.primary_ref)


class Agreement:
    """How often a shadow's predictions agree with the primary's, in its current window."""

    __slots__ = ("of", "rows", "agree", "abs_diff")

    def __init__(self):
        self.of, self.rows, self.agree, self.abs_diff = None, 0, 0, 0.0

    def add(self, primary, shadow, of: str) -> None:
        import numpy

        self.of = of
        a, b = numpy.asarray(primary), numpy.asarray(shadow)
        rows = min(len(a), len(b)) if a.ndim and b.ndim else 0
        if not rows:
            return
        a, b = a[:rows], b[:rows]
        if a.ndim == 2 and b.ndim == 2:  # probabilities: the class each picks
            a, b = a.argmax(axis=1), b.argmax(axis=1)
        self.rows += rows
        if a.dtype.kind == "f" or b.dtype.kind == "f":
            difference = numpy.abs(a.astype(float) - b.astype(float))
            self.abs_diff += float(difference.sum())
            self.agree += int((difference <= 1e-9 * numpy.maximum(1.0, numpy.abs(a.astype(float)))).sum())
        else:
            self.agree += int((a == b).sum())

    def take(self) -> dict | None:
        if not self.rows:
            return None
        taken = {"of": self.of, "rows": self.rows, "agree": self.agree, "mean_abs_diff": self.abs_diff / self.rows}
        self.rows, self.agree, self.abs_diff = 0, 0, 0.0
        return taken


def shadow(ref: str, of: str | None = None) -> None:
    """Run the registered model `ref` (`churn@challenger`) in shadow of `of` (default: the same
    name's champion): each predict call of the primary is repeated on the challenger, off the
    caller's thread; the challenger's predictions are recorded, compared, never returned."""
    from autotrack.registry.loading import load_model
    from autotrack.registry.models import Registry, parse_ref
    from autotrack.session import SESSION

    settings = SESSION.configure()
    if not SESSION.enabled:
        raise RuntimeError("autotrack.shadow needs tracking on (AUTOTRACK=1 or autotrack.enable())")
    name, _, _ = parse_ref(ref)
    primary_ref = of or f"{name}@champion"
    with Registry(settings.dir) as registry:
        primary = registry.resolve(primary_ref)
    fingerprint = primary.fingerprint
    if fingerprint is None:  # registered before its training reference was written
        from autotrack.serving.queries import fingerprint_of_run
        from autotrack.stores.reader import StoreReader

        reader = StoreReader(settings.dir)
        try:
            fingerprint = fingerprint_of_run(reader, primary.run_id)
        finally:
            reader.close()
    model = load_model(ref)  # imports its framework: the serving recorder is made then
    if SESSION.serving is None:
        raise RuntimeError("autotrack.shadow needs serving records on (the setting serving is off)")
    SESSION.serving.add_shadow(Shadow(model, ref, fingerprint, primary_ref))


__all__ = ["shadow", "Shadows", "Shadow", "Agreement", "run_shadows", "kept_copy"]
