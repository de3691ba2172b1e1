"""scikit-learn: every estimator's fit/predict/transform/score, Pipelines, and searches as child runs."""

from __future__ import annotations

import os
import pickle
import sys

from autotrack.integration import Integration, Target
from autotrack.plugins import hookimpl
from autotrack.safety import warn_once

# Method name -> what the core does with it.
METHODS = {
    "fit": "fit",
    "fit_transform": "fit",
    "fit_predict": "fit",
    "predict": "predict",
    "predict_proba": "predict",
    "predict_log_proba": "predict",
    "decision_function": "predict",
    "transform": "transform",
    "score": "score",
}
MAX_CHILD_RUNS = 10_000  # a search's candidates beyond this are summarised on the parent only


# Validation helpers evaluate a configuration on folds (or a fitted model on data): one run holds
# what they compute (the clones they fit are part of it), or the model's run when that estimator
# was fitted before. Each function -> the module that defines it (it is patched there and where
# it is re-exported).
VALIDATION_FUNCTIONS = {
    "cross_validate": "sklearn.model_selection._validation",
    "cross_val_score": "sklearn.model_selection._validation",
    "cross_val_predict": "sklearn.model_selection._validation",
    "learning_curve": "sklearn.model_selection._validation",
    "validation_curve": "sklearn.model_selection._validation",
    "permutation_test_score": "sklearn.model_selection._validation",
    "permutation_importance": "sklearn.inspection._permutation_importance",
}
_REEXPORTED_BY = {"sklearn.model_selection._validation": "sklearn.model_selection",
                  "sklearn.inspection._permutation_importance": "sklearn.inspection"}


def _cross_validation_data(args, kwargs) -> dict:
    """`cross_validate(estimator, X, y=None, *, groups=None, ...)`."""
    return {"X": args[1] if len(args) > 1 else kwargs.get("X"),
            "y": args[2] if len(args) > 2 else kwargs.get("y")}


def _cross_validation_estimator(instance, args, kwargs):
    return args[0] if args else kwargs.get("estimator")


def targets_in(module):
    """Methods defined by scikit-learn classes in `module` (estimators and their mixins), and
    the cross-validation functions where they are defined and re-exported."""
    for value in list(vars(module).values()):
        if isinstance(value, type) and value.__module__ == module.__name__ and _is_estimator_class(value):
            yield from class_targets(value)
    if module.__name__ == "sklearn.metrics":
        for name in sorted(vars(module)):
            if _is_prediction_metric(name, getattr(module, name)):
                yield Target(module, name, "metric")
    if module.__name__ == "sklearn.metrics._scorer" and isinstance(getattr(module, "_BaseScorer", None), type):
        yield Target(module._BaseScorer, "__call__", "scorer", data_arguments=_scorer_data,
                     model=_cross_validation_estimator, metric_name=_scorer_name)
    for name, defined_in in VALIDATION_FUNCTIONS.items():
        if module.__name__ in (defined_in, _REEXPORTED_BY[defined_in]) and callable(getattr(module, name, None)):
            yield Target(module, name, "evaluate", data_arguments=_cross_validation_data,
                         model=_cross_validation_estimator, run_name=name)


def _scorer_data(args, kwargs) -> dict:
    """`scorer(estimator, X, y_true, ...)`."""
    return {"X": args[1] if len(args) > 1 else kwargs.get("X"),
            "y": args[2] if len(args) > 2 else kwargs.get("y_true")}


def _scorer_name(scorer) -> str:
    """`get_scorer("roc_auc")` -> `roc_auc_score`; a negated error -> `neg_mean_squared_error`, as
    scikit-learn names the scorer (its value is negated: higher is better)."""
    function = getattr(scorer, "_score_func", None)
    name = getattr(function, "__name__", None) or type(scorer).__name__
    return f"neg_{name}" if getattr(scorer, "_sign", 1) < 0 else name


# sklearn.metrics functions of (y_true, y_pred or y_score) that return one number: given what a
# tracked model predicted, their value is recorded on its run (MLflow's autolog does the same).
_METRIC_SUFFIXES = ("_score", "_error", "_loss", "_deviance")
_METRIC_EXTRAS = frozenset({"matthews_corrcoef", "max_error", "cohen_kappa_score"})
_NOT_PREDICTION_METRICS = frozenset({
    "silhouette_score", "calinski_harabasz_score", "davies_bouldin_score",  # of X and labels
    "adjusted_rand_score", "rand_score", "mutual_info_score", "adjusted_mutual_info_score",
    "normalized_mutual_info_score", "homogeneity_score", "completeness_score", "v_measure_score",
    "fowlkes_mallows_score", "consensus_score", "check_scoring", "get_scorer",
})


