"""The four ways to switch tracking on, to the same effect, and the start-up hook that carries one.

Tests named test_slow_* build wheels (a few seconds each); `-k "not slow"` leaves them out.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

from scripting import printed

REPO = Path(__file__).resolve().parents[1]

FIT = """
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

X, y = make_classification(n_samples=120, n_features=4, random_state=0)
model = LogisticRegression(C=0.5).fit(X, y)
print("accuracy", model.score(X, y))
"""


def _runs(cli, store=None) -> list[dict]:
    return cli("runs", "--json", *(["--store", str(store)] if store else []))


def _only_run(cli, store=None) -> dict:
    runs = _runs(cli, store)
    assert len(runs) == 1, runs
    return cli("show", runs[0]["id"], "--json", *(["--store", str(store)] if store else []))


# -- 1. AUTOTRACK=1 python train.py -----------------------------------------------------------
def test_env_switch_tracks_a_script_that_never_imports_autotrack(run_script, cli):
    result = run_script(FIT)
    assert "accuracy" in result.stdout
    run = _only_run(cli)
    assert run["name"] == "LogisticRegression"
    assert run["experiment"] == "train"  # the script's file stem
    assert run["status"] == "finished"
    assert run["params"]["C"] == 0.5
    assert "X.score" in run["metrics"]


@pytest.mark.parametrize("switch", [None, "0", "off", ""])
def test_switch_off_tracks_nothing_creates_no_store_and_imports_nothing(run_script, store, switch):
    code = FIT + "import sys; print('imported', 'autotrack' in sys.modules)\n"
    env = {} if switch is None else {"AUTOTRACK": switch}
    result = run_script(code, env=env, tracked=False)
    assert "imported False" in result.stdout
    assert not store.exists()


FRAMEWORK_MODULES = ("sklearn", "lightgbm", "xgboost", "torch", "lightning", "pytorch_lightning",
                     "keras", "tensorflow", "mlflow")


def test_enable_and_the_plugin_listing_import_no_framework(run_script):
    """Every integration is loaded as a plugin at enable(); none may import its framework then."""
    result = run_script("""
        import json, sys
        import autotrack
        autotrack.enable()
        from autotrack.session import SESSION
        SESSION.configure()  # loads every plugin for real, bypassing the watch-list cache
        names = [name for name, _plugin in SESSION.plugins.manager.list_name_plugin()]
        print(json.dumps({"plugins": names, "imported": sorted(
            name for name in sys.modules if name.split(".")[0] in %r)}))
    """ % (FRAMEWORK_MODULES,))
    report = printed(result)
    assert {"lightgbm", "xgboost", "lightning", "keras", "sklearn"} <= set(report["plugins"])
    assert report["imported"] == []


def test_experiment_defaults_to_the_script_file_stem(run_script, cli):
    run_script(FIT, name="churn_model.py")
    assert _runs(cli)[0]["experiment"] == "churn_model"


# -- 2. autotrack.enable() / disable() ---------------------------------------------------------
@pytest.mark.parametrize("order", ["enable_first", "sklearn_first"])
def test_enable_before_or_after_importing_sklearn_records_the_fit(run_script, cli, order):
    enable = "import autotrack\nautotrack.enable()\n"
    imports = "import sklearn.linear_model\n"
    code = (enable + imports if order == "enable_first" else imports + enable) + FIT
    run_script(code, tracked=False)
    run = _only_run(cli)
    assert run["name"] == "LogisticRegression"
    assert run["params"]["C"] == 0.5


DISABLE_RESTORES = """
import json
import autotrack
import sklearn.base, sklearn.linear_model, sklearn.pipeline, sklearn.svm
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

def estimator_classes():
    import sys
    for name, module in list(sys.modules.items()):
        if name.startswith("sklearn") and module is not None:
            for value in list(vars(module).values()):
                if isinstance(value, type) and value.__module__.startswith("sklearn"):
                    yield value

def sklearn_modules():
    import sys
    return [module for name, module in list(sys.modules.items())
            if name.startswith("sklearn") and module is not None]

import sklearn.model_selection
before = {cls: dict(vars(cls)) for cls in estimator_classes()}
before_functions = {module: {name: value for name, value in vars(module).items() if callable(value)}
                    for module in sklearn_modules()}
X, y = [[0.0], [1.0], [0.2], [0.9]], [0, 1, 0, 1]
plain_svc = hasattr(SVC().fit(X, y), "predict_proba")
plain_pipe = hasattr(Pipeline([("svc", SVC())]).fit(X, y), "predict_proba")

