"""KV caching (Module 18): stop recomputing the past during autoregressive decoding.

Generating token t+1 with a causal transformer needs the keys and values of tokens
1…t in every layer. Those never change once computed (causality: later tokens cannot
affect them), so recomputing them each step, as ``CausalTransformer.generate`` does,
makes step t cost O(t) projections and O(t²) attention. A cache keeps them: each step
projects one token and attends over the stored keys, so its cost grows only through
the O(t) attention term, which at small context is dwarfed by the fixed per-token
work. Memory is the price: 2 · layers · heads · head_dim · max_len floats per sequence.
"""

from __future__ import annotations

from typing import Optional, Union

import numpy as np

from tinytorch.core.attention import CausalTransformer
from tinytorch.core.autograd import no_grad
from tinytorch.core.tensor import Tensor

__all__ = ["LayerKVCache", "KVCache", "generate_cached"]


class LayerKVCache:
    """Preallocated keys and values of one attention layer: (B, heads, capacity, head_dim)."""

    def __init__(self, batch: int, heads: int, head_dim: int, capacity: int, dtype: np.dtype) -> None:
        self.keys = np.zeros((batch, heads, capacity, head_dim), dtype=dtype)
        self.values = np.zeros_like(self.keys)
        self.length = 0

    def append(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Write the new keys/values after the stored ones; return views of everything so far."""
        new = k.shape[-2]
        end = self.length + new
        capacity = self.keys.shape[2]
        if end > capacity:
            raise ValueError(f"KV cache is full: {self.length} cached + {new} new tokens exceed capacity {capacity}")
        if k.shape[:2] != self.keys.shape[:2]:
            raise ValueError(f"keys of shape {k.shape} do not fit a cache for (batch, heads) = {self.keys.shape[:2]}")
        self.keys[:, :, self.length:end] = k.data
        self.values[:, :, self.length:end] = v.data
        self.length = end
        return Tensor._wrap(self.keys[:, :, :end]), Tensor._wrap(self.values[:, :, :end])


class KVCache:
    """One :class:`LayerKVCache` per transformer block, sized for ``capacity`` tokens."""

    def __init__(self, model: CausalTransformer, batch_size: int = 1, capacity: Optional[int] = None) -> None:
        if not isinstance(model, CausalTransformer):
            raise TypeError(f"KVCache needs a CausalTransformer; got {type(model).__name__}")
        capacity = model.max_seq_len if capacity is None else capacity
        if not 0 < capacity <= model.max_seq_len:
            raise ValueError(f"capacity must be in 1..{model.max_seq_len} (max_seq_len); got {capacity}")
        attn = model.blocks[0].attn
        dtype = attn.q_proj.weight.dtype
        self.layers = [LayerKVCache(batch_size, attn.num_heads, attn.head_dim, capacity, dtype)
                       for _ in model.blocks]

    @property
    def length(self) -> int:
        return self.layers[0].length

    def layer(self, index: int) -> LayerKVCache:
        return self.layers[index]

    @property
    def nbytes(self) -> int:
        return sum(c.keys.nbytes + c.values.nbytes for c in self.layers)


def generate_cached(model: CausalTransformer, prompt: Union[Tensor, np.ndarray],
                    max_new_tokens: int) -> np.ndarray:
    """Greedy decoding with a KV cache; returns the same tokens as ``model.generate``."""
    ids = np.asarray(prompt.data if isinstance(prompt, Tensor) else prompt)
    if ids.ndim == 1:
        ids = ids[None, :]
    if ids.shape[1] + max_new_tokens > model.max_seq_len:
        raise ValueError(
            f"prompt of {ids.shape[1]} tokens + {max_new_tokens} new tokens exceeds "
            f"max_seq_len={model.max_seq_len}"
        )
    cache = KVCache(model, batch_size=ids.shape[0])
    with no_grad():
        logits = model(ids, cache)                       # prefill: the whole prompt once
        for step in range(max_new_tokens):
            next_id = logits.data[:, -1, :].argmax(axis=-1)[:, None]
            ids = np.concatenate([ids, next_id], axis=1)
            if step + 1 < max_new_tokens:
                logits = model(next_id, cache)           # decode: one token per step
    return ids
