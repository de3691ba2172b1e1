"""Lightning end to end, for `lightning.pytorch` and `pytorch_lightning`: real training scripts run
in subprocesses, the store read back with `autotrack.get_run`, compared with what Lightning itself
reports (its CSVLogger's metrics.csv, its checkpoint callback, the script's own printout).

Importing torch and Lightning costs seconds per process, so each script is run once per module
(module-scoped fixtures) and several tests read what it stored.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

PACKAGES = [package for package in ("lightning.pytorch", "pytorch_lightning")
            if importlib.util.find_spec(package.partition(".")[0]) is not None]
# find_spec, not importorskip: importing Lightning here would cost this process seconds.
pytestmark = pytest.mark.skipif(not PACKAGES, reason="neither lightning nor pytorch-lightning is installed")

# Shared by every script: data, a 2-layer MLP, its loaders and trainer; `LIGHTNING_PACKAGE` picks
# the package, as a user's `import lightning.pytorch as pl` or `import pytorch_lightning as pl`.
TINY = """
import hashlib
import importlib
import os

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

pl = importlib.import_module(os.environ.get("LIGHTNING_PACKAGE", "lightning.pytorch"))


def data():
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(240, 8, generator=generator)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).long()
    return X, y


def loaders():
    X, y = data()
    train = DataLoader(TensorDataset(X[:160], y[:160]), batch_size=32, shuffle=True,
                       generator=torch.Generator().manual_seed(1))
    val = DataLoader(TensorDataset(X[160:200], y[160:200]), batch_size=20)
    test = DataLoader(TensorDataset(X[200:], y[200:]), batch_size=20)
    return train, val, test


class TinyMLP(pl.LightningModule):
    def __init__(self, hidden=16, lr=0.05, fail_at_epoch=None):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(8, hidden), nn.ReLU(), nn.Linear(hidden, 2))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        if self.hparams.fail_at_epoch == self.current_epoch:
            raise ValueError(f"user bug in epoch {self.current_epoch}")
        x, y = batch
        logits = self(x)
        loss = nn.functional.cross_entropy(logits, y)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        self.log("train_acc", (logits.argmax(dim=1) == y).float().mean())  # per step only
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", nn.functional.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(dim=1) == y).float().mean())

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_acc", (self(x).argmax(dim=1) == y).float().mean())

    def predict_step(self, batch, batch_idx):
        return self(batch[0])

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)
        return {"optimizer": optimizer,
                "lr_scheduler": torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)}


def make_trainer(**settings):
    options = dict(max_epochs=3, accelerator="cpu", devices=1, enable_progress_bar=False,
                   enable_model_summary=False, logger=False, enable_checkpointing=False)
    options.update(settings)
    return pl.Trainer(**options)


def digest(module):
    hasher = hashlib.sha256()
    for name, value in sorted(module.state_dict().items()):
        hasher.update(name.encode())
        hasher.update(value.detach().numpy().tobytes())
    return hasher.hexdigest()


def train_everything(directory):
    \"\"\"fit, validate, test and predict, with Lightning's own CSVLogger and callbacks.\"\"\"
    from importlib import import_module

    callbacks = import_module(pl.__name__ + ".callbacks")
    loggers = import_module(pl.__name__ + ".loggers")
    pl.seed_everything(0)
    train, val, test = loaders()
    model = TinyMLP()
    checkpoint = callbacks.ModelCheckpoint(dirpath=os.path.join(directory, "ckpts"), monitor="val_loss",
                                           mode="min", save_top_k=1)
    stopping = callbacks.EarlyStopping(monitor="val_loss", patience=5, min_delta=0.001)
    csv_logger = loggers.CSVLogger(os.path.join(directory, "logs"), name="csv")
    trainer = make_trainer(logger=csv_logger, log_every_n_steps=2, enable_checkpointing=True,
                           callbacks=[checkpoint, stopping])
    callbacks_before = trainer.callbacks
    trainer.fit(model, train, val)
    results = {
        "validate": trainer.validate(model, val)[0],
        "test": trainer.test(model, test)[0],
        "predictions": torch.cat(trainer.predict(model, test)).tolist(),
    }
    return model, trainer, checkpoint, csv_logger, callbacks_before, results
