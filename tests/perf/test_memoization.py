"""KV cache: same logits and tokens as full recomputation; cost per token flat in FLOPs."""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch import no_grad
from tinytorch.core.attention import CausalTransformer
from tinytorch.perf.memoization import KVCache, generate_cached
from tinytorch.perf.profiling import Profiler


@pytest.fixture(scope="module")
def model():
    return CausalTransformer(vocab_size=40, embed_dim=32, num_heads=4, num_layers=2, max_seq_len=160,
                             rng=np.random.default_rng(0))


def test_cached_decoding_gives_the_same_tokens(model):
    prompt = np.random.default_rng(1).integers(0, 40, (2, 7))
    np.testing.assert_array_equal(generate_cached(model, prompt, 25), model.generate(prompt, 25))


def test_cached_logits_equal_full_recomputation_at_every_position(model):
    ids = np.random.default_rng(2).integers(0, 40, (1, 30))
    with no_grad():
        full = model(ids).data
        cache = KVCache(model)
        pieces = [model(ids[:, :5], cache).data] + [model(ids[:, t:t + 1], cache).data for t in range(5, 30)]
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), full, rtol=1e-4, atol=1e-5)
    assert cache.length == 30 and cache.nbytes == 2 * 2 * 4 * 8 * 160 * 4


class _CachedStep:
    """Lets the profiler observe one cached decoding step (it needs ``modules`` and a call)."""

    def __init__(self, model, cache) -> None:
        self.model, self.cache = model, cache

    def modules(self):
        return self.model.modules()

    def __call__(self, ids):
        return self.model(ids, self.cache)


def test_cached_step_costs_fixed_work_plus_a_term_linear_in_context(model):
    p = Profiler()
    e, layers, vocab = 32, 2, 40
    fixed = layers * (4 * 2 * e * e + 2 * 2 * e * 4 * e) + 2 * e * vocab  # projections, MLP, head

    def cached_step(context: int) -> int:
        cache = KVCache(model)
        with no_grad():
            model(np.zeros((1, context), np.int64), cache)
        return p.count_flops(_CachedStep(model, cache), np.zeros((1, 1), np.int64))

    def uncached_step(context: int) -> int:
        return p.count_flops(model, np.zeros((1, context + 1), np.int64))

    for context in (16, 128):
        assert cached_step(context) == fixed + layers * 4 * (context + 1) * e
    cached_growth = cached_step(128) / cached_step(16)
    uncached_growth = uncached_step(128) / uncached_step(16)
    assert uncached_growth > 7 and cached_growth < 1.6 and uncached_growth > 4 * cached_growth


def test_cache_capacity_and_arguments_are_checked(model):
    cache = KVCache(model, capacity=4)
    with no_grad():
        model(np.zeros((1, 4), np.int64), cache)
        with pytest.raises(ValueError, match="KV cache is full: 4 cached \\+ 1 new tokens exceed capacity 4"):
            model(np.zeros((1, 1), np.int64), cache)
    with pytest.raises(ValueError, match=r"capacity must be in 1..160"):
        KVCache(model, capacity=500)
    with pytest.raises(TypeError, match="needs a CausalTransformer"):
        KVCache(object())
    with pytest.raises(ValueError, match="exceeds max_seq_len=160"):
        generate_cached(model, np.zeros((1, 10), np.int64), 151)
