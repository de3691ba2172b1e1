"""Settings: enable(**kwargs) > AUTOTRACK_* environment > [tool.autotrack] / autotrack.toml > defaults.

This module is on the path of `AUTOTRACK=1` at interpreter start-up, so it imports nothing beyond
`os` and `sys` until a settings file exists or a warning has to be logged.
"""

from __future__ import annotations

import os
import sys

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Field:
    """One setting: its name (also `AUTOTRACK_<NAME>`), its kind, default and meaning."""

    __slots__ = ("name", "kind", "default", "help", "choices")

    def __init__(self, name: str, kind: str, default, help: str, choices: tuple[str, ...] = ()):
        self.name, self.kind, self.default, self.help = name, kind, default, help
        self.choices = choices  # kind "choice": the values accepted

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    def __repr__(self):
        return f"Field({self.name!r}, {self.kind!r}, {self.default!r})"


# kind: bool, int, number (float), text, optional text, names (a comma-separated list), choice.
# docs/settings.md describes each one at length; tests/test_hooks_documented.py keeps them in step.
FIELDS: dict[str, Field] = {field.name: field for field in (
    Field("dir", "text", ".autotrack", "the local store: SQLite database and artifacts"),
    Field("experiment", "optional text", None, "experiment name; default: the script's file stem (a notebook's name in Jupyter)"),
    Field("log_models", "bool", True, "save each fitted model as an artifact"),
    Field("training_metrics", "bool", True, "compute training metrics after fit, off the training thread"),
    Field("metrics_sample_rows", "int", 10_000, "training metrics use an evenly spaced sample of this many rows"),
    Field("max_predict_datasets", "int", 5, "distinct predict/score inputs described per run and method"),
    Field("runs_for", "choice", "models", "what a standalone fit is recorded as: `models` (a "
          "transformer fitted on its own is a preprocessing record, folded into the model fitted on its "
          "output) or `all` (every fit a run of its own)", choices=("models", "all")),
    Field("strict", "bool", False, "raise tracking errors instead of logging them (tests)"),
    Field("disable", "names", (), "plugin names to switch off, `*` for all"),
    Field("exit_timeout", "number", 10.0, "seconds the interpreter may wait at exit for queued records"),
    Field("git_diff", "choice", "redacted", "the uncommitted diff kept with each run: `redacted` (lines "
          "with credentials masked: `password = ***`, URL credentials, known token formats), `verbatim`, "
          "or `off` (not kept)", choices=("redacted", "verbatim", "off")),
    Field("git_diff_max_bytes", "int", 1_000_000, "larger uncommitted diffs are cut"),
    Field("source_snapshot", "choice", "redacted", "the script and the user's own modules kept with each "
          "run for `autotrack reproduce`: `redacted` (credentials masked, as in the git diff), "
          "`verbatim`, or `off`", choices=("redacted", "verbatim", "off")),
    Field("max_artifact_mb", "number", 1024.0, "larger model artifacts are skipped with a warning"),
    Field("plugin_autoload", "bool", True, "load third-party plugins from the `autotrack` entry points"),
    Field("backends", "names", ("local",), "where runs go: the local store (always), and backends "
          "they are exported to from it, e.g. `local,mlflow`"),
    Field("mlflow_tracking_uri", "optional text", None, "the MLflow backend's server; default: "
          "MLFLOW_TRACKING_URI"),
    Field("notify_url", "optional text", None, "incoming-webhook URL (Slack, Teams) that alerts are "
          "POSTed to"),
    Field("notify_on", "names", ("run_failed", "run_killed", "metric_not_finite", "script_failed",
                                 "serving_drift", "serving_realised"),
          "the alert events that fire"),
    Field("notify_metrics", "names", ("*",), "metric keys (fnmatch patterns) watched for NaN/inf"),
    Field("serving", "choice", "loaded", "which models' predict calls make serving records: `loaded` "
          "(models this process did not fit: loaded from a file), `all` (fitted here too), or `off`",
          choices=("loaded", "all", "off")),
    Field("serving_window_s", "number", 60.0, "a serving window closes after this many seconds..."),
    Field("serving_window_rows", "int", 100_000, "...or this many rows predicted, whichever comes first"),
    Field("serving_sample_rows", "int", 0, "input rows (with their prediction) sampled uniformly per "
          "serving window and stored, redacted; 0: none"),
    Field("serving_id_column", "optional text", None, "the column (or DataFrame index name) that "
          "identifies a served row: predictions are kept by it for `autotrack.log_labels`"),
    Field("drift_alpha", "number", 0.01, "drift tests' significance, shared by the features compared "
          "(Bonferroni)"),
    Field("drift_min_effect", "number", 0.1, "the smallest change flagged as drift: normalised "
          "Wasserstein distance (numbers) or Jensen-Shannon distance (categories)"),
    Field("shadow", "names", (), "registered models that predict in shadow of their name's champion on the "
          "served traffic (`churn@challenger`): recorded and compared, never returned"),
    Field("realised_alerts", "names", (), "conditions on a served model's realised metrics that raise "
          "a `serving_realised` alert, e.g. `accuracy<0.8,rmse>12,score.*<0.7`"),
    Field("metric_goals", "goals", (), "the goal of metrics autotrack cannot know: `name=max`, "
          "`pattern*=min` or `=none`, e.g. `my_score=max,cost_*=min`"),
)}

