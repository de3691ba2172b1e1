# A LightningModule with validation, ModelCheckpoint(monitor="val_loss", mode="min") and EarlyStopping.
import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import expect

L.seed_everything(0, verbose=False)
torch.set_num_threads(1)


class Regressor(L.LightningModule):
    def __init__(self, lr=0.05):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


x = torch.randn(256, 3)
y = x @ torch.tensor([[1.0], [-1.0], [0.5]]) + 0.05 * torch.randn(256, 1)
train = DataLoader(TensorDataset(x[:192], y[:192]), batch_size=32)
val = DataLoader(TensorDataset(x[192:], y[192:]), batch_size=64)
checkpoint = L.pytorch.callbacks.ModelCheckpoint(monitor="val_loss", mode="min")
trainer = L.Trainer(max_epochs=4, accelerator="cpu", logger=False, enable_progress_bar=False,
                    enable_model_summary=False, callbacks=[checkpoint])
trainer.fit(Regressor(), train, val)
print(float(checkpoint.best_model_score))

expect.run("Regressor", params={"lr": 0.05}, metrics={"checkpoint.best_score": float(checkpoint.best_model_score)},
           goals={"val_loss": "min", "checkpoint.best_score": "min"},
           tags={"checkpoint.best_path": checkpoint.best_model_path})
expect.report()
