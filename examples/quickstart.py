"""A plain scikit-learn script: no autotrack import. Run it with `AUTOTRACK=1 python quickstart.py`
(or `autotrack run quickstart.py`) and every model it fits is recorded."""

import pandas as pd
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

features, target = make_classification(n_samples=2_000, n_features=8, n_informative=5, random_state=0)
X = pd.DataFrame(features, columns=[f"feature_{i}" for i in range(features.shape[1])])
X_train, X_test, y_train, y_test = train_test_split(X, target, test_size=0.25, random_state=0)

baseline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X_train, y_train)
print(f"logistic regression: {baseline.score(X_test, y_test):.3f}")

forest = RandomForestClassifier(n_estimators=100, random_state=0).fit(X_train, y_train)
print(f"random forest:       {forest.score(X_test, y_test):.3f}")

search = GridSearchCV(RandomForestClassifier(random_state=0), {"max_depth": [3, 6, None]}, cv=3)
search.fit(X_train, y_train)
print(f"best max_depth:      {search.best_params_['max_depth']} ({search.score(X_test, y_test):.3f})")
