# learning_curve and validation_curve, as the model-selection tutorial plots them.
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import learning_curve, validation_curve
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC

import expect

X, y = load_digits(return_X_y=True)
X, y = X[:400], y[:400]
sizes, train_scores, test_scores = learning_curve(GaussianNB(), X, y, cv=3, train_sizes=np.linspace(0.2, 1.0, 4))
train_v, test_v = validation_curve(SVC(), X, y, param_name="gamma", param_range=np.logspace(-4, -2, 3), cv=3)
print(sizes, test_scores.mean(axis=1), test_v.mean(axis=1))

expect.run("learning_curve(GaussianNB)", history={"learning_curve.test_score": test_scores.mean(axis=1),
                                                  "learning_curve.train_score": train_scores.mean(axis=1)},
           tags={"cv.function": "learning_curve", "cv.folds": 3})
expect.run("validation_curve(SVC)", history={"validation_curve.test_score": test_v.mean(axis=1)},
           params={"validation_curve.param": "gamma"})
expect.report()
