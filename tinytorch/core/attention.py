"""Attention and a small causal transformer (Modules 12–13).

Every forward method takes an optional ``cache``: an object with ``length`` (tokens
already processed) and, per layer, ``append(k, v)`` returning all keys and values so
far. With one, the model processes only the new tokens and attends over the cached
past: that is the KV cache of Module 18 (:mod:`tinytorch.perf.memoization`), and it
runs through the same code as the uncached model rather than a copy of it.
"""

from __future__ import annotations

from typing import Optional, Protocol, Union

import numpy as np

from tinytorch.core.activations import gelu, softmax
from tinytorch.core.autograd import no_grad
from tinytorch.core.layers import Embedding, LayerNorm, Linear, Module, _positive_int
from tinytorch.core.tensor import Tensor

__all__ = [
    "LayerCache",
    "ModelCache",
    "causal_mask",
    "scaled_dot_product_attention",
    "MultiHeadAttention",
    "TransformerBlock",
    "CausalTransformer",
]


class LayerCache(Protocol):
    def append(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Store this step's keys/values (B, heads, T_new, head_dim); return all so far."""


class ModelCache(Protocol):
    length: int

    def layer(self, index: int) -> LayerCache: ...


def causal_mask(query_len: int, key_len: int) -> np.ndarray:
    """Boolean ``(query_len, key_len)`` matrix, True where a query may attend.

    The queries are the *last* ``query_len`` positions of a ``key_len``-long sequence,
    so query i sits at absolute position ``key_len - query_len + i`` and sees every
    key up to and including that position. With equal lengths this is the usual
    lower triangle; with one query (decoding) it allows every cached key.
    """
    offset = key_len - query_len
    if offset < 0:
        raise ValueError(f"more queries ({query_len}) than keys ({key_len}) in a causal mask")
    return np.arange(key_len)[None, :] <= (np.arange(query_len)[:, None] + offset)


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor,
                                 mask: Optional[np.ndarray] = None) -> tuple[Tensor, Tensor]:
    """softmax(q kᵀ / √d) v over the last two axes; returns (output, attention weights).

    ``mask`` is boolean, broadcastable to the score matrix, True where attention is
    allowed. Dividing by √d keeps the scores' variance near 1 whatever the head
    size, so the softmax does not saturate.
    """
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"attention shapes do not fit: q {q.shape}, k {k.shape}, v {v.shape}")
    scores = (q @ k.transpose(-2, -1)) * (1.0 / np.sqrt(q.shape[-1]))
    if mask is not None:
        scores = scores.masked_fill(~np.asarray(mask, dtype=bool), -np.inf)
    weights = softmax(scores, dim=-1)
    return weights @ v, weights


