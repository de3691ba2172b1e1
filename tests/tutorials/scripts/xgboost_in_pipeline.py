# XGBRegressor as the last step of a scikit-learn Pipeline, scored on a test split.
import xgboost as xgb
from sklearn.datasets import make_regression
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import expect

X, y = make_regression(n_samples=300, n_features=6, noise=3.0, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
pipe = Pipeline([("scale", StandardScaler()), ("xgb", xgb.XGBRegressor(n_estimators=20, max_depth=3, n_jobs=1))])
pipe.fit(X_train, y_train)
mae = mean_absolute_error(y_test, pipe.predict(X_test))
print("mae", mae)

expect.run("Pipeline(XGBRegressor)", params={"xgb__n_estimators": 20, "xgb__max_depth": 3},
           metrics={"mean_absolute_error.X_test": mae}, goals={"mean_absolute_error.X_test": "min"})
expect.report()
