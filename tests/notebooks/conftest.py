"""One autograding of the whole grading contract, shared by the round-trip and mutation tests.

Autograding costs about ten seconds a notebook, most of it the notebook's own work, so every
graded variant (the contract's special cases, the correct alternatives and the catalogue of
classic mistakes) is graded in one go, by the parallel grader an instructor runs
(``python -m tinytorch.instructor.grader.autograde``): two workers, each submission in the sandbox.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.course import run_tool

from .variants import graded_class


@pytest.fixture(scope="session")
def graded(course: Path):
    """(total scores {student: (score, max)}, the course folder, per-cell scores {student: {cell: score}})."""
    submissions = graded_class(course)
    for student, nb in submissions.items():
        target = course / "submitted" / student / "capstone"
        target.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target / "capstone.ipynb")
    start = time.perf_counter()
    # A short per-cell timeout so the endless cell costs seconds, not the default minute.
    run_tool("python", "-m", "tinytorch.instructor.grader.autograde", "capstone", "--jobs", "2", "--no-progress",
             "--Execute.timeout=20", cwd=course)
    elapsed = time.perf_counter() - start
    print(f"\nautograde: {len(submissions)} submissions with two workers in {elapsed:.1f} s "
          f"({elapsed / len(submissions):.1f} s per submission)")
    scores, cells = {}, {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for s in submissions:
            submission = gb.find_submission("capstone", s)
            scores[s] = (submission.score, submission.max_score)
            cells[s] = {c.name: gb.find_grade(c.name, "capstone", "capstone", s).score
                        for c in gb.find_notebook("capstone", "capstone").grade_cells}
    return scores, course, cells
