# An optimizer with a StepLR scheduler, then trainer.test on held-out data.
import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import expect

L.seed_everything(2, verbose=False)
torch.set_num_threads(1)


class Model(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self.layer(x), y)
        self.log("loss", loss, on_step=False, on_epoch=True)
        return loss

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_mse", nn.functional.mse_loss(self.layer(x), y))

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
        return [optimizer], [torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)]


x = torch.randn(128, 2)
y = x.sum(dim=1, keepdim=True)
trainer = L.Trainer(max_epochs=3, accelerator="cpu", logger=False, enable_progress_bar=False,
                    enable_checkpointing=False, enable_model_summary=False)
model = Model()
trainer.fit(model, DataLoader(TensorDataset(x[:96], y[:96]), batch_size=32))
(result,) = trainer.test(model, DataLoader(TensorDataset(x[96:], y[96:]), batch_size=32), verbose=False)
print(result)

expect.run("Model", metrics={"test.test_mse": result["test_mse"]}, params={"optimizer.class": "SGD"})
expect.runs_total(1)
expect.report()
