"""Logging a results file to MLflow (optional: ``pip install 'tinytorch[mlflow]'``).

One parent run per submission, a child run per model (baseline, optimized):

* parameters: the benchmark configuration and the system it ran on, flattened to dotted
  names (``benchmark_config.num_runs``, ``system_info.blas.threads``);
* metrics: every number among the model's metrics, intervals as ``.low`` and ``.high``
  (raw samples stay in the file), and on the parent the improvements;
* artifacts on the parent: ``results.json`` itself and its plots.

Runs go through an explicit ``MlflowClient`` for the given tracking URI, so nothing global
(the active run, the environment's tracking URI) is read or changed. With a SQLite store
the artifacts are kept in ``mlartifacts/`` beside the database file.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator, Optional

from tinytorch.olympics.schema import printable

__all__ = ["log_submission", "open_experiment", "TrackingError", "flatten_numbers", "flatten_params", "HTTP_LIMITS",
           "limited_http"]

_MAX_PARAM = 6000     # MLflow's limit on a parameter's value


def flatten_numbers(value: Any, prefix: str = "") -> Iterator[tuple[str, float]]:
    """``(dotted name, number)`` for every number below ``value``; two-number lists become ``.low``/``.high``."""
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield prefix, float(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from flatten_numbers(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and len(value) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        yield f"{prefix}.low", float(value[0])
        yield f"{prefix}.high", float(value[1])


def flatten_params(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """``(dotted name, text)`` for every leaf below ``value`` (None as the empty text)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from flatten_params(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, ("" if value is None else str(value))[:_MAX_PARAM]


#: MLflow's HTTP client settings for a command: a few quick retries and a timeout, so that a tracking
#: server that does not answer costs seconds, not MLflow's default minutes (7 retries, 120 s each).
HTTP_LIMITS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
               "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}


class TrackingError(Exception):
    """MLflow refused or failed: one line that says why (a bad URI, no database, no server, no permission)."""


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return printable(f"{type(exc).__name__}: {text}")[:300]


def open_experiment(tracking_uri: str, name: str) -> tuple[Any, str]:
    """The client for ``tracking_uri`` and the id of the experiment ``name`` (made if missing).

    Whatever MLflow raises (its own errors, a database driver's, a network library's) becomes a
    :class:`TrackingError`; a missing extra stays an ImportError.
    """
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise ImportError("logging to MLflow needs the optional extra: pip install 'tinytorch[mlflow]'") from None
    try:
        client = MlflowClient(tracking_uri=tracking_uri)
        found = client.get_experiment_by_name(name)
        if found is not None:
            return client, str(found.experiment_id)
        location = None
        if tracking_uri.startswith("sqlite:///"):
            location = (Path(tracking_uri[len("sqlite:///"):]).resolve().parent / "mlartifacts").as_uri()
        return client, str(client.create_experiment(name, artifact_location=location))
    except Exception as exc:   # MLflow's clients raise from many libraries
        raise TrackingError(f"the tracking store at {printable(tracking_uri)[:200]} failed: {_why(exc)}") from None


def _log(client: Any, run_id: str, params: dict[str, str], metrics: dict[str, float]) -> None:
    from mlflow.entities import Metric, Param

    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric(k, v, now, 0) for k, v in metrics.items()],
                     params=[Param(k, v) for k, v in params.items()])


def log_submission(document: dict[str, Any], results_path: str, tracking_uri: str,
                   experiment: str = "tinytorch-olympics", run_name: Optional[str] = None,
                   opened: Optional[tuple[Any, str]] = None) -> str:
    """Log one valid results document; returns the parent run's id.

    ``opened`` is what :func:`open_experiment` gave, to log many files through one client.
    Raises :class:`TrackingError` when MLflow fails; the parent run is then marked FAILED.
    """
    client, experiment_id = opened or open_experiment(tracking_uri, experiment)
    try:
        return _log_runs(client, experiment_id, document, results_path, run_name)
    except TrackingError:
        raise
    except Exception as exc:
        raise TrackingError(f"MLflow failed while logging: {_why(exc)}") from None


def _log_runs(client: Any, experiment_id: str, document: dict[str, Any], results_path: str,
              run_name: Optional[str]) -> str:
    from tinytorch.olympics.plots import save_figures

    name = printable(run_name or Path(results_path).stem)[:200]
    parent = client.create_run(experiment_id, run_name=name,
                               tags={"submission_type": document["submission_type"],
                                     "schema_version": document["schema_version"]})
    parent_id = parent.info.run_id
    try:
        _log(client, parent_id, dict(flatten_params(document["system_info"], "system_info")),
             dict(flatten_numbers(document.get("improvements", {}), "improvements")))
        for model in ("baseline", "optimized"):
            if model not in document:
                continue
            report = document[model]
            child = client.create_run(experiment_id, run_name=f"{name}/{model}",
                                      tags={"mlflow.parentRunId": parent_id, "model": model,
                                            "model_name": report["model_name"]})
            params = dict(flatten_params(report["benchmark_config"], "benchmark_config"))
            params.update(flatten_params(document["system_info"], "system_info"))
            if "techniques_applied" in report:
                params["techniques_applied"] = " -> ".join(report["techniques_applied"])
            _log(client, child.info.run_id, params, dict(flatten_numbers(report["metrics"])))
            client.set_terminated(child.info.run_id)
        client.log_artifact(parent_id, results_path)
        with tempfile.TemporaryDirectory() as folder:
            import matplotlib

            matplotlib.use("Agg")
            for plot in save_figures(document, folder, prefix="results"):
                client.log_artifact(parent_id, plot, artifact_path="plots")
        client.set_terminated(parent_id)
    except BaseException:
        try:
            client.set_terminated(parent_id, status="FAILED")
        except Exception:   # the store that failed may fail again: the first failure is the one to report
            pass
        raise
    return str(parent_id)


def limited_http() -> dict[str, str]:
    """HTTP_LIMITS set in this process's environment where not already set; returns what was set."""
    added = {key: value for key, value in HTTP_LIMITS.items() if key not in os.environ}
    os.environ.update(added)
    return added
