"""Profiling (Module 14): what a model costs, counted from what it actually holds and does.

* Parameters: the number of weight and bias values the model represents, whatever
  their storage (an int8 weight matrix counts its entries; its scales do not).
* Size: bytes of every array the model stores (an int8 weight is one byte; scales,
  biases and activation scales count). Not ``parameters × 4``.
* FLOPs: counted while a real forward pass runs, from the shapes each layer sees:
  2·in·out per row for a linear layer (a multiply and an add per weight), 4·T_q·T_k·E
  per sequence for attention's two matrix products. Zeroed weights still cost FLOPs in
  a dense kernel, so pruning without removing units does not lower this.
* Peak memory: the high-water mark of allocations (tracemalloc, which numpy reports
  to) during one inference, above what was allocated before it started.
* Latency: ``benchmark_latency``, through :class:`~tinytorch.perf.benchmarking.Benchmark`,
  under ``no_grad``.
"""

from __future__ import annotations

import tracemalloc
from typing import Any, Callable, Optional

import numpy as np

import tinytorch.core.attention as attention
from tinytorch.core.autograd import no_grad
from tinytorch.core.deprecation import renamed_argument, warn_renamed
from tinytorch.core.layers import Module
from tinytorch.core.tensor import Tensor
from tinytorch.perf.benchmarking import Benchmark, BenchmarkResult

__all__ = ["Profiler", "quick_profile"]


def _as_input(x: Any) -> Tensor:
    """A Tensor of ``x``; integer arrays (token ids) keep their dtype."""
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    return Tensor(arr, dtype=arr.dtype if arr.dtype.kind in "iu" else None)


class Profiler:
    """Measures a model; every method leaves the model as it found it."""

    def count_parameters(self, model: Module) -> int:
        params = sum(p.size for p in model.parameters())
        return params + sum(b.size for _, b, is_weight in model.named_buffers() if is_weight)

    def model_size_bytes(self, model: Module) -> int:
        params = sum(p.data.nbytes for p in model.parameters())
        return params + sum(np.asarray(b).nbytes for _, b, _ in model.named_buffers())

    def count_flops(self, model: Module, x: Any) -> int:
        """FLOPs of one forward pass on ``x``, counted by observing the pass."""
        total = 0
        depth = 0
        patched: list[Module] = []

        def count_linear(layer: Any, forward: Callable) -> Callable:  # any module with in/out_features
            def counted(inp: Any) -> Tensor:
                nonlocal total, depth
                data = inp.data if isinstance(inp, Tensor) else np.asarray(inp)
                if depth == 0:  # a fused layer's inner Linear is the same work
                    total += 2 * int(np.prod(data.shape[:-1])) * layer.in_features * layer.out_features
                depth += 1
                try:
                    return forward(inp)
                finally:
                    depth -= 1
            return counted

        original_sdpa = attention.scaled_dot_product_attention

        def counted_sdpa(q: Tensor, k: Tensor, v: Tensor, mask: Any = None) -> tuple[Tensor, Tensor]:
            nonlocal total
            rows = int(np.prod(q.shape[:-1]))  # batch · heads · T_q
            total += 2 * rows * k.shape[-2] * q.shape[-1] + 2 * rows * k.shape[-2] * v.shape[-1]
            return original_sdpa(q, k, v, mask)

        for m in model.modules():
            if hasattr(m, "in_features") and hasattr(m, "out_features"):
                m.forward = count_linear(m, m.forward)  # type: ignore[method-assign]
                patched.append(m)
        attention.scaled_dot_product_attention = counted_sdpa
        try:
            with no_grad():
                model(_as_input(x))
        finally:
            attention.scaled_dot_product_attention = original_sdpa
            for m in patched:
                del m.forward
        return total

    def measure_memory(self, model: Module, x: Any) -> int:
        """Peak bytes allocated during one inference on ``x`` (beyond what existed before)."""
        inp = _as_input(x)
        started_here = not tracemalloc.is_tracing()
        if started_here:
            tracemalloc.start()
        try:
            before, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            with no_grad():
                model(inp)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            if started_here:
                tracemalloc.stop()
        return max(0, peak - before)

    def benchmark_latency(self, model: Module, x: Any, num_runs: int = 100, warmup_runs: int = 10, *,
                          runs: Optional[int] = None) -> BenchmarkResult:
        """Statistics of per-call latency of ``model(x)``; the timed region is the forward pass alone.

        Named ``benchmark_`` because it returns a :class:`BenchmarkResult` (a distribution
        with intervals), where the capstone's ``measure_latency`` returns the raw samples.
        """
        num_runs = renamed_argument("runs", runs, "num_runs", num_runs)
        inp = _as_input(x)
        with no_grad():
            return Benchmark(lambda: model(inp), num_runs=num_runs, warmup_runs=warmup_runs,
                             name=f"{type(model).__name__} forward, input {inp.shape}").run()

    def measure_latency(self, model: Module, x: Any, num_runs: int = 100, warmup_runs: int = 10, *,
                        runs: Optional[int] = None) -> BenchmarkResult:
        warn_renamed("Profiler.measure_latency", "Profiler.benchmark_latency")
        return self.benchmark_latency(model, x, renamed_argument("runs", runs, "num_runs", num_runs), warmup_runs)

    def profile(self, model: Module, x: Any, num_runs: int = 100, warmup_runs: int = 10, *,
                runs: Optional[int] = None) -> dict[str, Any]:
        latency = self.benchmark_latency(model, x, renamed_argument("runs", runs, "num_runs", num_runs), warmup_runs)
        return {
            "parameters": self.count_parameters(model),
            "size_bytes": self.model_size_bytes(model),
            "flops": self.count_flops(model, x),
            "peak_memory_bytes": self.measure_memory(model, x),
            "latency": latency.to_dict(),
        }


def quick_profile(model: Module, x: Any, num_runs: int = 100, *, runs: Optional[int] = None) -> dict[str, Any]:
    """``Profiler().profile(model, x)`` for one-line use in a notebook."""
    return Profiler().profile(model, x, num_runs=renamed_argument("runs", runs, "num_runs", num_runs))
