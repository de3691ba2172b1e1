"""`autotrack backtest churn@challenger --data new.parquet --target churned [--by month]`: score a
registered model on a data set the user names, overall and per period, recorded as a run linked
to the model (tag `autotrack.backtest_of`) with a child run per period."""

from __future__ import annotations

import os

PERIODS = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def add_commands(commands, store_flag, handler_of) -> None:
    backtest = commands.add_parser(
        "backtest", help="score a registered model on a data set, overall and per period, as a run",
        description="Reads --data (parquet, csv, feather, json), predicts with the model on the columns "
                    "it was trained on, scores against --target, and records a run tagged "
                    "autotrack.backtest_of (with a child run per period with --by).")
    store_flag(backtest)
    backtest.add_argument("model", help="churn@challenger, churn/2, churn, or a run id")
    backtest.add_argument("--data", required=True, help="the data file")
    backtest.add_argument("--target", required=True, help="the column holding the truth")
    backtest.add_argument("--by", choices=sorted(PERIODS), help="also score each period")
    backtest.add_argument("--time-column", help="the date column --by reads (default: the only date column)")
    backtest.add_argument("--json", action="store_true", help="machine-readable output")
    backtest.set_defaults(handler=handler_of(cmd_backtest))


def read_table(path: str):
    import pandas as pd

    if not os.path.isfile(path):
        raise ValueError(f"--data {path}: no such file")
    suffix = os.path.splitext(path)[1].lower()
    readers = {".parquet": pd.read_parquet, ".pq": pd.read_parquet, ".csv": pd.read_csv, ".feather": pd.read_feather,
               ".json": pd.read_json, ".jsonl": lambda p: pd.read_json(p, lines=True)}
    if suffix not in readers:
        raise ValueError(f"--data {path}: give a .parquet, .csv, .feather or .json file")
    return readers[suffix](path)


def backtest(reader, ref: str, path: str, target: str, by: str | None = None,
             time_column: str | None = None) -> dict:
    """Score the model on the file; record the run; return what was recorded."""
    import pandas as pd

    from autotrack.registry.loading import load_model, plugin_hook, resolve_model

    run_id, version = resolve_model(reader, ref)
    trained = reader.get_run(run_id)
    frame = read_table(path)
    if target not in frame.columns:
        raise ValueError(f"--target {target}: not a column of {os.path.basename(path)} "
                         f"(its columns: {', '.join(map(str, frame.columns[:20]))})")
    periods = None
    if by:
        column = time_column or _only_time_column(frame, target)
        periods = pd.to_datetime(frame[column]).dt.to_period(PERIODS[by]).astype(str)
    X = features(frame, trained, target, time_column)
    y = frame[target]
    model = load_model(ref, str(reader.directory))
    task = "classification" if _classes(trained, y) else "regression"
    if task == "classification" and callable(getattr(model, "predict_proba", None)):
        predictions = predict_proba(model, X)  # probabilities give the ROC AUC too
    else:
        predictions = predict(plugin_hook(), model, X)
    overall = score(task, y, predictions, model)
    per_period = {}
    if periods is not None:
        for period in sorted(periods.unique()):
            mask = (periods == period).to_numpy()
            per_period[period] = {"rows": int(mask.sum()), **score(task, y[mask], predictions[mask], model)}
    result = {"model": ref, "version": version.ref if version is not None else None, "trained_run": run_id, "data": os.path.abspath(path),
              "target": target, "task": task, "rows": len(frame), "metrics": overall, "periods": per_period}
    result["run_id"] = _record(reader, result, X, trained)
    return result


def _only_time_column(frame, target: str) -> str:
    import pandas as pd

    dates = [c for c in frame.columns if c != target and pd.api.types.is_datetime64_any_dtype(frame[c])]
    if len(dates) != 1:
        raise ValueError("--by needs --time-column: the data has " +
                         (f"several date columns ({', '.join(map(str, dates))})" if dates else "no date column"))
    return dates[0]


def features(frame, trained: dict, target: str, time_column: str | None):
    """The columns the model was trained on, in their order, when the run recorded them by name;
    else every column but the target and the time column."""
    described = next((d for d in trained["datasets"] if d.get("role") == "train.X"), None) or {}
    names = [str(column.get("name")) for column in described.get("schema") or ()]
    if names and all(name in frame.columns for name in names):
        return frame[names]
    return frame.drop(columns=[c for c in (target, time_column) if c is not None and c in frame.columns])


def predict(hook, model, X):
    answer = hook.autotrack_predict(model=model, data=X)
    return answer if answer is not None else _on_frame_or_array(model.predict, X)


def predict_proba(model, X):
    return _on_frame_or_array(model.predict_proba, X)


