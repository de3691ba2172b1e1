# Continue training from a saved model (init_model), as the advanced example does.
import lightgbm as lgb
import numpy as np

import expect

rng = np.random.default_rng(1)
X = rng.normal(size=(300, 4))
y = (X[:, 0] > 0).astype(int)
params = {"objective": "binary", "verbose": -1, "num_threads": 1}
data = lgb.Dataset(X, y, free_raw_data=False)
first = lgb.train(params, data, num_boost_round=5)
first.save_model("model.txt")
evals = {}
second = lgb.train(params, data, num_boost_round=5, init_model="model.txt", valid_sets=[data],
                   valid_names=["training"], callbacks=[lgb.record_evaluation(evals)])
print(second.current_iteration())

# The continued run: named by what differs (init_model), its steps count on from round 5 as LightGBM's.
expect.run("lightgbm.train(binary)")
expect.run("lightgbm.train(binary, continued)", tags={"continued_training": "from round 5"},
           history={"training.binary_logloss": evals["training"]["binary_logloss"]})
expect.runs_total(2)
expect.report()
