# A decaying learning rate with lgb.reset_parameter, as in the advanced example.
import lightgbm as lgb
import numpy as np

import expect

rng = np.random.default_rng(0)
X = rng.normal(size=(400, 5))
y = X[:, 0] * 2 + rng.normal(scale=0.1, size=400)
rates = [0.1 * (0.9 ** i) for i in range(10)]
booster = lgb.train({"objective": "regression", "learning_rate": 0.1, "verbose": -1, "num_threads": 1},
                    lgb.Dataset(X, y), num_boost_round=10,
                    callbacks=[lgb.reset_parameter(learning_rate=lambda i: 0.1 * (0.9 ** i))])
print(booster.current_iteration())

expect.run("lightgbm.train(regression)", params={"learning_rate": 0.1},  # what the user set, not the last rate
           history={"schedule.learning_rate": rates})
expect.report()