"""

# Everything the main script knows, as Lightning tells it, printed as its last line.
MAIN = """
import json
import os

import numpy as np
import torch

from tiny import TinyMLP, data, digest, loaders, make_trainer, pl, train_everything

# AUTOTRACK=1 enabled autotrack at start-up, before this script imported Lightning.
enabled_before_import = hasattr(pl.Trainer.__dict__["fit"], "__autotrack_original__")
model, trainer, checkpoint, csv_logger, callbacks_before, results = train_everything(os.getcwd())
X, y = data()
for name, rows in {"train": slice(0, 160), "val": slice(160, 200), "test": slice(200, 240)}.items():
    np.save(f"{name}_X.npy", X[rows].numpy())
    np.save(f"{name}_y.npy", y[rows].numpy())
torch.save(model, "user_model.pt")
np.save("expected.npy", model(X[200:]).detach().numpy())
optimizer = trainer.optimizers[0]
try:  # a second model whose training_step raises in its second epoch
    make_trainer().fit(TinyMLP(fail_at_epoch=1), *loaders()[:2])
    raised = None
except Exception as exc:
    raised = [type(exc).__name__, str(exc)]
print(json.dumps({
    "enabled_before_import": enabled_before_import,
    "raised": raised,
    "csv": os.path.abspath(csv_logger.experiment.metrics_file_path),
    "best_path": checkpoint.best_model_path,
    "best_score": float(checkpoint.best_model_score),
    "epochs": trainer.current_epoch,
    "digest": digest(model),
    "results": results,
    "callbacks_restored": trainer.callbacks is callbacks_before,
    "autotrack_callbacks_left": [type(c).__name__ for c in trainer.callbacks
                                 if "autotrack" in type(c).__module__],
    "precision": trainer.precision,
    "params_total": sum(p.numel() for p in model.parameters()),
    "optimizer": {"lr": optimizer.defaults["lr"], "momentum": optimizer.defaults["momentum"]},
    "batches": trainer.num_training_batches,
}))
"""

# Run without autotrack: loads what the tracked script saved and trains the same thing again.
LOAD_AND_RETRAIN = """
import json
import sys

import numpy as np
import torch

from tiny import TinyMLP, data, digest, train_everything

