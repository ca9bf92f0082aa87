"""Optional cross-check: the same computations in PyTorch give the same values and gradients.

PyTorch is not a dependency; where it is not installed these tests are skipped with
that reason. ``.ci/run`` installs it when the machine can.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed; the cross-check against it is optional")

from tinytorch import Parameter, Tensor  # noqa: E402
from tinytorch.core.activations import gelu, sigmoid, softmax, tanh  # noqa: E402
from tinytorch.core.layers import LayerNorm  # noqa: E402
from tinytorch.core.losses import CrossEntropyLoss  # noqa: E402
from tinytorch.core.optimizers import SGD, Adam  # noqa: E402

pytestmark = pytest.mark.torch
rng = np.random.default_rng(0)


def pair(shape):
    a = rng.normal(size=shape)
    return Tensor(a, requires_grad=True, dtype=np.float64), torch.tensor(a, requires_grad=True)


def test_broadcast_expression_values_and_gradients():
    a, ta = pair((2, 1, 3))
    b, tb = pair((4, 3))
    c, tc = pair((3, 2))
    ours = ((a * b - b / (a * a + 1.0)) @ c).exp().mean(axis=1).sum()
    theirs = ((ta * tb - tb / (ta * ta + 1.0)) @ tc).exp().mean(dim=1).sum()
    ours.backward()
    theirs.backward()
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-10)
    for x, tx in ((a, ta), (b, tb), (c, tc)):
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-10)


def test_activations_match():
    x, tx = pair((3, 5))
    for ours, theirs in [(sigmoid, torch.sigmoid), (tanh, torch.tanh),
                         (lambda t: softmax(t, 0), lambda t: torch.softmax(t, 0)),
                         (gelu, lambda t: torch.nn.functional.gelu(t, approximate="tanh"))]:
        np.testing.assert_allclose(ours(x).data, theirs(tx).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_cross_entropy_and_layernorm_match():
    z, tz = pair((6, 4))
    y = np.array([0, 3, 2, 1, 1, 0])
    CrossEntropyLoss()(z, y).backward()
    torch.nn.functional.cross_entropy(tz, torch.tensor(y)).backward()
    np.testing.assert_allclose(z.grad.data, tz.grad.numpy(), rtol=1e-10)
    x, tx = pair((2, 8))
    ln = LayerNorm(8)
    for p in ln.parameters():
        p.data = p.data.astype(np.float64)
    np.testing.assert_allclose(ln(x).data, torch.nn.functional.layer_norm(tx, (8,)).detach().numpy(),
                               rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("ours, theirs", [
    (lambda p: SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)),
    (lambda p: Adam(p, lr=0.05, weight_decay=0.01), lambda p: torch.optim.Adam(p, lr=0.05, weight_decay=0.01)),
], ids=["sgd", "adam"])
def test_optimizer_trajectories_match(ours, theirs):
    start = rng.normal(size=5)
    p = Parameter(start, dtype=np.float64)
    tp = torch.tensor(start, requires_grad=True)
    opt, topt = ours([p]), theirs([tp])
    for step in range(20):
        g = np.sin(np.arange(5) + step)
        p.grad = Tensor(g, dtype=np.float64)
        tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
    np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10)
