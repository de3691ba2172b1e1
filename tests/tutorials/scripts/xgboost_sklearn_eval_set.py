# XGBClassifier with eval_set on train and test, then evals_result().
import xgboost as xgb
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

import expect

X, y = make_classification(n_samples=500, n_features=8, random_state=2)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=2)
model = xgb.XGBClassifier(n_estimators=25, max_depth=3, eval_metric="auc", n_jobs=1)
model.fit(X_train, y_train, eval_set=[(X_train, y_train), (X_test, y_test)], verbose=False)
history = model.evals_result()
auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
print(history["validation_1"]["auc"][-1], auc)

expect.run("XGBClassifier", params={"num_boost_round": 25, "max_depth": 3},
           history={"validation_0.auc": history["validation_0"]["auc"], "validation_1.auc": history["validation_1"]["auc"]},
           metrics={"roc_auc_score.X_test": auc}, goals={"validation_1.auc": "max"},
           datasets=["train.X:375", "valid.validation_1.X:125"])
expect.report()