artifact, best_checkpoint = sys.argv[1], sys.argv[2]
X, y = data()
expected = np.load("expected.npy")
from_artifact = TinyMLP.load_from_checkpoint(artifact).eval()
user_model = torch.load("user_model.pt", weights_only=False).eval()
from_checkpoint = TinyMLP.load_from_checkpoint(best_checkpoint)
model, trainer, *_ = train_everything("untracked")
print(json.dumps({
    "autotrack_imported": "autotrack" in sys.modules,
    "artifact_hparams": dict(from_artifact.hparams),
    "artifact_predicts_the_same": bool(np.allclose(from_artifact(X[200:]).detach().numpy(), expected)),
    "user_model_predicts_the_same": bool(np.allclose(user_model(X[200:]).detach().numpy(), expected)),
    "checkpoint_class": type(from_checkpoint).__name__,
    "digest": digest(model),
}))
"""


def run_python(directory: Path, store: Path, code: str, *args: str, package: str = "lightning.pytorch",
               tracked: bool = True, autotrack_free: bool = False, timeout: float = 300):
    """Run `code` as a script in `directory`, as a user would (AUTOTRACK=1 when `tracked`)."""
    script = directory / f"script_{abs(hash(code))}.py"
    script.write_text(textwrap.dedent(code))
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTOTRACK")}
    env.update(LIGHTNING_PACKAGE=package, PYTHONWARNINGS="ignore")
    if not autotrack_free:
        env.update(AUTOTRACK_DIR=str(store), AUTOTRACK_STRICT="1")
        if tracked:
            env["AUTOTRACK"] = "1"
    result = subprocess.run([sys.executable, str(script), *args], cwd=directory, env=env,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"script failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


def last_json(result) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


def stored_runs(store: Path) -> list[dict]:
    """Every run in the store, complete, oldest first."""
    import autotrack

    return [autotrack.get_run(run["id"], store=str(store))
            for run in reversed(autotrack.runs(store=str(store), limit=0))]


def duplicated_points(run: dict) -> dict:
    return {key: [step for step, count in Counter(step for step, _ in points).items() if count > 1]
            for key, points in run["history"].items()
            if len({step for step, _ in points}) != len(points)}


def steps(run: dict, key: str) -> list[int]:
    return [step for step, _ in run["history"][key]]


# -- the main script, once per package ------------------------------------------------------------
@pytest.fixture(scope="module", params=PACKAGES)
def trained(request, tmp_path_factory):
    """The main script run with AUTOTRACK=1, then the loader run without autotrack."""
    package = request.param
    directory = tmp_path_factory.mktemp(package.replace(".", "_"))
    store = directory / "store"
    (directory / "tiny.py").write_text(textwrap.dedent(TINY))
    truth = last_json(run_python(directory, store, MAIN, package=package))
    runs = stored_runs(store)
    assert len(runs) == 2, [(run["name"], run["status"]) for run in runs]
    run, failed = runs
    (artifact,) = [a for a in run["artifacts"] if a["name"] == "model.ckpt"]
    loaded = last_json(run_python(directory, store, LOAD_AND_RETRAIN, artifact["path"], truth["best_path"],
                                  package=package, autotrack_free=True))
    with open(truth["csv"], newline="") as handle:
        csv_rows = list(csv.DictReader(handle))
    return {"package": package, "dir": directory, "truth": truth, "run": run, "failed": failed,
            "loaded": loaded, "csv": csv_rows}


def csv_series(rows: list[dict], column: str, by: str) -> dict:
    """Lightning's own CSVLogger history of `column`: {step or epoch: value}."""
    return {int(row[by]): float(row[column]) for row in rows if row.get(column)}


def series(run: dict, key: str) -> dict:
    """The stored history of `key` as {step: value} (duplicates are checked on their own)."""
    return {step: value for step, value in run["history"][key]}


def test_fit_validate_test_predict_of_one_model_make_one_finished_run(trained):
    run = trained["run"]  # the store holds it and the failing fit's run, nothing else
    assert trained["truth"]["enabled_before_import"] is True
    assert run["status"] == "finished" and run["name"] == "TinyMLP" and run["source"] == "auto"
    assert run["tags"]["model.class"].endswith("TinyMLP")
    assert {"fit_s", "validate_s", "test_s", "predict_s", "epoch_mean_s"} <= set(run["timings"])
    assert run["timings"]["fit_s"] > run["timings"]["epoch_mean_s"] > 0


def test_goals_of_monitored_metrics_are_the_callbacks_mode(trained):
    run = trained["run"]
    assert run["goals"]["val_loss"] == "min" and run["goal_sources"]["val_loss"] == "logged"
    assert run["goals"]["checkpoint.best_score"] == "min"
    assert run["goal_sources"]["checkpoint.best_score"] == "logged"


def test_params_are_hparams_trainer_optimizer_scheduler_and_callback_settings(trained):
    params, truth = trained["run"]["params"], trained["truth"]
    assert {key: params[key] for key in ("hidden", "lr", "fail_at_epoch")} == {
        "hidden": 16, "lr": 0.05, "fail_at_epoch": None}
    assert params["trainer.max_epochs"] == 3 and params["trainer.precision"] == truth["precision"]
    assert params["trainer.accelerator"] == "cpu" and params["trainer.devices"] == 1
    assert params["trainer.accumulate_grad_batches"] == 1 and params["trainer.gradient_clip_val"] is None
    assert params["trainer.strategy"] == "SingleDeviceStrategy"
    assert params["optimizer.class"] == "SGD"
    assert (params["optimizer.lr"], params["optimizer.momentum"]) == (
        truth["optimizer"]["lr"], truth["optimizer"]["momentum"])
    scheduler = (params["scheduler.class"], params["scheduler.step_size"], params["scheduler.gamma"])
    assert scheduler == ("StepLR", 1, 0.5)
    assert params["scheduler.interval"] == "epoch"
    assert {key: params[key] for key in params if key.startswith("early_stopping.")} == {
        "early_stopping.monitor": "val_loss", "early_stopping.patience": 5, "early_stopping.mode": "min",
        "early_stopping.min_delta": 0.001}
    assert {key: params[key] for key in params if key.startswith("checkpoint.")} == {
        "checkpoint.monitor": "val_loss", "checkpoint.mode": "min", "checkpoint.save_top_k": 1}
    assert params["model.params_total"] == params["model.params_trainable"] == truth["params_total"]
    assert params["model.layers"] == 3  # Linear, ReLU, Linear