def _is_prediction_metric(name: str, value) -> bool:
    return (callable(value) and not isinstance(value, type) and not name.startswith("_")
            and name not in _NOT_PREDICTION_METRICS
            and (name.endswith(_METRIC_SUFFIXES) or name in _METRIC_EXTRAS))


def class_targets(cls):
    """The tracked methods a class defines itself (inherited ones are patched where defined)."""
    for attribute, kind in METHODS.items():
        if attribute in cls.__dict__:
            yield Target(cls, attribute, kind)


def subclass_roots(module):
    """Users' own estimators subclass BaseEstimator: their fit/predict are tracked too."""
    if module.__name__ == "sklearn.base":
        yield module.BaseEstimator


def _is_estimator_class(cls) -> bool:
    # Mixins (ClassifierMixin.score, TransformerMixin.fit_transform) carry inherited methods.
    return hasattr(cls, "get_params") or cls.__name__.endswith("Mixin")


def _is_estimator(model) -> bool:
    base = sys.modules.get("sklearn.base")
    return base is not None and isinstance(model, base.BaseEstimator)


@hookimpl
def autotrack_register_integrations(register):
    register(Integration(
        name="sklearn",
        modules=("sklearn",),
        distribution="scikit-learn",
        supported=">=1.2,<2",
        targets=targets_in,
        include_submodules=True,
        subclass_roots=subclass_roots,
        class_targets=class_targets,
    ))


@hookimpl
def autotrack_model_params(model):
    if _is_estimator(model):
        return readable_params(model.get_params(deep=True))
    return None


def readable_params(params: dict) -> dict:
    """get_params(deep=True) as structure: each nested estimator is its class name, since its own
    params follow as `<name>__<param>` (`clf` = "LogisticRegression", `clf__C` = 1.0); a Pipeline's
    `steps` are [[name, class], ...], a ColumnTransformer's `transformers` [[name, class, columns]]."""
    return {key: _readable(value) for key, value in params.items()}


