"""patch_attribute/restore on every kind of attribute, and post-import hooks."""

from __future__ import annotations

import functools
import inspect
import logging
import sys
import types

import pytest

from autotrack import safety
from autotrack.patching import PostImportHooks, is_patched, patch_attribute


def recording_wrapper(calls: list):
    """A wrapper that records (instance, args, kwargs) and calls through."""

    def wrapper(wrapped, instance, args, kwargs):
        calls.append((instance, args, kwargs))
        return wrapped(*args, **kwargs)

    return wrapper


@pytest.fixture
def lenient():
    """Non-strict mode (tracking errors logged and swallowed) for one test."""
    previous = safety.is_strict()
    safety.set_strict(False)
    yield
    safety.set_strict(previous)


# -- patch_attribute and restore ------------------------------------------------------------------
def test_module_function_is_wrapped_and_restored_to_the_identical_object():
    module = types.ModuleType("fake_framework")

    def train(x, scale=1):
        """Train."""
        return x * scale

    module.train = train
    calls: list = []
    patch = patch_attribute(module, "train", recording_wrapper(calls))

    assert module.train is not train
    assert module.train(2, scale=3) == 6
    assert calls == [(None, (2,), {"scale": 3})]
    assert inspect.signature(module.train) == inspect.signature(train)
    assert module.train.__name__ == "train" and module.train.__doc__ == "Train."
    patch.restore()
    assert module.train is train


def test_method_wrapper_gets_the_bound_original_and_the_instance():
    class Model:
        def fit(self, X, y=None):
            self.seen = (X, y)
            return self

    original = Model.__dict__["fit"]
    calls: list = []
    patch = patch_attribute(Model, "fit", recording_wrapper(calls))
    model = Model()

    assert model.fit(1, y=2) is model
    assert model.seen == (1, 2)
    assert calls == [(model, (1,), {"y": 2})]
    assert inspect.signature(Model.fit) == inspect.signature(original)
    patch.restore()
    assert Model.__dict__["fit"] is original


def test_staticmethod_stays_static():
    class Model:
        @staticmethod
        def load(path):
            return f"loaded {path}"

    original = Model.__dict__["load"]
    calls: list = []
    patch = patch_attribute(Model, "load", recording_wrapper(calls))

    assert isinstance(Model.__dict__["load"], staticmethod)
    assert Model.load("a") == "loaded a"
    assert Model().load("b") == "loaded b"
    assert calls == [(None, ("a",), {}), (None, ("b",), {})]
    patch.restore()
    assert Model.__dict__["load"] is original


def test_classmethod_wrapper_gets_the_class_as_instance():
    class Model:
        @classmethod
        def create(cls, size):
            return cls, size

    class Bigger(Model):
        pass

    original = Model.__dict__["create"]
    calls: list = []
    patch = patch_attribute(Model, "create", recording_wrapper(calls))

    assert isinstance(Model.__dict__["create"], classmethod)
    assert Model.create(1) == (Model, 1)
    assert Bigger.create(2) == (Bigger, 2)
    assert calls == [(Model, (1,), {}), (Bigger, (2,), {})]
    patch.restore()
    assert Model.__dict__["create"] is original


class _AvailableIf:
    """The shape of scikit-learn's available_if: a descriptor holding the function in `fn` that
    raises AttributeError when `check(instance)` is false, so hasattr() answers False."""

    def __init__(self, fn, check):
        self.fn, self.check = fn, check
        functools.update_wrapper(self, fn)

    def __get__(self, obj, owner=None):
        if obj is None:
            return self.fn
        if not self.check(obj):
            raise AttributeError(f"{self.fn.__name__} is not available")
        return types.MethodType(self.fn, obj)


