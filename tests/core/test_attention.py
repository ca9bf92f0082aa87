"""Attention against a numpy reference, causality, and the transformer's decoding."""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch import Tensor, no_grad
from tinytorch.core.attention import (
    CausalTransformer,
    MultiHeadAttention,
    TransformerBlock,
    causal_mask,
    scaled_dot_product_attention,
)

from .gradcheck import check_gradients, numerical_grads


def test_causal_mask_with_and_without_cached_prefix():
    assert causal_mask(3, 3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    assert causal_mask(1, 4).tolist() == [[True, True, True, True]]
    assert causal_mask(2, 4).tolist() == [[True, True, True, False], [True, True, True, True]]
    with pytest.raises(ValueError, match="more queries"):
        causal_mask(3, 2)


def test_attention_matches_numpy_reference_and_its_gradient():
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 2))
    s = q @ k.transpose(0, 2, 1) / 2.0
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    out, weights = scaled_dot_product_attention(Tensor(q, dtype=np.float64), Tensor(k, dtype=np.float64),
                                                Tensor(v, dtype=np.float64))
    np.testing.assert_allclose(out.data, w @ v, rtol=1e-10)
    np.testing.assert_allclose(weights.data, w, rtol=1e-10)
    mask = causal_mask(3, 5)
    check_gradients(lambda a, b, c: scaled_dot_product_attention(a, b, c, mask)[0], q, k, v)
    with pytest.raises(ValueError, match="attention shapes do not fit"):
        scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v[:, :4]))


def test_multi_head_attention_shapes_and_errors():
    mha = MultiHeadAttention(8, 2, rng=np.random.default_rng(0))
    assert mha(Tensor(np.ones((3, 5, 8)))).shape == (3, 5, 8)
    with pytest.raises(ValueError, match=r"divisible by num_heads \(3\)"):
        MultiHeadAttention(8, 3)
    with pytest.raises(ValueError, match=r"\(batch, time, 8\); got \(5, 8\)"):
        mha(Tensor(np.ones((5, 8))))


def test_causal_block_output_ignores_future_tokens():
    block = TransformerBlock(8, 2, rng=np.random.default_rng(1))
    x = np.random.default_rng(2).normal(size=(1, 6, 8))
    changed = x.copy()
    changed[0, 4:] += 10.0
    a, b = block(Tensor(x)).data, block(Tensor(changed)).data
    np.testing.assert_allclose(a[0, :4], b[0, :4], rtol=1e-5, atol=1e-6)
    assert not np.allclose(a[0, 4:], b[0, 4:])


def test_transformer_block_gradients_match_finite_differences_in_float64():
    block = TransformerBlock(4, 2, rng=np.random.default_rng(3))
    for p in block.parameters():
        p.data = p.data.astype(np.float64)
    x = np.random.default_rng(4).normal(size=(1, 3, 4))
    weights = np.random.default_rng(5).normal(size=(1, 3, 4))
    (block(Tensor(x, dtype=np.float64)) * Tensor(weights, dtype=np.float64)).sum().backward()
    for name, p in list(block.named_parameters())[:6]:
        def loss(values: np.ndarray, p=p) -> float:
            saved = p.data
            p.data = values
            try:
                with no_grad():
                    return float((block(Tensor(x, dtype=np.float64)).data * weights).sum())
            finally:
                p.data = saved
        expected = numerical_grads(loss, [p.data.copy()])[0]
        np.testing.assert_allclose(p.grad.data, expected, rtol=1e-5, atol=1e-7, err_msg=name)


def test_transformer_learns_a_repeating_sequence():
    from tinytorch.core.losses import CrossEntropyLoss
    from tinytorch.core.optimizers import Adam

    model = CausalTransformer(vocab_size=5, embed_dim=16, num_heads=2, num_layers=1, max_seq_len=16,
                              rng=np.random.default_rng(0))
    seq = np.array([[0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]])
    opt = Adam(model.parameters(), lr=0.02)
    for _ in range(60):
        opt.zero_grad()
        logits = model(seq[:, :-1])
        loss = CrossEntropyLoss()(logits.reshape(-1, 5), seq[0, 1:])
        loss.backward()
        opt.step()
    assert loss.item() < 0.1
    assert model.generate(np.array([0, 1, 2]), 6)[0].tolist() == [0, 1, 2, 3, 4, 0, 1, 2, 3]


def test_generate_is_greedy_over_forward_and_checks_lengths():
    model = CausalTransformer(vocab_size=7, embed_dim=8, num_heads=2, num_layers=2, max_seq_len=8,
                              rng=np.random.default_rng(6))
    prompt = np.array([[1, 2, 3]])
    out = model.generate(prompt, 3)
    assert out.shape == (1, 6) and out[0, :3].tolist() == [1, 2, 3]
    with no_grad():
        assert out[0, 3] == model(prompt).data[0, -1].argmax()
    with pytest.raises(ValueError, match="exceeds max_seq_len=8"):
        model.generate(prompt, 6)
    with pytest.raises(ValueError, match="integer array of shape"):
        model(np.array([[0.5]]))