def test_epoch_metrics_equal_lightnings_own_log_with_the_epoch_as_step(trained):
    run, epochs = trained["run"], trained["truth"]["epochs"]
    assert epochs == 3
    rows = [row for row in trained["csv"] if int(row["epoch"]) < epochs]  # not trainer.validate's
    # A metric logged on step and epoch is stored per epoch under its own name (Lightning's logger
    # calls that one `train_loss_epoch`), and per step as `train_loss_step`.
    assert series(run, "train_loss") == pytest.approx(csv_series(rows, "train_loss_epoch", "epoch"))
    assert series(run, "val_loss") == pytest.approx(csv_series(rows, "val_loss", "epoch"))
    assert series(run, "val_acc") == pytest.approx(csv_series(rows, "val_acc", "epoch"))
    assert "train_loss_epoch" not in run["history"]
    assert steps(run, "time.epoch_s") == list(range(epochs))


def test_step_metrics_equal_lightnings_own_log_with_the_global_step_as_step(trained):
    run, rows = trained["run"], trained["csv"]
    logged = csv_series(rows, "train_loss_step", "step")
    batches = trained["truth"]["batches"]
    every_second_step = [step for step in range(3 * batches) if (step + 1) % 2 == 0]  # log_every_n_steps=2
    assert steps(run, "train_loss_step") == list(logged) == every_second_step
    assert series(run, "train_loss_step") == pytest.approx(logged)
    assert series(run, "train_acc") == pytest.approx(csv_series(rows, "train_acc", "step"))


def test_no_metric_has_two_points_at_one_step(trained):
    assert duplicated_points(trained["run"]) == {}


def test_evaluation_metrics_go_to_the_fit_run_named_by_stage(trained):
    run, results = trained["run"], trained["truth"]["results"]
    assert run["history"]["test.test_acc"] == [[0, pytest.approx(results["test"]["test_acc"])]]
    assert run["history"]["validate.val_loss"] == [[0, pytest.approx(results["validate"]["val_loss"])]]
    assert run["history"]["validate.val_acc"] == [[0, pytest.approx(results["validate"]["val_acc"])]]


def test_best_checkpoint_path_and_score(trained):
    run, truth = trained["run"], trained["truth"]
    assert run["tags"]["checkpoint.best_path"] == truth["best_path"]
    assert run["metrics"]["checkpoint.best_score"] == pytest.approx(truth["best_score"])


def test_datasets_from_the_dataloaders_with_fingerprints_of_their_tensors(trained):
    import numpy as np

    from autotrack.capture.datasets import fingerprint

    directory = trained["dir"]
    datasets = {d["role"]: d for d in trained["run"]["datasets"]}
    expected_roles = {f"{stage}.{part}" for stage in ("train", "valid", "validate", "test", "predict")
                      for part in ("X", "y")}
    assert set(datasets) == expected_roles
    for role, description in datasets.items():
        stage, part = role.split(".")
        split = {"valid": "val", "validate": "val", "predict": "test"}.get(stage, stage)
        array = np.load(directory / f"{split}_{part}.npy")
        assert description["fingerprint"] == fingerprint(array), role
        assert description["rows"] == len(array)
    train_X = datasets["train.X"]
    assert (train_X["batches"], train_X["batch_size"]) == (trained["truth"]["batches"], 32)
    assert datasets["train.y"]["target"]["kind"] == "classes"


