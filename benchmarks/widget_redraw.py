"""Knob-to-redraw time of the notebook's explorers at their default settings.

Run: ``python benchmarks/widget_redraw.py [--turns N]``. Trains the notebook's model
(SimpleMLP 64 → 128 → 10, 30 epochs), builds both explorers with the reference solution's
``measure_throughput`` and ``BenchmarkReport`` (what a student has once Part 2 is done),
then turns each knob ``--turns`` times and prints how long each change took from the new
value to the new pictures (measuring, model building and drawing included), against the
2-second budget a student should not wait beyond. The first build of each explorer (a
sweep over every batch size; the baseline plus every step of the default stack) is shown
apart: it runs once, when the cell runs, not on a knob change.
"""

from __future__ import annotations

import argparse
import statistics
import time

import matplotlib

matplotlib.use("Agg")

from tinytorch.core.training import fit  # noqa: E402
from tinytorch.datasets import load_digits  # noqa: E402
from tinytorch.olympics import BenchmarkReport, SimpleMLP, measure_throughput  # noqa: E402
from tinytorch.olympics.widgets import BATCH_SIZES, BatchSizeExplorer, StackExplorer  # noqa: E402

BUDGET_S = 2.0


def row(name: str, seconds: list[float]) -> str:
    median, worst = statistics.median(seconds), max(seconds)
    return (f"{name:<34} {len(seconds):>5} {median:>9.2f} {worst:>9.2f} {median / BUDGET_S:>10.2f} "
            f"{worst / BUDGET_S:>9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=8, help="changes per knob (default 8)")
    args = parser.parse_args()

    data = load_digits()
    model = SimpleMLP(64, 128, 10, seed=0)
    fit(model, data.X_train, data.y_train, epochs=30, seed=0, progress=False)

    start = time.perf_counter()
    batch = BatchSizeExplorer(model, data.X_test, measure_throughput)
    batch_build = time.perf_counter() - start
    start = time.perf_counter()
    stack = StackExplorer(model, data.X_test, data.y_test, BenchmarkReport)
    stack_build = time.perf_counter() - start

    batch_turns, prune_turns, step_turns = [], [], []
    orders = [["quantize"], ["prune", "fuse"], ["magnitude", "quantize", "fuse"], ["prune", "quantize", "fuse"]]
    for turn in range(args.turns):
        batch.slider.value = BATCH_SIZES[(BATCH_SIZES.index(batch.slider.value) + 3) % len(BATCH_SIZES)]
        batch_turns.append(batch.redraw_seconds)
        stack.prune_amount.value = round(0.2 + 0.05 * (turn % 8), 2)
        prune_turns.append(stack.redraw_seconds)
        stack.steps.value = orders[turn % len(orders)]
        step_turns.append(stack.redraw_seconds)

    print(f"{'knob':<34} {'turns':>5} {'median s':>9} {'worst s':>9} {'median/2s':>10} {'worst/2s':>9}")
    print(row("batch size", batch_turns))
    print(row("stack: prune amount", prune_turns))
    print(row("stack: steps and order", step_turns))
    print(f"\nfirst build (once per cell run): batch sweep over {len(BATCH_SIZES)} sizes {batch_build:.2f} s, "
          f"stack baseline + 3 steps {stack_build:.2f} s")


if __name__ == "__main__":
    main()
