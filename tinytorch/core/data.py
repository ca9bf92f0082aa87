"""Datasets and batching (Module 08).

``DataLoader`` shuffles with its own seeded generator, so the order of batches is a
property of the run's configuration, not of whatever else consumed random numbers.
Over a :class:`TensorDataset` it slices whole arrays at once rather than gathering
samples one by one.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional, Sequence

import numpy as np

from tinytorch.core.tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "DataLoader"]


class Dataset:
    """Anything with ``__len__`` and ``__getitem__(i)`` returning a tuple of arrays."""

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        raise NotImplementedError


class TensorDataset(Dataset):
    """Samples are the i-th rows of equally long arrays, e.g. ``TensorDataset(X, y)``."""

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = [np.asarray(a.data if isinstance(a, Tensor) else a) for a in arrays]
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset arrays must have the same length; got lengths {lengths}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.arrays)


class DataLoader:
    """Iterate a dataset in batches of Tensors (each keeps its array's dtype).

    With ``shuffle=True`` every epoch draws a new order from a generator seeded once
    with ``seed``, so two loaders with the same seed yield the same batches.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 32, shuffle: bool = False,
                 seed: Optional[int] = None, drop_last: bool = False) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        n = len(self.dataset)
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield self._batch(order[start:start + self.batch_size])

    def _batch(self, indices: np.ndarray) -> tuple[Tensor, ...]:
        if isinstance(self.dataset, TensorDataset):
            columns: Sequence[np.ndarray] = self.dataset[indices]
        else:
            samples = [self.dataset[int(i)] for i in indices]
            columns = [np.stack([np.asarray(s[k]) for s in samples]) for k in range(len(samples[0]))]
        return tuple(Tensor(c, dtype=c.dtype) for c in columns)
