"""Knobs for the capstone notebook: turn one, and the measurement re-runs and the plots redraw.

Both explorers measure with the *student's* functions, passed in from the notebook
(``measure_throughput``, ``BenchmarkReport``). Until those are written, an explorer
shows what is missing instead of failing; any other error appears as a message in
the widget, which keeps working. Plots are drawn by :mod:`tinytorch.olympics.plots`
into PNG images, so what the student sees is what a test can check.

* :class:`BatchSizeExplorer`: a batch-size knob (1 … 512). Each change re-measures
  throughput at that size and redraws latency per batch and throughput per sample
  against batch size, with Little's law worked out for the chosen point.
* :class:`StackExplorer`: choose and order the optimizations (drag the tags), set the
  pruning amounts; each change builds the stacked model step by step, benchmarks every
  step with the student's ``BenchmarkReport`` and redraws the trade-off (every stack
  tried so far, Pareto front ringed), the waterfall of the current stack, and the
  latency distributions of the baseline and the current stack.
"""

from __future__ import annotations

import io
import time
from functools import partial
from typing import Any, Callable, Optional

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from tinytorch.core.autograd import no_grad
from tinytorch.core.layers import Module
from tinytorch.core.tensor import Tensor
from tinytorch.olympics.plots import (
    draw_batch_scaling,
    draw_latency_distribution,
    draw_tradeoff,
    draw_waterfall,
    saturation_batch,
    trade_off_point,
)
from tinytorch.olympics.stack import STEPS, apply_stack, parse_stack
from tinytorch.perf.benchmarking import interleaved
from tinytorch.perf.comparison import median_ratio

__all__ = ["BatchSizeExplorer", "StackExplorer", "BATCH_SIZES"]

BATCH_SIZES = [2**k for k in range(10)]  # 1 … 512


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def _explain(exc: BaseException, what: str) -> str:
    if isinstance(exc, NotImplementedError):
        # The explorer holds the function it was given, so a fixed one needs the cell re-run.
        return (f"⏳ {what} is not implemented yet: finish it in the notebook, run its cell, "
                "then run the Explore cell again.")
    return f"⚠️ {type(exc).__name__}: {exc}"


