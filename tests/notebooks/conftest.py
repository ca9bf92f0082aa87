"""One autograding of the whole grading contract, shared by the round-trip and mutation tests.

Autograding costs about ten seconds a notebook, most of it the notebook's own work, so every
graded variant (the contract's special cases, the correct alternatives and the catalogue of
classic mistakes) is graded in one go, by the parallel grader an instructor runs
(``python -m tinytorch.instructor.autograde``): two workers, each submission in the sandbox.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.course import grade_ids, run_tool, with_cells

from .mutations import MISTAKES, mutated
from .variants import ALTERNATIVE


def _cell(nb, grade_id: str):
    return nb.cells[grade_ids(nb).index(grade_id)]


def _copy(nb):
    return nbformat.from_dict(json.loads(json.dumps(nb)))


@pytest.fixture(scope="session")
def graded(course: Path):
    """(total scores {student: (score, max)}, the course folder, per-cell scores {student: {cell: score}})."""
    source = nbformat.read(course / "source" / "capstone" / "capstone.ipynb", as_version=4)
    release = nbformat.read(course / "release" / "capstone" / "capstone.ipynb", as_version=4)

    part1 = _copy(release)
    _cell(part1, "simple-mlp").source = _cell(source, "simple-mlp").source

    tampered = _copy(release)
    _cell(tampered, "test-part1-simplemlp").source = "assert True  # rewritten by the student"

    deleted = _copy(source)
    del deleted.cells[grade_ids(deleted).index("test-part4-save")]

    raises = _copy(source)
    raises.cells.insert(grade_ids(raises).index("part1-intro"), nbformat.v4.new_code_cell("raise RuntimeError('oops')"))

    loops = _copy(source)
    loops.cells.insert(grade_ids(loops).index("part1-intro"), nbformat.v4.new_code_cell("while True:\n    pass"))

    mistakes = {f"mistake-{i:02d}": mutated(source, m) for i, m in enumerate(MISTAKES)}
    submissions = {"solution": source, "release": release, "part1": part1, "tampered": tampered,
                   "deleted": deleted, "raises": raises, "loops": loops,
                   "alternative": with_cells(source, ALTERNATIVE), **mistakes}
    for student, nb in submissions.items():
        target = course / "submitted" / student / "capstone"
        target.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target / "capstone.ipynb")
    start = time.perf_counter()
    # A short per-cell timeout so the endless cell costs seconds, not the default minute.
    run_tool("python", "-m", "tinytorch.instructor.autograde", "capstone", "--jobs", "2", "--no-progress",
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
