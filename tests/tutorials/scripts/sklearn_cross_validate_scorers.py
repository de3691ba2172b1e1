# cross_validate with several scorers and train scores, as in the user guide.
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import expect

X, y = load_breast_cancer(return_X_y=True)
scores = cross_validate(make_pipeline(StandardScaler(), LogisticRegression()), X, y, cv=5,
                        scoring=["accuracy", "roc_auc"], return_train_score=True)
print({key: values.mean() for key, values in scores.items()})

expect.run("cross_validate(Pipeline(LogisticRegression))",
           metrics={"cv.test_accuracy": scores["test_accuracy"].mean(),
                    "cv.test_roc_auc": scores["test_roc_auc"].mean(),
                    "cv.train_accuracy": scores["train_accuracy"].mean(),
                    "cv.test_accuracy.std": scores["test_accuracy"].std()},
           history={"cv.test_roc_auc.folds": scores["test_roc_auc"]},
           goals={"cv.test_accuracy": "max", "cv.test_accuracy.std": "none"},
           tags={"cv.function": "cross_validate", "cv.folds": 5})
expect.report()
