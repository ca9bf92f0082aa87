"""The solution notebook runs top to bottom without an error and writes a valid results.json."""

from __future__ import annotations

import time

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from tinytorch.olympics.files import load_submission_file
from tinytorch.olympics.schema import semantic_problems

from tests.course import NOTEBOOK_TEXT

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("solution")
    nb = jupytext.read(NOTEBOOK_TEXT)
    start = time.perf_counter()
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    elapsed = time.perf_counter() - start
    print(f"\nsolution notebook ran top to bottom in {elapsed:.1f} s (target < 60 s)")
    nbformat.write(nb, folder / "executed.ipynb")
    return nb, folder


def test_no_cell_raises(executed):
    nb, _ = executed
    errors = [(c.metadata.get("nbgrader", {}).get("grade_id"), o.get("ename"), o.get("evalue"))
              for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors


def test_results_json_written_by_the_notebook_validates(executed):
    _, folder = executed
    doc, problems = load_submission_file(str(folder / "results.json"))
    assert not problems
    from tinytorch.olympics import validate_submission_schema
    assert validate_submission_schema(doc) and not semantic_problems(doc)
    assert doc["submission_type"] == "optimized" and doc["baseline"]["metrics"]["accuracy"] >= 0.95


def test_graded_cells_print_nothing_when_they_pass(executed):
    """Silence means full marks: a passing test cell shows no output, not even the points."""
    nb, _ = executed
    noisy = {c.metadata["nbgrader"]["grade_id"]: c.outputs for c in nb.cells
             if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade") and c.get("outputs")}
    assert not noisy, noisy
