"""Plugins: the built-ins, the disable list, loud failures, framework states, and a third-party
plugin that answers every hook, installed the way pip would install it (a dist-info entry point)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from autotrack.config import Settings
from autotrack.plugins import load_plugins

BUILTINS = {"sklearn": "integration", "local": "store", "system": "context", "git": "context",
            "packages": "context"}

FAKE_FRAMEWORK = '''
"""A stand-in framework: a model with fit/predict/score, and a data type of its own."""
__version__ = "2.1.0"


class Data:
    def __init__(self, rows):
        self.rows = rows


class Model:
    def __init__(self, alpha=0.5, inner=None):
        self.alpha, self.inner = alpha, inner

    def fit(self, X, y=None):
        if self.inner is not None:
            self.inner.fit(X, y)
        return self

    def predict(self, X):
        return [1] * len(X.rows)

    def score(self, X, y=None):
        return 0.75

    def evaluate(self, X):
        return 0.5 + self.alpha


def train(params, data, callbacks=None, fail=False):
    """A plain training function that reports each step to its callbacks and returns the model."""
    for step in range(3):
        for callback in callbacks or []:
            callback(step, 1.0 / (step + 1))
    if fail:
        raise ValueError("the user's own bug")
    return Model(alpha=params["alpha"])
'''

# One plugin implementing every hook, each leaving a mark the stored run shows.
FAKE_PLUGIN = '''
import json, os
from autotrack import Integration, Target, hookimpl


def _targets(module):
    for attribute, kind in (("fit", "fit"), ("predict", "predict"), ("score", "score"),
                            ("evaluate", "evaluate")):
        yield Target(module.Model, attribute, kind)
    yield Target(module, "train", "fit", run_name="fakefw.train",
                 data_arguments=lambda args, kwargs: {"X": args[1] if len(args) > 1 else kwargs.get("data")})


@hookimpl
def autotrack_register_integrations(register):
    main = Integration(name="fakefw", modules=tuple(os.environ.get("FAKE_MODULES", "fakefw").split(",")),
                       distribution="fakefw", supported=os.environ.get("FAKE_SUPPORTED", ">=2,<3"),
                       targets=_targets)
    # A second framework of the same plugin (as lightning and pytorch_lightning), not installed.
    second = Integration(name="fakefw_legacy", modules=("autotrack_test_no_such_framework",),
                         distribution="fakefw-legacy", supported=">=1", targets=_targets)
    order = {"first": [second, main], "last": [main, second]}.get(os.environ.get("FAKE_SECOND"), [main])
    for integration in order:
        register(integration)


class MemoStore:
    name = "memo"

    def __init__(self, directory):
        self.directory = directory
        self.path = os.path.join(directory, "memo.jsonl")

    def write(self, batch):
        os.makedirs(self.directory, exist_ok=True)
        with open(self.path, "a") as handle:
            for record in batch:
                handle.write(json.dumps(list(record[:2])) + "\\n")

    def artifact_path(self, run_id, name):
        return os.path.join(self.directory, "memo-" + run_id + "-" + name)


@hookimpl
def autotrack_register_stores(register):
    register("memo", lambda settings: MemoStore(settings.dir))


@hookimpl
def autotrack_collect_context():
    return {"fake": {"answer": 42}, "artifacts": {"fake-notes.txt": "notes"}}


def _mine(model):
    import fakefw
    return isinstance(model, fakefw.Model)


@hookimpl
def autotrack_model_params(model, call):
    return {"alpha": model.alpha, "nested": {"depth": 2}} if _mine(model) else None


@hookimpl
def autotrack_fit_steps(model):
    return {"inner": model.inner} if _mine(model) and model.inner is not None else None


@hookimpl
def autotrack_feature_importances(model):
    return {"gain": {"a": 0.75, "b": 0.25}} if _mine(model) else None


@hookimpl
def autotrack_training_metrics(model, X, y):
    return {"fake_accuracy": 0.5, "fake_alpha": model.alpha} if _mine(model) else None


@hookimpl
def autotrack_run_name(model):
    return f"Model(alpha={model.alpha})" if _mine(model) and model.inner is not None else None


@hookimpl
def autotrack_model_snapshot(model):
    if not _mine(model):
        return None
    import fakefw
    alpha = model.alpha
    return lambda: fakefw.Model(alpha=alpha)


@hookimpl
def autotrack_fit_results(model, run, call):
    if _mine(model) and call.target.attribute == "evaluate":
        run.log_metrics({"fake.evaluated": call.result}, step=0)
    elif _mine(model):
        run.log_params({"fit_result": "seen"})


@hookimpl
def autotrack_prepare_call(call, run):
    if call.target.attribute != "train":
        return
    def report(step, loss):
        run.log_metrics({"fake.loss": loss}, step=step)
    call.kwargs = {**call.kwargs, "callbacks": [*(call.kwargs.get("callbacks") or []), report]}
    def cleanup():
        with open(os.environ["FAKE_FINISHED_LOG"], "a") as handle:
            handle.write("cleanup\\n")
    call.cleanups.append(cleanup)


@hookimpl
def autotrack_model_artifact(model):
    if not _mine(model):
        return None
    alpha = model.alpha

    def write(path):
        with open(path, "w") as handle:
            handle.write(f"alpha={alpha}")

    return "fake-model.txt", write


@hookimpl
def autotrack_model_loader(name, model_class):
    if name != "fake-model.txt":
        return None
    def load(path):
        import fakefw
        with open(path) as handle:
            return fakefw.Model(alpha=float(handle.read().split("=")[1]))
    return load


@hookimpl
def autotrack_describe_dataset(data, role, name):
    import fakefw
    if isinstance(data, fakefw.Data):
        return {"role": role, "name": name, "rows": len(data.rows), "columns": 1, "bytes": 8 * len(data.rows),
                "fingerprint": "fake-" + str(sum(data.rows)), "schema": {"value": "int"}}
    return None


@hookimpl
def autotrack_run_started(run):
    run.set_tags({"fake.started": "yes"})


@hookimpl
def autotrack_run_finished(run):
    with open(os.environ["FAKE_FINISHED_LOG"], "a") as handle:
        handle.write(f"{run.id} {run.status}\\n")
'''

FAKE_SCRIPT = """
import fakefw
data = fakefw.Data([1, 2, 3])
model = fakefw.Model(alpha=0.3, inner=fakefw.Model()).fit(data, [0, 1, 0])
model.alpha = 9.9  # changed right after fit: what was fitted had 0.3
model.predict(data)
print("score", model.score(data, [0, 1, 1]))
"""


def make_distribution(site: Path, name: str, entry_points: dict[str, str], files: dict[str, str],
                      version: str = "0.1") -> Path:
    """What `pip install` leaves behind: modules, and a dist-info with entry points."""
    site.mkdir(parents=True, exist_ok=True)
    for relative, code in files.items():
        (site / relative).write_text(textwrap.dedent(code))
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = "".join(f"{key} = {value}\n" for key, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[autotrack]\n{lines}")
    return site


@pytest.fixture
def fake_site(tmp_path) -> Path:
    """A site folder with the fake framework (an installed distribution) and the fake plugin."""
    site = tmp_path / "site"
    make_distribution(site, "fakefw", {}, {"fakefw.py": FAKE_FRAMEWORK}, version="2.1.0")
    make_distribution(site, "fake-plugin", {"fake": "fake_plugin"}, {"fake_plugin.py": FAKE_PLUGIN})
    return site


def _env(tmp_path, site: Path | None = None, **extra) -> dict:
    # A private plugin cache: each test loads its plugins afresh, as a first run would.
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "FAKE_FINISHED_LOG": str(tmp_path / "finished.log")}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return {**env, **extra}


def _plugins(cli, env) -> dict[str, dict]:
    return {row["name"]: row for row in cli("plugins", "--json", env=env)}


def _stored_runs(cli, store, env=None) -> list[dict]:
    """The runs in the store; none when nothing created it."""
    return cli("runs", "--json", env=env) if store.exists() else []


# -- built-ins and the disable list ----------------------------------------------------------
def test_plugins_lists_every_builtin_as_active(cli, tmp_path):
    plugins = _plugins(cli, _env(tmp_path))
    for name, kind in BUILTINS.items():
        assert plugins[name]["state"] == "active", plugins[name]
        assert plugins[name]["kind"] == kind
        assert plugins[name]["distribution"] == "autotrack"
    table = cli("plugins", env=_env(tmp_path)).stdout
    assert all(name in table for name in BUILTINS) and "active" in table


def test_disable_one_builtin(cli, run_script, store, tmp_path):
    pytest.importorskip("sklearn")
    env = _env(tmp_path, AUTOTRACK_DISABLE="sklearn")
    plugins = _plugins(cli, env)
    assert plugins["sklearn"]["state"] == "disabled"
    assert plugins["local"]["state"] == "active"
    run_script("from sklearn.linear_model import LogisticRegression\n"
               "LogisticRegression().fit([[0.0], [1.0]], [0, 1])\n", env=env)
    assert _stored_runs(cli, store) == []


def test_disable_star_disables_every_plugin(cli, run_script, store, tmp_path, fake_site):
    env = _env(tmp_path, fake_site, AUTOTRACK_DISABLE="*")
    assert {row["state"] for row in _plugins(cli, env).values()} == {"disabled"}
    run_script(FAKE_SCRIPT, env=env)
    assert not store.exists()


# -- a third-party plugin, hook by hook --------------------------------------------------------
def test_a_third_party_plugin_answers_every_hook(cli, run_script, store, tmp_path, fake_site):
    env = _env(tmp_path, fake_site)
    plugins = _plugins(cli, env)
    assert plugins["fake"]["state"] == "active"
    assert plugins["fake"]["kind"] == "integration, store, context"
    assert plugins["fake"]["distribution"] == "fake-plugin"
    run_script(FAKE_SCRIPT, env=env)
    (summary,) = _stored_runs(cli, store, env)
    run = cli("show", summary["id"], "--json", env=env)
    assert (run["name"], run["status"]) == ("Model(alpha=0.3)", "finished")  # autotrack_run_name
    assert run["context"]["fake"] == {"answer": 42}  # autotrack_collect_context
    assert run["params"]["alpha"] == 0.3 and run["params"]["nested.depth"] == 2  # autotrack_model_params
    assert "inner" in run["timings"]["steps"]  # autotrack_fit_steps
    assert run["importances"] == {"gain": {"a": 0.75, "b": 0.25}}  # autotrack_feature_importances
    assert run["metrics"]["training_fake_accuracy"] == 0.5  # autotrack_training_metrics
    assert run["metrics"]["training_fake_alpha"] == 0.3  # of autotrack_model_snapshot's copy
    assert run["params"]["fit_result"] == "seen"  # autotrack_fit_results
    artifacts = {a["name"]: a for a in run["artifacts"]}
    assert Path(artifacts["fake-model.txt"]["path"]).read_text() == "alpha=0.3"  # autotrack_model_artifact
    assert Path(artifacts["fake-notes.txt"]["path"]).read_text() == "notes"  # context artifacts
    cli("models", "register", run["id"], "fake", "--alias", "champion", env=env)  # autotrack_model_loader
    loaded = run_script("import json, autotrack\n"
                        "print(json.dumps(autotrack.load_model('fake@champion').alpha))\n",
                        name="load.py", env=env, tracked=False)
    assert loaded.stdout.strip() == "0.3"
    train_x = next(d for d in run["datasets"] if d["role"] == "train.X")  # autotrack_describe_dataset
    assert (train_x["fingerprint"], train_x["rows"], train_x["name"]) == ("fake-6", 3, "data")
    assert run["tags"]["fake.started"] == "yes"  # autotrack_run_started
    finished = (tmp_path / "finished.log").read_text().split()  # autotrack_run_finished
    assert finished == [run["id"], "finished"]
    assert run["timings"]["predict"]["count"] == 1 and run["metrics"]["data.score"] == 0.75
    # autotrack_register_stores: the second store received the same records.
    memo = [json.loads(line) for line in (store / "memo.jsonl").read_text().splitlines()]
    assert ["run_start", run["id"]] in memo and ["run_end", run["id"]] in memo


def test_builtin_stores_come_first_whatever_the_path_order(fake_site, monkeypatch):
    monkeypatch.syspath_prepend(str(fake_site))  # third-party entry points are found first
    loaded = load_plugins(Settings(), raise_errors=False)
    assert [name for name, _ in loaded.stores] == ["local", "memo"]


# -- framework states ----------------------------------------------------------------------------
def test_framework_version_outside_the_supported_range(cli, run_script, store, tmp_path, fake_site):
    env = _env(tmp_path, fake_site, FAKE_SUPPORTED=">=3,<4")
    fake = _plugins(cli, env)["fake"]
    assert fake["state"] == "version not supported"
    assert fake["detail"].startswith("fakefw 2.1.0, supported >=3,<4")
    result = run_script(FAKE_SCRIPT, env=env)
    assert "score 0.75" in result.stdout
    assert "fakefw 2.1.0 is outside the supported range >=3,<4" in result.stderr
    assert _stored_runs(cli, store, env) == []


def test_framework_not_installed(cli, tmp_path, fake_site):
    env = _env(tmp_path, fake_site, FAKE_MODULES="autotrack_test_no_such_framework")
    fake = _plugins(cli, env)["fake"]
    assert fake["state"] == "framework not installed"
    assert "fakefw is not installed" in fake["detail"]


@pytest.mark.parametrize("second", ["first", "last"])
def test_a_plugin_with_two_frameworks_is_active_when_one_is_installed(cli, run_script, store, tmp_path,
                                                                       fake_site, second):
    env = _env(tmp_path, fake_site, FAKE_SECOND=second)
    fake = _plugins(cli, env)["fake"]
    assert fake["state"] == "active"
    assert "fakefw 2.1.0" in fake["detail"] and "fakefw-legacy is not installed" in fake["detail"]


def test_plugin_autoload_off_loads_only_the_builtins(cli, run_script, store, tmp_path, fake_site):
    pytest.importorskip("sklearn")
    env = _env(tmp_path, fake_site, AUTOTRACK_PLUGIN_AUTOLOAD="0")
    plugins = _plugins(cli, env)
    assert (plugins["fake"]["state"], plugins["fake"]["detail"]) == ("disabled", "plugin_autoload is off")
    assert all(plugins[name]["state"] == "active" for name in BUILTINS)
    run_script("from sklearn.linear_model import LogisticRegression\n"
               "LogisticRegression().fit([[0.0], [1.0]], [0, 1])\n", env=env)
    (run,) = _stored_runs(cli, store, env)
    shown = cli("show", run["id"], "--json", env=env)
    assert "fake" not in shown["context"] and "fake.started" not in shown["tags"]
    assert not (store / "memo.jsonl").exists()


# -- loud failures -------------------------------------------------------------------------------
MISSPELT_MARKED = """
from autotrack import hookimpl