def _on_frame_or_array(method, X):
    """`method(X)` as an array; on X's values for a model trained on an array (no column names)."""
    import numpy

    try:
        return numpy.asarray(method(X))
    except Exception:
        return numpy.asarray(method(X.to_numpy()))


def _classes(trained: dict, y) -> bool:
    target = next((d.get("target") for d in trained["datasets"] if d.get("role") == "train.y"), None) or {}
    binary = set(y.unique().tolist()) <= {0, 1}  # a booster's labels read as numbers (DMatrix)
    if target.get("kind") == "classes" or (target.get("kind") == "numeric" and binary and
                                           (target.get("min"), target.get("max")) == (0.0, 1.0)):
        return True
    if target.get("kind"):
        return False
    return y.dtype.kind in "bOU" or (y.dtype.kind in "iu" and y.nunique() <= 20)


def score(task: str, y, predictions, model) -> dict:
    import numpy
    from sklearn import metrics

    y = numpy.asarray(y)
    predictions = numpy.asarray(predictions)
    if task == "regression":
        predictions = predictions.reshape(len(y), -1)[:, 0] if predictions.ndim > 1 else predictions
        return {"rmse": float(numpy.sqrt(metrics.mean_squared_error(y, predictions))),
                "mae": float(metrics.mean_absolute_error(y, predictions)),
                "r2": float(metrics.r2_score(y, predictions)) if len(y) > 1 else None}
    probabilities = None
    if predictions.ndim == 2:  # class probabilities
        probabilities = predictions
        labels = predictions.argmax(axis=1)
        classes = getattr(model, "classes_", None)
        predictions = numpy.asarray(classes)[labels] if classes is not None else labels
    elif predictions.dtype.kind == "f" and set(numpy.unique(y)) <= {0, 1} and \
            ((predictions >= 0) & (predictions <= 1)).all() and not numpy.isin(predictions, (0.0, 1.0)).all():
        probabilities = predictions  # a booster's probability of class 1
        predictions = (predictions > 0.5).astype(int)
    result = {"accuracy": float(metrics.accuracy_score(y, predictions)),
              "f1": float(metrics.f1_score(y, predictions, average="binary" if len(numpy.unique(y)) <= 2 else "macro",
                                           zero_division=0))}
    if probabilities is not None and len(numpy.unique(y)) == 2:
        positive = probabilities[:, -1] if probabilities.ndim == 2 else probabilities
        result["roc_auc"] = float(metrics.roc_auc_score(y, positive))
    return result


def _record(reader, result: dict, X, trained: dict) -> str:
    """The backtest as a run: in the model's experiment, tagged with the run and version it scored."""
    import autotrack
    from autotrack.capture.data_files import file_digest
    from autotrack.capture.datasets import describe_dataset
    from autotrack.session import SESSION

    SESSION.configure({"dir": str(reader.directory)})
    name = f"backtest {result['version'] or result['trained_run'][:8]} on {os.path.basename(result['data'])}"
    tags = {"autotrack.backtest_of": result["trained_run"], "autotrack.backtest_data": result["data"]}
    if result["version"]:
        tags["autotrack.model_version"] = result["version"]
    params = {"model": result["model"], "target": result["target"], "rows": result["rows"], "task": result["task"]}
    with autotrack.start_run(name=name, experiment=trained["experiment"], tags=tags, params=params) as run:
        run.log_metrics({k: v for k, v in result["metrics"].items() if v is not None})
        run.log_dataset(describe_dataset(X, "backtest.X", os.path.basename(result["data"])))
        run.set_context({"data_files": [{"path": result["data"], "bytes": os.path.getsize(result["data"]),
                                         "digest": file_digest(result["data"])}]})
        for period, values in result["periods"].items():
            run.child(name=period, params={"period": period, "rows": values["rows"]},
                      metrics={k: v for k, v in values.items() if k != "rows" and v is not None})
    autotrack.flush()
    return run.id


def cmd_backtest(reader, args, print_json) -> int:
    from autotrack.terminal import print_table

    result = backtest(reader, args.model, args.data, args.target, args.by, args.time_column)
    if args.json:
        print_json(result)
        return 0
    print(f"backtest of {result['version'] or result['model']} (run {result['trained_run'][:8]}) on "
          f"{result['rows']:,} rows of {os.path.basename(result['data'])}: recorded as run {result['run_id'][:8]}")
    keys = list(result["metrics"])
    rows = [["all", str(result["rows"]), *[_number(result["metrics"][k]) for k in keys]]]
    rows += [[period, str(values["rows"]), *[_number(values.get(k)) for k in keys]]
             for period, values in result["periods"].items()]
    print_table(["period", "rows", *keys], rows, title=f"{result['task']} on --target {result['target']}")
    return 0


def _number(value) -> str:
    return "" if value is None else f"{value:.4g}"


__all__ = ["backtest", "add_commands", "score", "features"]
