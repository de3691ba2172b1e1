"""Wrap and exactly restore attributes, and run callbacks when a module is imported."""

from __future__ import annotations

import copy
import functools
import os
import sys
import threading
from types import MethodType, ModuleType
from typing import Any, Callable

from autotrack.safety import guard

# A wrapper receives (wrapped, instance, args, kwargs), as in wrapt: one shape for functions,
# methods and classmethods. `wrapped` is already bound; `instance` is None for plain functions,
# the class for classmethods.
Wrapper = Callable[[Callable, Any, tuple, dict], Any]

_ORIGINAL = "__autotrack_original__"
# The code of every wrapper function (ours and the tracked_* ones they call): see _hide_wrapper_frames.
_WRAPPER_CODES: set = set()


class Patch:
    """One replaced attribute; `restore()` puts back the identical original object."""

    __slots__ = ("owner", "attribute", "original", "replacement")

    def __init__(self, owner, attribute, original, replacement):
        self.owner, self.attribute = owner, attribute
        self.original, self.replacement = original, replacement

    def restore(self) -> None:
        current = _raw_attribute(self.owner, self.attribute)
        if current is self.replacement:
            if self.original is _ABSENT:  # we added it: take it away again
                delattr(self.owner, self.attribute)
            else:
                setattr(self.owner, self.attribute, self.original)
        # Else somebody patched over us after we patched: restoring would undo their change too.


_ABSENT = object()


def watch_subclasses(root: type, on_subclass: Callable[[type], None]) -> Patch:
    """Call `on_subclass(cls)` for every subclass of `root` defined from now on (user classes).

    Installs `root.__init_subclass__`, chaining to the one it replaces or inherits.
    """
    own = root.__dict__.get("__init_subclass__", _ABSENT)

    def __init_subclass__(cls, **kwargs):
        if own is _ABSENT:
            super(root, cls).__init_subclass__(**kwargs)
        else:
            own.__get__(None, cls)(**kwargs)
        with guard(f"instrumenting {cls.__qualname__}"):
            on_subclass(cls)

    replacement = classmethod(__init_subclass__)
    setattr(__init_subclass__, _ORIGINAL, own)
    setattr(root, "__init_subclass__", replacement)
    return Patch(root, "__init_subclass__", own, replacement)