ENV_PREFIX = "AUTOTRACK_"
# Environment variables that belong to autotrack but are not settings of the model above.
ENV_SWITCH = "AUTOTRACK"  # AUTOTRACK=1 turns tracking on at interpreter start-up
ENV_RUN_CONTEXT = "AUTOTRACK_RUN_CONTEXT"  # the open run, for child processes (run_context.py)
ENV_LOG = "AUTOTRACK_LOG"  # `debug`: details on stderr (safety.logger), read before any setting
_NOT_SETTINGS = {ENV_RUN_CONTEXT, ENV_LOG}


class Settings:
    """Every setting autotrack reads, resolved; read-only. See FIELDS and docs/settings.md.

    A plain class rather than a dataclass: `dataclasses` pulls in `inspect`, a few milliseconds
    that every `AUTOTRACK=1` start-up would pay.
    """

    __slots__ = tuple(FIELDS)

    dir: str
    experiment: str | None
    log_models: bool
    training_metrics: bool
    metrics_sample_rows: int
    max_predict_datasets: int
    runs_for: str
    strict: bool
    disable: tuple[str, ...]
    exit_timeout: float
    git_diff: str
    git_diff_max_bytes: int
    source_snapshot: str
    max_artifact_mb: float
    plugin_autoload: bool
    notify_url: str | None
    notify_on: tuple[str, ...]
    notify_metrics: tuple[str, ...]
    metric_goals: tuple[tuple[str, str], ...]
    serving: str
    serving_window_s: float
    serving_window_rows: int
    serving_sample_rows: int
    serving_id_column: str | None
    drift_alpha: float
    drift_min_effect: float
    shadow: tuple[str, ...]
    realised_alerts: tuple[str, ...]

    def __init__(self, **values):
        unknown = set(values) - set(FIELDS)
        if unknown:
            raise TypeError(unknown_setting_message(sorted(unknown)[0], "Settings()"))
        for name, field in FIELDS.items():
            object.__setattr__(self, name, values.get(name, field.default))

    def __setattr__(self, name, value):
        raise AttributeError("Settings are read-only; use settings.replace(name=value)")

    def replace(self, **changes) -> Settings:
        return Settings(**{**self.as_dict(), **changes})

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in FIELDS}

    def __eq__(self, other):
        return isinstance(other, Settings) and self.as_dict() == other.as_dict()

    def __hash__(self):
        return hash(tuple(self.as_dict().items()))

    def __reduce__(self):  # pickle and copy: __setattr__ refuses the default way back in
        return _settings_from, (self.as_dict(),)

    def __repr__(self):
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items()) + ")"


def _settings_from(values: dict) -> Settings:
    return Settings(**values)


class SettingsError(ValueError):
    """A setting has a value autotrack cannot use; the message says which and where."""


def load_settings(overrides: dict | None = None, environ=None, cwd: str | None = None) -> Settings:
    """Resolve settings from every source; a later source overrides an earlier one.

    Bad values in files and the environment are logged and ignored (the next source down, or the
    default, applies): a typo in a config file must never stop training. A bad keyword to
    `enable()` is code the user wrote, so it raises there (TypeError for an unknown name).
    """
    environ = os.environ if environ is None else environ
    values: dict = {}
    path, file_values = find_settings_file(cwd or os.getcwd())
    for name, value in file_values.items():
        _take(values, name, value, f"{path}", f"{name} in {path}")
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX) and key not in _NOT_SETTINGS and value.strip() != "":
            # An empty variable counts as unset, as it does for most tools (`AUTOTRACK_DIR= cmd`).
            _take(values, key[len(ENV_PREFIX):], value, "the environment", key)
    for name, value in (overrides or {}).items():
        key = _normal(name)
        if key not in FIELDS:
            raise TypeError(unknown_setting_message(name, "enable()"))
        values[key] = coerce(key, value, f"enable({name}=...)")
    return Settings(**values)