def test_available_if_style_descriptor_keeps_hasattr_and_wraps_the_function():
    class Model:
        def __init__(self, probability):
            self.probability = probability

        def _proba(self, X):
            return [x / 10 for x in X]

        predict_proba = _AvailableIf(_proba, lambda self: self.probability)

    original = Model.__dict__["predict_proba"]
    calls: list = []
    patch = patch_attribute(Model, "predict_proba", recording_wrapper(calls))

    assert not hasattr(Model(probability=False), "predict_proba")
    model = Model(probability=True)
    assert model.predict_proba([1, 2]) == [0.1, 0.2]
    assert calls == [(model, ([1, 2],), {})]
    assert is_patched(Model.__dict__["predict_proba"])
    patch.restore()
    assert Model.__dict__["predict_proba"] is original


def test_real_scikit_learn_available_if_is_wrapped_without_changing_hasattr():
    pytest.importorskip("sklearn")
    from sklearn.utils.metaestimators import available_if

    class Model:
        def __init__(self, probability):
            self.probability = probability

        @available_if(lambda self: self.probability)
        def predict_proba(self, X):
            """Probabilities."""
            return X

    original = Model.__dict__["predict_proba"]
    calls: list = []
    patch = patch_attribute(Model, "predict_proba", recording_wrapper(calls))
    try:
        assert not hasattr(Model(False), "predict_proba")
        assert Model(True).predict_proba(5) == 5
        assert len(calls) == 1
        assert inspect.signature(Model.predict_proba) == inspect.signature(original.fn)
    finally:
        patch.restore()
    assert Model.__dict__["predict_proba"] is original


def test_callable_that_does_not_bind_is_still_called_without_the_instance():
    def scale(x, factor):
        return x * factor

    class Model:
        double = functools.partial(scale, factor=2)

    calls: list = []
    patch = patch_attribute(Model, "double", recording_wrapper(calls))
    assert Model().double(4) == 8  # not Model().double(self, 4)
    assert Model.double(5) == 10
    assert len(calls) == 2
    patch.restore()


def test_exceptions_from_the_original_reach_the_caller_unchanged():
    error = ValueError("bad input")

    class Model:
        def fit(self):
            raise error

    patch = patch_attribute(Model, "fit", recording_wrapper([]))
    with pytest.raises(ValueError) as caught:
        Model().fit()
    assert caught.value is error
    patch.restore()


def test_patching_twice_or_a_missing_attribute_does_nothing():
    class Model:
        def fit(self):
            return "fitted"

    first = patch_attribute(Model, "fit", recording_wrapper([]))
    assert patch_attribute(Model, "fit", recording_wrapper([])) is None
    assert patch_attribute(Model, "does_not_exist", recording_wrapper([])) is None
    first.restore()
    assert Model().fit() == "fitted"


def test_inherited_attribute_is_patched_only_where_it_is_defined():
    class Base:
        def score(self):
            return 1

    class Child(Base):
        pass

    assert patch_attribute(Child, "score", recording_wrapper([])) is None
    assert "score" not in Child.__dict__


def test_restore_after_someone_else_patched_over_us_leaves_their_patch():
    class Model:
        def fit(self):
            return "original"

    original = Model.__dict__["fit"]
    ours = patch_attribute(Model, "fit", recording_wrapper([]))
    mine = Model.__dict__["fit"]

    def theirs(self):
        return "theirs: " + mine(self)

    Model.fit = theirs
    ours.restore()
    assert Model.__dict__["fit"] is theirs
    assert Model().fit() == "theirs: original"
    # Once they restore their own patch, ours is what they put back; restoring it now works.
    Model.fit = mine
    ours.restore()
    assert Model.__dict__["fit"] is original


# -- post-import hooks ----------------------------------------------------------------------------
@pytest.fixture
def fresh_package(tmp_path, monkeypatch):
    """A package `name` with a submodule `name.sub`, importable from tmp_path, never imported yet."""
    counter = {"n": 0}

    def make() -> str:
        counter["n"] += 1
        name = f"autotrack_hook_probe_{counter['n']}_{id(tmp_path)}"
        package = tmp_path / name
        package.mkdir()
        (package / "__init__.py").write_text("VALUE = 1\n")
        (package / "sub.py").write_text("VALUE = 2\n")
        return name

    monkeypatch.syspath_prepend(str(tmp_path))
    created: list = []
    yield lambda: created.append(make()) or created[-1]
    for name in created:
        for module_name in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module_name]


