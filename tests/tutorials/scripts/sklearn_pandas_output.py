# set_config(transform_output="pandas"), as the tutorials on pandas output do; results unchanged.
import sklearn
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import expect

sklearn.set_config(transform_output="pandas")
X, y = load_wine(return_X_y=True, as_frame=True)
pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
scaled = pipe[:-1].transform(X)
print(type(scaled).__name__, pipe.score(X, y))
assert type(scaled).__name__ == "DataFrame"
assert sklearn.get_config()["transform_output"] == "pandas"

expect.run("Pipeline(LogisticRegression)", metrics={"X.score": pipe.score(X, y)},
           datasets=["train.X:178", "train.y:178"])
expect.report()
