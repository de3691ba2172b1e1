# Epochs shorter than log_every_n_steps (the default 50): per-step metrics still recorded.
import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import expect

L.seed_everything(1, verbose=False)
torch.set_num_threads(1)
last_step_losses = []


class Classifier(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(4, 2)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self.layer(x), y)
        self.log("train_loss", loss)  # per step, the default in training_step
        return loss

    def on_train_epoch_end(self):
        last_step_losses.append(float(self.trainer.callback_metrics["train_loss"]))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=0.01)


x = torch.randn(80, 4)
y = (x[:, 0] > 0).long()
trainer = L.Trainer(max_epochs=3, accelerator="cpu", logger=False, enable_progress_bar=False,
                    enable_checkpointing=False, enable_model_summary=False)
trainer.fit(Classifier(), DataLoader(TensorDataset(x, y), batch_size=16))  # 5 steps per epoch
print(last_step_losses)

expect.run("Classifier", history={"train_loss": last_step_losses})
expect.report()