@pytest.fixture
def hooks():
    installed = PostImportHooks()
    installed.install()
    yield installed
    installed.uninstall()
    assert installed not in sys.meta_path


def test_hook_fires_once_when_a_watched_module_is_imported_later(hooks, fresh_package):
    name = fresh_package()
    seen: list = []
    hooks.when_imported(name, seen.append)
    assert seen == []

    module = __import__(name)
    assert seen == [module]
    assert module.VALUE == 1
    # The module looks as it would without the hook.
    assert type(module.__loader__).__name__ != "_NotifyingLoader"
    assert type(module.__spec__.loader).__name__ != "_NotifyingLoader"
    __import__(name)
    assert seen == [module]


def test_hook_fires_at_once_for_a_module_already_imported(hooks, fresh_package):
    name = fresh_package()
    module = __import__(name)
    seen: list = []
    hooks.when_imported(name, seen.append)
    assert seen == [module]


def test_submodule_hooks_fire_for_the_package_and_each_submodule(hooks, fresh_package):
    name = fresh_package()
    seen: list = []
    hooks.when_imported(name, lambda module: seen.append(module.__name__), submodules=True)
    __import__(f"{name}.sub")
    assert seen == [name, f"{name}.sub"]


def test_failing_callback_never_breaks_the_import_in_non_strict_mode(
        hooks, fresh_package, lenient, caplog):
    name = fresh_package()

    def broken(module):
        raise RuntimeError("integration bug")

    hooks.when_imported(name, broken)
    with caplog.at_level(logging.WARNING, logger="autotrack"):
        module = __import__(name)
    assert module.VALUE == 1
    assert name in sys.modules
    assert "integration bug" in caplog.text


def test_failing_callback_for_an_imported_module_is_swallowed_in_non_strict_mode(
        hooks, fresh_package, lenient):
    name = fresh_package()
    __import__(name)
    hooks.when_imported(name, lambda module: 1 / 0)  # does not raise


def test_failing_callback_raises_in_strict_mode(hooks, fresh_package):
    assert safety.is_strict()  # the suite runs with AUTOTRACK_STRICT=1
    name = fresh_package()
    hooks.when_imported(name, lambda module: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        __import__(name)


def test_uninstalled_hooks_no_longer_fire(fresh_package):
    name = fresh_package()
    installed = PostImportHooks()
    installed.install()
    seen: list = []
    installed.when_imported(name, seen.append)
    installed.uninstall()
    __import__(name)
    assert seen == []


def test_watch_subclasses_sees_new_subclasses_and_restore_removes_the_hook():
    from autotrack.patching import all_subclasses, watch_subclasses

    class Root:
        pass

    class Existing(Root):
        pass

    seen = []
    patch = watch_subclasses(Root, seen.append)

    class Later(Root):
        pass

    class Deeper(Later):
        pass

    assert seen == [Later, Deeper]
    assert set(all_subclasses(Root)) == {Existing, Later, Deeper}
    patch.restore()
    assert "__init_subclass__" not in Root.__dict__

    class AfterRestore(Root):
        pass

    assert AfterRestore not in seen


def test_watch_subclasses_chains_to_the_root_s_own_hook():
    from autotrack.patching import watch_subclasses

    class Root:
        registered = []

        def __init_subclass__(cls, label=None, **kwargs):
            super().__init_subclass__(**kwargs)
            Root.registered.append((cls.__name__, label))

    original = Root.__dict__["__init_subclass__"]
    seen = []
    patch = watch_subclasses(Root, seen.append)

    class Child(Root, label="x"):
        pass

    assert Root.registered == [("Child", "x")] and seen == [Child]
    patch.restore()
    assert Root.__dict__["__init_subclass__"] is original
