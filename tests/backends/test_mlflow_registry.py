"""Models in MLflow, end to end against the real server the suite starts: each run's model logged
as an MLflow model of the flavour its integration names (`autotrack_mlflow_flavor`; loadable by `mlflow.pyfunc.load_model`, with a signature from
the recorded training data), and the registry's names, versions and aliases mirrored to MLflow's
Model Registry; a server that is down when a model is registered gets it from `autotrack sync`."""

from __future__ import annotations

import importlib.util
import uuid

import pytest
from scripting import printed

mlflow = pytest.importorskip("mlflow")


def backend_env(uri: str, **extra) -> dict:
    return {"AUTOTRACK_BACKENDS": "local,mlflow", "MLFLOW_TRACKING_URI": uri, "MLFLOW_DISABLE_TELEMETRY": "true",
            **extra}


def unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


# A DataFrame with named columns (a column signature) for scikit-learn; arrays for the boosters.
TRAIN = """
import json
import numpy as np
import pandas as pd
import lightgbm
import xgboost
from sklearn.linear_model import LogisticRegression

rng = np.random.default_rng(0)
X = pd.DataFrame(rng.normal(size=(300, 3)), columns=["tenure", "spend", "visits"])
y = (X["tenure"] - X["visits"] > 0).astype(int)
probe = pd.DataFrame(rng.normal(size=(6, 3)), columns=X.columns)
probe.to_parquet("probe.parquet")
out = {}
out["LogisticRegression"] = LogisticRegression(C=0.5).fit(X, y).predict(probe).tolist()
booster = lightgbm.train({"objective": "binary", "verbose": -1}, lightgbm.Dataset(X.to_numpy(), y.to_numpy()),
                         num_boost_round=8)
out["lightgbm"] = booster.predict(probe.to_numpy()).tolist()
xgb = xgboost.train({"objective": "binary:logistic"}, xgboost.DMatrix(X.to_numpy(), y.to_numpy()),
                    num_boost_round=8)
out["xgboost"] = xgb.predict(xgboost.DMatrix(probe.to_numpy())).tolist()
print(json.dumps(out))
"""

PYFUNC = """
import json, sys
import mlflow
import pandas as pd
probe = pd.read_parquet("probe.parquet")
out = {}
for uri in sys.argv[1:]:
    model = mlflow.pyfunc.load_model(uri)
    data = probe if "sklearn" in model.metadata.flavors else probe.to_numpy()
    signature = model.metadata.signature
    out[uri] = {"flavors": sorted(model.metadata.flavors), "predictions": list(map(float, model.predict(data))),
                "inputs": signature.inputs.to_dict() if signature else None}
print(json.dumps(out))
"""


def _run_ids(cli, env) -> dict[str, str]:
    return {run["name"].split("(")[0].split(" ")[0]: run["id"] for run in cli("runs", "--json", env=env)}


def test_registered_models_are_mlflow_models_and_aliases_are_mirrored(mlflow_server, run_script, cli):
    pytest.importorskip("lightgbm")
    pytest.importorskip("xgboost")
    env = backend_env(mlflow_server)
    trained = printed(run_script(TRAIN, env=env))
    ids = _run_ids(cli, env)
    churn, risk = unique("churn"), unique("risk")
    cli("models", "register", ids["LogisticRegression"], churn, "--alias", "champion", env=env)
    cli("models", "register", ids["lightgbm.train"], risk, "--alias", "champion", env=env)
    cli("models", "register", ids["xgboost.train"], risk, "--alias", "challenger", env=env)

    client = mlflow.MlflowClient(mlflow_server)
    assert client.get_registered_model(churn).aliases == {"champion": "1"}
    assert client.get_registered_model(risk).aliases == {"champion": "1", "challenger": "2"}
    versions = {v.version: v for v in client.search_model_versions(f"name = '{risk}'")}
    assert versions["2"].tags["autotrack.version"] == "2"
    remote_runs = {run["id"]: run["exports"]["mlflow"]["remote_id"] for run in cli("runs", "--json", env=env)}
    assert versions["2"].run_id == remote_runs[ids["xgboost.train"]]

    uris = [f"models:/{churn}@champion", f"models:/{risk}@champion", f"models:/{risk}@challenger"]
    loaded = printed(run_script(PYFUNC, name="serve.py", tracked=False, env=env, args=uris))
    sklearn_model = loaded[uris[0]]
    assert sklearn_model["flavors"] == ["python_function", "sklearn"]
    assert sklearn_model["predictions"] == trained["LogisticRegression"]
    assert [column["name"] for column in sklearn_model["inputs"]] == ["tenure", "spend", "visits"]
    assert loaded[uris[1]]["flavors"] == ["lightgbm", "python_function"]
    assert loaded[uris[1]]["predictions"] == pytest.approx(trained["lightgbm"], rel=1e-6)
    assert loaded[uris[2]]["flavors"] == ["python_function", "xgboost"]
    assert loaded[uris[2]]["predictions"] == pytest.approx(trained["xgboost"], rel=1e-6)

    # Aliases follow: moved, then removed.
    cli("models", "alias", risk, "2", "champion", "--force", env=env)
    assert client.get_registered_model(risk).aliases == {"champion": "2", "challenger": "2"}
    cli("models", "unalias", risk, "challenger", env=env)
    assert client.get_registered_model(risk).aliases == {"champion": "2"}
    # Mirroring again creates nothing twice.
    cli("sync", env=env)
    assert len(client.search_model_versions(f"name = '{risk}'")) == 2


