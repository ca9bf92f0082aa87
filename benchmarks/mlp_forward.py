"""Framework overhead: the capstone MLP's forward pass in tinytorch vs raw numpy (vs PyTorch).

Run: ``python benchmarks/mlp_forward.py``. The three implementations compute the same
64 → 128 → 10 MLP with the same weights and are timed interleaved, in rounds, in one
process, so machine noise hits them alike; the printed *ratios* are what to read
(absolute times on a shared machine are not stable). Each figure is the median over
rounds of the per-call time from a tight loop.

Targets: tinytorch ≤ 2× raw numpy at batch 1 and ≤ 1.2× at batch 256; faster than
PyTorch eager at batch 1.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable, Optional

import numpy as np

from tinytorch import Tensor, no_grad
from tinytorch.core.training import digits_mlp


def per_call_us(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(calls):
        fn()
    return (time.perf_counter_ns() - start) / calls / 1e3


def make_torch(w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> Optional[Callable]:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    net = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(w1.T.copy()))
        net[0].bias.copy_(torch.from_numpy(b1))
        net[2].weight.copy_(torch.from_numpy(w2.T.copy()))
        net[2].bias.copy_(torch.from_numpy(b2))
    net.eval()

    def run(x: "torch.Tensor") -> "torch.Tensor":
        with torch.no_grad():
            return net(x)

    return lambda x: run(x), torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    model = digits_mlp(128, seed=0)
    w1, b1 = model[0].weight.data, model[0].bias.data
    w2, b2 = model[2].weight.data, model[2].bias.data

    def raw(x: np.ndarray) -> np.ndarray:
        return np.maximum(x @ w1 + b1, 0) @ w2 + b2

    torch_parts = make_torch(w1, b1, w2, b2)
    rng = np.random.default_rng(0)
    print(f"{'batch':>6} {'numpy us':>10} {'tinytorch us':>13} {'tt/numpy':>9}"
          + (f" {'torch us':>10} {'tt/torch':>9}" if torch_parts else ""))
    for batch, calls in ((1, 20000), (256, 2000)):
        x_np = rng.random((batch, 64), dtype=np.float32)
        x_tt = Tensor(x_np)
        assert np.allclose(raw(x_np), model(x_tt).data, atol=1e-5)
        candidates: dict[str, Callable[[], object]] = {"numpy": lambda x_np=x_np: raw(x_np)}

        def tt(x_tt: Tensor = x_tt) -> object:
            with no_grad():
                return model(x_tt)

        candidates["tinytorch"] = tt
        if torch_parts:
            run_torch, torch = torch_parts
            x_t = torch.from_numpy(x_np)
            assert np.allclose(run_torch(x_t).numpy(), raw(x_np), atol=1e-5)
            candidates["torch"] = lambda run_torch=run_torch, x_t=x_t: run_torch(x_t)
        times: dict[str, list[float]] = {k: [] for k in candidates}
        for _ in range(args.rounds):
            for name, fn in candidates.items():
                times[name].append(per_call_us(fn, calls))
        med = {k: statistics.median(v) for k, v in times.items()}
        line = f"{batch:>6} {med['numpy']:>10.2f} {med['tinytorch']:>13.2f} {med['tinytorch'] / med['numpy']:>8.2f}x"
        if "torch" in med:
            line += f" {med['torch']:>10.2f} {med['tinytorch'] / med['torch']:>8.2f}x"
        print(line)
    print("targets: tt/numpy <= 2.00x at batch 1 and <= 1.20x at batch 256; tt/torch < 1.00x at batch 1")


if __name__ == "__main__":
    main()
