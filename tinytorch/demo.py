"""``tinytorch-train``: the digits training demo, from the command line.

Trains Linear(64, h) → ReLU → Linear(h, 10) on the bundled digits with
:func:`tinytorch.core.training.train_digits` and reports the test accuracy. The command
line lives here, not in ``tinytorch.core``, so the framework's modules stay a library.
"""

from __future__ import annotations

import argparse
from typing import Optional, Sequence

from tinytorch.argtypes import int_at_least
from tinytorch.core.training import train_digits
from tinytorch.datasets import load_digits

__all__ = ["create_parser", "main"]


def create_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinytorch-train",
        description="Train Linear(64, h) -> ReLU -> Linear(h, 10) on the bundled digits and report test accuracy.",
    )
    parser.add_argument("--hidden-size", type=int_at_least(1), default=128)
    parser.add_argument("--epochs", type=int_at_least(1), default=30)
    parser.add_argument("--seed", type=int_at_least(0), default=0)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = create_parser().parse_args(argv)
    data = load_digits()
    print(f"digits: {len(data.y_train)} training and {len(data.y_test)} test images, 64 features, 10 classes")
    _, history, acc = train_digits(args.hidden_size, args.epochs, args.seed)
    print(f"final training loss {history.epoch_losses[-1]:.4f} after {args.epochs} epochs "
          f"in {history.seconds:.2f} s")
    print(f"test accuracy {acc:.4f} ({round(acc * len(data.y_test))}/{len(data.y_test)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
