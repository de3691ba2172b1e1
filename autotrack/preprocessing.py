"""Preprocessing fitted on its own (`scaler.fit_transform(X)`, then `model.fit(X_scaled, y)`), as
part of the model it feeds (setting `runs_for = "models"`, the default).

Such a transformer's fit is still a run, with source `preprocessing`: run lists leave it out unless
asked (`autotrack runs --all`, the dashboard's "show children"). What it outputs is remembered by
identity; a model later fitted on that very object gets the transformer's params under its step
name, as a Pipeline's are (`standardscaler__with_mean`), and the tag `autotrack.preprocessing` with
the preprocessing runs' ids, earliest first. A chain (scaler, then PCA on its output) is followed.
Preprocessing records are not exported to other backends (MLflow): they stay in the local store.
"""

from __future__ import annotations

import collections
import os
import threading
import weakref

SOURCE = "preprocessing"
TAG = "autotrack.preprocessing"
_REMEMBERED_OUTPUTS = 32  # the latest outputs; older ones are forgotten


class _Step:
    __slots__ = ("run_id", "class_name", "params", "upstream")

    def __init__(self, run_id: str, class_name: str, params: dict, upstream: list[_Step]):
        self.run_id, self.class_name, self.params, self.upstream = run_id, class_name, params, upstream


class PreprocessingOutputs:
    """Which preprocessing run made which output object (held weakly: never keeps data alive)."""

    def __init__(self):
        self._steps: collections.OrderedDict[str, _Step] = collections.OrderedDict()  # run id -> its step
        self._outputs: collections.deque = collections.deque(maxlen=_REMEMBERED_OUTPUTS)
        self._lock = threading.Lock()
        if hasattr(os, "register_at_fork"):  # a lock held by another thread at fork() stays held
            os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()

    def started(self, run_id: str, model, params: dict | None, X) -> None:
        """A preprocessing fit started on `X` (perhaps another preprocessing's output)."""
        self._steps[run_id] = _Step(run_id, type(model).__name__, dict(params or {}), self.feeding(X))
        if len(self._steps) > _REMEMBERED_OUTPUTS:  # a loop of standalone fits keeps only the latest
            self._steps.popitem(last=False)

    def produced(self, run_id: str, output) -> None:
        """`output` came out of the preprocessing run's fit_transform or transform."""
        step = self._steps.get(run_id)
        if step is None or output is None:
            return
        try:
            reference = weakref.ref(output)
        except TypeError:  # a list or a tuple: cannot be told apart from an equal one later
            return
        with self._lock:
            self._outputs.append((reference, step))

    def feeding(self, X) -> list[_Step]:
        """The preprocessing steps `X` came out of, earliest first; [] when none."""
        if X is None:
            return []
        with self._lock:
            step = next((step for reference, step in reversed(self._outputs) if reference() is X), None)
        return [*step.upstream, step] if step is not None else []


def params_and_tags(steps: list[_Step], own_params: dict | None) -> tuple[dict, dict]:
    """The params and tags a model fitted on the steps' output records: each step's params under
    its name (`standardscaler__with_mean`; a second of one class is `standardscaler-2`, as
    make_pipeline names them), never over one of the model's own."""
    own = own_params or {}
    params, seen = {}, collections.Counter()
    for step in steps:
        base = step.class_name.lower()
        seen[base] += 1
        name = base if seen[base] == 1 else f"{base}-{seen[base]}"
        params[name] = step.class_name  # as a Pipeline records its steps: name -> class
        for key, value in step.params.items():
            params[f"{name}__{key}"] = value
    params = {key: value for key, value in params.items() if key not in own}
    return params, {TAG: ",".join(step.run_id for step in steps)}
