"""The plugin manager: hookspecs, entry-point loading, the disable list, and each plugin's state."""

from __future__ import annotations

import importlib.util
import logging
import sys
from dataclasses import dataclass, field

import pluggy

from autotrack import hookspecs
from autotrack.config import Settings
from autotrack.integration import Integration, version_supported
from autotrack.safety import is_strict, warn_once

ENTRY_POINT_GROUP = "autotrack"
HOOK_PREFIX = "autotrack_"
BUILTIN_DISTRIBUTION = "autotrack"
hookimpl = pluggy.HookimplMarker("autotrack")

ACTIVE = "active"
DISABLED = "disabled"
NOT_INSTALLED = "framework not installed"
UNSUPPORTED = "version not supported"
BROKEN = "error"


@dataclass
class PluginInfo:
    """One row of `autotrack plugins`."""

    name: str
    kind: str = "plugin"
    state: str = ACTIVE
    detail: str = ""
    distribution: str = ""


@dataclass
class LoadedPlugins:
    hook: object
    manager: pluggy.PluginManager
    infos: dict[str, PluginInfo] = field(default_factory=dict)
    integrations: list[Integration] = field(default_factory=list)
    # (store name, factory) with the built-in stores first: the first store holds the artifacts,
    # and it should be the one `autotrack runs` reads, whatever order sys.path lists packages in.
    stores: list[tuple[str, object]] = field(default_factory=list)
    # (backend name, factory): where runs are exported from the local store (autotrack/export.py).
    backends: list[tuple[str, object]] = field(default_factory=list)


class _PluginManager(pluggy.PluginManager):
    """Takes every `autotrack_*` function of a plugin as a hook implementation, marked or not.

    As pytest does for `pytest_*`: a plugin author who forgets `@hookimpl` on a misspelt hook
    would otherwise get silence, where this way `check_pending` reports the unknown name.
    """

    def parse_hookimpl_opts(self, plugin, name):
        options = super().parse_hookimpl_opts(plugin, name)
        if options is None and name.startswith(HOOK_PREFIX):
            import inspect

            try:
                member = getattr(plugin, name)
            except Exception:  # a property that raises is not a hook
                return None
            if inspect.isroutine(member):
                return {}
        return options


def is_disabled(name: str, settings: Settings) -> bool:
    return "*" in settings.disable or name in settings.disable


def load_plugins(settings: Settings, raise_errors: bool | None = None) -> LoadedPlugins:
    """Register the core's own fallbacks, then every entry point of the `autotrack` group.

    A plugin that fails to load, misspells a hook or registers something invalid gets the state
    `error` and is logged; with `raise_errors` (default: strict mode) the error is raised too.
    `autotrack plugins` passes False, so it can show what is broken instead of failing on it.
    """
    raise_errors = is_strict() if raise_errors is None else raise_errors
    manager = _PluginManager("autotrack")
    manager.add_hookspecs(hookspecs)
    from autotrack.capture import describe_plugin

    manager.register(describe_plugin, name="core")
    loaded = LoadedPlugins(hook=manager.hook, manager=manager)
    for entry_point in _entry_points():
        info = PluginInfo(entry_point.name, distribution=_distribution_name(entry_point))
        loaded.infos[entry_point.name] = info
        if is_disabled(entry_point.name, settings):
            info.state, info.detail = DISABLED, "in the disable list"
            manager.set_blocked(entry_point.name)
            continue
        if not settings.plugin_autoload and info.distribution != BUILTIN_DISTRIBUTION:
            info.state, info.detail = DISABLED, "plugin_autoload is off"
            continue
        try:
            manager.register(entry_point.load(), name=entry_point.name)
        except Exception as exc:  # a broken third-party plugin must not stop the others
            _broken(loaded, entry_point.name, exc, raise_errors)
    _warn_unknown_names(settings.disable, loaded.infos)
    _check_hook_names(loaded, raise_errors)
    _collect_registrations(loaded, raise_errors)
    return loaded


