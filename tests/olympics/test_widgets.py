"""Headless widget tests: turning a knob re-measures, rebuilds and redraws; errors become messages."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tinytorch.core.training import fit  # noqa: E402
from tinytorch.datasets import load_digits  # noqa: E402
from tinytorch.olympics import BenchmarkReport, SimpleMLP  # noqa: E402
from tinytorch.olympics.widgets import BATCH_SIZES, BatchSizeExplorer, StackExplorer  # noqa: E402
from tinytorch.perf.acceleration import FusedLinearReLU  # noqa: E402
from tinytorch.perf.quantization import QuantizedLinear  # noqa: E402


class FakeThroughput:
    """A measure_throughput stand-in: 1 ms per batch of any size, and a log of requested sizes."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def __call__(self, model, X, batch_size=64, num_batches=20, warmup_runs=2):
        self.sizes.append(batch_size)
        return {"batch_size": batch_size, "runs": num_batches, "samples_per_sec": batch_size * 1000.0}


def test_batch_knob_remeasures_and_redraws_with_littles_law():
    fake = FakeThroughput()
    explorer = BatchSizeExplorer(None, np.zeros((4, 64), np.float32), fake)
    assert sorted(fake.sizes) == BATCH_SIZES, "the first draw sweeps every batch size"
    before = explorer.image.value
    explorer.slider.value = 256
    assert fake.sizes[-1] == 256 and explorer.image.value != before
    assert "L = λ·W = 256 requests" in explorer.message.value and "W = 1.000 ms" in explorer.message.value
    assert "from 128 to 256 multiplied throughput by 2.00 and the wait by 1.00" in explorer.message.value


def test_batch_knob_says_where_throughput_saturates():
    def saturating(model, X, batch_size=64, num_batches=20, warmup_runs=2):
        return {"batch_size": batch_size, "samples_per_sec": 1000.0 * min(batch_size, 64)}

    explorer = BatchSizeExplorer(None, np.zeros((4, 64), np.float32), saturating, initial=256)
    assert "90 % of its best at batch 64, where a batch takes 1.000 ms" in explorer.message.value
    assert "multiplied throughput by 1.00 and the wait by 2.00" in explorer.message.value
    linear = BatchSizeExplorer(None, np.zeros((4, 64), np.float32), FakeThroughput())
    assert "still rising at batch 512" in linear.message.value


def test_batch_knob_times_enough_calls_at_small_batches():
    fake = FakeThroughput()
    calls = {}

    def counting(model, X, batch_size=64, num_batches=20, warmup_runs=2):
        calls[batch_size] = num_batches
        return fake(model, X, batch_size, num_batches, warmup_runs)

    BatchSizeExplorer(None, np.zeros((4, 64), np.float32), counting, samples_per_point=1024)
    assert calls[1] == 1024 and calls[512] == 20, "about the same samples per point, never fewer than 20 calls"


def test_batch_knob_explains_a_missing_function_and_recovers():
    def unwritten(*args, **kwargs):
        raise NotImplementedError

    explorer = BatchSizeExplorer(None, np.zeros((4, 64), np.float32), unwritten)
    assert "not implemented yet" in explorer.message.value and explorer.image.value == b""
    assert "run the Explore cell again" in explorer.message.value
    explorer.measure_throughput = fake = FakeThroughput()
    explorer.slider.value = 32
    assert sorted(fake.sizes) == BATCH_SIZES, "sizes never measured are measured with the first that works"
    assert bytes(explorer.image.value).startswith(b"\x89PNG") and "L = λ·W = 32" in explorer.message.value


@pytest.fixture(scope="module")
def trained():
    data = load_digits()
    model = SimpleMLP(64, 32, 10, seed=0)
    fit(model, data.X_train, data.y_train, epochs=8, seed=0, progress=False)
    return model, data


def test_stack_knob_rebuilds_the_model_and_redraws(trained):
    model, data = trained
    explorer = StackExplorer(model, data.X_test, data.y_test, BenchmarkReport, num_runs=10, initial=("quantize",))
    assert any(isinstance(m, QuantizedLinear) for m in explorer.current_model.modules())
    first = explorer.current_model
    pictures = (explorer.tradeoff.value, explorer.waterfall.value, explorer.latency.value)
    explorer.steps.value = ["prune", "quantize", "fuse"]
    assert explorer.current_model is not first
    assert any(isinstance(m, FusedLinearReLU) for m in explorer.current_model.modules())
    assert explorer.current_model.layers.layers[0].out_features == round(32 * 0.6)
    assert (explorer.tradeoff.value, explorer.waterfall.value, explorer.latency.value) != pictures
    assert set(explorer.tried) == {"baseline", "int8_quantization",
                                   "structured_pruning(0.4) + int8_quantization + fusion"}
    assert explorer.tried["int8_quantization"]["latency_change"] in (
        "faster", "slower", "no significant difference"), "each step is judged against the one before it"
    assert "latency_change" not in explorer.tried["baseline"]
    explorer.prune_amount.value = 0.25
    assert explorer.current_model.layers.layers[0].out_features == 24
    assert explorer.progress.value == explorer.progress.max == 4


def test_stack_knob_reports_a_wrong_order_without_breaking(trained):
    model, data = trained
    explorer = StackExplorer(model, data.X_test, data.y_test, BenchmarkReport, num_runs=10, initial=())
    picture = explorer.tradeoff.value
    explorer.steps.value = ["quantize", "prune"]
    assert "cannot prune a quantized model" in explorer.message.value and explorer.tradeoff.value == picture
    assert explorer.progress.bar_style == "danger"
    explorer.steps.value = ["prune"]
    assert explorer.tradeoff.value != picture and "structured_pruning" in explorer.message.value


def test_stack_knob_explains_an_unwritten_report(trained):
    model, data = trained

    class Unwritten:
        def __init__(self, model_name="model"):
            raise NotImplementedError

    explorer = StackExplorer(model, data.X_test, data.y_test, Unwritten)
    assert "BenchmarkReport.benchmark_model (Part 2) is not implemented yet" in explorer.message.value
