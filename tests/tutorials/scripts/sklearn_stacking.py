# A StackingClassifier of two models with a final LogisticRegression, scored on held-out data.
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier, StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

import expect

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=42)
stack = StackingClassifier(
    estimators=[("rf", RandomForestClassifier(n_estimators=10, random_state=42)),
                ("svr", make_pipeline(StandardScaler(), LinearSVC(random_state=42)))],
    final_estimator=LogisticRegression())
stack.fit(X_train, y_train)
f1 = f1_score(y_test, stack.predict(X_test))
print("f1", f1)

expect.run("StackingClassifier(RandomForestClassifier, Pipeline(LinearSVC))",
           metrics={"f1_score.X_test": f1}, params={"rf__n_estimators": 10})
expect.runs_total(1)
expect.report()
