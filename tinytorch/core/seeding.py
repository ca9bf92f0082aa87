"""One place that owns the framework's default random generator.

Layers draw their initial weights and dropout masks from it unless given their own
``numpy.random.Generator``; ``manual_seed`` makes a whole run repeatable, which is
what a benchmark that others must reproduce needs.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

__all__ = ["manual_seed", "default_rng"]

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Reseed the default generator (as ``torch.manual_seed``)."""
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    _generator = np.random.default_rng(int(seed))


def default_rng(rng: Optional[np.random.Generator] = None) -> np.random.Generator:
    """``rng`` when given, else the framework's default generator."""
    return _generator if rng is None else rng
