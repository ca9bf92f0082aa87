"""The 8×8 handwritten digits (UCI optical recognition of handwritten digits, test part).

1,797 images of 10 classes, as scikit-learn ships them, stored in ``digits.npz`` as
integer pixel counts 0…16 with a fixed, stratified train/test assignment (20 % of
each class held out). The split lives in the file rather than being drawn at load
time, so it is the same for every student, every numpy version and every run:
accuracy numbers from different machines are comparable. Licence and attribution:
``DIGITS_LICENSE.txt`` beside this file.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import NamedTuple

import numpy as np

__all__ = ["DigitsSplit", "load_digits", "digits_sha256", "DIGITS_FILE"]

DIGITS_FILE = "digits.npz"
_PIXEL_MAX = 16


class DigitsSplit(NamedTuple):
    """Train and held-out test arrays; features float32 in [0, 1], labels int64 in 0…9."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def _read() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    path = resources.files("tinytorch.datasets").joinpath(DIGITS_FILE)
    with path.open("rb") as handle, np.load(handle, allow_pickle=False) as archive:
        return archive["images"], archive["labels"], archive["is_test"]


def load_digits() -> DigitsSplit:
    """The fixed stratified split: 1,438 training and 359 test images of 64 pixels."""
    images, labels, is_test = _read()
    X = (images.astype(np.float32) / _PIXEL_MAX).reshape(len(images), 64)
    y = labels.astype(np.int64)
    return DigitsSplit(X[~is_test], y[~is_test], X[is_test], y[is_test])


def digits_sha256() -> str:
    """Content hash of the bundled file, for recording which data a result came from."""
    return hashlib.sha256(resources.files("tinytorch.datasets").joinpath(DIGITS_FILE).read_bytes()).hexdigest()
