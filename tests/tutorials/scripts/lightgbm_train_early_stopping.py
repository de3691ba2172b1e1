# The LightGBM "simple example": train with a validation set, early stopping and record_evaluation.
import lightgbm as lgb
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import expect

X, y = load_breast_cancer(return_X_y=True)
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.25, random_state=0)
train_data = lgb.Dataset(X_train, label=y_train)
valid_data = lgb.Dataset(X_valid, label=y_valid, reference=train_data)
params = {"objective": "binary", "metric": "binary_logloss", "num_leaves": 15, "learning_rate": 0.1,
          "verbose": -1, "num_threads": 1}
evals = {}
booster = lgb.train(params, train_data, num_boost_round=200, valid_sets=[valid_data], valid_names=["valid"],
                    callbacks=[lgb.early_stopping(5, verbose=False), lgb.record_evaluation(evals)])
print(booster.best_iteration, booster.best_score["valid"]["binary_logloss"])

expect.run("lightgbm.train(binary)", params={"num_leaves": 15, "learning_rate": 0.1},
           history={"valid.binary_logloss": evals["valid"]["binary_logloss"]},
           metrics={"best_iteration": float(booster.best_iteration),
                    "best_score": booster.best_score["valid"]["binary_logloss"]},
           goals={"valid.binary_logloss": "min", "best_score": "min", "best_iteration": "none"},
           datasets=["train.X:426", "train.y:426", "valid.valid:143"], artifacts=["model.txt"])
expect.report()
