"""What an integration declares: its framework, supported versions and the targets to patch."""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Iterable

# What a patched call means to the core: fit starts a run; evaluate joins the run of the model it
# evaluates (or starts one when the model has none) and is timed as `<attribute>_s`; predict and
# transform add latency to the model's run; score adds a metric to it; metric is a function of
# (truth, predictions) that, given what a tracked model predicted, adds its value to that model's
# run; scorer is a callable object of (model, X, y) whose value, for a tracked model, is a metric
# of its run named `<metric_name(scorer)>.<the variable of X>`; read is a function that reads a
# data file whose path `data_arguments` names as `path`: the file is noted for the runs that
# follow in the process (capture/data_files.py), so that `autotrack reproduce --check` can tell
# whether it still holds what the run read; search is a call that runs the user's code for trials
# (Optuna's `optimize`): a run of its own, open while the call runs, in which the user's fits are
# tracked as usual (not as its internals); the integration makes each trial a child run in
# `autotrack_prepare_call` (autotrack/search_calls.py).
KINDS = ("fit", "evaluate", "predict", "transform", "score", "metric", "scorer", "read", "search")


def default_model(instance: Any, args: tuple, kwargs: dict) -> Any:
    """The model of a method call is its instance; a plain function's is its result (None here)."""
    return instance


def default_data_arguments(args: tuple, kwargs: dict) -> dict[str, Any]:
    """The scikit-learn convention: `fit(X, y=None, sample_weight=None, ...)`."""
    return {
        "X": args[0] if args else kwargs.get("X"),
        "y": args[1] if len(args) > 1 else kwargs.get("y"),
        "sample_weight": kwargs.get("sample_weight"),
    }


@dataclass(frozen=True)
class Target:
    """One attribute to wrap: `owner.attribute` (a class or a module), tracked as `kind`.

    `data_arguments(args, kwargs)` names the data in a call: `{"X": ..., "y": ...}`.
    `model(instance, args, kwargs)` names the model the call trains or evaluates, when it is not
    the instance (`Trainer.fit(module)`); for a plain function (`lightgbm.train`) the core takes
    the call's result after the call. `run_name` names the run when no model is known at the start.
    `metric_name(instance)` names what a `scorer` target computes.
    """

    owner: Any
    attribute: str
    kind: str
    data_arguments: Callable[[tuple, dict], dict[str, Any]] = default_data_arguments
    model: Callable[[Any, tuple, dict], Any] = default_model
    run_name: str | None = None
    metric_name: Callable[[Any], str] | None = None  # a scorer's: the metric's name, given the scorer
    # A plain function's model is its result; or the part of it this names (xgboost.dask.train
    # returns {"booster": ..., "history": ...}).
    model_of_result: Callable[[Any], Any] | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Target kind must be one of {KINDS}, not {self.kind!r}")


@dataclass(frozen=True)
class Integration:
    """A framework integration, as a plugin registers it from `autotrack_register_integrations`.

    `targets(module)` is called after each watched module is imported (with `include_submodules`,
    after each of its submodules too) and yields the `Target`s found in that module.

    For classes users write themselves (a custom estimator), `subclass_roots(module)` names the
    framework's base classes found in `module`; every subclass of them, existing or defined later
    anywhere, is instrumented with the targets `class_targets(cls)` yields.

    Calls the framework's own code makes are not the user's, except from `user_entry_modules`.
    """

    name: str
    modules: tuple[str, ...]
    distribution: str
    supported: str
    targets: Callable[[ModuleType], Iterable[Target]]
    include_submodules: bool = False
    subclass_roots: Callable[[ModuleType], Iterable[type]] | None = None
    class_targets: Callable[[type], Iterable[Target]] | None = None
    # Modules of the framework that run the user's training for them (LightningCLI): their calls
    # are the user's. Other calls the framework's own code makes outside a tracked call (scikit-
    # learn's log_loss fitting a LabelBinarizer) are its internals, never runs.
    user_entry_modules: tuple[str, ...] = ()

    @property
    def package(self) -> str:
        """The framework's top-level package: where its own code lives."""
        return self.modules[0].partition(".")[0]


def bound_arguments(function: Callable, call) -> dict:
    """A tracked call's arguments by parameter name, as `function` takes them (the patched
    original: its signature is followed through `__wrapped__`; a bound method's omits `self`);
    {} when they do not bind, so that the original itself says what is wrong with them."""
    import inspect

    try:
        return dict(inspect.signature(function).bind_partial(*call.args, **call.kwargs).arguments)
    except (TypeError, ValueError):
        return {}


def version_tuple(version: str) -> tuple[int, ...]:
    """`1.5.2rc1` -> (1, 5, 2): enough to compare against a supported range."""
    parts = []
    for piece in version.split("."):
        match = re.match(r"\d+", piece)
        if not match:
            break
        parts.append(int(match.group()))
    return tuple(parts)


def version_supported(version: str, spec: str) -> bool:
    """True when `version` satisfies every clause of `spec` such as `>=1.2,<2`."""
    have = version_tuple(version)
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        op, bound = re.match(r"(>=|<=|==|!=|>|<)?\s*(.+)", clause).groups()
        want = version_tuple(bound)
        width = max(len(have), len(want))
        a, b = have + (0,) * (width - len(have)), want + (0,) * (width - len(want))
        ok = {
            ">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b, "!=": a != b, "==": a == b, None: a == b,
        }[op]
        if not ok:
            return False
    return True


__all__ = ["Integration", "Target", "KINDS", "version_supported", "default_data_arguments", "default_model",
           "bound_arguments"]
