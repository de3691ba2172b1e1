# The "column transformer with mixed types" tutorial: pandas columns chosen by dtype.
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import expect

rng = np.random.default_rng(0)
frame = pd.DataFrame({"age": rng.integers(18, 80, 400), "fare": rng.exponential(30, 400),
                      "embarked": rng.choice(["S", "C", "Q"], 400), "sex": rng.choice(["m", "f"], 400)})
survived = ((frame["sex"] == "f") ^ (rng.random(400) < 0.2)).astype(int)
X_train, X_test, y_train, y_test = train_test_split(frame, survived, test_size=0.25, random_state=0)

preprocessor = ColumnTransformer([
    ("num", StandardScaler(), make_column_selector(dtype_include=np.number)),
    ("cat", OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_include=object)),
])
clf = Pipeline([("preprocessor", preprocessor), ("classifier", LogisticRegression(C=0.5))])
clf.fit(X_train, y_train)
auc = roc_auc_score(y_test, clf.predict_proba(X_test)[:, 1])
print("test AUC", auc)

expect.run("Pipeline(LogisticRegression)", params={"classifier__C": 0.5},
           metrics={"roc_auc_score.X_test": auc}, goals={"roc_auc_score.X_test": "max"},
           datasets=["train.X:300", "train.y:300"])
expect.report()
