"""The bundled digits: shapes, ranges, a fixed stratified split, no network, attribution."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources

import numpy as np

from tinytorch.datasets import load_digits
from tinytorch.datasets.digits import DIGITS_FILE, digits_sha256


def test_shapes_dtypes_and_ranges():
    d = load_digits()
    assert d.X_train.shape == (1438, 64) and d.X_test.shape == (359, 64)
    assert d.y_train.shape == (1438,) and d.y_test.shape == (359,)
    assert d.X_train.dtype == np.float32 and d.y_train.dtype == np.int64
    for X in (d.X_train, d.X_test):
        assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(d.y_train)) == set(range(10)) == set(np.unique(d.y_test))
    # pixels are counts 0..16 scaled by 1/16: every value is a multiple of 1/16
    np.testing.assert_array_equal(d.X_train * 16, np.round(d.X_train * 16))


def test_split_is_stratified_and_complete():
    d = load_digits()
    train_counts, test_counts = np.bincount(d.y_train, minlength=10), np.bincount(d.y_test, minlength=10)
    assert (train_counts + test_counts).sum() == 1797
    fraction = test_counts / (train_counts + test_counts)
    assert np.all(np.abs(fraction - 0.2) < 0.01), fraction
    # no image is in both parts (rows of the full set are distinct up to a few duplicates)
    train_rows = {r.tobytes() for r in d.X_train}
    shared = sum(r.tobytes() in train_rows for r in d.X_test)
    assert shared <= 2


def test_split_is_fixed_and_callers_get_their_own_arrays():
    a = load_digits()
    a.X_train[:] = -1.0
    b = load_digits()
    assert b.X_train.min() == 0.0
    np.testing.assert_array_equal(b.y_test, load_digits().y_test)
    assert b.y_test[:10].tolist() == load_digits().y_test[:10].tolist()


def test_bundled_file_is_small_hashed_and_attributed():
    folder = resources.files("tinytorch.datasets")
    assert len(folder.joinpath(DIGITS_FILE).read_bytes()) < 100_000
    assert len(digits_sha256()) == 64
    licence = folder.joinpath("DIGITS_LICENSE.txt").read_text()
    assert "Alpaydin" in licence and "CC BY 4.0" in licence


def test_loading_needs_no_network_and_no_scikit_learn():
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise RuntimeError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "import sys\n"
        "from tinytorch.datasets import load_digits\n"
        "d = load_digits()\n"
        "assert 'sklearn' not in sys.modules\n"
        "print(len(d.X_train) + len(d.X_test))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1797"
