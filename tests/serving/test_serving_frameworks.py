"""Each framework's own model file, saved by a training script and loaded by a serving script
(both under AUTOTRACK=1): the served model is the training run's, and shifted features drift."""

from __future__ import annotations

import pytest

pytest.importorskip("datasketches")

DATA = """
import sys, numpy as np, pandas as pd
rng = np.random.default_rng(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
n = 3000
X = pd.DataFrame({f"f{i}": rng.normal(size=n) for i in range(4)})
y = (X.f0 - X.f1 > 0).astype(int)
if "shift" in sys.argv:
    X["f2"] += 1.0
"""

CASES = {
    "lightgbm-booster": ("lightgbm", """
import lightgbm as lgb
booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(X, y), 20)
booster.save_model("model.txt")
""", """
import lightgbm as lgb
model = lgb.Booster(model_file="model.txt")
for start in range(0, n, 500):
    model.predict(X.iloc[start:start + 500])
"""),
    "lightgbm-sklearn": ("lightgbm", """
import joblib, lightgbm as lgb
joblib.dump(lgb.LGBMClassifier(n_estimators=20, verbose=-1).fit(X, y), "model.joblib")
""", """
import joblib
model = joblib.load("model.joblib")
for start in range(0, n, 500):
    model.predict_proba(X.iloc[start:start + 500])
"""),
    "xgboost-booster": ("xgboost", """
import xgboost as xgb
xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, y), 20).save_model("model.ubj")
""", """
import xgboost as xgb
model = xgb.Booster()
model.load_model("model.ubj")
for start in range(0, n, 500):
    model.predict(xgb.DMatrix(X.iloc[start:start + 500]))
"""),
    "xgboost-sklearn": ("xgboost", """
import xgboost as xgb
xgb.XGBClassifier(n_estimators=20).fit(X, y).save_model("model.json")
""", """
import xgboost as xgb
model = xgb.XGBClassifier()
model.load_model("model.json")
for start in range(0, n, 500):
    model.predict(X.iloc[start:start + 500])
"""),
    "keras": ("keras", """
import os
os.environ["KERAS_BACKEND"] = "torch"
import keras
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(X.to_numpy("float32"), y.to_numpy(), epochs=2, verbose=0)
model.save("model.keras")
""", """
import os
os.environ["KERAS_BACKEND"] = "torch"
import keras
model = keras.saving.load_model("model.keras")
for start in range(0, n, 500):
    model.predict(X.iloc[start:start + 500].to_numpy("float32"), verbose=0)
"""),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_frameworks_own_model_file_links_serving_to_training(case, run_script, cli, monkeypatch):
    package, train, serve = CASES[case]
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    pytest.importorskip(package)
    run_script(DATA + train, name="train.py", env={"KERAS_BACKEND": "torch"})
    run_id = cli("runs", "--json")[0]["id"]
    run_script(DATA + serve, name="serve.py", args=["1", "shift"], env={"KERAS_BACKEND": "torch"})
    served = cli("serving", "--json")
    assert len(served) == 1
    assert served[0]["run"] is not None and served[0]["run"]["run_id"] == run_id, served
    assert served[0]["calls"] == 6 and served[0]["rows"] == 3000
    drift = cli("drift", run_id, "--json")
    columns = drift["overall"]["columns"]
    assert sorted(columns) == ["f0", "f1", "f2", "f3"] or sorted(columns) == ["x0", "x1", "x2", "x3"]
    assert len(drift["overall"]["drifted"]) == 1 and drift["overall"]["drifted"][0] in ("f2", "x2")


LIGHTNING_MODULE = """
import torch
from torch.utils.data import DataLoader, TensorDataset
try:
    import lightning.pytorch as pl
except ImportError:
    import pytorch_lightning as pl


class Lit(pl.LightningModule):
    def __init__(self, hidden=8):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.binary_cross_entropy_with_logits(self(x).squeeze(1), y)

    def predict_step(self, batch, batch_idx):
        return torch.sigmoid(self(batch[0]))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=0.01)


def loader(seed, n=3000):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    return DataLoader(TensorDataset(x, (x[:, 0] > 0).float()), batch_size=500)


def trainer():
    return pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                      enable_model_summary=False, accelerator="cpu")
"""


def test_a_lightning_checkpoint_served_with_trainer_predict_is_the_training_runs(run_script, cli, tmp_path):
    pytest.importorskip("torch")
    if not any(_importable(name) for name in ("lightning", "pytorch_lightning")):
        pytest.skip("no Lightning")
    (tmp_path / "lit.py").write_text(LIGHTNING_MODULE)
    run_script("""
        from lit import Lit, loader, trainer
        t = trainer()
        t.fit(Lit(), loader(0))
        t.save_checkpoint("model.ckpt")
    """, name="train.py")
    run_id = cli("runs", "--json")[0]["id"]
    run_script("""
        from lit import Lit, loader, trainer
        model = Lit.load_from_checkpoint("model.ckpt")
        predictions = trainer().predict(model, loader(1))
        print(len(predictions))
    """, name="serve.py")
    (served,) = cli("serving", "--json")
    assert served["run"]["run_id"] == run_id
    assert served["calls"] == 1 and served["rows"] == 3000
    assert len(cli("runs", "--json")) == 1  # serving is not a run of its own


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