class BatchSizeExplorer:
    """Throughput and batch latency against batch size, measured with ``measure_throughput``."""

    def __init__(self, model: Module, X: np.ndarray, measure_throughput: Callable[..., dict],
                 samples_per_point: int = 2048, initial: int = 64) -> None:
        self.model, self.X, self.measure_throughput = model, X, measure_throughput
        self.samples_per_point = samples_per_point
        self.rows: dict[int, dict[str, float]] = {}
        self.slider = widgets.SelectionSlider(options=BATCH_SIZES, value=initial, description="batch size",
                                              continuous_update=False, layout=widgets.Layout(width="420px"))
        self.image = widgets.Image(format="png")
        self.message = widgets.HTML()
        self.box = widgets.VBox([self.slider, self.message, self.image])
        self.redraw_seconds: Optional[float] = None
        self.slider.observe(lambda change: self.update(change["new"]), names="value")
        self.update(initial)

    def _measure(self, batch_size: int) -> None:
        # About the same number of samples at every size, so that small batches (microseconds
        # each) are timed over enough calls for a stable median; warmup_runs because the first
        # calls at a new size pay for allocation and waking BLAS threads.
        num_batches = max(20, self.samples_per_point // batch_size)
        result = self.measure_throughput(self.model, self.X, batch_size=batch_size, num_batches=num_batches,
                                         warmup_runs=3)
        per_sample = float(result["samples_per_sec"])
        self.rows[batch_size] = {"batch_size": batch_size, "samples_per_sec": per_sample,
                                 "median_batch_ms": batch_size / per_sample * 1e3}

    def update(self, batch_size: int) -> None:
        """Measure at ``batch_size`` (and at every size not measured yet), then redraw."""
        start = time.perf_counter()
        try:
            for size in sorted(set(BATCH_SIZES) - self.rows.keys() | {batch_size}):
                self._measure(size)
        except Exception as exc:  # shown to the student, never a dead widget
            self.message.value = _explain(exc, "measure_throughput (Part 2)")
            return
        row = self.rows[batch_size]
        fig = Figure(figsize=(9, 3.4), layout="constrained")
        ax_latency, ax_throughput = fig.subplots(1, 2)
        ordered = [self.rows[s] for s in sorted(self.rows)]
        draw_batch_scaling(ax_latency, ax_throughput, ordered)
        for ax, key in ((ax_latency, "median_batch_ms"), (ax_throughput, "samples_per_sec")):
            ax.scatter([batch_size], [row[key]], s=120, facecolors="none", edgecolors="red", zorder=5)
        self.image.value = _png(fig)
        wait_ms, rate = row["median_batch_ms"], row["samples_per_sec"]
        text = (f"At batch {batch_size}: one batch takes W = {wait_ms:.3f} ms and the model serves "
                f"λ = {rate:,.0f} samples/s, so L = λ·W = {rate * wait_ms / 1e3:.0f} requests are in flight "
                f"(Little's law). Every request in the batch waits the whole {wait_ms:.3f} ms.")
        smaller = self.rows.get(batch_size // 2)
        if smaller and batch_size > 1:
            text += (f"<br>Doubling from {batch_size // 2} to {batch_size} multiplied throughput by "
                     f"{rate / smaller['samples_per_sec']:.2f} and the wait by "
                     f"{wait_ms / smaller['median_batch_ms']:.2f}.")
        knee = saturation_batch(ordered)
        if knee < max(self.rows):
            text += (f"<br>Throughput reaches 90 % of its best at batch {knee}, where a batch takes "
                     f"{self.rows[knee]['median_batch_ms']:.3f} ms: beyond it, bigger batches mostly add waiting.")
        else:
            text += f"<br>Throughput is still rising at batch {knee}: it has not saturated in the sizes measured."
        self.message.value = text
        self.redraw_seconds = time.perf_counter() - start

    def show(self) -> widgets.VBox:
        return self.box


class StackExplorer:
    """Build, benchmark and compare optimization stacks with the student's ``BenchmarkReport``."""

    def __init__(self, model: Module, X_test: np.ndarray, y_test: np.ndarray, report_class: Callable[..., Any],
                 num_runs: int = 60, initial: tuple[str, ...] = ("prune", "quantize", "fuse")) -> None:
        self.model, self.X_test, self.y_test = model, X_test, y_test
        self.report_class, self.num_runs = report_class, num_runs
        self.tried: dict[str, dict[str, Any]] = {}
        self.current_model: Optional[Module] = None
        self.steps = widgets.TagsInput(value=list(initial), allowed_tags=list(STEPS), allow_duplicates=False,
                                       description="stack")
        self.prune_amount = widgets.FloatSlider(value=0.4, min=0.0, max=0.9, step=0.05, description="prune",
                                                continuous_update=False)
        self.magnitude_amount = widgets.FloatSlider(value=0.5, min=0.0, max=0.95, step=0.05,
                                                    description="magnitude", continuous_update=False)
        self.progress = widgets.IntProgress(min=0, max=1, description="measuring", layout={"width": "420px"})
        self.message = widgets.HTML()
        self.tradeoff, self.waterfall, self.latency = (widgets.Image(format="png") for _ in range(3))
        self.box = widgets.VBox([
            widgets.HTML("Drag to reorder; type or pick from: " + ", ".join(STEPS)),
            self.steps, widgets.HBox([self.prune_amount, self.magnitude_amount]), self.progress, self.message,
            widgets.HBox([self.tradeoff, self.latency]), self.waterfall])
        self.redraw_seconds: Optional[float] = None
        for control in (self.steps, self.prune_amount, self.magnitude_amount):
            control.observe(lambda _: self.update(), names="value")
        self.update()

    def stack_text(self) -> str:
        amounts = {"prune": self.prune_amount.value, "magnitude": self.magnitude_amount.value}
        return ",".join(f"{s}:{amounts[s]:.2f}" if s in amounts else s for s in self.steps.value)

    def _benchmark(self, model: Module, name: str) -> dict[str, Any]:
        report = self.report_class(model_name=name)
        metrics = report.benchmark_model(model, self.X_test, self.y_test, num_runs=self.num_runs, warmup_runs=5)
        return {**trade_off_point(name, metrics), "latency": metrics["latency"]}

    def _taking_turns(self, chain: list[dict[str, Any]], models: list[Module]) -> list[dict[str, Any]]:
        """The chain with each step's median latency measured again, every model taking turns in rounds,
        and each step's ``latency_change`` against the step before: faster, slower or no significant
        difference. Measured one after another, a step could look slower only because the machine got
        busier in between."""
        x1 = Tensor(np.asarray(self.X_test, dtype=np.float32)[:1])
        calls: dict[str, Callable[[], Any]] = {str(i): partial(m, x1) for i, m in enumerate(models)}
        with no_grad():
            samples = interleaved(calls, rounds=5, num_runs=max(2, self.num_runs // 5), warmup_runs=2)
        steps = []
        for i, point in enumerate(chain):
            point = {**point, "latency_ms_median": float(np.median(samples[str(i)]))}
            if i:
                point["latency_change"] = median_ratio(samples[str(i - 1)], samples[str(i)]).verdict
            steps.append(point)
        return steps

    def update(self) -> None:
        """Rebuild the stack from the controls, benchmark each step, redraw; errors become messages."""
        start = time.perf_counter()
        try:
            steps = parse_stack(self.stack_text())
            self.progress.max, self.progress.value = len(steps) + 1, 0
            self.progress.description, self.progress.bar_style = "measuring", ""
            if "baseline" not in self.tried:
                self.tried["baseline"] = self._benchmark(self.model, "baseline")
            self.progress.value = 1
            chain, models, model = [self.tried["baseline"]], [self.model], self.model
            for name, transform in steps:
                model, _ = apply_stack(model, [(name, transform)])
                chain.append(self._benchmark(model, name))
                models.append(model)
                self.progress.value += 1
            chain = self._taking_turns(chain, models)
        except Exception as exc:  # shown to the student, never a dead widget
            self.progress.description, self.progress.bar_style = "failed", "danger"
            self.message.value = _explain(exc, "BenchmarkReport.benchmark_model (Part 2)")
            return
        self.current_model = model
        self.progress.description, self.progress.bar_style = "measured", "success"
        label = " + ".join(name for name, _ in steps) or "baseline"
        if steps:
            self.tried[label] = {**chain[-1], "name": label}
        self._draw(chain, label)
        last = chain[-1]
        self.message.value = (f"<b>{label}</b>: accuracy {last['accuracy']:.4f}, median latency "
                              f"{last['latency_ms_median'] * 1e3:.1f} µs, {last['size_bytes']:,} bytes "
                              f"({len(self.tried)} configurations measured so far)")
        self.redraw_seconds = time.perf_counter() - start

    def _draw(self, chain: list[dict[str, Any]], label: str) -> None:
        fig = Figure(figsize=(5.2, 3.8), layout="constrained")
        draw_tradeoff(fig.add_subplot(), list(self.tried.values()))
        self.tradeoff.value = _png(fig)
        fig = Figure(figsize=(5.2, 3.8), layout="constrained")
        ax = fig.add_subplot()
        draw_latency_distribution(ax, chain[0]["latency"], "baseline")
        if len(chain) > 1:
            draw_latency_distribution(ax, chain[-1]["latency"], "optimized")
        self.latency.value = _png(fig)
        fig = Figure(figsize=(10, 3.4), layout="constrained")
        draw_waterfall(fig.subplots(1, 3), chain)
        self.waterfall.value = _png(fig)

    def show(self) -> widgets.VBox:
        return self.box
