"""MLflow models and MLflow's Model Registry, for the MLflow backend: a run's saved model logged as
an MLflow model of its flavour (`mlflow.sklearn`, `.lightgbm`, `.xgboost`, `.keras`, `.pytorch`)
under the run's `model/` folder, loadable by `mlflow.pyfunc.load_model`; autotrack's registered
names, versions and aliases mirrored to the Model Registry (`models:/churn@champion`).

These load the user's model, which may change a framework's global state (Keras's seed generator,
torch's random state), so they run in autotrack's own commands (`autotrack sync`, `autotrack
models`), never in the user's training process.
"""

from __future__ import annotations

import importlib
import os
import re
import tempfile

MODEL_FOLDER = "model"
VERSION_TAG = "autotrack.version"  # autotrack's version number, on the MLflow model version


def log_model(client, remote_run_id: str, model, flavor: dict, run: dict) -> None:
    """Save `model` with `mlflow.<flavor>.save_model` and log it to the MLflow run as `model/`."""
    module = importlib.import_module(f"mlflow.{flavor['flavor']}")
    packages = (run.get("context") or {}).get("packages") or {}
    requirements = [f"{name}=={packages[name]}" if packages.get(name) else name for name in flavor["packages"]]
    with tempfile.TemporaryDirectory(prefix="autotrack-mlflow-model-") as folder:
        path = os.path.join(folder, MODEL_FOLDER)
        # Requirements from what the run recorded: MLflow would otherwise infer them by loading the
        # model again in a subprocess (seconds a model).
        # An estimator's predict answers in its training target's terms; a booster's or a
        # network's (scores, probabilities) do not: their output schema is left out.
        signature = signature_of(run.get("datasets") or [], outputs=flavor["flavor"] == "sklearn")
        module.save_model(model, path, signature=signature, pip_requirements=requirements,
                          **_accepted(module.save_model, flavor.get("options") or {}))
        client.log_artifacts(remote_run_id, path, artifact_path=MODEL_FOLDER)


def _accepted(function, options: dict) -> dict:
    """The options this MLflow's `save_model` takes (an older one may not know a newer option)."""
    import inspect

    parameters = inspect.signature(function).parameters
    return {key: value for key, value in options.items() if key in parameters}


def signature_of(datasets: list[dict], outputs: bool = True):
    """The model's input (and, with `outputs`, output) schema from the training data autotrack
    recorded: named columns for a DataFrame, a tensor of the array's dtype and width for an
    array; None when the run recorded no training data."""
    from mlflow.models import ModelSignature

    inputs = _schema(next((d for d in datasets if d.get("role") == "train.X"), None))
    if inputs is None:
        return None
    target = next((d for d in datasets if d.get("role") == "train.y"), None) if outputs else None
    return ModelSignature(inputs=inputs, outputs=_schema(target))


def _schema(description: dict | None):
    from mlflow.types import ColSpec, Schema, TensorSpec

    if not description or not description.get("schema") or description.get("schema_truncated"):
        return None
    columns = description["schema"]
    names = [str(column.get("name")) for column in columns]
    dtypes = {str(column.get("dtype")) for column in columns}
    if _generated(names) and len(dtypes) == 1:  # an array: one dtype, no column names of the user's
        import numpy

        dtype = dtypes.pop()
        try:
            numpy_dtype = numpy.dtype(dtype)
        except TypeError:
            return None
        shape = (-1,) if description.get("columns") == 1 and description.get("role") == "train.y" else (-1, len(names))
        return Schema([TensorSpec(numpy_dtype, shape)])
    from autotrack.stores.mlflow import _mlflow_type

    return Schema([ColSpec(_mlflow_type(column.get("dtype")), str(column.get("name"))) for column in columns])


def _generated(names: list[str]) -> bool:
    """Whether column names are the ones a library makes up for an array's columns (x0, x1 ...;
    Column_0 ...; f0 ...): one prefix, then 0, 1, 2 in order."""
    matches = [_NUMBERED.match(name) for name in names]
    return bool(names) and all(matches) and len({m.group(1) for m in matches}) == 1 and \
        [int(m.group(2)) for m in matches] == list(range(len(names)))


_NUMBERED = re.compile(r"^(\D*?)(\d+)$")


# -- the Model Registry -----------------------------------------------------------------------------
def mirror_version(client, name: str, version: int, remote_run_id: str, description: str | None) -> str:
    """The MLflow model version of `name` made from the run's `model/`, created once: a version
    made by an earlier mirror whose answer was lost is found again by its run and tag."""
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name)
    except MlflowException as exc:
        if getattr(exc, "error_code", "") != "RESOURCE_ALREADY_EXISTS":
            raise
    for found in client.search_model_versions(f"name = '{_quoted(name)}' and run_id = '{remote_run_id}'"):
        if (found.tags or {}).get(VERSION_TAG) == str(version):
            return str(found.version)
    artifact_uri = client.get_run(remote_run_id).info.artifact_uri
    created = client.create_model_version(name, f"{artifact_uri}/{MODEL_FOLDER}", run_id=remote_run_id,
                                          tags={VERSION_TAG: str(version)}, description=description,
                                          await_creation_for=0)
    return str(created.version)


def mirror_aliases(client, name: str, aliases: dict[str, str]) -> None:
    """Make the registered model's aliases those given ({alias: MLflow version}): set, moved or
    removed to match autotrack's registry."""
    current = dict(client.get_registered_model(name).aliases or {})
    for alias, version in aliases.items():
        if str(current.get(alias)) != str(version):
            client.set_registered_model_alias(name, alias, version)
    for alias in set(current) - set(aliases):
        client.delete_registered_model_alias(name, alias)


def _quoted(text: str) -> str:
    return text.replace("'", "\\'")


__all__ = ["log_model", "signature_of", "mirror_version", "mirror_aliases", "MODEL_FOLDER"]
