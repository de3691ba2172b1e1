# Fit, look, refit with more iterations on the same object: two runs, each with its own params.
from sklearn.datasets import make_classification
from sklearn.neural_network import MLPClassifier

import expect

X, y = make_classification(n_samples=200, n_features=5, random_state=0)
model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
model.fit(X, y)  # a ConvergenceWarning, as in the tutorial
first_loss = model.loss_
model.set_params(max_iter=200).fit(X, y)
print(first_loss, model.loss_)

expect.run("MLPClassifier", params={"max_iter": 20, "hidden_layer_sizes": [8]})
expect.run("MLPClassifier max_iter=200", params={"max_iter": 200})
expect.runs_total(2)
expect.report()
