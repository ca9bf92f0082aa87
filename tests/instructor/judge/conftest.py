"""A subject with the notebook's code loaded, as the judge loads it, for checks to be tried on purpose-built code."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from pathlib import Path

import jupytext
import pytest

from tests.course import NOTEBOOK_TEXT
from tinytorch.instructor.grader.judged import cells_of
from tinytorch.instructor.judge import checks
from tinytorch.instructor.judge.channel import Limits, Subject
from tinytorch.instructor.judge.trial import Cell, Trial, Verdict, score


@pytest.fixture(scope="session")
def notebook_cells() -> list[Cell]:
    """The source notebook's code cells: the reference solution in its solution cells."""
    return cells_of(jupytext.read(NOTEBOOK_TEXT))


@contextlib.contextmanager
def trial(cells: list[Cell], folder: Path, *student: str, seconds: float = 120) -> Iterator[Trial]:
    """A trial of ``cells`` (loaded as the judge loads them) with each ``student`` source run after them; the
    workflow cells take tens of seconds on a busy machine, well within the ``seconds`` a request may take."""
    workdir = folder / "work"
    workdir.mkdir()
    with Subject(workdir, Limits(seconds=seconds)) as subject:
        for index, cell in enumerate(cells):
            if not cell.graded and cell.grade_id not in (*checks.WORKFLOW, *checks.SKIPPED):
                subject.run_cell(cell.grade_id or f"added-{index}", cell.source)
        for index, source in enumerate(student):
            subject.run_cell(f"student-{index}", source)
        yield Trial(subject, workdir, random.Random(index if student else 0),
                    [c for c in cells if c.grade_id in checks.WORKFLOW], checks.DEFINED_IN)


def verdict(cells: list[Cell], folder: Path, cell: str, *student: str) -> Verdict:
    """The judge's verdict on one graded cell of the notebook with ``student``'s code run after its own."""
    with trial(cells, folder, *student) as t:
        return score(checks.CHECKS[cell], t)


def failed(v: Verdict) -> set[str]:
    """The names of the checks that failed."""
    return {line.split(" (", 1)[0][2:] for line in v.report.splitlines()[1:] if line.startswith("✗ ")}