def _warn_unknown_names(disabled, infos: dict) -> None:
    """`disable=sklern` names no plugin: said once, with the likely one, as other settings are."""
    import difflib

    for name in disabled:
        if name != "*" and name not in infos:
            close = difflib.get_close_matches(name, list(infos), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            warn_once(f"disable:{name}", "disable names %r, which is no plugin%s; plugins: %s",
                      name, hint, ", ".join(sorted(infos)))


def _entry_points():
    from importlib.metadata import entry_points

    seen = set()
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name not in seen:  # the same distribution found twice on sys.path
            seen.add(entry_point.name)
            yield entry_point


def _distribution_name(entry_point) -> str:
    dist = getattr(entry_point, "dist", None)
    return getattr(dist, "name", "") or ""


def _broken(loaded: LoadedPlugins, name: str, exc: Exception, raise_errors: bool) -> None:
    info = loaded.infos.setdefault(name, PluginInfo(name))
    info.state, info.detail = BROKEN, f"{type(exc).__name__}: {exc}"
    if loaded.manager.has_plugin(name) and loaded.manager.get_plugin(name) is not None:
        loaded.manager.unregister(name=name)
    logging.getLogger("autotrack").error("autotrack: plugin %r is not loaded: %s", name, info.detail)
    if raise_errors:
        raise exc


def _check_hook_names(loaded: LoadedPlugins, raise_errors: bool) -> None:
    """A hook implementation whose name matches no hookspec (a typo) fails loudly."""
    import difflib

    known = [name for name in vars(hookspecs) if name.startswith(HOOK_PREFIX)]
    for hook_name, caller in list(vars(loaded.manager.hook).items()):
        if hook_name.startswith("_") or caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            close = difflib.get_close_matches(hook_name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            error = pluggy.PluginValidationError(
                impl.plugin, f"unknown hook {hook_name!r}{hint}; the hooks are listed in docs/hooks.md")
            _broken(loaded, impl.plugin_name, error, raise_errors)
    try:
        loaded.manager.check_pending()  # anything the loop above missed, in pluggy's words
    except pluggy.PluginValidationError as exc:
        _broken(loaded, loaded.manager.get_name(exc.plugin) or repr(exc.plugin), exc, raise_errors)


def _collect_registrations(loaded: LoadedPlugins, raise_errors: bool) -> None:
    manager = loaded.manager
    for impl in manager.hook.autotrack_register_integrations.get_hookimpls():
        info = loaded.infos.setdefault(impl.plugin_name, PluginInfo(impl.plugin_name))
        _add_kind(info, "integration")
        try:
            impl.function(register=lambda integration, info=info: _add_integration(loaded, info, integration))
        except Exception as exc:
            _broken(loaded, impl.plugin_name, exc, raise_errors)
    stores: list[tuple[bool, str, object]] = []
    for impl in manager.hook.autotrack_register_stores.get_hookimpls():
        info = loaded.infos.setdefault(impl.plugin_name, PluginInfo(impl.plugin_name))
        _add_kind(info, "store")
        added: list = []
        try:
            impl.function(register=lambda name, factory, info=info, added=added: added.append(
                _checked("store", info, name, factory)))
        except Exception as exc:
            _broken(loaded, impl.plugin_name, exc, raise_errors)
            continue
        builtin = info.distribution == BUILTIN_DISTRIBUTION
        stores.extend((not builtin, name, factory) for name, factory in added)
    # sorted() is stable: within built-ins and within third parties, the entry-point order stays.
    loaded.stores = [(name, factory) for _, name, factory in sorted(stores, key=lambda item: item[0])]
    for impl in manager.hook.autotrack_register_backends.get_hookimpls():
        info = loaded.infos.setdefault(impl.plugin_name, PluginInfo(impl.plugin_name))
        _add_kind(info, "backend")
        try:
            impl.function(register=lambda name, factory, info=info: loaded.backends.append(
                _checked("backend", info, name, factory)))
        except Exception as exc:
            _broken(loaded, impl.plugin_name, exc, raise_errors)
    for kind, caller in (("context", manager.hook.autotrack_collect_context),
                         ("notifier", manager.hook.autotrack_notify)):
        for impl in caller.get_hookimpls():
            info = loaded.infos.get(impl.plugin_name)
            if info is not None:
                _add_kind(info, kind)


def _add_kind(info: PluginInfo, kind: str) -> None:
    """`kind` lists what a plugin provides: "integration", "store", "context", "notifier" or several."""
    kinds = [] if info.kind == "plugin" else info.kind.split(", ")
    if kind not in kinds:
        info.kind = ", ".join([*kinds, kind])


def _checked(kind: str, info: PluginInfo, name, factory) -> tuple[str, object]:
    """A store or backend registration: a name and a factory(settings), noted in the plugin's detail."""
    if not isinstance(name, str) or not name or not callable(factory):
        raise TypeError(f"register() takes a {kind} name and a factory(settings) -> "
                        f"{kind.capitalize()}, not {name!r}, {factory!r}")
    info.detail = ", ".join(filter(None, [info.detail, f"{kind} {name!r}"]))
    missing = missing_requirements(factory)
    if missing:  # a backend whose library is not installed: said as such, never "active"
        info.state = NOT_INSTALLED
        info.detail += f" needs {', '.join(missing)}, which is not installed"
    return name, factory


def missing_requirements(factory) -> list[str]:
    """The modules a store or backend factory declares in `factory.requires` that cannot be imported."""
    return [module for module in getattr(factory, "requires", ()) if not _importable(module)]


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package that fails, a module blocked in sys.modules
        return False


def _add_integration(loaded: LoadedPlugins, info: PluginInfo, integration: Integration) -> None:
    if not isinstance(integration, Integration):
        raise TypeError(f"register() takes an autotrack.Integration, not {type(integration).__name__}")
    loaded.integrations.append(integration)
    state, detail = integration_state(integration)
    if info.detail and info.state in (ACTIVE, NOT_INSTALLED, UNSUPPORTED):
        # A plugin with several integrations (lightning and pytorch_lightning): active when any
        # of them is, with every one's detail.
        detail = f"{info.detail}; {detail}"
        if ACTIVE in (info.state, state):
            state = ACTIVE
    info.state, info.detail = state, detail


def integration_state(integration: Integration) -> tuple[str, str]:
    """Without importing the framework: is it installed, and is its version supported?"""
    top = integration.modules[0].partition(".")[0]
    if top not in sys.modules and not _findable(top):
        return NOT_INSTALLED, f"{integration.distribution} is not installed"
    version = framework_version(integration)
    if version is None:
        return ACTIVE, f"{integration.distribution} (version unknown)"
    if not version_supported(version, integration.supported):
        return UNSUPPORTED, f"{integration.distribution} {version}, supported {integration.supported}"
    return ACTIVE, f"{integration.distribution} {version}"


def _findable(module_name: str) -> bool:
    try:
        return importlib.util.find_spec(module_name) is not None
    except (ImportError, ValueError):  # a broken or half-imported package: not usable either
        return False


def framework_version(integration: Integration, module=None) -> str | None:
    """The framework's `__version__` when imported, else its installed distribution's version."""
    name = module.__name__ if module is not None else integration.modules[0]
    version = getattr(sys.modules.get(name.partition(".")[0]), "__version__", None)
    if isinstance(version, str):
        return version
    from importlib.metadata import PackageNotFoundError, version as dist_version

    try:
        return dist_version(integration.distribution)
    except PackageNotFoundError:
        return None


__all__ = ["hookimpl", "load_plugins", "LoadedPlugins", "PluginInfo", "ENTRY_POINT_GROUP",
           "integration_state", "framework_version", "is_disabled"]
