# lgb.cv with stratified folds and early stopping.
import lightgbm as lgb
from sklearn.datasets import make_classification

import expect

X, y = make_classification(n_samples=400, n_features=6, random_state=0)
results = lgb.cv({"objective": "binary", "metric": "auc", "verbose": -1, "num_threads": 1},
                 lgb.Dataset(X, y), num_boost_round=50, nfold=3, stratified=True, seed=0,
                 callbacks=[lgb.early_stopping(3, verbose=False)])
print(len(results["valid auc-mean"]), results["valid auc-mean"][-1])

expect.run("lightgbm.cv(binary)", params={"nfold": 3},
           # cv returns the rounds up to the best one; the run's best is that round's mean.
           metrics={"best.valid.auc.mean": results["valid auc-mean"][-1]}, goals={"valid.auc.mean": "max"})
expect.report()
