# LGBMClassifier with an eval set and an extra eval metric, then evals_result_.
import lightgbm as lgb
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

import expect

X, y = make_classification(n_samples=500, n_features=8, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
model = lgb.LGBMClassifier(n_estimators=30, num_leaves=7, verbose=-1, n_jobs=1)
model.fit(X_train, y_train, eval_set=[(X_test, y_test)], eval_metric="auc")
history = model.evals_result_["valid_0"]
print(history["auc"][-1])

expect.run("LGBMClassifier", params={"num_iterations": 30, "num_leaves": 7},
           history={"valid_0.auc": history["auc"], "valid_0.binary_logloss": history["binary_logloss"]},
           goals={"valid_0.auc": "max", "valid_0.binary_logloss": "min"},
           datasets=["train.X:375", "valid.valid_0.X:125"])
expect.report()
