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

from tinytorch.olympics.cli import main as olympics

from .variants import graded_class, hostile_class


@pytest.fixture(scope="session")
def solution_results(tmp_path_factory) -> str:
    """A valid results.json of the reference solution, as `tinytorch-olympics run` writes it."""
    path = tmp_path_factory.mktemp("results") / "results.json"
    assert olympics(["run", "--quiet", "-o", str(path)]) == 0
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def graded_run(course: Path, solution_results: str):
    """The grading contract's class and the hostile class, graded in one run: (its summary, the hostile attempts)."""
    submissions = graded_class(course)
    hostile = hostile_class(course, solution_results)
    for student, nb in [*submissions.items(), *((s, nb) for s, (nb, _) in hostile.items())]:
        target = course / "submitted" / student / "capstone"
        target.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target / "capstone.ipynb")
    for student, (_, attempt) in hostile.items():
        for name, text in attempt.files.items():
            (course / "submitted" / student / "capstone" / name).parent.mkdir(parents=True, exist_ok=True)
            (course / "submitted" / student / "capstone" / name).write_text(text, encoding="utf-8")
    start = time.perf_counter()
    # A short per-cell timeout so the endless cell costs seconds, not the default minute.
    done = run_tool("python", "-m", "tinytorch.instructor.grader.autograde", "capstone", "--jobs", "2",
                    "--no-progress", "--Execute.timeout=20", cwd=course)
    elapsed = time.perf_counter() - start
    count = len(submissions) + len(hostile)
    print(f"\nautograde: {count} submissions with two workers in {elapsed:.1f} s "
          f"({elapsed / count:.1f} s per submission)")
    return done.stdout, {student: attempt for student, (_, attempt) in hostile.items()}


@pytest.fixture(scope="session")
def graded(course: Path, graded_run):
    """(total scores {student: (score, max)}, the course folder, per-cell scores {student: {cell: score}})."""
    _, hostile = graded_run
    submissions = [*graded_class(course), *hostile]
    scores, cells = {}, {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for s in submissions:
            submission = gb.find_submission("capstone", s)
            scores[s] = (submission.score, submission.max_score)
            cells[s] = {c.name: gb.find_grade(c.name, "capstone", "capstone", s).score
                        for c in gb.find_notebook("capstone", "capstone").grade_cells}
    return scores, course, cells
