# HistGradientBoostingClassifier with early stopping on an internal validation fraction.
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import log_loss

import expect

X, y = make_classification(n_samples=600, n_features=10, random_state=0)
model = HistGradientBoostingClassifier(max_iter=50, early_stopping=True, validation_fraction=0.2,
                                       n_iter_no_change=3, random_state=0).fit(X, y)
loss = log_loss(y, model.predict_proba(X))
print(model.n_iter_, loss)

expect.run("HistGradientBoostingClassifier", params={"max_iter": 50, "early_stopping": True},
           metrics={"log_loss.X": loss, "training_log_loss": loss}, goals={"log_loss.X": "min"})
expect.report()