KERAS_AND_LIGHTNING = """
import json
import numpy as np
import keras
import torch
from torch.utils.data import DataLoader, TensorDataset
import lightning.pytorch as pl
from scorer import Scorer

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
X = rng.normal(size=(160, 4)).astype("float32"); y = (X[:, 0] > 0).astype("float32")
net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, activation="relu"),
                        keras.layers.Dense(1, activation="sigmoid")])
net.compile(optimizer="adam", loss="binary_crossentropy")
net.fit(X, y, epochs=2, verbose=0)
module = Scorer()
pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
           enable_model_summary=False).fit(module, DataLoader(TensorDataset(torch.tensor(X), torch.tensor(y)),
                                                              batch_size=32))
probe = rng.normal(size=(5, 4)).astype("float32")
np.save("probe.npy", probe)
with torch.no_grad():
    lit = module.eval()(torch.tensor(probe)).tolist()
print(json.dumps({"keras": net.predict(probe, verbose=0).ravel().tolist(), "lightning": lit}))
"""

SCORER = """
import torch
from torch import nn
import lightning.pytorch as pl


class Scorer(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.binary_cross_entropy_with_logits(self(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)
"""

PYFUNC_ARRAYS = """
import json, sys
import numpy as np
import mlflow
probe = np.load("probe.npy")
out = {}
for uri in sys.argv[1:]:
    model = mlflow.pyfunc.load_model(uri)
    out[uri] = [sorted(model.metadata.flavors), np.asarray(model.predict(probe)).ravel().tolist()]
print(json.dumps(out))
"""


def test_sync_logs_keras_and_lightning_models_as_mlflow_models(mlflow_server, run_script, cli, tmp_path):
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("lightning") is None:
        pytest.skip("keras and lightning are needed")
    (tmp_path / "scorer.py").write_text(SCORER)
    env = backend_env(mlflow_server, KERAS_BACKEND="torch")
    trained = printed(run_script(KERAS_AND_LIGHTNING, env=env))
    synced = cli("sync", env=env)
    assert "logged 2 models to mlflow" in synced.stdout, synced.stdout + synced.stderr
    remote = {run["name"]: run["exports"]["mlflow"]["remote_id"] for run in cli("runs", "--json", env=env)}
    keras_run = next(remote_id for name, remote_id in remote.items() if name.startswith("Sequential"))
    lightning_run = next(remote_id for name, remote_id in remote.items() if name.startswith("Scorer"))
    uris = [f"runs:/{keras_run}/model", f"runs:/{lightning_run}/model"]
    loaded = printed(run_script(PYFUNC_ARRAYS, name="serve.py", tracked=False, env=env, args=uris))
    assert loaded[uris[0]][0] == ["keras", "python_function"]
    assert loaded[uris[0]][1] == pytest.approx(trained["keras"], rel=1e-5)
    assert loaded[uris[1]][0] == ["python_function", "pytorch"]
    assert loaded[uris[1]][1] == pytest.approx(trained["lightning"], rel=1e-5)
    assert "logged" not in cli("sync", env=env).stdout  # once


def test_a_model_registered_while_the_server_is_down_is_mirrored_by_sync(mlflow_restartable, run_script, cli):
    pytest.importorskip("lightgbm")
    pytest.importorskip("xgboost")
    env = backend_env(mlflow_restartable.uri)
    run_script(TRAIN, env=env)
    ids = _run_ids(cli, env)
    name = unique("churn")
    mlflow_restartable.stop()
    registered = cli("models", "register", ids["LogisticRegression"], name, "--alias", "champion", env=env)
    assert f"registered {name}/1" in registered.stdout
    assert "not mirrored to mlflow yet" in registered.stderr and registered.stderr.count("\n") == 1
    mlflow_restartable.start()
    synced = cli("sync", env=env)
    assert "registry mirrored to mlflow" in synced.stdout, synced.stdout + synced.stderr
    client = mlflow.MlflowClient(mlflow_restartable.uri)
    assert client.get_registered_model(name).aliases == {"champion": "1"}
