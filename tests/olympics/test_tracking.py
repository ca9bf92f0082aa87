"""log: a results file in MLflow, read back through MlflowClient from a temporary SQLite store."""

from __future__ import annotations

import json
import shutil

import pytest

from tinytorch.olympics.cli import main
from tinytorch.olympics.tracking import flatten_numbers, flatten_params

from .conftest import EXAMPLES


def test_numbers_are_flattened_to_dotted_names_and_samples_stay_out():
    metrics = {"accuracy": 0.97, "stable": True, "latency": {"median": 0.01, "median_ci": [0.009, 0.011],
                                                            "samples_ms": [0.01, 0.02, 0.03], "method": "x"}}
    assert dict(flatten_numbers(metrics)) == {"accuracy": 0.97, "latency.median": 0.01,
                                              "latency.median_ci.low": 0.009, "latency.median_ci.high": 0.011}
    assert dict(flatten_params({"blas": {"threads": 2, "version": None}}, "system_info")) == {
        "system_info.blas.threads": "2", "system_info.blas.version": ""}


def test_a_submission_is_one_parent_run_with_a_child_per_model(tmp_path, capsys):
    pytest.importorskip("mlflow", reason="the mlflow extra is not installed: pip install -e '.[mlflow]'")
    from mlflow.tracking import MlflowClient

    results = tmp_path / "results.json"
    shutil.copy(EXAMPLES / "valid" / "optimized_median_speedup.json", results)
    document = json.loads(results.read_text())
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert main(["log", str(results), "--tracking-uri", uri, "--experiment", "class-2026"]) == 0
    assert "logged as run" in capsys.readouterr().out

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("class-2026")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(runs) == 3 and len(parents) == 1
    parent = parents[0]
    children = {r.data.tags["model"]: r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id}
    assert set(children) == {"baseline", "optimized"}
    assert parent.data.metrics["improvements.median_speedup.ratio"] == pytest.approx(
        document["improvements"]["median_speedup"]["ratio"])
    for model, run in children.items():
        metrics = document[model]["metrics"]
        assert run.data.metrics["accuracy"] == pytest.approx(metrics["accuracy"])
        assert run.data.metrics["latency.median_ci.low"] == pytest.approx(metrics["latency"]["median_ci"][0])
        assert run.data.params["benchmark_config.num_runs"] == str(document[model]["benchmark_config"]["num_runs"])
        assert run.data.params["system_info.cpu_model"] == document["system_info"]["cpu_model"]
        assert run.info.status == "FINISHED"
    assert children["optimized"].data.params["techniques_applied"] == " -> ".join(
        document["optimized"]["techniques_applied"])
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert artifacts == {"results.json", "plots"}
    plots = {a.path for a in client.list_artifacts(parent.info.run_id, "plots")}
    assert plots == {f"plots/results_{n}.png" for n in ("latency", "tradeoff", "waterfall")}
    assert (tmp_path / "mlartifacts").is_dir(), "artifacts stay beside the database"


def test_an_invalid_file_is_not_logged(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["log", str(bad), "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}"]) == 2
    assert "bad.json: $.schema_version: [version] unknown schema_version" in capsys.readouterr().out
    assert not (tmp_path / "mlflow.db").exists()