@hookimpl
def autotrack_colect_context():
    return {"typo": True}
"""

MISSPELT_UNMARKED = """
def autotrack_colect_context():
    return {"typo": True}
"""


@pytest.mark.parametrize("code", [MISSPELT_MARKED, MISSPELT_UNMARKED], ids=["marked", "unmarked"])
def test_a_misspelt_hook_is_an_error_in_autotrack_plugins(cli, tmp_path, code):
    site = make_distribution(tmp_path / "site", "typo-plugin", {"typo": "typo_plugin"}, {"typo_plugin.py": code})
    env = _env(tmp_path, site)
    result = cli("plugins", "--json", env=env)
    typo = next(row for row in result if row["name"] == "typo")
    assert typo["state"] == "error"
    assert "autotrack_colect_context" in typo["detail"]
    assert "did you mean 'autotrack_collect_context'?" in typo["detail"]
    assert _plugins(cli, env)["local"]["state"] == "active"  # the others are unaffected
    logged = cli("plugins", env=env).stderr
    assert "plugin 'typo' is not loaded" in logged


def test_a_misspelt_hook_makes_enable_raise_in_strict_mode(run_script, tmp_path):
    site = make_distribution(tmp_path / "site", "typo-plugin", {"typo": "typo_plugin"},
                             {"typo_plugin.py": MISSPELT_MARKED})
    result = run_script("import autotrack\nautotrack.enable()\nprint('enabled')\n",
                        env=_env(tmp_path, site), tracked=False, check=False)
    assert result.returncode != 0 and "enabled" not in result.stdout
    assert "PluginValidationError" in result.stderr and "autotrack_colect_context" in result.stderr


def test_a_misspelt_hook_outside_strict_mode_is_logged_and_tracking_goes_on(run_script, cli, store, tmp_path):
    pytest.importorskip("sklearn")
    site = make_distribution(tmp_path / "site", "typo-plugin", {"typo": "typo_plugin"},
                             {"typo_plugin.py": MISSPELT_MARKED})
    env = _env(tmp_path, site, AUTOTRACK_STRICT="0")
    result = run_script("import autotrack\nautotrack.enable()\n"
                        "from sklearn.linear_model import LogisticRegression\n"
                        "LogisticRegression().fit([[0.0], [1.0]], [0, 1])\n", env=env, tracked=False)
    assert "plugin 'typo' is not loaded" in result.stderr
    (run,) = _stored_runs(cli, store, env)
    assert "typo" not in cli("show", run["id"], "--json", env=env)["context"]


@pytest.mark.parametrize("code, detail", [
    ("raise ImportError('needs a missing library')\n", "ImportError: needs a missing library"),
    ("from autotrack import hookimpl\n\n@hookimpl\ndef autotrack_register_integrations(register):\n"
     "    register('not an Integration')\n", "register() takes an autotrack.Integration"),
    ("from autotrack import hookimpl\n\n@hookimpl\ndef autotrack_register_stores(register):\n"
     "    register('broken', None)\n", "register() takes a store name and a factory"),
    ("from autotrack import hookimpl\n\n@hookimpl\ndef autotrack_collect_context(unknown_argument):\n"
     "    return {}\n", "unknown_argument"),
], ids=["import-error", "bad-integration", "bad-store", "bad-arguments"])
def test_a_broken_plugin_shows_its_error_and_the_others_load(cli, tmp_path, code, detail):
    site = make_distribution(tmp_path / "site", "bad-plugin", {"bad": "bad_plugin"}, {"bad_plugin.py": code})
    plugins = _plugins(cli, _env(tmp_path, site))
    assert plugins["bad"]["state"] == "error"
    assert detail in plugins["bad"]["detail"]
    assert all(plugins[name]["state"] == "active" for name in BUILTINS)


# -- bugs found in files this suite does not own -------------------------------------------------
STORE_WITHOUT_DIRECTORY = """
import os
from autotrack import hookimpl


