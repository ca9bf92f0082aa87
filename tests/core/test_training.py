"""The digits demo reaches the accuracy target, deterministically, and reports it."""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch.core.training import accuracy, digits_mlp, fit, train_digits
from tinytorch.datasets import load_digits


@pytest.fixture(scope="module")
def trained():
    return train_digits(hidden_size=128, epochs=30, seed=0, progress=False)


def test_digits_mlp_reaches_95_percent_on_held_out_split(trained):
    model, history, acc = trained
    assert acc >= 0.95, f"test accuracy {acc:.3f} below 0.95"
    assert history.epoch_losses[-1] < 0.2 * history.epoch_losses[0]
    assert not any(m.training for m in model.modules()), "fit must leave the model in eval mode"


def test_training_is_deterministic_for_a_seed_and_varies_with_it(trained):
    _, history, acc = trained
    _, again, acc_again = train_digits(epochs=30, seed=0, progress=False)
    assert again.epoch_losses == history.epoch_losses and acc_again == acc
    _, other, _ = train_digits(epochs=3, seed=1, progress=False)
    assert other.epoch_losses[0] != history.epoch_losses[0]


def test_accuracy_is_a_fraction_of_correct_argmax():
    model = digits_mlp(8, seed=0)
    data = load_digits()
    acc = accuracy(model, data.X_test, data.y_test)
    assert 0.0 <= acc <= 1.0
    from tinytorch import Tensor, no_grad
    with no_grad():
        predicted = model(Tensor(data.X_test[:10])).data.argmax(axis=1)
    assert accuracy(model, data.X_test[:10], predicted) == 1.0
    with pytest.raises(ValueError, match="equally long, non-empty X and y; got 10 and 9"):
        accuracy(model, data.X_test[:10], predicted[:9])


def test_fit_rejects_nonpositive_epochs():
    with pytest.raises(ValueError, match="epochs must be positive; got 0"):
        fit(digits_mlp(4), np.zeros((2, 64), np.float32), np.zeros(2, np.int64), epochs=0)
