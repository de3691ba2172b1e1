# Scoring a fitted model with the scorers a search would use: get_scorer(...)(model, X_test, y_test).
from sklearn.datasets import make_regression
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.metrics import get_scorer
from sklearn.model_selection import train_test_split

import expect

X, y = make_regression(n_samples=300, n_features=6, noise=5.0, random_state=4)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=4)
model = GradientBoostingRegressor(n_estimators=30, random_state=0).fit(X_train, y_train)
scores = {name: get_scorer(name)(model, X_test, y_test) for name in ("r2", "neg_mean_absolute_error")}
print(scores)

expect.run("GradientBoostingRegressor", params={"n_estimators": 30},
           metrics={"r2_score.X_test": scores["r2"], "neg_mean_absolute_error.X_test": scores["neg_mean_absolute_error"]},
           goals={"neg_mean_absolute_error.X_test": "max"})
expect.runs_total(1)
expect.report()