class ListStore:
    name = "list"

    def __init__(self, folder):
        self.folder = folder

    def write(self, batch):
        os.makedirs(self.folder, exist_ok=True)
        with open(os.path.join(self.folder, "kinds.txt"), "a") as handle:
            handle.writelines(record[0] + "\\n" for record in batch)

    def artifact_path(self, run_id, name):
        os.makedirs(self.folder, exist_ok=True)
        return os.path.join(self.folder, run_id + "-" + name)


@hookimpl
def autotrack_register_stores(register):
    register("list", lambda settings: ListStore(settings.dir))
"""


def test_a_store_with_only_the_documented_methods_receives_artifacts(run_script, store, tmp_path):
    pytest.importorskip("sklearn")
    site = make_distribution(tmp_path / "site", "list-store", {"list": "list_store"},
                             {"list_store.py": STORE_WITHOUT_DIRECTORY})
    run_script("from sklearn.linear_model import LogisticRegression\n"
               "LogisticRegression().fit([[0.0], [1.0]], [0, 1])\n",
               env=_env(tmp_path, site, AUTOTRACK_DISABLE="local"))
    kinds = (store / "kinds.txt").read_text().split()
    assert "artifact" in kinds


SIZED_DATA_SCRIPT = """
import fakefw


class Rows:  # a framework's own data type that has a length but is no array (a torch Dataset)
    def __init__(self, rows):
        self.rows = rows

    def __len__(self):
        return len(self.rows)