def _take(values: dict, name: str, value, source: str, label: str) -> None:
    """Coerce one value from a file or the environment into `values`, or warn and skip it."""
    key = _normal(name)
    if key not in FIELDS:
        _warn("%s; ignored", unknown_setting_message(label if label.startswith(ENV_PREFIX) else name, source))
        return
    try:
        values[key] = coerce(key, value, label)
    except SettingsError as exc:
        _warn("%s; ignored", exc)


def _normal(name: str) -> str:
    return str(name).strip().replace("-", "_").lower()


def unknown_setting_message(name: str, source: str) -> str:
    """Says which settings exist, and the likely one meant (AUTOTRACK_DISABLED -> AUTOTRACK_DISABLE)."""
    import difflib

    as_env = name.startswith(ENV_PREFIX)
    key = _normal(name[len(ENV_PREFIX):] if as_env else name)
    close = difflib.get_close_matches(key, list(FIELDS), n=1)
    known = [FIELDS[k].env if as_env else k for k in FIELDS]
    hint = ""
    if close:
        hint = f" (did you mean {FIELDS[close[0]].env if as_env else repr(close[0])}?)"
    shown = name if as_env else repr(name)
    return f"unknown autotrack setting {shown} in {source}{hint}; known settings: {', '.join(known)}"