class MultiHeadAttention(Module):
    """``num_heads`` attention heads of size ``embed_dim // num_heads`` in parallel."""

    def __init__(self, embed_dim: int, num_heads: int, causal: bool = False,
                 rng: Optional[np.random.Generator] = None) -> None:
        super().__init__()
        self.embed_dim = _positive_int(embed_dim, "embed_dim")
        self.num_heads = _positive_int(num_heads, "num_heads")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        self.head_dim = embed_dim // num_heads
        self.causal = causal
        self.q_proj = Linear(embed_dim, embed_dim, rng=rng)
        self.k_proj = Linear(embed_dim, embed_dim, rng=rng)
        self.v_proj = Linear(embed_dim, embed_dim, rng=rng)
        self.out_proj = Linear(embed_dim, embed_dim, rng=rng)

    def _split(self, x: Tensor) -> Tensor:
        batch, length, _ = x.shape
        return x.reshape(batch, length, self.num_heads, self.head_dim).permute(0, 2, 1, 3)

    def project(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Queries, keys and values of ``x`` (B, T, E), each as (B, heads, T, head_dim)."""
        if x.ndim != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f"MultiHeadAttention expects (batch, time, {self.embed_dim}); got {x.shape}")
        return self._split(self.q_proj(x)), self._split(self.k_proj(x)), self._split(self.v_proj(x))

    def merge(self, heads: Tensor) -> Tensor:
        """(B, heads, T, head_dim) → output projection of (B, T, E)."""
        batch, _, length, _ = heads.shape
        return self.out_proj(heads.permute(0, 2, 1, 3).reshape(batch, length, self.embed_dim))

    def forward(self, x: Tensor, cache: Optional[LayerCache] = None) -> Tensor:
        q, k, v = self.project(x)
        if cache is not None:
            k, v = cache.append(k, v)
        mask = causal_mask(q.shape[-2], k.shape[-2]) if self.causal else None
        out, _ = scaled_dot_product_attention(q, k, v, mask)
        return self.merge(out)


class TransformerBlock(Module):
    """Pre-norm block: x + attn(LN(x)), then x + MLP(LN(x)) with a GELU MLP of width 4·E."""

    def __init__(self, embed_dim: int, num_heads: int, mlp_ratio: int = 4, causal: bool = True,
                 rng: Optional[np.random.Generator] = None) -> None:
        super().__init__()
        self.ln1 = LayerNorm(embed_dim)
        self.attn = MultiHeadAttention(embed_dim, num_heads, causal=causal, rng=rng)
        self.ln2 = LayerNorm(embed_dim)
        self.fc1 = Linear(embed_dim, mlp_ratio * embed_dim, rng=rng)
        self.fc2 = Linear(mlp_ratio * embed_dim, embed_dim, rng=rng)

    def mlp(self, x: Tensor) -> Tensor:
        return self.fc2(gelu(self.fc1(x)))

    def forward(self, x: Tensor, cache: Optional[LayerCache] = None) -> Tensor:
        x = x + self.attn(self.ln1(x), cache)
        return x + self.mlp(self.ln2(x))


class CausalTransformer(Module):
    """A GPT-style language model: token + position embeddings, blocks, a vocabulary head."""

    def __init__(self, vocab_size: int, embed_dim: int = 32, num_heads: int = 4, num_layers: int = 2,
                 max_seq_len: int = 128, rng: Optional[np.random.Generator] = None) -> None:
        super().__init__()
        self.vocab_size = _positive_int(vocab_size, "vocab_size")
        self.max_seq_len = _positive_int(max_seq_len, "max_seq_len")
        self.token_embedding = Embedding(vocab_size, embed_dim, rng=rng)
        self.position_embedding = Embedding(max_seq_len, embed_dim, rng=rng)
        self.blocks = [TransformerBlock(embed_dim, num_heads, rng=rng)
                       for _ in range(_positive_int(num_layers, "num_layers"))]
        self.ln_f = LayerNorm(embed_dim)
        self.head = Linear(embed_dim, vocab_size, rng=rng)

    def embed(self, ids: np.ndarray, start: int = 0) -> Tensor:
        """Embeddings of token ``ids`` (B, T) placed at positions start … start+T-1."""
        length = ids.shape[1]
        if start + length > self.max_seq_len:
            raise ValueError(
                f"sequence of {start + length} tokens exceeds max_seq_len={self.max_seq_len}"
            )
        return self.token_embedding(ids) + self.position_embedding(np.arange(start, start + length))

    def forward(self, ids: Union[Tensor, np.ndarray], cache: Optional[ModelCache] = None) -> Tensor:
        """Logits (B, T, vocab) for every position of ``ids`` (B, T).

        With a ``cache``, ``ids`` are the tokens that follow the ``cache.length`` tokens
        already processed, and only they are computed.
        """
        ids = _as_ids(ids)
        x = self.embed(ids, start=cache.length if cache is not None else 0)
        for i, block in enumerate(self.blocks):
            x = block(x, cache.layer(i) if cache is not None else None)
        return self.head(self.ln_f(x))

    def generate(self, prompt: Union[Tensor, np.ndarray], max_new_tokens: int) -> np.ndarray:
        """Greedy decoding: append the most likely next token ``max_new_tokens`` times.

        Each step re-runs the whole sequence: its cost grows with the context, which
        is the cost a KV cache removes.
        """
        ids = _as_ids(prompt)
        if ids.shape[1] + max_new_tokens > self.max_seq_len:
            raise ValueError(
                f"prompt of {ids.shape[1]} tokens + {max_new_tokens} new tokens exceeds "
                f"max_seq_len={self.max_seq_len}"
            )
        with no_grad():
            for _ in range(max_new_tokens):
                next_id = self.forward(ids).data[:, -1, :].argmax(axis=-1)
                ids = np.concatenate([ids, next_id[:, None]], axis=1)
        return ids


def _as_ids(ids: Union[Tensor, np.ndarray]) -> np.ndarray:
    arr = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] == 0 or arr.dtype.kind not in "iu":
        raise ValueError(f"token ids must be a non-empty integer array of shape (B, T); got "
                         f"{arr.dtype} array of shape {arr.shape}")
    return arr
