"""A trained digits MLP shared by the optimization tests (half a second to train)."""

from __future__ import annotations

import pytest

from tinytorch.core.training import train_digits
from tinytorch.datasets import load_digits


@pytest.fixture(scope="session")
def digits():
    return load_digits()


@pytest.fixture(scope="session")
def trained(digits):
    model, _, accuracy = train_digits(hidden_size=128, epochs=30, seed=0, progress=False)
    return model, accuracy
