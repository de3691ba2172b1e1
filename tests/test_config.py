"""Settings precedence: enable(**kwargs) > AUTOTRACK_* > [tool.autotrack] / autotrack.toml > defaults."""

from __future__ import annotations

import logging
import pickle

import pytest

import autotrack
from autotrack.config import FIELDS, Settings, SettingsError, default_experiment_name, load_settings

DEFAULTS = Settings()


def _load(tmp_path, overrides=None, environ=None, cwd=None) -> Settings:
    return load_settings(overrides, environ=environ or {}, cwd=str(cwd or tmp_path))


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "autotrack" and r.levelno == logging.WARNING]


# -- precedence, end to end: what the stored run shows ---------------------------------------------
PYPROJECT = """
[project]
name = "churn"

[tool.autotrack]
experiment = "from-toml"
log_models = false
"""

FIT = """
import autotrack
{enable}
from sklearn.linear_model import LogisticRegression
LogisticRegression().fit([[0.0], [1.0], [0.2], [0.9]], [0, 1, 0, 1])
"""


@pytest.mark.parametrize("source, expected", [
    ("toml", "from-toml"), ("env", "from-env"), ("enable", "from-code"),
])
def test_each_source_overrides_the_ones_below_it(tmp_path, run_script, cli, source, expected):
    pytest.importorskip("sklearn")
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    env = {"AUTOTRACK_EXPERIMENT": "from-env"} if source in ("env", "enable") else {}
    enable = 'autotrack.enable(experiment="from-code")' if source == "enable" else ""
    run_script(FIT.format(enable=enable), env=env)
    (run,) = cli("runs", "--json")
    assert run["experiment"] == expected
    # log_models=false from the file holds whatever the experiment's source: no model artifact.
    assert not [a for a in cli("show", run["id"], "--json")["artifacts"] if a["name"].startswith("model")]


def test_a_bad_environment_value_warns_and_tracking_goes_on(run_script, cli):
    pytest.importorskip("sklearn")
    result = run_script(FIT.format(enable=""), env={"AUTOTRACK_LOG_MODELS": "maybe"})
    assert "AUTOTRACK_LOG_MODELS='maybe'" in result.stderr and "ignored" in result.stderr
    (run,) = cli("runs", "--json")
    artifacts = cli("show", run["id"], "--json")["artifacts"]
    assert [a for a in artifacts if a["name"].startswith("model")]  # the default applies: models on


# -- precedence, setting by setting -------------------------------------------------------------
def test_defaults_without_any_source(tmp_path):
    settings = _load(tmp_path)
    for name, field in FIELDS.items():
        if name != "experiment":
            assert getattr(settings, name) == field.default, name


def test_enable_beats_environment_beats_file(tmp_path):
    (tmp_path / "autotrack.toml").write_text('dir = "file"\nexit_timeout = 1\nlog_models = false\n')
    environ = {"AUTOTRACK_DIR": "env", "AUTOTRACK_EXIT_TIMEOUT": "2"}
    settings = _load(tmp_path, {"dir": "code"}, environ)
    assert (settings.dir, settings.exit_timeout, settings.log_models) == ("code", 2.0, False)


def test_nearest_settings_file_is_found_upward(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.autotrack]\ndir = "top"\n')
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    # A pyproject.toml without [tool.autotrack] on the way up does not stop the search.
    (tmp_path / "a" / "pyproject.toml").write_text('[project]\nname = "sub"\n')
    assert _load(tmp_path, cwd=nested).dir == "top"
    (tmp_path / "a" / "autotrack.toml").write_text('dir = "nearer"\n')
    assert _load(tmp_path, cwd=nested).dir == "nearer"


def test_file_values_take_dashes_lists_and_toml_types(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.autotrack]\nlog-models = "off"\ndisable = ["git", "packages"]\nmetrics_sample_rows = 500\n')
    settings = _load(tmp_path)
    assert settings.log_models is False
    assert settings.disable == ("git", "packages")
    assert settings.metrics_sample_rows == 500


def test_environment_values_are_parsed_as_people_write_them(tmp_path):
    environ = {"AUTOTRACK_LOG_MODELS": "No", "AUTOTRACK_DISABLE": " sklearn , git ,",
               "AUTOTRACK_MAX_ARTIFACT_MB": "0.5", "AUTOTRACK_GIT_DIFF_MAX_BYTES": "10_000",
               "AUTOTRACK_PLUGIN_AUTOLOAD": "0"}
    settings = _load(tmp_path, environ=environ)
    assert settings.log_models is False and settings.plugin_autoload is False
    assert settings.disable == ("sklearn", "git")
    assert (settings.max_artifact_mb, settings.git_diff_max_bytes) == (0.5, 10_000)


def test_an_empty_environment_variable_counts_as_unset(tmp_path):
    (tmp_path / "autotrack.toml").write_text('dir = "file"\n')
    assert _load(tmp_path, environ={"AUTOTRACK_DIR": "", "AUTOTRACK_LOG_MODELS": " "}) == _load(tmp_path)


