# Training continued from a booster (xgb_model=), as the "continue training" demo does.
import numpy as np
import xgboost as xgb

import expect

rng = np.random.default_rng(0)
X = rng.normal(size=(300, 4))
y = X[:, 0] + rng.normal(scale=0.1, size=300)
dtrain = xgb.DMatrix(X, label=y)
params = {"objective": "reg:squarederror", "nthread": 1}
first = xgb.train(params, dtrain, num_boost_round=4)
history = {}
second = xgb.train(params, dtrain, num_boost_round=3, xgb_model=first, evals=[(dtrain, "train")],
                   evals_result=history, verbose_eval=False)
print(second.num_boosted_rounds())

expect.run("xgboost.train(reg:squarederror)")
expect.run("xgboost.train(reg:squarederror, continued)", tags={"continued_training": "from round 4"},
           history={"train.rmse": history["train"]["rmse"]})
expect.runs_total(2)
expect.report()
