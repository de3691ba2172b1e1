"""Settings: enable(**kwargs) > AUTOTRACK_* environment > [tool.autotrack] / autotrack.toml > defaults."""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("autotrack")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Settings:
    """Every setting autotrack reads, with its default. Each field is also `AUTOTRACK_<NAME>`."""

    dir: str = ".autotrack"  # the local store: SQLite database and artifacts
    experiment: str | None = None  # default: the script's file stem
    log_models: bool = True  # save each fitted model as an artifact
    training_metrics: bool = True  # compute training metrics after fit (off the training thread)
    metrics_sample_rows: int = 10_000  # training metrics use an evenly spaced sample of at most this
    max_predict_datasets: int = 5  # distinct predict/score inputs described per run and method
    strict: bool = False  # raise tracking errors instead of logging them (tests)
    disable: tuple[str, ...] = ()  # plugin names to switch off, "*" for all
    exit_timeout: float = 10.0  # seconds the interpreter may wait at exit for queued records
    git_diff_max_bytes: int = 1_000_000  # larger uncommitted diffs are cut
    max_artifact_mb: float = 1024.0  # larger model artifacts are skipped with a warning
    plugin_autoload: bool = True  # load third-party plugins from the `autotrack` entry points

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **changes)


FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
ENV_PREFIX = "AUTOTRACK_"
# Environment variables that belong to autotrack but are not settings of the model above.
ENV_SWITCH = "AUTOTRACK"  # AUTOTRACK=1 turns tracking on at interpreter start-up
ENV_PARENT_RUN = "AUTOTRACK_PARENT_RUN"  # set for child processes started inside a tracked call
_NOT_SETTINGS = {ENV_PARENT_RUN}


class SettingsError(ValueError):
    """A setting has a value autotrack cannot use; the message says which and where."""


def load_settings(overrides: dict | None = None, environ=None, cwd: str | None = None) -> Settings:
    """Resolve settings from every source, highest precedence last applied."""
    environ = os.environ if environ is None else environ
    values: dict = {}
    file_values, source = _read_file_settings(Path(cwd or os.getcwd()))
    values.update(_coerce_all(file_values, source, lenient=True))
    env_values = {
        key[len(ENV_PREFIX):].lower(): value
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX) and key not in _NOT_SETTINGS
    }
    values.update(_coerce_all(env_values, "environment (AUTOTRACK_*)", lenient=True))
    # enable(**kwargs) is code the user wrote: a wrong name or value there is an error at the call.
    values.update(_coerce_all(overrides or {}, "enable()", lenient=False))
    settings = Settings(**values)
    if settings.experiment is None:
        settings = settings.replace(experiment=default_experiment_name())
    return settings


def default_experiment_name(argv: list[str] | None = None) -> str:
    """The script's file stem (`train.py` -> `train`), or the module of `python -m`, else `default`."""
    argv = sys.argv if argv is None else argv
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name and spec.name != "__main__":
        return spec.name.removesuffix(".__main__")
    script = argv[0] if argv else ""
    if script and script not in ("-c", "-m", "-") and not script.startswith("-"):
        stem = Path(script).stem
        if stem and stem not in ("ipykernel_launcher", "pytest", "python"):
            return stem
    return "default"


def truthy(value: str) -> bool | None:
    """Parse an on/off word as people write them; None when it is neither."""
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _read_file_settings(start: Path) -> tuple[dict, str]:
    """[tool.autotrack] of the nearest pyproject.toml, or the nearest autotrack.toml."""
    for folder in (start, *start.parents):
        for name, table in (("autotrack.toml", None), ("pyproject.toml", ("tool", "autotrack"))):
            path = folder / name
            if not path.is_file():
                continue
            data = _parse_toml(path)
            for key in table or ():
                data = data.get(key, {}) if isinstance(data, dict) else {}
            if table is None or data:
                return (data if isinstance(data, dict) else {}), str(path)
    return {}, ""


def _parse_toml(path: Path) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except (OSError, ValueError) as exc:
        log.warning("autotrack: ignoring %s: it is not valid TOML (%s)", path, exc)
        return {}


def _coerce_all(raw: dict, source: str, lenient: bool) -> dict:
    result = {}
    for name, value in raw.items():
        key = name.replace("-", "_").lower()
        if key not in FIELDS:
            message = f"unknown autotrack setting {name!r} in {source}; known: {', '.join(FIELDS)}"
            if not lenient:
                raise TypeError(message)
            log.warning("autotrack: %s", message)
            continue
        try:
            result[key] = _coerce(key, value)
        except SettingsError as exc:
            if not lenient:
                raise
            log.warning("autotrack: %s in %s; using the default", exc, source)
    return result


def _coerce(key: str, value):
    """Turn a setting from any source (str from the environment, TOML value, kwarg) into its type."""
    kind = FIELDS[key].type
    if kind == "bool":
        parsed = value if isinstance(value, bool) else truthy(value)
        if parsed is None:
            raise SettingsError(f"setting {key!r} must be on or off (1/0, true/false), not {value!r}")
        return parsed
    if kind in ("int", "float"):
        cast = int if kind == "int" else float
        try:
            number = cast(value)
        except (TypeError, ValueError):
            raise SettingsError(f"setting {key!r} must be a number, not {value!r}") from None
        if number < 0:
            raise SettingsError(f"setting {key!r} must not be negative, not {value!r}")
        return number
    if kind == "tuple[str, ...]":
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(str(item).strip() for item in items if str(item).strip())
    if value is None:
        return None
    return str(value)


__all__ = ["Settings", "SettingsError", "load_settings", "default_experiment_name", "truthy"]
