"""Optimizer update rules by hand-computed steps, convergence, and argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch import Parameter, Tensor
from tinytorch.core.optimizers import SGD, Adam


def quadratic_step(opt, p: Parameter, target: np.ndarray) -> float:
    opt.zero_grad()
    diff = p - Tensor(target)
    loss = (diff * diff).sum()
    loss.backward()
    opt.step()
    return loss.item()


def test_sgd_momentum_and_weight_decay_match_hand_computation():
    p = Parameter([1.0])
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.5)
    p.grad = Tensor([2.0])
    opt.step()      # g = 2 + 0.5*1 = 2.5; v = 2.5; p = 1 - 0.25
    assert p.data[0] == pytest.approx(0.75)
    p.grad = Tensor([2.0])
    opt.step()      # g = 2 + 0.375 = 2.375; v = 2.25 + 2.375 = 4.625
    assert p.data[0] == pytest.approx(0.75 - 0.4625)


def test_adam_first_step_moves_each_coordinate_by_lr():
    p = Parameter([1.0, -1.0, 5.0])
    opt = Adam([p], lr=0.01)
    p.grad = Tensor([1e-3, -50.0, 7.0])
    opt.step()
    np.testing.assert_allclose(p.data, [0.99, -0.99, 4.99], rtol=1e-5)


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: SGD(ps, lr=0.05, momentum=0.9),
                                  lambda ps: Adam(ps, lr=0.1)], ids=["sgd", "momentum", "adam"])
def test_optimizers_converge_on_a_quadratic(make):
    target = np.array([3.0, -2.0, 0.5])
    p = Parameter(np.zeros(3))
    opt = make([p])
    losses = [quadratic_step(opt, p, target) for _ in range(300)]
    assert losses[-1] < 1e-4 * losses[0]
    np.testing.assert_allclose(p.data, target, atol=1e-2)


def test_parameters_without_gradient_are_left_alone():
    used, unused = Parameter([1.0]), Parameter([2.0])
    opt = Adam([used, unused], lr=0.1)
    used.grad = Tensor([1.0])
    opt.step()
    assert unused.data[0] == 2.0 and used.data[0] != 1.0


@pytest.mark.parametrize("call, fragment", [
    (lambda: SGD([], lr=0.1), "empty parameter list"),
    (lambda: SGD([Parameter([1.0])], lr=0.0), "learning rate must be positive; got 0.0"),
    (lambda: SGD([Tensor([1.0])], lr=0.1), "parameter 0 must be a Tensor with requires_grad=True"),
    (lambda: SGD([Parameter([1.0])], lr=0.1, momentum=-0.5), "momentum must be non-negative"),
    (lambda: Adam([Parameter([1.0])], betas=(0.9, 1.0)), r"betas must each be in \[0, 1\)"),
])
def test_bad_arguments_are_named(call, fragment):
    with pytest.raises((ValueError, TypeError), match=fragment):
        call()
