# Permutation importance of a fitted forest on the test split, as the inspection tutorial does.
import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.inspection import permutation_importance
from sklearn.model_selection import train_test_split

import expect

data = load_diabetes(as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(data.data, data.target, random_state=0)
forest = RandomForestRegressor(n_estimators=20, random_state=0).fit(X_train, y_train)
result = permutation_importance(forest, X_test, y_test, n_repeats=3, random_state=0)
importances = pd.Series(result.importances_mean, index=X_test.columns)
print(importances.sort_values(ascending=False).head())

expect.run("RandomForestRegressor", tags={"permutation_importance.data": "X_test"},
           importances={"permutation": importances.to_dict()})
expect.runs_total(1)
expect.report()
