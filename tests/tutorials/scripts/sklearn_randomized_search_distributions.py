# RandomizedSearchCV with scipy distributions and a seeded RandomState.
import numpy as np
from scipy.stats import loguniform, randint
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import RandomizedSearchCV

import expect

X, y = make_classification(n_samples=200, n_features=6, random_state=1)
search = RandomizedSearchCV(
    RandomForestClassifier(n_estimators=10, random_state=0),
    {"max_depth": randint(2, 8), "min_impurity_decrease": loguniform(1e-5, 1e-2)},
    n_iter=4, cv=3, random_state=np.random.RandomState(42))
search.fit(X, y)
print(search.best_params_)

expect.run("RandomizedSearchCV(RandomForestClassifier)", children=4,
           params={"best.max_depth": int(search.best_params_["max_depth"])},
           metrics={"best_score": search.best_score_}, tags={"search.candidates": 4})
expect.report()
