# A functional model fit twice (more epochs after the first fit), as fine-tuning guides do.
import keras
import numpy as np

import expect

keras.utils.set_random_seed(2)
rng = np.random.default_rng(2)
x = rng.normal(size=(300, 4)).astype("float32")
y = (x.sum(axis=1) > 0).astype("int32")
inputs = keras.Input((4,))
outputs = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Dense(8, activation="relu")(inputs))
model = keras.Model(inputs, outputs)
model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
first = model.fit(x, y, epochs=2, verbose=0)
second = model.fit(x, y, epochs=5, initial_epoch=2, verbose=0)
print(first.history["loss"], second.history["loss"])

expect.run("Functional", history={"loss": first.history["loss"]}, params={"epochs": 2})
# The second fit is a run of its own, named by what differs from the first.
expect.run("Functional epochs=5 initial_epoch=2", history={"loss": second.history["loss"]})
expect.runs_total(2)
expect.report()
