# Estimators that choose a value by cross-validation: LassoCV, LogisticRegressionCV, RFECV.
from sklearn.datasets import make_classification, make_regression
from sklearn.feature_selection import RFECV
from sklearn.linear_model import LassoCV, LogisticRegression, LogisticRegressionCV

import expect

X, y = make_regression(n_samples=200, n_features=10, n_informative=4, noise=5.0, random_state=0)
lasso = LassoCV(cv=4, random_state=0).fit(X, y)
Xc, yc = make_classification(n_samples=200, n_features=8, n_informative=3, random_state=0)
logistic = LogisticRegressionCV(Cs=[0.01, 0.1, 1.0, 10.0], cv=3).fit(Xc, yc)
rfe = RFECV(LogisticRegression(), cv=3).fit(Xc, yc)
print(lasso.alpha_, logistic.C_, rfe.n_features_)

# What cross-validation chose is a param of the run (it is the model's setting from then on).
expect.run("LassoCV", params={"selected.alpha": float(lasso.alpha_)})
expect.run("LogisticRegressionCV", params={"selected.C": logistic.C_.tolist()})
expect.run("RFECV(LogisticRegression)", params={"selected.n_features": int(rfe.n_features_)})
expect.runs_total(3)
expect.report()