autotrack.enable()
patched = {
    "LogisticRegression.fit": LogisticRegression.__dict__["fit"] is not before[LogisticRegression]["fit"],
    "Pipeline.predict": Pipeline.__dict__["predict"] is not before[Pipeline]["predict"],
    "Pipeline.predict_proba": Pipeline.__dict__["predict_proba"] is not before[Pipeline]["predict_proba"],
    "cross_val_score": sklearn.model_selection.cross_val_score
                       is not before_functions[sklearn.model_selection]["cross_val_score"],
}
tracked_svc = hasattr(SVC().fit(X, y), "predict_proba")
tracked_pipe = hasattr(Pipeline([("svc", SVC())]).fit(X, y), "predict_proba")
autotrack.disable()

changed = [f"{cls.__qualname__}.{name}" for cls, attributes in before.items()
           for name, value in attributes.items() if vars(cls).get(name) is not value]
changed += [f"{module.__name__}.{name}" for module, functions in before_functions.items()
            for name, value in functions.items() if vars(module).get(name) is not value]
LogisticRegression().fit(X, y)  # after disable: not tracked
print(json.dumps({
    "patched": patched, "changed": changed,
    "fit_restored": LogisticRegression.__dict__["fit"] is before[LogisticRegression]["fit"],
    "predict_restored": Pipeline.__dict__["predict"] is before[Pipeline]["predict"],
    "available_if_restored": Pipeline.__dict__["predict_proba"] is before[Pipeline]["predict_proba"],
    "hasattr": [plain_svc, tracked_svc, plain_pipe, tracked_pipe],
}))
"""


def test_disable_restores_every_patched_attribute_to_the_identical_object(run_script, cli):
    result = run_script(DISABLE_RESTORES, tracked=False)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert all(report["patched"].values()), report["patched"]  # enable() really patched them
    assert report["fit_restored"] and report["predict_restored"] and report["available_if_restored"]
    assert report["changed"] == []
    # available_if keeps answering hasattr exactly as without autotrack while it is on.
    plain_svc, tracked_svc, plain_pipe, tracked_pipe = report["hasattr"]
    assert (plain_svc, plain_pipe) == (tracked_svc, tracked_pipe) == (False, False)
    # Two fits while enabled (SVC, Pipeline); none after disable().
    assert sorted(run["name"] for run in _runs(cli)) == ["Pipeline(SVC)", "SVC"]


# -- 3. autotrack run ---------------------------------------------------------------------------
def test_autotrack_run_script_with_settings_as_flags(tmp_path, cli, store):
    script = tmp_path / "train.py"
    script.write_text(FIT + "import sys; print('args', sys.argv[1:])\n")
    other_store = tmp_path / "elsewhere"
    result = cli("run", "--experiment", "churn", "--store", str(other_store), str(script), "--epochs", "3")
    assert "args ['--epochs', '3']" in result.stdout
    assert not store.exists()  # --store wins over AUTOTRACK_DIR
    run = _only_run(cli, other_store)
    assert (run["experiment"], run["name"]) == ("churn", "LogisticRegression")


def test_autotrack_run_flags_after_the_script_belong_to_the_script(tmp_path, cli):
    script = tmp_path / "train.py"
    script.write_text(FIT + "import sys; print('args', sys.argv[1:])\n")
    result = cli("run", str(script), "--experiment", "X")
    assert "args ['--experiment', 'X']" in result.stdout
    assert _runs(cli)[0]["experiment"] == "train"


def test_autotrack_run_dash_dash_python_dash_m(tmp_path, cli):
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(FIT)
    # `python` here may be any interpreter on PATH: autotrack runs it as its own.
    result = cli("run", "--", "python", "-m", "mypkg")
    assert "accuracy" in result.stdout
    run = _only_run(cli)
    assert (run["experiment"], run["name"]) == ("mypkg", "LogisticRegression")


def test_autotrack_run_reports_a_missing_script_in_one_line(cli):
    result = cli("run", "no_such_script.py", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == "autotrack: no such script: no_such_script.py"


# -- 4. explicit runs ---------------------------------------------------------------------------
EXPLICIT = """
import autotrack
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

X, y = make_classification(n_samples=120, n_features=4, random_state=0)
with open("notes.txt", "w") as handle:
    handle.write("why this run")
with autotrack.start_run(name="baseline", tags={"team": "risk"}) as run:
    LogisticRegression().fit(X, y)
    DecisionTreeClassifier(max_depth=2).fit(X, y)
    autotrack.log_params({"features": "v2"})
    autotrack.log_metrics({"holdout_auc": 0.5})
    autotrack.log_metrics({"holdout_auc": 0.75})
    autotrack.set_tags({"stage": "review"})
    autotrack.log_artifact("notes.txt")
    print("parent", run.id)
