# LGBMRegressor tuned by GridSearchCV, the best model's importances.
import lightgbm as lgb
from sklearn.datasets import make_regression
from sklearn.model_selection import GridSearchCV

import expect

X, y = make_regression(n_samples=300, n_features=5, random_state=0)
search = GridSearchCV(lgb.LGBMRegressor(n_estimators=20, verbose=-1, n_jobs=1),
                      {"num_leaves": [3, 7], "learning_rate": [0.05, 0.2]}, cv=3, scoring="neg_mean_squared_error")
search.fit(X, y)
print(search.best_params_, search.best_score_)

expect.run("GridSearchCV(LGBMRegressor)", children=4, metrics={"best_score": search.best_score_},
           params={"best.num_leaves": search.best_params_["num_leaves"],
                   "best.learning_rate": search.best_params_["learning_rate"]}, goals={"best_score": "max"})
expect.report()
