# xgb.train with a watchlist and early stopping, as the Python package introduction shows.
import numpy as np
import xgboost as xgb
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import expect

X, y = load_breast_cancer(return_X_y=True)
X_train, X_valid, y_train, y_valid = train_test_split(X, y, random_state=0)
dtrain = xgb.DMatrix(X_train, label=y_train)
dvalid = xgb.DMatrix(X_valid, label=y_valid)
evals_result = {}
booster = xgb.train({"objective": "binary:logistic", "eval_metric": "logloss", "max_depth": 3, "eta": 0.3,
                     "nthread": 1}, dtrain, num_boost_round=200, evals=[(dtrain, "train"), (dvalid, "eval")],
                    early_stopping_rounds=5, evals_result=evals_result, verbose_eval=False)
print(booster.best_iteration, booster.best_score)

expect.run("xgboost.train(binary:logistic)", params={"max_depth": 3, "eta": 0.3},
           history={"eval.logloss": evals_result["eval"]["logloss"], "train.logloss": evals_result["train"]["logloss"]},
           metrics={"best_iteration": float(booster.best_iteration), "best_score": float(booster.best_score)},
           goals={"eval.logloss": "min", "best_score": "min", "best_iteration": "none"},
           datasets=["train.X:426", "train.y:426", "valid.eval:143"])
expect.report()