"""


def test_start_run_groups_fits_as_children_and_takes_manual_logging(run_script, cli):
    result = run_script(EXPLICIT)
    parent_id = result.stdout.split("parent", 1)[1].split()[0]
    runs = {run["id"]: run for run in _runs(cli)}
    children = sorted(run["name"] for run in runs.values() if run["parent_id"] == parent_id)
    assert children == ["DecisionTreeClassifier", "LogisticRegression"]
    parent = cli("show", parent_id, "--json")
    assert (parent["name"], parent["experiment"], parent["parent_id"]) == ("baseline", "train", None)
    assert parent["tags"]["team"] == "risk" and parent["tags"]["stage"] == "review"
    assert parent["params"]["features"] == "v2"
    assert parent["metrics"]["holdout_auc"] == 0.75
    assert parent["history"]["holdout_auc"] == [[0, 0.5], [1, 0.75]]
    (artifact,) = [a for a in parent["artifacts"] if a["name"] == "notes.txt"]
    assert Path(artifact["path"]).read_text() == "why this run"
    assert sorted(parent["children"]) == sorted(i for i, r in runs.items() if r["parent_id"] == parent_id)


def test_start_run_works_without_enable(run_script, cli):
    code = """
    import autotrack
    with autotrack.start_run(name="manual"):
        autotrack.log_metrics({"loss": 0.25})
    """
    run_script(code, tracked=False)
    run = _only_run(cli)
    assert (run["name"], run["metrics"]) == ("manual", {"loss": 0.25})


# -- the start-up hook ----------------------------------------------------------------------------
def test_a_broken_autotrack_never_stops_the_interpreter(run_script, tmp_path, store):
    shadow = tmp_path / "shadow" / "autotrack"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise RuntimeError('broken on purpose')\n")
    result = run_script("print('the script ran')\n", env={"PYTHONPATH": str(shadow.parent)})
    assert result.stdout.strip() == "the script ran"
    messages = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(messages) == 1, result.stderr
    assert messages[0].startswith("autotrack:") and "broken on purpose" in messages[0]
    assert not store.exists()


def test_the_installed_startup_file_is_the_one_in_the_repository():
    """`pip install -e .` (and a wheel install) put autotrack_startup.pth into site-packages."""
    installed = Path(sysconfig.get_paths()["purelib"]) / "autotrack_startup.pth"
    assert installed.read_text() == (REPO / "autotrack_startup.pth").read_text()


def _source_copy(tmp_path: Path) -> Path:
    """The project as a fresh checkout has it: building in place would leave build/ in the repo."""
    copy = tmp_path / "source"
    ignore = shutil.ignore_patterns(".venv*", ".git", "build", "dist", "*.egg-info", "__pycache__",
                                    ".autotrack", "tests", "benchmarks", "examples")
    shutil.copytree(REPO, copy, ignore=ignore)
    return copy


def test_slow_editable_wheel_carries_the_startup_file(tmp_path):
    """The wheel setuptools builds for `pip install -e .` has the .pth at its root (~3 s)."""
    source = _source_copy(tmp_path)
    out = tmp_path / "wheels"
    out.mkdir()
    subprocess.run([sys.executable, "-c", f"import setuptools.build_meta as b; b.build_editable({str(out)!r})"],
                   cwd=source, check=True, capture_output=True, timeout=120)
    (wheel,) = out.glob("*.whl")
    assert "autotrack_startup.pth" in zipfile.ZipFile(wheel).namelist()


def test_slow_wheel_install_layout_switches_tracking_on(tmp_path, store, cli):
    """Build the wheel, unpack it as pip would, and let site process its .pth (~5 s)."""
    source = _source_copy(tmp_path)
    out = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(out), str(source)], check=True, capture_output=True, timeout=120)
    (wheel,) = out.glob("autotrack-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "autotrack_startup.pth" in names  # at the root: site-packages itself
    site_dir = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(site_dir)
    frameworks = sysconfig.get_paths()["purelib"]
    # -S: no site processing at start, so this venv's editable autotrack stays out of the way;
    # its site-packages is appended for sklearn and pluggy without processing its .pth files.
    code = f"""
import sys
sys.path.append({frameworks!r})
import site
site.addsitedir({str(site_dir)!r})
import autotrack
assert autotrack.__file__.startswith({str(site_dir)!r}), autotrack.__file__
from sklearn.linear_model import LogisticRegression
LogisticRegression().fit([[0.0], [1.0], [0.1], [0.9]], [0, 1, 0, 1])
print("fitted")
"""
    env = {**os.environ, "AUTOTRACK": "1", "AUTOTRACK_DIR": str(store), "PYTHONPATH": ""}
    result = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "fitted"
    assert [run["name"] for run in _runs(cli)] == ["LogisticRegression"]
