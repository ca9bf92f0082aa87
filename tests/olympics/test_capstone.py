"""The exported capstone API used as a library: the chapter's workflow end to end, and safe saving."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from tinytorch import Tensor
from tinytorch.core.training import fit
from tinytorch.datasets import load_digits
from tinytorch.olympics import (
    BenchmarkReport,
    SimpleMLP,
    SubmissionError,
    generate_submission,
    save_submission,
    validate_submission_schema,
)
from tinytorch.perf.quantization import quantize_model


@pytest.fixture(scope="module")
def reports():
    data = load_digits()
    model = SimpleMLP(64, 32, 10, seed=0)
    fit(model, data.X_train, data.y_train, epochs=10, seed=0, progress=False)
    baseline = BenchmarkReport(model_name="mlp")
    baseline.benchmark_model(model, data.X_test, data.y_test, num_runs=30, warmup_runs=3)
    optimized = BenchmarkReport(model_name="mlp_int8")
    optimized.benchmark_model(quantize_model(model), data.X_test, data.y_test, num_runs=30, warmup_runs=3)
    return baseline, optimized


def test_chapter_workflow_produces_a_valid_submission(reports, tmp_path):
    baseline, optimized = reports
    submission = generate_submission(baseline, optimized, ["quantization"])
    assert validate_submission_schema(submission) is True
    path = save_submission(submission, str(tmp_path / "results.json"))
    assert json.loads(open(path).read()) == submission
    m = submission["baseline"]["metrics"]
    assert 0.9 <= m["accuracy"] <= 1.0 and m["latency"]["batch_size"] == 1 and m["latency"]["n"] == 30
    assert submission["improvements"]["compression_ratio"] > 3.5


def test_simple_mlp_is_linear_relu_linear():
    mlp = SimpleMLP(4, 3, 2, seed=0)
    first, _, second = mlp.layers.layers
    x = np.array([[1.0, -2.0, 0.5, 3.0]], dtype=np.float32)
    hidden = np.maximum(x @ first.weight.data + first.bias.data, 0)
    np.testing.assert_allclose(mlp(Tensor(x)).data, hidden @ second.weight.data + second.bias.data, rtol=1e-6)


def test_failed_saves_leave_the_earlier_file_intact(reports, tmp_path, monkeypatch):
    baseline, optimized = reports
    good = generate_submission(baseline, optimized, ["quantization"])
    path = tmp_path / "results.json"
    save_submission(good, str(path))
    before = path.read_text()
    bad = json.loads(before)
    bad["baseline"]["metrics"]["accuracy"] = float("nan")
    with pytest.raises(SubmissionError, match=r"\$.baseline.metrics.accuracy"):
        save_submission(bad, str(path))
    assert path.read_text() == before

    def disk_full(*args, **kwargs):
        raise OSError("no space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="no space left"):
        save_submission(good, str(path))
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"], "the temporary file must be removed"
