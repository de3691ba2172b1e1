# xgb.cv with early stopping: the table keeps the rounds up to the best one.
import xgboost as xgb
from sklearn.datasets import make_classification

import expect

X, y = make_classification(n_samples=300, n_features=5, random_state=0)
table = xgb.cv({"objective": "binary:logistic", "eval_metric": "error", "nthread": 1}, xgb.DMatrix(X, label=y),
               num_boost_round=10, nfold=3, seed=0)
print(table.tail(1))

expect.run("xgboost.cv(binary:logistic)", params={"cv.nfold": 3},
           history={"test.error-mean": table["test-error-mean"].tolist(),
                    "train.error-mean": table["train-error-mean"].tolist()},
           goals={"test.error-mean": "min"})
expect.report()
