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
from autotrack.safety import is_strict

log = logging.getLogger("autotrack")

ENTRY_POINT_GROUP = "autotrack"
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
    stores: list[tuple[str, object]] = field(default_factory=list)


def is_disabled(name: str, settings: Settings) -> bool:
    return "*" in settings.disable or name in settings.disable


def load_plugins(settings: Settings) -> LoadedPlugins:
    """Register the core's own fallbacks, then every entry point of the `autotrack` group."""
    manager = pluggy.PluginManager("autotrack")
    manager.add_hookspecs(hookspecs)
    from autotrack.capture import describe_plugin

    manager.register(describe_plugin, name="core")
    loaded = LoadedPlugins(hook=manager.hook, manager=manager)
    for entry_point in _entry_points():
        info = PluginInfo(entry_point.name, distribution=_distribution_name(entry_point))
        loaded.infos[entry_point.name] = info
        if is_disabled(entry_point.name, settings):
            info.state = DISABLED
            manager.set_blocked(entry_point.name)
            continue
        if not settings.plugin_autoload and info.distribution != "autotrack":
            info.state, info.detail = DISABLED, "plugin_autoload is off"
            continue
        try:
            manager.register(entry_point.load(), name=entry_point.name)
        except Exception as exc:  # a broken third-party plugin must not stop the others
            _broken(loaded, entry_point.name, exc)
    _check_hook_names(loaded)
    _collect_registrations(loaded)
    return loaded


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


def _broken(loaded: LoadedPlugins, name: str, exc: Exception) -> None:
    info = loaded.infos.setdefault(name, PluginInfo(name))
    info.state, info.detail = BROKEN, f"{type(exc).__name__}: {exc}"
    if loaded.manager.has_plugin(name):
        loaded.manager.unregister(name=name)
    if is_strict():
        raise exc
    log.error("autotrack: plugin %r is not loaded: %s", name, info.detail)


def _check_hook_names(loaded: LoadedPlugins) -> None:
    """A hook implementation whose name matches no hookspec (a typo) fails loudly."""
    while True:
        try:
            loaded.manager.check_pending()
            return
        except pluggy.PluginValidationError as exc:
            name = loaded.manager.get_name(exc.plugin) or repr(exc.plugin)
            _broken(loaded, name, exc)


def _collect_registrations(loaded: LoadedPlugins) -> None:
    manager = loaded.manager
    for impl in manager.hook.autotrack_register_integrations.get_hookimpls():
        name = impl.plugin_name
        info = loaded.infos.setdefault(name, PluginInfo(name))
        info.kind = "integration"
        try:
            impl.function(register=lambda integration, info=info: _add_integration(loaded, info, integration))
        except Exception as exc:
            _broken(loaded, name, exc)
    for impl in manager.hook.autotrack_register_stores.get_hookimpls():
        name = impl.plugin_name
        info = loaded.infos.setdefault(name, PluginInfo(name))
        info.kind = "store"
        try:
            impl.function(register=lambda store_name, factory: loaded.stores.append((store_name, factory)))
        except Exception as exc:
            _broken(loaded, name, exc)
    for impl in manager.hook.autotrack_collect_context.get_hookimpls():
        info = loaded.infos.get(impl.plugin_name)
        if info is not None and info.kind == "plugin":
            info.kind = "context"


def _add_integration(loaded: LoadedPlugins, info: PluginInfo, integration: Integration) -> None:
    if not isinstance(integration, Integration):
        raise TypeError(f"register() takes an autotrack.Integration, not {type(integration).__name__}")
    loaded.integrations.append(integration)
    info.state, info.detail = integration_state(integration)


def integration_state(integration: Integration) -> tuple[str, str]:
    """Without importing the framework: is it installed, and is its version supported?"""
    top = integration.modules[0]
    if top.partition(".")[0] not in sys.modules and importlib.util.find_spec(top.partition(".")[0]) is None:
        return NOT_INSTALLED, f"{integration.distribution} is not installed"
    version = framework_version(integration, sys.modules.get(top))
    if version is None:
        return ACTIVE, f"{integration.distribution} (version unknown)"
    if not version_supported(version, integration.supported):
        return UNSUPPORTED, f"{integration.distribution} {version}, supported {integration.supported}"
    return ACTIVE, f"{integration.distribution} {version}"


def framework_version(integration: Integration, module=None) -> str | None:
    """The framework's `__version__` when imported, else its installed distribution's version."""
    top = sys.modules.get(integration.modules[0].partition(".")[0]) if module is None else (
        sys.modules.get(module.__name__.partition(".")[0]))
    version = getattr(top, "__version__", None)
    if isinstance(version, str):
        return version
    from importlib.metadata import PackageNotFoundError, version as dist_version

    try:
        return dist_version(integration.distribution)
    except PackageNotFoundError:
        return None


__all__ = ["hookimpl", "load_plugins", "LoadedPlugins", "PluginInfo", "ENTRY_POINT_GROUP"]
