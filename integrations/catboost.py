"""CatBoost: the `fit` of its estimators and `catboost.train`, in one module.

It is written as any framework's integration would be, a third party's included (docs/hooks.md
walks through it): it names what to patch, then answers the core's hooks for CatBoost's models.
Per-iteration metrics are read from the model once training returns (`get_evals_result`: every
iteration, on the training data as `learn.<metric>` and on each eval set as CatBoost names it,
`validation.<metric>` or `validation_0.<metric>`, ...), each with the goal CatBoost itself knows
for the metric. Params are CatBoost's own names (an alias the user wrote, `n_estimators`, is
stored as `iterations`), those CatBoost chose itself (its learning rate) added after training.
The model is saved in CatBoost's own format, `model.cbm`.

Nothing here imports CatBoost at start-up: every hook is called once the user has imported it.
"""

from __future__ import annotations

import sys

from autotrack.capture.eval_sets import describe_eval_sets, eval_pairs, training_function_name
from autotrack.integration import Integration, Target, bound_arguments
from autotrack.plugins import hookimpl

TRAIN_RUN = "catboost.train"
ESTIMATORS = ("CatBoost", "CatBoostClassifier", "CatBoostRegressor", "CatBoostRanker")
# What users write for a param (scikit-learn's and XGBoost's names) -> CatBoost's own name.
ALIASES = {
    "eta": "learning_rate", "num_boost_round": "iterations", "n_estimators": "iterations",
    "num_trees": "iterations", "max_depth": "depth", "reg_lambda": "l2_leaf_reg",
    "random_state": "random_seed", "objective": "loss_function", "colsample_bylevel": "rsm",
    "max_bin": "border_count", "min_child_samples": "min_data_in_leaf", "num_leaves": "max_leaves",
}


# -- what to patch --------------------------------------------------------------------------------
@hookimpl
def autotrack_register_integrations(register):
    register(Integration(name="catboost", modules=("catboost",), distribution="catboost",
                         supported=">=1.2,<2", targets=_targets))


def _targets(module):
    # Each class's own methods: CatBoostClassifier.fit does not call CatBoost.fit, so both are
    # patched; `catboost.train` calls a model's fit from inside CatBoost, which stays part of it.
    for name in ESTIMATORS:
        cls = getattr(module, name)
        for method, kind in (("fit", "fit"), ("predict", "predict"), ("predict_proba", "predict")):
            if method in vars(cls):
                yield Target(cls, method, kind)
    yield Target(module, "train", "fit", data_arguments=_training_data, run_name=TRAIN_RUN)


def _training_data(args, kwargs) -> dict:
    """train(pool=None, params=None, dtrain=None, ...): a Pool, or an (X, y) pair."""
    data = args[0] if args else kwargs.get("pool", kwargs.get("dtrain"))
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return {"X": data[0], "y": data[1]}
    return {"X": data}


def _is_catboost_model(value) -> bool:
    catboost = sys.modules.get("catboost")
    return catboost is not None and isinstance(value, catboost.CatBoost)


def _is_train_call(call) -> bool:
    return call is not None and call.target.run_name == TRAIN_RUN


# -- before training ------------------------------------------------------------------------------
@hookimpl(tryfirst=True)
def autotrack_model_params(model, call):
    if _is_catboost_model(model):
        return canonical_params(model.get_params())
    if model is None and _is_train_call(call):
        arguments = _train_arguments(call)
        given = {"iterations": arguments.get("iterations") or arguments.get("num_boost_round"),
                 "early_stopping_rounds": arguments.get("early_stopping_rounds")}
        given = {name: value for name, value in given.items() if value is not None}
        return canonical_params({**given, **(arguments.get("params") or {})})
    return None


@hookimpl
def autotrack_run_name(model, call):
    """`catboost.train(Logloss)`, `, continued` from an init_model; an estimator keeps its class's name."""
    if model is not None or not _is_train_call(call):
        return None
    arguments = _train_arguments(call)
    params = canonical_params(dict(arguments.get("params") or {}))
    return training_function_name(TRAIN_RUN, params.get("loss_function", "RMSE"),
                                  arguments.get("init_model") is not None)


