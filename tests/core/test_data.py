"""Dataset and DataLoader: coverage, batching, seeded shuffling, dtypes."""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch.core.data import DataLoader, Dataset, TensorDataset


def loader(**kw) -> DataLoader:
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10, dtype=np.int64)
    return DataLoader(TensorDataset(X, y), **kw)


def labels(dl: DataLoader) -> list[list[int]]:
    return [yb.data.tolist() for _, yb in dl]


def test_batches_cover_every_sample_once_and_keep_dtypes():
    dl = loader(batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 and [len(b[1]) for b in batches] == [4, 4, 2]
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64
    assert sum(labels(dl), []) == list(range(10))
    assert len(loader(batch_size=4, drop_last=True)) == 2
    assert [len(b) for b in labels(loader(batch_size=4, drop_last=True))] == [4, 4]


def test_shuffling_is_a_permutation_seeded_and_new_each_epoch():
    a, b = loader(batch_size=3, shuffle=True, seed=5), loader(batch_size=3, shuffle=True, seed=5)
    first, again = labels(a), labels(b)
    assert first == again, "same seed must give the same order"
    assert sorted(sum(first, [])) == list(range(10))
    assert labels(a) != first, "each epoch must draw a new order"
    assert labels(loader(batch_size=3, shuffle=True, seed=6)) != first


def test_rows_stay_paired_with_their_labels():
    for xb, yb in loader(batch_size=3, shuffle=True, seed=1):
        np.testing.assert_array_equal(xb.data[:, 0], 2 * yb.data)


def test_generic_dataset_is_stacked():
    class Squares(Dataset):
        def __len__(self) -> int:
            return 5

        def __getitem__(self, i: int):
            return np.array([i, i * i], dtype=np.float32), i

    batches = list(DataLoader(Squares(), batch_size=2))
    assert batches[1][0].data.tolist() == [[2, 4], [3, 9]] and batches[2][1].data.tolist() == [4]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"same length; got lengths \[3, 2\]"):
        TensorDataset(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="batch_size must be a positive integer; got 0"):
        loader(batch_size=0)
