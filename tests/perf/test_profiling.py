"""Profiler counts against hand arithmetic, and measures without side effects."""

from __future__ import annotations

import numpy as np
import pytest

import tinytorch.core.attention as attention
from tinytorch.core.attention import CausalTransformer
from tinytorch.core.layers import Linear
from tinytorch.core.training import digits_mlp
from tinytorch.perf.acceleration import fuse_model
from tinytorch.perf.benchmarking import BenchmarkResult
from tinytorch.perf.profiling import Profiler, quick_profile
from tinytorch.perf.quantization import quantize_model

P = Profiler()
# Linear(64, 128) + Linear(128, 10): weights and biases
PARAMS = 64 * 128 + 128 + 128 * 10 + 10


def test_parameter_count_and_size_of_float_and_int8_models():
    model = digits_mlp(128)
    assert P.count_parameters(model) == PARAMS == 9610
    assert P.model_size_bytes(model) == 4 * PARAMS
    q = quantize_model(model)
    assert P.count_parameters(q) == PARAMS, "quantizing changes storage, not how many weights there are"
    # int8 weights (1 B), float16 biases and per-channel scales (2 B each)
    assert P.model_size_bytes(q) == (64 * 128 + 128 * 10) + 2 * (128 + 10) + 2 * (128 + 10)


@pytest.mark.parametrize("batch", [1, 7])
def test_linear_flops_scale_with_rows_and_fusion_does_not_double_count(batch):
    model = digits_mlp(128)
    x = np.ones((batch, 64), np.float32)
    expected = batch * 2 * (64 * 128 + 128 * 10)
    assert P.count_flops(model, x) == expected
    assert P.count_flops(fuse_model(model), x) == expected


def test_transformer_flops_by_hand_and_model_left_untouched():
    model = CausalTransformer(10, 16, 2, 1, 32)
    t, e = 8, 16
    projections = 4 * 2 * t * e * e
    attention_products = 4 * t * t * e
    mlp = 2 * 2 * t * e * 4 * e
    head = 2 * t * e * 10
    assert P.count_flops(model, np.zeros((1, t), np.int64)) == projections + attention_products + mlp + head
    assert attention.scaled_dot_product_attention.__name__ == "scaled_dot_product_attention"
    assert not any("forward" in vars(m) for m in model.modules())


def test_peak_memory_grows_with_batch_and_fusion_saves_a_temporary():
    model = digits_mlp(128)
    small = P.measure_memory(model, np.ones((1, 64), np.float32))
    big = P.measure_memory(model, np.ones((512, 64), np.float32))
    assert big > 512 * 128 * 4, "the hidden activation alone is 512 x 128 float32"
    assert big > 50 * small
    fused = P.measure_memory(fuse_model(model), np.ones((512, 64), np.float32))
    assert fused <= big - 512 * 128 * 4 * 0.75, "fusion must not allocate ReLU's separate output"


def test_latency_goes_through_the_benchmark_harness():
    result = P.benchmark_latency(Linear(4, 2), np.ones((1, 4), np.float32), num_runs=30, warmup_runs=3)
    assert isinstance(result, BenchmarkResult) and result.n == 30 and result.warmup_runs == 3
    report = quick_profile(digits_mlp(16), np.ones((1, 64), np.float32), num_runs=10)
    assert set(report) == {"parameters", "size_bytes", "flops", "peak_memory_bytes", "latency"}
    assert report["latency"]["n"] == 10


def test_the_old_latency_names_still_work_and_say_their_new_names():
    x = np.ones((1, 4), np.float32)
    with pytest.warns(DeprecationWarning, match="Profiler.measure_latency is renamed Profiler.benchmark_latency"):
        result = P.measure_latency(Linear(4, 2), x, num_runs=8, warmup_runs=0)
    assert isinstance(result, BenchmarkResult) and result.n == 8
    with pytest.warns(DeprecationWarning, match="runs= is renamed num_runs="):
        assert quick_profile(Linear(4, 2), x, runs=9)["latency"]["n"] == 9
