"""Lightning: a 20-64-64-2 MLP on 20,000 x 20 rows (2,000 more to validate), batch 64, 3 epochs, CPU."""

from __future__ import annotations

import functools

MLFLOW_FLAVOR = "pytorch"
TARGET = 0.05  # the overhead target: 5 % of the fit

FEATURES = 20


class State:
    """The loaders and the number of epochs; the module and trainer are built anew for every training."""

    def __init__(self, train_loader, valid_loader, epochs: int):
        self.train_loader, self.valid_loader, self.epochs = train_loader, valid_loader, epochs


@functools.lru_cache(maxsize=None)  # one class, defined once lightning is imported
def _module_class():
    import lightning.pytorch as pl
    import torch
    from torch import nn

    class MLP(pl.LightningModule):
        def __init__(self, hidden: int = 64, lr: float = 1e-3):
            super().__init__()
            self.save_hyperparameters()
            self.net = nn.Sequential(nn.Linear(FEATURES, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                     nn.ReLU(), nn.Linear(hidden, 2))

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = nn.functional.cross_entropy(self.net(x), y)
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            return loss

        def validation_step(self, batch, batch_idx):
            x, y = batch
            logits = self.net(x)
            self.log("val_loss", nn.functional.cross_entropy(logits, y))
            self.log("val_acc", (logits.argmax(dim=1) == y).float().mean())

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)

    return MLP


def setup(quick: bool) -> State:
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    rows = 500 if quick else 20_000
    valid = 100 if quick else 2_000
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(rows + valid, FEATURES, generator=generator)
    weights = torch.randn(FEATURES, generator=generator)
    y = (X @ weights + 0.5 * torch.randn(rows + valid, generator=generator) > 0).long()
    train_loader = DataLoader(TensorDataset(X[:rows], y[:rows]), batch_size=64, shuffle=True,
                              generator=torch.Generator().manual_seed(0))
    valid_loader = DataLoader(TensorDataset(X[rows:], y[rows:]), batch_size=256)
    return State(train_loader, valid_loader, epochs=1 if quick else 3)


def _fit(train_loader, valid_loader, epochs: int, limit_batches=None) -> None:
    import lightning.pytorch as pl

    module = _module_class()()
    trainer = pl.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, limit_train_batches=limit_batches,
                         limit_val_batches=limit_batches)
    trainer.fit(module, train_loader, valid_loader)


def train(state: State) -> None:
    _fit(state.train_loader, state.valid_loader, state.epochs)


def warm_up(state: State) -> None:
    _fit(state.train_loader, state.valid_loader, epochs=1, limit_batches=4)
