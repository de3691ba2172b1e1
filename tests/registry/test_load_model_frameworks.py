"""`autotrack.load_model` gives each framework's model back in its own format, predicting as the
trained one did: a LightGBM and an XGBoost Booster, a Keras model, a LightningModule (whose class
the loading code imports, as Lightning's own `load_from_checkpoint` needs)."""

from __future__ import annotations

import importlib.util

import pytest
from scripting import printed


def _needs(*modules: str) -> None:
    missing = [module for module in modules if importlib.util.find_spec(module) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")


def _register_and_load(run_script, cli, loader: str, name: str, env: dict | None = None) -> dict:
    run_id = cli("runs", "--json")[0]["id"]
    cli("models", "register", run_id, name, "--alias", "champion")
    return printed(run_script(loader, name="load.py", tracked=False, env=env, args=[f"{name}@champion"]))


BOOSTERS = """
import json, sys
import numpy as np
rng = np.random.default_rng(0)
X = rng.normal(size=(300, 5)); y = (X[:, 0] - X[:, 2] > 0).astype(int)
probe = rng.normal(size=(10, 5))
np.save("probe.npy", probe)
if sys.argv[1] == "lightgbm":
    import lightgbm
    booster = lightgbm.train({"objective": "binary", "verbose": -1, "num_leaves": 7},
                             lightgbm.Dataset(X, y), num_boost_round=12)
    print(json.dumps(booster.predict(probe).tolist()))
else:
    import xgboost
    booster = xgboost.train({"objective": "binary:logistic", "max_depth": 3}, xgboost.DMatrix(X, y),
                            num_boost_round=12)
    print(json.dumps(booster.predict(xgboost.DMatrix(probe)).tolist()))
"""

LOAD_BOOSTER = """
import json, sys
import numpy as np
import autotrack
probe = np.load("probe.npy")
model = autotrack.load_model(sys.argv[1])
if type(model).__module__.startswith("xgboost"):
    import xgboost
    probe = xgboost.DMatrix(probe)
print(json.dumps([type(model).__module__ + "." + type(model).__name__, model.predict(probe).tolist()]))
"""


@pytest.mark.parametrize("framework", ["lightgbm", "xgboost"])
def test_boosters_load_back_as_boosters(framework, run_script, cli):
    _needs(framework)
    trained = printed(run_script(BOOSTERS, args=[framework]))
    kind, predictions = _register_and_load(run_script, cli, LOAD_BOOSTER, "risk")
    assert kind == {"lightgbm": "lightgbm.basic.Booster", "xgboost": "xgboost.core.Booster"}[framework]
    assert predictions == pytest.approx(trained, rel=1e-6)


KERAS = """
import json
import numpy as np
import keras
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 6)).astype("float32"); y = (X[:, 0] > 0).astype("float32")
model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(X, y, epochs=2, batch_size=32, validation_split=0.2, verbose=0)
probe = rng.normal(size=(8, 6)).astype("float32")
np.save("probe.npy", probe)
print(json.dumps(model.predict(probe, verbose=0).ravel().tolist()))
"""

LOAD_KERAS = """
import json, sys
import numpy as np
import autotrack
model = autotrack.load_model(sys.argv[1])
print(json.dumps([type(model).__name__, model.predict(np.load("probe.npy"), verbose=0).ravel().tolist()]))
"""


def test_keras_model_loads_back_as_a_keras_model(run_script, cli):
    _needs("keras", "torch")
    env = {"KERAS_BACKEND": "torch"}
    trained = printed(run_script(KERAS, env=env))
    kind, predictions = _register_and_load(run_script, cli, LOAD_KERAS, "net", env=env)
    assert kind == "Sequential"
    assert predictions == pytest.approx(trained, rel=1e-5)


# The module lives in the project's own file, which the training and the serving code import.
LIT_MODULE = """
import torch
from torch import nn
import lightning.pytorch as pl


class Scorer(pl.LightningModule):
    def __init__(self, width: int = 8, lr: float = 0.05):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(4, width), nn.ReLU(), nn.Linear(width, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.binary_cross_entropy_with_logits(self(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)
"""

LIGHTNING = """
import json
import torch
from torch.utils.data import DataLoader, TensorDataset
import lightning.pytorch as pl
from scorer import Scorer

torch.manual_seed(0)
X = torch.randn(128, 4); y = (X[:, 0] > 0).float()
module = Scorer(width=6)
trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                     enable_model_summary=False)
trainer.fit(module, DataLoader(TensorDataset(X, y), batch_size=32))
probe = torch.randn(5, 4)
torch.save(probe, "probe.pt")
with torch.no_grad():
    print(json.dumps(module.eval()(probe).tolist()))
"""

LOAD_LIGHTNING = """
import json, sys
import torch
import autotrack
model = autotrack.load_model(sys.argv[1])
with torch.no_grad():
    print(json.dumps([type(model).__name__, model.hparams["width"], model.eval()(torch.load("probe.pt")).tolist()]))
"""


def test_lightning_module_loads_back_through_its_class(run_script, cli, tmp_path):
    _needs("lightning", "torch")
    (tmp_path / "scorer.py").write_text(LIT_MODULE)
    trained = printed(run_script(LIGHTNING))
    kind, width, predictions = _register_and_load(run_script, cli, LOAD_LIGHTNING, "scorer")
    assert (kind, width) == ("Scorer", 6)
    assert predictions == pytest.approx(trained, rel=1e-5)