@hookimpl
def autotrack_prepare_call(call, run):
    """The eval sets, described as `valid.<name>` as CatBoost names them in its metrics."""
    if call.target.kind != "fit" or not (_is_train_call(call) or _is_catboost_model(call.instance)):
        return
    arguments = _train_arguments(call) if _is_train_call(call) else _fit_arguments(call)
    eval_set = arguments.get("eval_set", arguments.get("evals"))
    if eval_set is None:
        return
    sets = eval_set if isinstance(eval_set, list) else [eval_set]
    names = (lambda index: "validation") if len(sets) == 1 else (lambda index: f"validation_{index}")
    describe_eval_sets(run, eval_pairs(sets, names))


# -- after training -------------------------------------------------------------------------------
@hookimpl
def autotrack_fit_results(model, run, call):
    if not _is_catboost_model(model):
        return
    given = canonical_params(model.get_params())
    run.log_params({name: value for name, value in _resolved_params(model).items() if name not in given})
    history = model.get_evals_result()
    goals = {}
    for set_name, metrics in history.items():
        for metric, values in metrics.items():
            key = f"{set_name}.{metric}"
            goals[key] = _goal(metric)
            for step, value in enumerate(values):
                run.log_metrics({key: value}, step=step)
    best_iteration = model.get_best_iteration()
    if best_iteration is not None:  # an eval set was given: CatBoost's best iteration and its scores
        best = {f"best.{set_name}.{metric}": value for set_name, scores in model.get_best_score().items()
                for metric, value in scores.items()}
        run.log_metrics({"best_iteration": best_iteration, **best}, step=0)
        goals.update({"best_iteration": "none", **{key: _goal(key.rsplit(".", 1)[1]) for key in best}})
    # The iterations trained: with an eval set, the model keeps only those up to the best one.
    trained = max((len(values) for metrics in history.values() for values in metrics.values()),
                  default=model.tree_count_)
    if best_iteration is not None:
        planned = _resolved_params(model).get("iterations")
        run.set_tags({"early_stopping": "fired" if planned is not None and trained < planned else "not fired"})
    if goals:
        run.set_metric_goals(goals)
    run.set_timings({"iterations": trained})


@hookimpl(tryfirst=True)
def autotrack_feature_importances(model, call):
    if not _is_catboost_model(model):
        return None
    values = model.get_feature_importance()
    return {"prediction_values_change": {str(name): float(value)
                                         for name, value in zip(model.feature_names_, values)}}


@hookimpl(tryfirst=True)
def autotrack_model_artifact(model, call):
    """`model.cbm`: a copy taken now (CatBoost copies a model in well under a millisecond per
    hundred trees), saved on the writer thread, so that a refit meanwhile changes nothing."""
    if not _is_catboost_model(model):
        return None
    snapshot = model.copy()
    return "model.cbm", lambda path: snapshot.save_model(path, format="cbm")


# -- the registry and backends --------------------------------------------------------------------
@hookimpl
def autotrack_model_loader(name, model_class):
    if name != "model.cbm":
        return None

    def load(path: str):
        import catboost

        class_name = (model_class or "").rpartition(".")[2]
        cls = getattr(catboost, class_name, None) if class_name in ESTIMATORS else None
        return (cls or catboost.CatBoost)().load_model(path, format="cbm")

    return load


@hookimpl
def autotrack_mlflow_flavor(model):
    if type(model).__module__.split(".")[0] == "catboost":
        return {"flavor": "catboost", "packages": ["catboost"]}
    return None


# -- reading CatBoost's settings ------------------------------------------------------------------
def canonical_params(params: dict) -> dict:
    """CatBoost's own names for what the user set; an explicit CatBoost name wins over an alias."""
    canonical = {}
    for name, value in params.items():
        primary = ALIASES.get(name, name)
        if primary not in canonical or primary == name:
            canonical[primary] = value
    return canonical


def _resolved_params(model) -> dict:
    """Every param as CatBoost trained with it (its chosen learning rate included)."""
    try:
        return model.get_all_params() or {}
    except Exception:  # a model loaded from a file in a format that keeps none
        return {}


def _goal(metric: str) -> str:
    from catboost.core import is_maximizable_metric

    try:
        return "max" if is_maximizable_metric(metric) else "min"
    except Exception:  # a user-defined metric object's name: CatBoost does not know it
        return "none"


def _fit_arguments(call) -> dict:
    return bound_arguments(call.instance.fit, call)


def _train_arguments(call) -> dict:
    return bound_arguments(call.target.owner.train, call)