# A Sequential classifier fit with validation_split and EarlyStopping, as the Keras guides do.
import keras
import numpy as np

import expect

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.normal(size=(500, 8)).astype("float32")
y = (x[:, 0] + x[:, 1] > 0).astype("int32")
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, epochs=20, batch_size=32, validation_split=0.2, verbose=0,
                    callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=2)])
print(len(history.history["loss"]), history.history["val_loss"][-1])

expect.run("Sequential", params={"epochs": 20, "batch_size": 32},
           history={"loss": history.history["loss"], "val_loss": history.history["val_loss"],
                    "val_accuracy": history.history["val_accuracy"]},
           goals={"val_loss": "min", "val_accuracy": "max"},
           tags={"validation": "validation_split=0.2"}, datasets=["train.X:400", "valid.X:100"])
expect.report()