def test_the_run_leaves_the_users_callbacks_list_as_it_was(trained):
    assert trained["truth"]["callbacks_restored"] is True
    assert trained["truth"]["autotrack_callbacks_left"] == []


def test_model_artifact_and_checkpoints_load_without_autotrack_and_predict_the_same(trained):
    loaded = trained["loaded"]
    assert loaded["autotrack_imported"] is False
    assert loaded["artifact_predicts_the_same"] is True
    assert loaded["artifact_hparams"] == {"hidden": 16, "lr": 0.05, "fail_at_epoch": None}
    assert loaded["user_model_predicts_the_same"] is True  # torch.save of the tracked model
    assert loaded["checkpoint_class"] == "TinyMLP"  # ModelCheckpoint's file, written while tracked


def test_the_same_seeded_training_gives_identical_weights_with_and_without_autotrack(trained):
    assert trained["loaded"]["digest"] == trained["truth"]["digest"]


def test_users_exception_propagates_unchanged_and_the_run_is_failed(trained):
    assert trained["truth"]["raised"] == ["ValueError", "user bug in epoch 1"]
    failed = trained["failed"]
    assert failed["status"] == "failed" and failed["error"] == "ValueError: user bug in epoch 1"
    assert steps(failed, "train_loss") == steps(failed, "val_loss") == [0]  # the epoch it finished


# -- the explicit callback, enable after import, disable ---------------------------------------------
EXPLICIT = """
import json

from tiny import TinyMLP, loaders, make_trainer, pl

import autotrack
from autotrack.integrations.lightning import AutotrackCallback

methods = ("fit", "validate", "test", "predict")
originals = {name: pl.Trainer.__dict__[name] for name in methods}
train, val, test = loaders()

# Without enable(): the callback makes its run; test after fit joins it.
callback = AutotrackCallback()
trainer = make_trainer(max_epochs=2, callbacks=callback)  # a single callback: Lightning checks its class
model = TinyMLP()
trainer.fit(model, train, val)
test_acc = trainer.test(model, test)[0]["test_acc"]
autotrack.flush()

# enable() after the import; the user passes the callback as well.
autotrack.enable()
patched = all(pl.Trainer.__dict__[name] is not originals[name] for name in methods)
make_trainer(max_epochs=3, log_every_n_steps=1, check_val_every_n_epoch=2,
             callbacks=[AutotrackCallback()]).fit(TinyMLP(), train, val)

autotrack.disable()
restored = all(pl.Trainer.__dict__[name] is originals[name] for name in methods)
make_trainer(max_epochs=1).fit(TinyMLP(), train, val)  # not recorded any more
print(json.dumps({"is_package_callback": isinstance(callback, pl.Callback), "test_acc": test_acc,
                  "patched": patched, "restored": restored}))
"""


@pytest.fixture(scope="module")
def explicit(tmp_path_factory):
    package = PACKAGES[-1]  # pytorch_lightning where installed: the other import style
    directory = tmp_path_factory.mktemp("explicit")
    (directory / "tiny.py").write_text(textwrap.dedent(TINY))
    store = directory / "store"
    result = last_json(run_python(directory, store, EXPLICIT, package=package, tracked=False))
    return result, stored_runs(store)


def test_explicit_callback_without_enable_records_one_run_that_test_joins(explicit):
    result, runs = explicit
    assert result["is_package_callback"] is True
    assert len(runs) == 2
    own = runs[0]
    assert own["source"] == "callback" and own["status"] == "finished" and own["name"] == "TinyMLP"
    assert steps(own, "train_loss") == steps(own, "val_loss") == [0, 1]
    # Per-step metrics: log_every_n_steps=50 is longer than an epoch (5 batches), where Lightning's
    # loggers write nothing; each epoch's last step is recorded. Never in the epoch series.
    assert steps(own, "train_loss_step") == steps(own, "train_acc") == [4, 9]
    assert own["params"]["lr"] == 0.05 and own["params"]["optimizer.class"] == "SGD"
    assert own["history"]["test.test_acc"] == [[0, pytest.approx(result["test_acc"])]]
    assert {"fit_s", "test_s"} <= set(own["timings"])
    assert [a["name"] for a in own["artifacts"] if a["name"] != "sources.json"] == ["model.ckpt"]
    assert sorted(d["role"] for d in own["datasets"]) == [
        "test.X", "test.y", "train.X", "train.y", "valid.X", "valid.y"]