fakefw.Model().fit(Rows([1, 2, 3]), Rows([0, 1, 0]))
print("fitted")
"""


def test_fit_on_a_sized_non_array_data_type_is_tracked(run_script, cli, store, tmp_path, fake_site):
    result = run_script(SIZED_DATA_SCRIPT, env=_env(tmp_path, fake_site))
    assert "fitted" in result.stdout
    (run,) = _stored_runs(cli, store)
    assert run["status"] == "finished"


TRAIN_SCRIPT = """
import json, fakefw
seen = []
callbacks = [lambda step, loss: seen.append(step)]
model = fakefw.train({"alpha": 0.25}, fakefw.Data([1, 2]), callbacks=callbacks)
model.evaluate(fakefw.Data([3]))  # joins the model's run
fakefw.Model(alpha=0.5).evaluate(fakefw.Data([4]))  # an untracked model: a run of its own
try:
    fakefw.train({"alpha": 0.5}, fakefw.Data([1]), callbacks=callbacks, fail=True)
except ValueError as exc:
    print(json.dumps({"error": str(exc), "user_callbacks": len(callbacks), "seen": seen}))
"""


def test_prepare_call_adds_a_callback_for_the_call_only_and_evaluate_joins_the_models_run(
        cli, run_script, store, tmp_path, fake_site):
    env = _env(tmp_path, fake_site)
    result = run_script(TRAIN_SCRIPT, env=env)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # The user's exception, list and callbacks are as without autotrack.
    assert report == {"error": "the user's own bug", "user_callbacks": 1, "seen": [0, 1, 2, 0, 1, 2]}
    runs = {run["name"] + ":" + run["status"]: run for run in _stored_runs(cli, store, env)}
    assert sorted(runs) == ["evaluate(Model):finished", "fakefw.train:failed", "fakefw.train:finished"]
    trained = cli("show", runs["fakefw.train:finished"]["id"], "--json", env=env)
    # autotrack_prepare_call: the callback it added reported into the run.
    assert trained["history"]["fake.loss"] == [[0, 1.0], [1, 0.5], [2, pytest.approx(1 / 3)]]
    assert trained["params"]["fit_result"] == "seen"  # the model is the function's result
    assert trained["timings"]["evaluate_s"] > 0 and trained["metrics"]["fake.evaluated"] == 0.75
    assert trained["datasets"][0]["fingerprint"] == "fake-3"
    alone = cli("show", runs["evaluate(Model):finished"]["id"], "--json", env=env)
    assert alone["metrics"]["fake.evaluated"] == 1.0 and alone["params"]["alpha"] == 0.5
    assert "fit_s" not in alone["timings"] and alone["timings"]["evaluate_s"] > 0
    failed = cli("show", runs["fakefw.train:failed"]["id"], "--json", env=env)
    assert failed["error"] == "ValueError: the user's own bug"
    assert len(failed["history"]["fake.loss"]) == 3
    # The cleanups ran after each call, the failing one included.
    assert (tmp_path / "finished.log").read_text().split().count("cleanup") == 2


def test_the_capture_manifest_says_what_was_skipped_disabled_and_swallowed(cli, run_script, store, tmp_path,
                                                                           fake_site):
    # fakefw out of range (skipped), lightgbm disabled, and a tracking error swallowed (strict off):
    # the run of the scikit-learn model says all three.
    env = _env(tmp_path, fake_site, FAKE_SUPPORTED=">=3,<4", AUTOTRACK_DISABLE="lightgbm", AUTOTRACK_STRICT="0")
    run_script("import fakefw, autotrack\n"
               "from sklearn.linear_model import LogisticRegression\n"
               "with autotrack.start_run(name='by hand') as run:\n"
               "    autotrack.log_params({'x': 1})\n"
               "LogisticRegression().fit([[0.0], [1.0]], [0, 1])\n"
               "from autotrack.safety import report\n"
               "with autotrack.start_run(name='with an error'):\n"
               "    report('a test hook', ValueError('boom'))\n", env=env)
    runs = {run["name"]: cli("show", run["id"], "--json", env=env) for run in _stored_runs(cli, store, env)}
    capture = runs["LogisticRegression"]["context"]["capture"]
    assert capture["integrations"]["fakefw"] == {
        "framework": "fakefw", "version": "2.1.0", "state": "skipped",
        "why": "fakefw 2.1.0 is outside the supported range >=3,<4"}
    sklearn = capture["integrations"]["sklearn"]
    assert sklearn["state"] == "tracked" and sklearn["patched"] > 10 and sklearn["version"]
    assert capture["integrations"]["xgboost"]["state"] == "not imported"
    assert capture["plugins_off"]["lightgbm"] == "disabled: in the disable list"
    assert capture["tracking_errors"] == {}
    assert runs["with an error"]["context"]["capture"]["tracking_errors"] == {"a test hook": 1}
    shown = cli("show", runs["LogisticRegression"]["id"], env=env).stdout
    assert "fakefw: fakefw 2.1.0 is outside the supported range" in shown and "lightgbm (disabled" in shown