def coerce(key: str, value, label: str):
    """Turn a value from any source (text from the environment, a TOML value, a keyword) into the
    setting's type; SettingsError names `label` (where it came from) and says what is accepted."""
    kind = FIELDS[key].kind
    if kind == "bool":
        parsed = truthy(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else value
        if not isinstance(parsed, bool) or (isinstance(value, str) and not value.strip()):
            raise SettingsError(f"{label}={value!r} is not on or off (use 1/0, true/false, yes/no, on/off)")
        return parsed
    if kind in ("int", "number"):
        return _number(value, kind, label)
    if kind == "goals":
        return _goals(value, label)
    if kind == "choice":
        choices = FIELDS[key].choices
        if not isinstance(value, str) or value.strip().lower() not in choices:
            raise SettingsError(f"{label}={value!r} is not one of {', '.join(choices)}")
        return value.strip().lower()
    if kind == "names":
        if isinstance(value, str):
            items = value.split(",")
        elif isinstance(value, (list, tuple)):
            items = value
        else:
            raise SettingsError(f"{label}={value!r} is not a list of names (use \"a,b\" or [\"a\", \"b\"])")
        return tuple(str(item).strip() for item in items if str(item).strip())
    if value is None or not str(value).strip():
        if kind == "optional text":
            return None
        raise SettingsError(f"{label} must not be empty")
    if not isinstance(value, (str, os.PathLike)):
        raise SettingsError(f"{label}={value!r} is not text")
    return os.fspath(value)


def _number(value, kind: str, label: str):
    want = "a whole number" if kind == "int" else "a number"
    if isinstance(value, bool):  # True is an int to Python, never a count to a person
        raise SettingsError(f"{label}={value!r} is not {want}")
    try:
        number = float(value) if kind == "number" else _whole(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{label}={value!r} is not {want}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise SettingsError(f"{label}={value!r} is not a finite number")
    if number < 0:
        raise SettingsError(f"{label}={value!r} must not be negative")
    return number


def _goals(value, label: str) -> tuple[tuple[str, str], ...]:
    """{"my_score": "max"} (a TOML table, a keyword) or "my_score=max,cost_*=min" (the environment)
    as ((pattern, goal), ...): a tuple, so that Settings stay hashable."""
    from autotrack.metric_goals import parse_goal

    if isinstance(value, str):
        pairs = []
        for item in value.split(","):
            if item.strip():
                name, equals, goal = item.partition("=")
                if not equals or not name.strip():
                    raise SettingsError(f"{label}={value!r}: {item.strip()!r} is not name=max, name=min or name=none")
                pairs.append((name.strip(), goal.strip()))
    elif isinstance(value, dict):
        pairs = [(str(name), goal) for name, goal in value.items()]
    elif isinstance(value, (list, tuple)) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value):
        pairs = [(str(name), goal) for name, goal in value]
    else:
        raise SettingsError(f"{label}={value!r} is not a table of metric goals (e.g. {{my_score = \"max\"}})")
    try:
        return tuple((name, parse_goal(goal)) for name, goal in pairs)
    except ValueError as exc:
        raise SettingsError(f"{label}: {exc}") from None


def _whole(value) -> int:
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        return int(value)
    return int(str(value).strip().replace("_", ""))


def truthy(value) -> bool | None:
    """Parse an on/off word as people write them; None when it is neither."""
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def find_settings_file(start: str) -> tuple[str, dict]:
    """(path, table) of the nearest autotrack.toml, or of the nearest pyproject.toml that has a
    [tool.autotrack] table, searching upward from `start`; ("", {}) when there is none.

    A pyproject.toml without the table does not stop the search (a monorepo's sub-project may
    leave autotrack to the top level); an autotrack.toml, even a broken one, does.
    """
    folder = os.path.abspath(start)
    while True:
        mine = os.path.join(folder, "autotrack.toml")
        if os.path.isfile(mine):
            return mine, _table(_parse_toml(mine), (), mine)
        project = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(project):
            data = _parse_toml(project)
            if isinstance(data.get("tool"), dict) and "autotrack" in data["tool"]:
                return project, _table(data, ("tool", "autotrack"), project)
        parent = os.path.dirname(folder)
        if parent == folder:
            return "", {}
        folder = parent


def _table(data: dict, keys: tuple, path: str) -> dict:
    for key in keys:
        data = data.get(key, {})
    if not isinstance(data, dict):
        _warn("ignoring [%s] in %s: it is not a table", ".".join(keys), path)
        return {}
    return data


def _parse_toml(path: str) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except (OSError, ValueError) as exc:  # TOMLDecodeError is a ValueError
        _warn("ignoring %s: it is not valid TOML (%s)", path, exc)
        return {}


def _warn(message: str, *args) -> None:
    import logging  # here, not at the top: it costs milliseconds at every start-up

    logging.getLogger("autotrack").warning("autotrack: " + message, *args)


_program_experiment: str | None = None  # the default outside a notebook: the same all process long


def experiment_name(settings: Settings) -> str:
    """The experiment a new run goes to: the setting, else the program's name. A script's is
    read once (each run would pay ~5 µs); a notebook's kernel knows its notebook only once it
    runs cells, so there it is read for every run."""
    global _program_experiment
    if settings.experiment:
        return settings.experiment
    from autotrack.capture.notebook import kernel_shell

    if kernel_shell() is not None:
        return default_experiment_name()
    if _program_experiment is None:
        _program_experiment = default_experiment_name()
    return _program_experiment


def default_experiment_name(argv: list[str] | None = None, orig_argv: list[str] | None = None) -> str:
    """The script's file stem (`train.py` -> `train`), or the module of `python -m`, or the
    notebook's name in a Jupyter kernel, else `default`.

    At interpreter start-up (the .pth hook) `sys.argv` is still `['-m', ...]` for `python -m pkg`
    and `__main__` is not set up yet, so the interpreter's own command line, `sys.orig_argv`, is
    read as well.
    """
    if argv is None and orig_argv is None:
        from autotrack.capture.notebook import notebook_path

        notebook = notebook_path()
        if notebook:
            return _usable(_stem(notebook)) or "default"
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if argv is None and spec is not None and spec.name and spec.name != "__main__":
        return _usable(spec.name.removesuffix(".__main__")) or "default"
    if orig_argv is None and argv is None:
        orig_argv = getattr(sys, "orig_argv", None)
    if orig_argv:
        kind, value = _program(orig_argv[1:])
        if kind == "module":
            return _usable(value.removesuffix(".__main__")) or "default"
        if kind == "script":
            return _usable(_stem(value)) or "default"
        if kind in ("code", "stdin"):
            # `python -c` and `python -` have no name of their own; argv may have been set since.
            argv = sys.argv if argv is None else argv
    argv = sys.argv if argv is None else argv
    script = argv[0] if argv else ""
    if script and script not in ("-c", "-m", "-") and not script.startswith("-"):
        return _usable(_stem(script)) or "default"
    return "default"


def _program(args: list[str]) -> tuple[str, str]:
    """What the interpreter's options say it runs: ("module", name), ("script", path),
    ("code", ""), ("stdin", "") or ("", "")."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--check-hash-based-pycs":
            index += 2
            continue
        if arg == "-" or not arg.startswith("-"):
            return ("stdin", "") if arg == "-" else ("script", arg)
        if arg.startswith("--"):
            index += 1
            continue
        for position, flag in enumerate(arg[1:], start=1):  # a cluster like -uBm
            if flag in "cmWX":
                rest = arg[position + 1:]
                value = rest or (args[index + 1] if index + 1 < len(args) else "")
                index += 1 if rest else 2
                if flag == "m":
                    return "module", value
                if flag == "c":
                    return "code", ""
                break
        else:
            index += 1
    return "", ""


def _stem(path: str) -> str:
    name = os.path.basename(path.rstrip("/\\"))
    return name.rsplit(".", 1)[0] if "." in name.strip(".") else name


def _usable(name: str) -> str:
    """Names that describe a launcher rather than the user's program do not make experiments."""
    return "" if name in ("", "ipykernel_launcher", "pytest", "python", "__main__") else name


__all__ = ["Settings", "SettingsError", "Field", "FIELDS", "load_settings", "default_experiment_name", "experiment_name",
           "find_settings_file", "truthy", "coerce"]
