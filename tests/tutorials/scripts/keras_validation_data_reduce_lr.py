# Regression with explicit validation_data and ReduceLROnPlateau, then evaluate on a test split.
import keras
import numpy as np

import expect

keras.utils.set_random_seed(1)
rng = np.random.default_rng(1)
x = rng.normal(size=(600, 5)).astype("float32")
y = (x @ np.array([1.0, -2.0, 0.5, 0.0, 3.0], dtype="float32") + rng.normal(scale=0.1, size=600)).astype("float32")
x_train, x_val, x_test = x[:400], x[400:500], x[500:]
y_train, y_val, y_test = y[:400], y[400:500], y[500:]
model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse", metrics=["mae"])
history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=6, batch_size=64, verbose=0,
                    callbacks=[keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)])
test_loss, test_mae = model.evaluate(x_test, y_test, verbose=0)
print(history.history["val_mae"][-1], test_mae)

expect.run("Sequential", history={"val_loss": history.history["val_loss"], "mae": history.history["mae"]},
           metrics={"evaluate.mae": test_mae, "evaluate.loss": test_loss},
           goals={"val_mae": "min"}, datasets=["train.X:400", "valid.X:100", "valid.y:100"])
expect.report()