# -- bad values: a warning and the next source down, never a crash ------------------------------
@pytest.mark.parametrize("variable, value, field", [
    ("AUTOTRACK_LOG_MODELS", "maybe", "log_models"),
    ("AUTOTRACK_EXIT_TIMEOUT", "-1", "exit_timeout"),
    ("AUTOTRACK_METRICS_SAMPLE_ROWS", "1.5", "metrics_sample_rows"),
    ("AUTOTRACK_MAX_ARTIFACT_MB", "nan", "max_artifact_mb"),
    ("AUTOTRACK_GIT_DIFF_MAX_BYTES", "lots", "git_diff_max_bytes"),
])
def test_bad_environment_value_warns_and_keeps_the_default(tmp_path, caplog, variable, value, field):
    settings = _load(tmp_path, environ={variable: value})
    assert getattr(settings, field) == FIELDS[field].default
    (warning,) = _warnings(caplog)
    assert variable in warning and repr(value) in warning


def test_bad_environment_value_falls_back_to_the_file(tmp_path, caplog):
    (tmp_path / "autotrack.toml").write_text("exit_timeout = 3\n")
    assert _load(tmp_path, environ={"AUTOTRACK_EXIT_TIMEOUT": "-5"}).exit_timeout == 3.0
    assert _warnings(caplog)


def test_unknown_environment_setting_warns_with_a_suggestion(tmp_path, caplog):
    settings = _load(tmp_path, environ={"AUTOTRACK_DISABLED": "sklearn"})
    assert settings.disable == ()
    (warning,) = _warnings(caplog)
    assert "AUTOTRACK_DISABLED" in warning and "did you mean AUTOTRACK_DISABLE?" in warning


def test_variables_that_are_not_settings_are_not_warned_about(tmp_path, caplog):
    _load(tmp_path, environ={"AUTOTRACK": "1", "AUTOTRACK_RUN_CONTEXT": "{}"})
    assert _warnings(caplog) == []


@pytest.mark.parametrize("toml, message", [
    ('colour = "blue"\n', "unknown autotrack setting 'colour'"),
    ("log_models = 3\n", "not on or off"),
    ("metrics_sample_rows = -10\n", "must not be negative"),
    ('disable = 5\n', "not a list of names"),
    ("dir = 7\n", "not text"),
    ("dir = \"\"\n", "must not be empty"),
])
def test_bad_file_values_warn_and_keep_the_default(tmp_path, caplog, toml, message):
    path = tmp_path / "autotrack.toml"
    path.write_text(toml + 'experiment = "kept"\n')
    settings = _load(tmp_path)
    assert settings.experiment == "kept"  # the good values of the same file still apply
    assert settings.as_dict() == DEFAULTS.replace(experiment="kept").as_dict()
    (warning,) = _warnings(caplog)
    assert message in warning and str(path) in warning


@pytest.mark.parametrize("name", ["pyproject.toml", "autotrack.toml"])
def test_invalid_toml_warns_and_gives_the_defaults(tmp_path, caplog, name):
    (tmp_path / name).write_text("[tool.autotrack\nlog_models = \n")
    settings = _load(tmp_path)
    assert settings.log_models is True
    (warning,) = _warnings(caplog)
    assert "not valid TOML" in warning and name in warning


def test_a_tool_autotrack_that_is_not_a_table_is_ignored(tmp_path, caplog):
    (tmp_path / "pyproject.toml").write_text('[tool]\nautotrack = "yes"\n')
    assert _load(tmp_path).dir == DEFAULTS.dir
    assert "not a table" in _warnings(caplog)[0]


# -- enable(**kwargs) is code: mistakes raise at the call ------------------------------------
def test_enable_with_an_unknown_setting_raises_naming_the_known_ones():
    with pytest.raises(TypeError) as raised:
        autotrack.enable(log_model=False)
    message = str(raised.value)
    assert "'log_model'" in message and "did you mean 'log_models'?" in message
    assert all(name in message for name in FIELDS)


def test_enable_with_a_bad_value_raises(tmp_path):
    with pytest.raises(SettingsError, match="log_models"):
        _load(tmp_path, {"log_models": "maybe"})
    with pytest.raises(SettingsError, match="negative"):
        _load(tmp_path, {"exit_timeout": -1})


def test_enable_accepts_the_natural_python_types(tmp_path):
    settings = _load(tmp_path, {"dir": tmp_path, "disable": ["git"], "exit_timeout": 5, "log_models": 0})
    assert (settings.dir, settings.disable, settings.exit_timeout, settings.log_models) == (
        str(tmp_path), ("git",), 5.0, False)


# -- the Settings object and the experiment default ----------------------------------------------
def test_settings_are_read_only_and_copy_with_replace():
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.dir = "elsewhere"
    assert settings.replace(dir="x").dir == "x" and settings.dir == ".autotrack"
    assert pickle.loads(pickle.dumps(settings.replace(disable=("git",)))) == settings.replace(disable=("git",))
    with pytest.raises(TypeError):
        Settings(colour="blue")


@pytest.mark.parametrize("orig_argv, expected", [
    (["python", "train.py", "--epochs", "3"], "train"),
    (["python", "-u", "-X", "importtime", "src/fit_model.py"], "fit_model"),
    (["python", "-m", "mypkg"], "mypkg"),
    (["python", "-Bm", "mypkg.train"], "mypkg.train"),
    (["python", "-W", "ignore", "-m", "mypkg.__main__"], "mypkg"),
    (["python", "-c", "print(1)"], "default"),
    (["python", "-m", "ipykernel_launcher", "-f", "k.json"], "default"),
    (["python"], "default"),
])
def test_experiment_default_from_the_interpreter_command_line(orig_argv, expected):
    # At start-up (the .pth hook) sys.argv is still ['-m', ...] for `python -m`; orig_argv is not.
    assert default_experiment_name(argv=["-m"], orig_argv=orig_argv) == expected