def all_subclasses(root: type) -> list[type]:
    """Every subclass of `root` that exists now, however deep."""
    found, pending = [], list(root.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls not in found:
            found.append(cls)
            pending.extend(cls.__subclasses__())
    return found


def patch_attribute(owner, attribute: str, wrapper: Wrapper) -> Patch | None:
    """Replace `owner.attribute` with a wrapper calling `wrapper(original, instance, args, kwargs)`.

    Returns None when there is nothing to patch or it is already patched by us.
    """
    raw = _raw_attribute(owner, attribute)
    if raw is None or is_patched(raw):
        return None
    replacement = _wrap_raw(raw, wrapper, in_class=isinstance(owner, type))
    if replacement is None:
        return None
    setattr(owner, attribute, replacement)
    return Patch(owner, attribute, raw, replacement)


def is_patched(raw) -> bool:
    for candidate in (raw, getattr(raw, "__func__", None), getattr(raw, "fn", None)):
        if candidate is not None and getattr(candidate, _ORIGINAL, None) is not None:
            return True
    return False


def _raw_attribute(owner, attribute):
    """The attribute as stored on the owner itself (no descriptor binding, no inheritance)."""
    if isinstance(owner, type):
        return owner.__dict__.get(attribute)
    return getattr(owner, attribute, None)


def _wrap_raw(raw, wrapper: Wrapper, in_class: bool):
    if isinstance(raw, staticmethod):
        return staticmethod(_wrap_function(raw.__func__, wrapper))
    if isinstance(raw, classmethod):
        return classmethod(_wrap_method(raw.__func__, wrapper))
    if callable(raw) and not isinstance(raw, type):
        if not in_class:
            return _wrap_function(raw, wrapper)
        if hasattr(type(raw), "__get__"):  # binds to the instance, as a function does
            return _wrap_method(raw, wrapper)
        # A callable that does not bind (a functools.partial, a builtin) is called without the
        # instance: keep it that way, since the wrapper function alone would bind.
        return staticmethod(_wrap_function(raw, wrapper))
    # A descriptor that holds its function in `fn` (scikit-learn's available_if): keep the
    # descriptor, so `hasattr(model, "predict_proba")` answers exactly as before, and wrap its fn.
    inner = getattr(raw, "fn", None)
    if in_class and callable(inner) and hasattr(raw, "__get__"):
        clone = copy.copy(raw)
        clone.fn = _wrap_method(inner, wrapper)
        return clone
    return None


def _wrap_method(original, wrapper: Wrapper):
    @hide_from_tracebacks
    @_looking_like(original)
    def patched(self, *args, **kwargs):
        try:
            return wrapper(MethodType(original, self), self, args, kwargs)
        except BaseException as exc:
            _hide_wrapper_frames(exc)
            raise

    setattr(patched, _ORIGINAL, original)
    return patched


def _wrap_function(original, wrapper: Wrapper):
    @hide_from_tracebacks
    @_looking_like(original)
    def patched(*args, **kwargs):
        try:
            return wrapper(original, None, args, kwargs)
        except BaseException as exc:
            _hide_wrapper_frames(exc)
            raise

    setattr(patched, _ORIGINAL, original)
    return patched


def _looking_like(original):
    """functools.wraps, but `__wrapped__` is the original's own when it has one (scikit-learn's
    `fit` is already a wrapper): `Cls.fit.__wrapped__` is the same function as without autotrack."""

    def decorate(patched):
        functools.update_wrapper(patched, original)
        inner = getattr(original, "__wrapped__", None)
        if inner is not None:
            patched.__wrapped__ = inner
        return patched

    return decorate


def hide_from_tracebacks(function):
    """Register a wrapper function whose frames a traceback through it should not show."""
    _WRAPPER_CODES.add(function.__code__)
    return function


def _hide_wrapper_frames(exc: BaseException) -> None:
    """Drop the wrappers' own entries from the head of the exception's traceback, so a traceback
    through a tracked call reads as it would without autotrack. (A bare `raise` re-raises with the
    exception's `__traceback__` as it is and adds no entry for the re-raising frame.)"""
    traceback = exc.__traceback__
    while traceback is not None and traceback.tb_frame.f_code in _WRAPPER_CODES:
        traceback = traceback.tb_next
    exc.__traceback__ = traceback


class _NotifyingLoader:
    """Delegates to the real loader and reports the module once it has executed."""

    def __init__(self, loader, on_loaded: Callable[[ModuleType], None]):
        self._loader, self._on_loaded = loader, on_loaded

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        # The module should look exactly as it would without autotrack.
        module.__loader__ = self._loader
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        self._on_loaded(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class PostImportHooks:
    """A meta-path finder that runs callbacks after watched modules are imported.

    Callbacks for modules already imported run at once, so `enable()` before or after
    `import sklearn` gives the same result.
    """

    def __init__(self):
        self._exact: dict[str, list[Callable]] = {}
        self._trees: dict[str, list[Callable]] = {}  # top-level name -> callbacks for it and submodules
        self._busy: set[str] = set()
        self._lock = threading.RLock()
        if hasattr(os, "register_at_fork"):  # a lock held by another thread at fork() stays held
            os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        self._lock = threading.RLock()
        self._busy = set()

    def when_imported(self, name: str, callback: Callable[[ModuleType], None], submodules=False):
        with self._lock:
            if submodules:
                self._trees.setdefault(name, []).append(callback)
            else:
                self._exact.setdefault(name, []).append(callback)
            already = [
                module
                for module_name, module in list(sys.modules.items())
                if module is not None
                and (module_name == name or (submodules and module_name.startswith(name + ".")))
            ]
        for module in already:
            self._call(callback, module)

    def install(self) -> None:
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        while self in sys.meta_path:
            sys.meta_path.remove(self)
        with self._lock:
            self._exact.clear()
            self._trees.clear()

    def _watched(self, fullname: str) -> bool:
        return fullname in self._exact or fullname.partition(".")[0] in self._trees

    def find_spec(self, fullname, path=None, target=None):
        if not self._watched(fullname) or fullname in self._busy:
            return None
        self._busy.add(fullname)
        try:
            spec = None
            for finder in list(sys.meta_path):
                find = getattr(finder, "find_spec", None)
                if finder is self or find is None:
                    continue
                spec = find(fullname, path, target)
                if spec is not None:
                    break
        finally:
            self._busy.discard(fullname)
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _NotifyingLoader(spec.loader, self._loaded)
        return spec

    def _loaded(self, module: ModuleType) -> None:
        name = module.__name__
        with self._lock:
            callbacks = list(self._exact.get(name, ())) + list(self._trees.get(name.partition(".")[0], ()))
        for callback in callbacks:
            self._call(callback, module)

    @staticmethod
    def _call(callback, module):
        # A failing hook must never break the user's `import`.
        with guard(f"patching {module.__name__}"):
            callback(module)


__all__ = ["Patch", "PostImportHooks", "patch_attribute", "is_patched", "watch_subclasses", "all_subclasses"]