def test_explicit_callback_with_enable_after_import_gives_one_run_without_duplicates(explicit):
    result, runs = explicit
    assert result["patched"] is True
    tracked = runs[1]
    assert tracked["source"] == "auto" and tracked["status"] == "finished"
    assert duplicated_points(tracked) == {}
    assert steps(tracked, "train_loss_step") == list(range(15))  # 5 batches x 3 epochs, every step
    assert steps(tracked, "train_loss") == [0, 1, 2]


def test_validation_metrics_only_for_the_epochs_that_validated(explicit):
    _, runs = explicit
    assert steps(runs[1], "val_loss") == steps(runs[1], "val_acc") == [1]  # check_val_every_n_epoch=2


def test_disable_restores_the_original_trainer_methods(explicit):
    result, runs = explicit
    assert result["restored"] is True
    assert len(runs) == 2  # the fit after disable() made no run


# -- distributed: several processes, one run ---------------------------------------------------------
DDP = """
import json

from tiny import TinyMLP, loaders, make_trainer

train, val, _ = loaders()
trainer = make_trainer(max_epochs=2, devices=2, strategy="ddp", log_every_n_steps=1)
trainer.fit(TinyMLP(), train, val)
if trainer.global_rank == 0:
    print("RESULT " + json.dumps({"world_size": trainer.world_size, "global_step": trainer.global_step}))
"""


def test_ddp_on_two_cpu_processes_records_one_run_with_each_point_once(tmp_path):
    (tmp_path / "tiny.py").write_text(textwrap.dedent(TINY))
    store = tmp_path / "store"
    result = run_python(tmp_path, store, DDP, package=PACKAGES[0])
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    truth = json.loads(line[len("RESULT "):])
    assert truth["world_size"] == 2
    runs = stored_runs(store)
    assert len(runs) == 1
    run = runs[0]
    assert run["status"] == "finished"
    assert run["params"]["trainer.devices"] == 2 and run["params"]["trainer.strategy"] == "DDPStrategy"
    assert duplicated_points(run) == {}
    assert steps(run, "train_loss_step") == list(range(truth["global_step"]))
    assert steps(run, "val_loss") == [0, 1]


CLI = """
from tiny import TinyMLP, loaders, pl
import importlib

cli_module = importlib.import_module(pl.__name__ + ".cli")


class TinyData(pl.LightningDataModule):
    def train_dataloader(self):
        return loaders()[0]

    def val_dataloader(self):
        return loaders()[1]


cli_module.LightningCLI(TinyMLP, TinyData, args=[
    "fit", "--model.hidden=8", "--trainer.max_epochs=2", "--trainer.logger=false",
    "--trainer.enable_progress_bar=false", "--trainer.enable_checkpointing=false",
    "--trainer.accelerator=cpu"])
"""


@pytest.mark.parametrize("package", PACKAGES)
def test_a_training_started_by_lightning_cli_is_the_users_and_makes_one_run(tmp_path, package):
    """LightningCLI is Lightning's own code calling trainer.fit: for the user, not for itself."""
    pytest.importorskip("jsonargparse")
    store = tmp_path / "store"
    (tmp_path / "tiny.py").write_text(textwrap.dedent(TINY))
    run_python(tmp_path, store, CLI, package=package)
    (run,) = stored_runs(store)
    assert (run["name"], run["status"]) == ("TinyMLP", "finished")
    assert run["params"]["hidden"] == 8 and run["params"]["trainer.max_epochs"] == 2
    assert steps(run, "val_loss") == [0, 1]
