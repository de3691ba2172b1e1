# GridSearchCV over a Pipeline's step param, then the test score of the refit best model.
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import expect

X, y = load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
pipe = Pipeline([("scale", StandardScaler()), ("svc", SVC())])
search = GridSearchCV(pipe, {"svc__C": [0.1, 1.0, 10.0], "svc__kernel": ["linear", "rbf"]}, cv=3)
search.fit(X_train, y_train)
test_score = search.score(X_test, y_test)
print(search.best_params_, search.best_score_, test_score)

expect.run("GridSearchCV(Pipeline(SVC))", params={"best.svc__C": search.best_params_["svc__C"],
                                                  "best.svc__kernel": search.best_params_["svc__kernel"]},
           metrics={"best_score": search.best_score_, "X_test.score": test_score},
           goals={"best_score": "max"}, tags={"search.candidates": 6}, children=6)
expect.report()
