# A fitted Pipeline whose regressor is refit afterwards, as tutorials do when they tune a step by hand.
from sklearn.datasets import make_regression
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import expect

X, y = make_regression(n_samples=300, n_features=8, noise=10.0, random_state=0)
pipe = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(X, y)
fitted_r2 = r2_score(y, pipe.predict(X))
print("r2 of the fitted pipeline", fitted_r2)

pipe[-1].set_params(alpha=1e6).fit(X[:50], y[:50])  # the step changes after the tracked fit
print("r2 after refitting the step", pipe.score(X, y))

expect.run("Pipeline(Ridge)", params={"ridge__alpha": 1.0, "steps": [["standardscaler", "StandardScaler"], ["ridge", "Ridge"]]},
           metrics={"training_r2": fitted_r2}, datasets=["train.X:300", "train.y:300"], artifacts=["model.pkl"])
expect.report()
