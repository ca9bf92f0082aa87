"""Correct code keeps full marks on a machine whose cores are busy: the timing checks judge against what the
judge itself saw, not against fixed times."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.notebooks.variants import ALTERNATIVES
from tinytorch.instructor.judge import checks
from tinytorch.instructor.judge.channel import Limits
from tinytorch.instructor.judge.trial import Cell, judge_cells

pytestmark = pytest.mark.slow

BUSY = "while True:\n    pass"


@pytest.fixture
def both_cores_busy():
    """Two processes that spin for as long as the test runs (stopped by their own ids)."""
    spinners = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(2)]
    try:
        yield spinners
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def judged(cells: list[Cell]) -> dict[str, float]:
    verdicts = judge_cells(cells, checks.REGISTRY, workflow_ids=checks.WORKFLOW, skipped_ids=checks.SKIPPED,
                           defined_in=checks.DEFINED_IN, limits=Limits(seconds=120))
    return {cell: f"{v.earned:g}: {v.report}" for cell, v in verdicts.items() if v.earned < v.possible} | \
        {"total": sum(v.earned for v in verdicts.values())}


def test_the_solution_and_the_correct_alternatives_score_100_with_both_cores_loaded(notebook_cells, both_cores_busy):
    books = {"solution": notebook_cells} | {
        name: [Cell(c.grade_id, c.graded, cells[c.grade_id].strip("\n")) if c.grade_id in cells else c
               for c in notebook_cells] for name, cells in ALTERNATIVES.items()}
    results = {name: judged(cells) for name, cells in books.items()}
    assert all(spinner.poll() is None for spinner in both_cores_busy), "the load ran throughout"
    print(f"\nwith two busy loops on the machine's {__import__('os').cpu_count()} cores: {results}")
    assert results == {name: {"total": 100} for name in books}