def _readable(value, depth: int = 0):
    if depth > 10:
        return value
    if _is_estimator(value) or isinstance(value, type) and hasattr(value, "get_params"):
        return value.__name__ if isinstance(value, type) else type(value).__name__
    if isinstance(value, (list, tuple)):
        return [_readable(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {key: _readable(item, depth + 1) for key, item in value.items()}
    if type(value).__name__ == "make_column_selector":
        chosen = {key: getattr(value, key, None) for key in ("pattern", "dtype_include", "dtype_exclude")}
        text = ", ".join(f"{key}={_readable_text(item)}" for key, item in chosen.items() if item is not None)
        return f"make_column_selector({text})"
    return value


def _readable_text(value) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_readable_text(item) for item in value) + "]"
    if isinstance(value, type):
        return value.__name__
    return repr(value)


MAX_NAME_CHARS = 80


@hookimpl
def autotrack_run_name(model):
    """What the model is made of: `Pipeline(LogisticRegression)` (the final estimator),
    `GridSearchCV(Pipeline(SVC))`, `StackingClassifier(LogisticRegression, RandomForestClassifier)`."""
    if not _is_estimator(model):
        return None
    return _short_name(model_name(model))


def _short_name(name: str) -> str:
    return name if len(name) <= MAX_NAME_CHARS else name[:MAX_NAME_CHARS - 1] + "…"


def model_name(model, depth: int = 0) -> str:
    own = type(model).__name__
    if depth > 4:
        return own
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and steps:
        final = next((step for _, step in reversed(steps) if step is not None and step != "passthrough"), None)
        return f"{own}({model_name(final, depth + 1)})" if _is_estimator(final) else own
    try:
        given = model.get_params(deep=False)  # what the user configured, not fixed internals
    except Exception:  # an estimator whose get_params needs something it lacks
        return own
    inner = given.get("estimator")  # a search's, a Bagging's; never a forest's fixed tree
    if _is_estimator(inner):
        return f"{own}({model_name(inner, depth + 1)})"
    members = given.get("estimators")
    if isinstance(members, list) and members:
        parts = [model_name(member[1] if isinstance(member, tuple) else member, depth + 1) for member in members
                 if (member[1] if isinstance(member, tuple) else member) not in (None, "drop", "passthrough")]
        return f"{own}({', '.join(parts)})"
    return own


@hookimpl
def autotrack_fit_steps(model):
    steps = getattr(model, "steps", None)
    if not _is_estimator(model) or not isinstance(steps, list):
        return None
    return {name: step for name, step in steps if step is not None and step != "passthrough"}


@hookimpl
def autotrack_model_role(model, call):
    """A transformer fitted on its own is preprocessing: it transforms and predicts nothing (no
    classifier, regressor, clusterer or outlier detector, no Pipeline ending in one), and it is no
    search (a search over a transformer's params evaluates it: a run of its own)."""
    if call.target.kind != "fit" or not _is_estimator(model):
        return None
    if not hasattr(model, "transform") or hasattr(model, "predict") or hasattr(model, "fit_predict"):
        return "model"
    search = getattr(sys.modules.get("sklearn.model_selection._search"), "BaseSearchCV", None)
    if search is not None and isinstance(model, search):
        return "model"
    return "preprocessing"


@hookimpl
def autotrack_feature_importances(model):
    if not _is_estimator(model):
        return None
    final, names = _final_estimator(model)
    values, kind = _raw_importances(final)
    if values is None:
        return None
    names = _feature_names(final, names, len(values))
    return {kind: {name: float(value) for name, value in zip(names, values)}}


def _final_estimator(model):
    """The estimator that holds the importances (inside searches and Pipelines), and the names of
    the columns it saw when a Pipeline's transformers can tell them (None otherwise)."""
    names = None
    while True:
        best = getattr(model, "best_estimator_", None)
        if best is not None:
            model = best
            continue
        steps = getattr(model, "steps", None)
        if not isinstance(steps, list) or not steps:
            return model, names
        if len(steps) > 1:
            try:
                names = [str(name) for name in model[:-1].get_feature_names_out(names)]
            except Exception:  # a transformer without get_feature_names_out: fall back later
                names = None
        model = steps[-1][1]


# What `feature_importances_` measures: impurity decrease for scikit-learn's trees; for the
# boosting libraries' estimators (a search's best one, a Pipeline's step) their importance_type.
_IMPORTANCE_KINDS = {"split": "split", "gain": "gain", "weight": "split", "total_gain": "gain",
                     "cover": "cover", "total_cover": "cover"}


def _importance_kind(estimator) -> str:
    if type(estimator).__module__.startswith(("lightgbm.", "xgboost.")):
        chosen = getattr(estimator, "importance_type", None)
        if chosen is None and type(estimator).__module__.startswith("xgboost."):
            chosen = "gain"  # XGBoost's default for tree boosters
        return _IMPORTANCE_KINDS.get(chosen, str(chosen))
    return "impurity"


def _raw_importances(estimator):
    import numpy

    importances = getattr(estimator, "feature_importances_", None)
    if importances is not None:
        return numpy.asarray(importances, dtype=float).ravel(), _importance_kind(estimator)
    coef = getattr(estimator, "coef_", None)
    if coef is None:
        return None, None
    if hasattr(coef, "toarray"):  # sparse after `sparsify()`
        coef = coef.toarray()
    magnitude = numpy.abs(numpy.asarray(coef, dtype=float))
    if magnitude.ndim > 1:
        magnitude = magnitude.mean(axis=0)  # one row per class: average their weight
    total = magnitude.sum()
    return (magnitude / total if total > 0 else magnitude), "coef"


def _feature_names(final, pipeline_names, count: int) -> list[str]:
    """Names of the columns the final estimator saw: after a Pipeline's transformers if possible,
    else the DataFrame columns it was fitted on, else x0..xN."""
    names_in = getattr(final, "feature_names_in_", None)
    for names in (pipeline_names, list(names_in) if names_in is not None else None):
        if names is not None and len(names) == count:
            return [str(name) for name in names]
    return [f"x{i}" for i in range(count)]


@hookimpl
def autotrack_training_metrics(model, X, y, call):
    """Classifiers (binary or multiclass targets): accuracy, precision, recall, f1 (for two classes
    of the positive class `classes_[1]`, else weighted by class support), log_loss and roc_auc (one
    vs rest, macro) where predict_proba exists. Regressors: r2, rmse, mae, mape. Other targets
    (multilabel, multi-output classification) get none rather than a wrong figure. Computed under
    the user's scikit-learn config as it was at the fit (`transform_output`, `assume_finite`, ...)."""
    if not _is_estimator(model) or not hasattr(model, "predict"):
        return None
    from sklearn import config_context
    from sklearn.base import is_classifier, is_regressor

    with config_context(**(call.notes.get("sklearn.config") or {})):
        X, y = _affordable_rows(model, X, y, call.notes.get("fit_seconds"))
        target = _target_kind(y)
        if is_classifier(model):
            return _classification_metrics(model, X, y) if target in ("binary", "multiclass") else None
        if is_regressor(model):
            return _regression_metrics(model, X, y) if target != "unknown" else None
    return None


# Predicting the training sample for its metrics may cost this share of the fit's duration (on
# autotrack's thread, while the user's next fit may be running): a 20,000-row HistGradientBoosting
# fit in a loop measured 1.24x its untracked time with 10,000 rows predicted (twice), 1.0x without.
TRAINING_METRICS_SHARE = 0.02
MIN_METRIC_ROWS = 1_000  # fewer rows than this say too little; a fit this cheap costs little to predict
_PROBE_ROWS = 200


def _affordable_rows(model, X, y, fit_seconds):
    """The sample itself, or evenly spaced rows of it: as many as predicting them (labels and
    probabilities) costs TRAINING_METRICS_SHARE of the fit, judged from a probe of 200 rows."""
    from time import perf_counter

    from autotrack.capture.sampling import evenly_spaced_rows

    rows = len(y) if hasattr(y, "__len__") else None
    if fit_seconds is None or rows is None or rows <= MIN_METRIC_ROWS:
        return X, y
    probe = evenly_spaced_rows(X, _PROBE_ROWS)
    started = perf_counter()
    model.predict(probe)
    per_row = (perf_counter() - started) / _PROBE_ROWS * (2 if hasattr(model, "predict_proba") else 1)
    affordable = int(TRAINING_METRICS_SHARE * fit_seconds / per_row) if per_row > 0 else rows
    if affordable >= rows:
        return X, y
    keep = max(affordable, MIN_METRIC_ROWS)
    return evenly_spaced_rows(X, keep), evenly_spaced_rows(y, keep)


def _target_kind(y) -> str:
    """"binary", "multiclass", "continuous", "multioutput" or "unknown", as type_of_target says
    for the targets that matter here, in numpy alone: type_of_target's `warnings.catch_warnings()`
    would reset the user's record of warnings already shown, from this background thread."""
    import numpy as np

    try:
        values = np.asarray(y)
    except Exception:  # ragged or exotic: nothing to compute metrics on
        return "unknown"
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    if values.ndim != 1 or values.size == 0:
        return "multioutput" if values.ndim == 2 else "unknown"
    if values.dtype.kind in "fc":
        if not np.all(np.isfinite(values)):
            return "unknown"
        if np.any(values != np.round(values)):
            return "continuous"
    elif values.dtype.kind not in "biuOUSb":
        return "unknown"
    try:
        classes = len(np.unique(values))
    except TypeError:  # mixed types in an object array
        return "unknown"
    return "binary" if classes <= 2 else "multiclass"


def _classification_metrics(model, X, y) -> dict:
    """Accuracy, precision, recall and f1 from one confusion matrix, log_loss from the true class's
    probability: numpy on a bounded sample. sklearn.metrics gives the same figures (the tests
    check), but validates its input on every call, ~10 ms per fit on the writer thread."""
    import numpy as np

    classes = np.asarray(model.classes_)
    y_true = np.asarray(y).ravel()
    true_index, predicted_index = _class_index(y_true, classes), _class_index(model.predict(X), classes)
    if true_index is None or predicted_index is None:
        return _classification_metrics_by_sklearn(model, X, y)
    k = len(classes)
    matrix = np.bincount(true_index * k + predicted_index, minlength=k * k).reshape(k, k)
    hits, support, predicted = np.diag(matrix), matrix.sum(axis=1), matrix.sum(axis=0)
    precision = _ratio(hits, predicted)
    recall = _ratio(hits, support)
    f1 = _ratio(2 * hits, predicted + support)  # 2tp / (2tp + fp + fn); 0 where undefined
    if k == 2:  # the positive class is classes_[1], as scikit-learn's average="binary"
        pick = (lambda values: float(values[1]))
    else:  # weighted by support, as average="weighted"
        pick = (lambda values: float(np.average(values, weights=support)) if support.sum() else 0.0)
    result = {"accuracy": float(hits.sum() / len(y_true)), "precision": pick(precision),
              "recall": pick(recall), "f1": pick(f1)}
    if hasattr(model, "predict_proba") and k > 1:
        proba = np.asarray(model.predict_proba(X), dtype=float)
        eps = np.finfo(proba.dtype).eps
        true_probability = np.clip(proba[np.arange(len(true_index)), true_index], eps, 1 - eps)
        result["log_loss"] = float(-np.log(true_probability).mean())
        if len(np.unique(true_index)) == k:  # AUC needs every class present
            # Binary: of the positive class; more classes: one vs rest, macro (as scikit-learn).
            columns = [1] if k == 2 else range(k)
            result["roc_auc"] = float(np.mean([_auc(true_index == c, proba[:, c]) for c in columns]))
    return result


def _auc(positive, score) -> float:
    """Area under the ROC curve as the Mann-Whitney statistic, ties counted half (average ranks):
    the value roc_auc_score gives, without its input validation (~2 ms a call)."""
    import numpy as np

    if not np.all(np.isfinite(score)):
        return float("nan")  # as the ranks of NaN scores would be
    ranks = _average_ranks(score)
    n_positive = int(positive.sum())
    n_negative = len(positive) - n_positive
    return (ranks[positive].sum() - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative)


def _average_ranks(values):
    """1-based ranks, ties given the average of their ranks (scipy's rankdata, at a fifth of its
    cost on 1,000 values: it runs on autotrack's thread after every fit)."""
    import numpy as np

    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts_group = np.empty(len(values), dtype=bool)
    starts_group[:1] = True
    starts_group[1:] = ordered[1:] != ordered[:-1]
    starts = np.flatnonzero(starts_group)  # a group of ties holds sorted positions start..end-1
    ends = np.append(starts[1:], len(values))
    ranks = np.empty(len(values))
    ranks[order] = ((starts + ends + 1) / 2.0)[np.cumsum(starts_group) - 1]
    return ranks


def _class_index(labels, classes):
    """Positions of `labels` in the sorted `classes_`; None if any label is not a class."""
    import numpy as np

    labels = np.asarray(labels).ravel()
    try:
        index = np.clip(np.searchsorted(classes, labels), 0, len(classes) - 1)
        return index if bool(np.all(classes[index] == labels)) else None
    except TypeError:  # labels numpy cannot order: let scikit-learn sort it out
        return None


def _ratio(numerator, denominator):
    import numpy as np

    return np.divide(numerator, denominator, out=np.zeros(len(numerator)), where=denominator > 0)


def _classification_metrics_by_sklearn(model, X, y) -> dict:
    from sklearn import metrics

    predicted = model.predict(X)
    classes = model.classes_
    options = {"average": "binary", "pos_label": classes[1]} if len(classes) == 2 else {"average": "weighted"}
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(y, predicted, zero_division=0, **options)
    return {"accuracy": metrics.accuracy_score(y, predicted), "precision": precision, "recall": recall, "f1": f1}


def _regression_metrics(model, X, y) -> dict:
    """r2, rmse, mae, mape as scikit-learn defines them (averaged over outputs), in numpy."""
    import numpy as np

    truth = np.asarray(y, dtype=float)
    truth = truth.reshape(len(truth), -1)
    error = truth - np.asarray(model.predict(X), dtype=float).reshape(truth.shape)
    residual = (error ** 2).sum(axis=0)
    total = ((truth - truth.mean(axis=0)) ** 2).sum(axis=0)
    # scikit-learn's force_finite: a constant target scores 1.0 when predicted exactly, else 0.0
    r2 = np.where(total > 0, 1 - residual / np.where(total > 0, total, 1), np.where(residual > 0, 0.0, 1.0))
    metrics = {
        "r2": float(r2.mean()),
        "rmse": float(np.sqrt((error ** 2).mean(axis=0).mean())),
        "mae": float(np.abs(error).mean(axis=0).mean()),
    }
    # MAPE divides by the targets: with a zero target it is undefined (scikit-learn's figure is
    # then about 1e15, a division by its epsilon), so it is left out rather than stored as a number.
    if np.all(np.abs(truth) > np.finfo(np.float64).eps):
        metrics["mape"] = float((np.abs(error) / np.abs(truth)).mean(axis=0).mean())
    return metrics


# What an estimator that selects by cross-validation (or a criterion) chose: LassoCV's `alpha_`,
# LogisticRegressionCV's `C_`, LassoLarsIC's `alpha_`, RFECV's `n_features_`.
_SELECTED = ("alpha_", "alphas_", "C_", "l1_ratio_", "n_features_", "n_components_", "lambda_",
             "shrinkage_", "n_nonzero_coefs_")


def _record_selected_values(run, model) -> None:
    final, _ = _final_estimator(model)
    name = type(final).__name__
    if not (name.endswith(("CV", "IC")) or "CV" in name):
        return
    selected = {}
    fitted = vars(final)  # plain fitted attributes only: no property runs, no deprecation warning
    for attribute in _SELECTED:
        value = fitted.get(attribute)
        if value is None or attribute == "alphas_":
            continue
        listed = value.tolist() if hasattr(value, "tolist") else value
        if isinstance(listed, list) and all(item is None for item in listed):
            continue  # LogisticRegressionCV's l1_ratio_ without an l1 penalty
        size = getattr(value, "size", None)
        if size is not None and size > 100:
            continue  # a grid, not a choice
        selected[f"selected.{attribute.rstrip('_')}"] = value
    if selected:
        run.log_params(selected)


@hookimpl
def autotrack_fit_results(model, run, call):
    if call.target.kind == "evaluate" and call.target.attribute in VALIDATION_FUNCTIONS:
        _VALIDATION_RESULTS[call.target.attribute](run, call)
        return
    if _is_estimator(model):
        _record_selected_values(run, model)
    results = getattr(model, "cv_results_", None)
    if not _is_estimator(model) or not isinstance(results, dict) or "params" not in results:
        return
    best_params = getattr(model, "best_params_", None)
    if best_params is not None:
        run.log_params({f"best.{name}": _readable(value) for name, value in best_params.items()})
    best_score = getattr(model, "best_score_", None)
    if best_score is not None:
        run.log_metrics({"best_score": best_score}, step=0)
        run.set_metric_goals({"best_score": "max"})  # a scorer's value: higher is better, always
    run.set_tags({"search.candidates": len(results["params"])})
    estimator_name = model_name(getattr(model, "estimator", model))
    metric_keys = [key for key in results
                   if key.startswith(("mean_test", "std_test", "rank_test", "mean_train", "std_train"))]
    # Successive halving scores candidates again on more data in each round: say which round.
    round_keys = [key for key in ("iter", "n_resources") if key in results]
    goals = {key: _search_goal(key) for key in metric_keys}
    for index, params in enumerate(results["params"][:MAX_CHILD_RUNS]):
        run.child(
            name=_candidate_name(estimator_name, index, params),
            params=readable_params(params),
            metrics={key: results[key][index] for key in metric_keys},
            timings={"fit_s": float(results["mean_fit_time"][index]),
                     "score_s": float(results["mean_score_time"][index])}
            if "mean_fit_time" in results else None,
            tags={f"search.{key}": results[key][index] for key in round_keys} or None,
            goals=goals,
        )


def _candidate_name(estimator_name: str, index: int, params: dict) -> str:
    """`LogisticRegression #3 C=0.157 penalty=l2`: the params a search varies are what tell its
    candidates apart (their short names, the step prefix left out)."""
    varied = " ".join(f"{key.rpartition('__')[2]}={_short_value(value)}" for key, value in params.items())
    return _short_name(f"{estimator_name} #{index}" + (f" {varied}" if varied else ""))


def _short_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    readable = _readable(value)
    return readable if isinstance(readable, str) else str(readable)


def _search_goal(key: str) -> str:
    """cv_results_ columns: scorers are higher-is-better (scikit-learn negates errors), rank 1 is
    the best, and a spread across folds is not a quality measure."""
    if key.startswith("rank_"):
        return "min"
    return "none" if key.startswith("std_") else "max"


def _record_fold_scores(run, call) -> None:
    """Each fold's score as `cv.<score>.folds` with the fold as step, their mean as `cv.<score>`
    and their spread as `cv.<score>.std`, and the
    folds' fit and score times. cross_val_score returns the test scores alone; cross_validate a
    dict of `test_<scorer>`, `train_<scorer>`, `fit_time` and `score_time` arrays."""
    import numpy as np

    result = call.result
    if not isinstance(result, dict):
        result = {"test_score": result}
    folds = 0
    for key, values in result.items():
        if not key.startswith(("test_", "train_")) or not isinstance(values, (list, tuple, np.ndarray)):
            continue  # `estimator` and `indices` (return_estimator=True) are objects, not scores
        values = np.asarray(values, dtype=float).ravel()
        folds = max(folds, len(values))
        for fold, value in enumerate(values):
            run.log_metrics({f"cv.{key}.folds": value}, step=fold)
        # The mean under the plain name: what `autotrack runs` and compare show is the run's score,
        # not its last fold's.
        run.log_metrics({f"cv.{key}": values.mean(), f"cv.{key}.std": values.std()}, step=0)
        run.set_metric_goals({f"cv.{key}": "max", f"cv.{key}.folds": "max", f"cv.{key}.std": "none"})
    timings = {f"{key[:-len('_time')]}_s": [float(v) for v in result[key]]
               for key in ("fit_time", "score_time") if key in result}
    run.set_timings({"folds": timings} if timings else {})
    run.set_tags({"cv.function": call.target.attribute, "cv.folds": folds})


@hookimpl
def autotrack_prepare_call(call, run):
    """The user's scikit-learn config (`set_config` is thread-local) for the training metrics
    computed on autotrack's thread; scikit-learn 1.9's callbacks: what a `ScoringMonitor` set on
    the model (`set_callbacks`) scores during this fit is recorded once the fit returns."""
    if call.target.kind == "fit" and _is_estimator(call.model):
        from sklearn import get_config

        call.notes["sklearn.config"] = get_config()
    monitors = [callback for callback in getattr(call.model, "_skl_callbacks", None) or ()
                if callable(getattr(callback, "get_logs", None))]
    if monitors:
        seen = {id(monitor): _monitor_run_ids(monitor) for monitor in monitors}
        # A cleanup runs after the call however it ends: a fit that fails keeps its scores so far.
        call.cleanups.append(lambda: _record_monitor_scores(run, monitors, seen))


def _monitor_run_ids(monitor) -> set:
    try:
        return {log.run_id for log in monitor.get_logs(select="all")}
    except ValueError:  # nothing logged yet
        return set()


def _record_monitor_scores(run, monitors, seen) -> None:
    """Each score of a monitor's log for this fit as `scoring_monitor.<score>`: per iteration (the
    fit's direct subtasks, `lbfgs-iter`, the task id being the step), else the fit's own at step 0.
    Scorers are maximised (scikit-learn negates errors)."""
    for monitor in monitors:
        try:
            log = monitor.get_logs(select="most_recent")
        except ValueError:
            continue
        if log.run_id in seen[id(monitor)]:
            continue  # this fit logged nothing new
        described = {"task_id_path", "parent_task_id_path", "estimator_name", "task_name", "task_id",
                     "sequential_subtasks"}
        rows = [row for row in log.data if any(key not in described for key in row)]
        points = [(int(row["task_id"]), row) for row in rows if len(row["task_id_path"]) == 2] or \
            [(0, row) for row in rows if len(row["task_id_path"]) == 1]
        for step, row in points:
            scores = {f"scoring_monitor.{key}": value for key, value in row.items() if key not in described}
            run.log_metrics(scores, step=step)
            run.set_metric_goals(dict.fromkeys(scores, "max"))


def _record_out_of_fold_predictions(run, call) -> None:
    """cross_val_predict: its predictions are the run's, so that a metric the user computes on
    them (`accuracy_score(y, predicted)`) is recorded on it, as for a model's predict."""
    from autotrack.tracked_calls import note_predictions

    note_predictions(call.result, run, call.data.get("X"))
    run.set_tags({"cv.function": call.target.attribute})


def _record_learning_curve(run, call) -> None:
    """learning_curve: the mean train and test score over the folds at each training size, the
    number of training rows being the step, and their spread."""
    sizes, train, test = call.result[:3]
    _record_curve(run, call, [int(size) for size in sizes], train, test)


def _record_validation_curve(run, call) -> None:
    """validation_curve: the mean train and test score at each value of the varied param (its
    position in `param_range` is the step; the values are the param `validation_curve.values`)."""
    train, test = call.result[:2]
    _record_curve(run, call, range(len(test)), train, test)
    run.log_params({"validation_curve.param": call.kwargs.get("param_name"),
                    "validation_curve.values": [_readable(value) for value in call.kwargs.get("param_range", ())]})


def _record_curve(run, call, steps, train, test) -> None:
    """`<function>.train_score` / `.test_score`: each row's mean over the folds at its step, its
    spread as `.std`; the function and the number of folds as tags."""
    import numpy as np

    prefix = call.target.attribute
    for label, scores in (("train_score", train), ("test_score", test)):
        for step, row in zip(steps, np.asarray(scores, dtype=float)):
            run.log_metrics({f"{prefix}.{label}": row.mean(), f"{prefix}.{label}.std": row.std()}, step=step)
        run.set_metric_goals({f"{prefix}.{label}": "max", f"{prefix}.{label}.std": "none"})
    run.set_tags({"cv.function": prefix, "cv.folds": int(np.shape(test)[1])})


def _record_permutation_test(run, call) -> None:
    """permutation_test_score: the cross-validated score, the p-value against permuted targets,
    and the permuted scores' mean and spread (how well chance does)."""
    import numpy as np

    score, permuted, pvalue = call.result
    permuted = np.asarray(permuted, dtype=float)
    run.log_metrics({"cv.test_score": score, "permutation_test.pvalue": pvalue,
                     "permutation_test.permuted_score": permuted.mean(),
                     "permutation_test.permuted_score.std": permuted.std()}, step=0)
    run.set_metric_goals({"cv.test_score": "max", "permutation_test.pvalue": "min",
                          "permutation_test.permuted_score": "none",
                          "permutation_test.permuted_score.std": "none"})
    run.set_tags({"cv.function": call.target.attribute, "permutation_test.permutations": len(permuted)})


def _record_permutation_importance(run, call) -> None:
    """permutation_importance: each feature's mean importance as the importance kind
    `permutation` (`permutation_std` its spread), with the data it was computed on as a tag."""
    import numpy as np

    result = call.result
    means = getattr(result, "importances_mean", None)
    if means is None and isinstance(result, dict):  # several scorers: the first one's
        result = next(iter(result.values()), None)
        means = getattr(result, "importances_mean", None)
    if means is None:
        return
    X = call.data.get("X")
    columns = getattr(X, "columns", None)
    final, names = _final_estimator(call.model)
    names = [str(c) for c in columns] if columns is not None and len(columns) == len(means) else \
        _feature_names(final, None, len(means))
    run.set_importances({
        "permutation": dict(zip(names, np.asarray(means, dtype=float).tolist())),
        "permutation_std": dict(zip(names, np.asarray(result.importances_std, dtype=float).tolist())),
    })
    from autotrack.tracked_calls import user_frame, variable_name

    run.set_tags({"permutation_importance.data": variable_name(user_frame(), X) or "data",
                  "permutation_importance.repeats": int(np.shape(result.importances)[1])})


_VALIDATION_RESULTS = {
    "cross_validate": _record_fold_scores,
    "cross_val_score": _record_fold_scores,
    "cross_val_predict": _record_out_of_fold_predictions,
    "learning_curve": _record_learning_curve,
    "validation_curve": _record_validation_curve,
    "permutation_test_score": _record_permutation_test,
    "permutation_importance": _record_permutation_importance,
}


# Estimators whose integration saves the model in the framework's own format (and whose refit
# makes a new booster rather than changing the fitted one): pickling them here would serialise
# the booster on the training thread for nothing.
_OWN_MODEL_FILES = ("lightgbm.", "xgboost.")


@hookimpl
def autotrack_model_snapshot(model):
    """Pickle protocol 5 hands large arrays over out of band without copying them, so the
    snapshot is cheap on the training thread; the copy is made when asked, on the writer thread.
    Refitting (a Pipeline's step refit after the fit, as tutorials do) rebinds the fitted arrays
    rather than writing into them, so the copy is the model fit returned."""
    if not _is_estimator(model) or type(model).__module__.startswith(_OWN_MODEL_FILES):
        return None
    buffers: list = []
    try:
        header = pickle.dumps(model, protocol=5, buffer_callback=buffers.append)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        # The user's model holds something pickle cannot take (a lambda, a lock): their input,
        # not a tracking error, so it is skipped with a warning rather than raised.
        warn_once(f"model-pickle:{type(model).__qualname__}",
                  "the fitted %s cannot be pickled (%s); no model artifact is stored",
                  type(model).__name__, exc)
        return None
    return lambda: pickle.loads(header, buffers=buffers)


@hookimpl
def autotrack_model_artifact(model, call):
    if not _is_estimator(model):
        return None
    snapshot = call.snapshot if call is not None and call.snapshot is not None else autotrack_model_snapshot(model)
    if snapshot is None:
        return None

    def write(path: str) -> None:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(snapshot(), handle, protocol=5)

    return "model.pkl", write


# -- the registry ---------------------------------------------------------------------------------
@hookimpl
def autotrack_model_loader(name, model_class):
    if name != "model.pkl":
        return None

    def load(path: str):
        with open(path, "rb") as handle:
            return pickle.load(handle)

    return load


@hookimpl(trylast=True)  # LightGBM's and XGBoost's estimators are theirs to name
def autotrack_mlflow_flavor(model):
    return {"flavor": "sklearn", "packages": ["scikit-learn"]} if _is_estimator(model) else None
