"""Training loop and the digits model (Module 07).

``fit`` is the loop every module before the capstone wrote by hand: shuffle, forward,
loss, backward, step. The digits demo trains the capstone's model shape,
Linear(64, h) → ReLU → Linear(h, 10), so the capstone benchmarks a model whose
accuracy means something.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from tinytorch.core.activations import ReLU
from tinytorch.core.autograd import no_grad
from tinytorch.core.data import DataLoader, TensorDataset
from tinytorch.core.layers import Linear, Module, Sequential
from tinytorch.core.losses import CrossEntropyLoss
from tinytorch.core.optimizers import Adam
from tinytorch.core.tensor import Tensor
from tinytorch.datasets import load_digits

__all__ = ["TrainHistory", "fit", "accuracy", "digits_mlp", "train_digits"]


@dataclass
class TrainHistory:
    """Mean training loss per epoch and the wall time the loop took."""

    epoch_losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def _seeds(seed: int) -> tuple[np.random.Generator, int]:
    """Independent streams for initialisation and shuffling from one user-facing seed."""
    init, shuffle = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(init), int(shuffle.generate_state(1)[0])


def digits_mlp(hidden_size: int = 128, seed: int = 0) -> Sequential:
    """Linear(64, hidden) → ReLU → Linear(hidden, 10), initialised from ``seed``."""
    rng, _ = _seeds(seed)
    return Sequential(Linear(64, hidden_size, rng=rng), ReLU(), Linear(hidden_size, 10, rng=rng))


def fit(model: Module, X: np.ndarray, y: np.ndarray, epochs: int = 30, batch_size: int = 64,
        lr: float = 0.01, seed: int = 0, progress: bool = True) -> TrainHistory:
    """Train ``model`` on (X, y) with Adam and cross-entropy; deterministic for a seed."""
    if epochs <= 0:
        raise ValueError(f"epochs must be positive; got {epochs!r}")
    _, shuffle_seed = _seeds(seed)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True, seed=shuffle_seed)
    optimizer = Adam(model.parameters(), lr=lr)
    loss_fn = CrossEntropyLoss()
    history = TrainHistory()
    model.train()
    start = time.perf_counter()
    bar = tqdm(range(epochs), desc="training", unit="epoch", disable=not progress)
    for _ in bar:
        total, count = 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
            count += len(yb)
        history.epoch_losses.append(total / count)
        bar.set_postfix(loss=f"{history.epoch_losses[-1]:.4f}")
    history.seconds = time.perf_counter() - start
    model.eval()
    return history


def accuracy(model: Module, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction (0…1) of rows of ``X`` whose arg-max logit equals the label."""
    if len(X) != len(y) or len(y) == 0:
        raise ValueError(f"accuracy needs equally long, non-empty X and y; got {len(X)} and {len(y)}")
    with no_grad():
        logits = model(Tensor(X))
    return float(np.mean(logits.data.argmax(axis=1) == np.asarray(y)))


def train_digits(hidden_size: int = 128, epochs: int = 30, seed: int = 0,
                 progress: bool = True) -> tuple[Sequential, TrainHistory, float]:
    """Train the digits MLP; returns (model, history, test accuracy)."""
    data = load_digits()
    model = digits_mlp(hidden_size, seed)
    history = fit(model, data.X_train, data.y_train, epochs=epochs, seed=seed, progress=progress)
    return model, history, accuracy(model, data.X_test, data.y_test)
