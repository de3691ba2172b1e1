# The regularisation path by hand: one model per C in a loop, each evaluated on the test split.
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

import expect

X, y = make_classification(n_samples=300, n_features=10, random_state=3)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=3)
accuracies = {}
for C in (0.01, 1.0, 100.0):
    model = LogisticRegression(C=C, max_iter=500).fit(X_train, y_train)
    accuracies[C] = accuracy_score(y_test, model.predict(X_test))
    print(C, accuracies[C])

# Runs of one loop are told apart by what differs from the previous one.
expect.run("LogisticRegression", params={"C": 0.01}, metrics={"accuracy_score.X_test": accuracies[0.01]})
expect.run("LogisticRegression C=1.0", params={"C": 1.0}, metrics={"accuracy_score.X_test": accuracies[1.0]})
expect.run("LogisticRegression C=100.0", params={"C": 100.0}, metrics={"accuracy_score.X_test": accuracies[100.0]})
expect.runs_total(3)
expect.report()
