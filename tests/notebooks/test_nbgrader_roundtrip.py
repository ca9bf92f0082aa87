"""The grading contract, end to end through nbgrader and asserted via its Gradebook API.

One autograde run grades: the solution (100), the untouched release (0), the release
with only Part 1 solved (Part 1's 10 points), a release whose locked test cell was
rewritten to pass (0: the cell is restored), the solution with a test cell deleted
(100: the cell is re-inserted), the solution with a cell that raises (100), the solution
with a cell that never ends (100: the cell is interrupted), a correct solution written
differently (100), and three notebooks of classic mistakes (the cells testing them 0).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.course import grade_ids, run_tool, with_cells
from .variants import ALTERNATIVE, MISTAKES, UNAFFECTED

pytestmark = pytest.mark.nbgrader

PART1_POINTS = 10
SOLUTION_MARKERS = re.compile(r"### (BEGIN|END) (SOLUTION|HIDDEN TESTS)")


def cell(nb, grade_id: str):
    return nb.cells[grade_ids(nb).index(grade_id)]


def solution_lines(source_nb) -> set[str]:
    """Substantial lines that occur only inside solution or hidden-test regions of the source."""
    inside_lines, outside_lines, inside = set(), set(), False
    for c in source_nb.cells:
        for line in c.source.splitlines():
            if SOLUTION_MARKERS.search(line):
                inside = "BEGIN" in line
            elif len(line.strip()) > 25:
                (inside_lines if inside else outside_lines).add(line.strip())
    return inside_lines - outside_lines


@pytest.fixture(scope="module")
def graded(course: Path):
    source = nbformat.read(course / "source" / "capstone" / "capstone.ipynb", as_version=4)
    release = nbformat.read(course / "release" / "capstone" / "capstone.ipynb", as_version=4)

    part1 = nbformat.from_dict(json.loads(json.dumps(release)))
    cell(part1, "simple-mlp").source = cell(source, "simple-mlp").source

    tampered = nbformat.from_dict(json.loads(json.dumps(release)))
    cell(tampered, "test-part1-simplemlp").source = "assert True  # rewritten by the student"

    deleted = nbformat.from_dict(json.loads(json.dumps(source)))
    del deleted.cells[grade_ids(deleted).index("test-part4-save")]

    raises = nbformat.from_dict(json.loads(json.dumps(source)))
    raises.cells.insert(grade_ids(raises).index("part1-intro"), nbformat.v4.new_code_cell("raise RuntimeError('oops')"))

    loops = nbformat.from_dict(json.loads(json.dumps(source)))
    loops.cells.insert(grade_ids(loops).index("part1-intro"), nbformat.v4.new_code_cell("while True:\n    pass"))

    submissions = {"solution": source, "release": release, "part1": part1, "tampered": tampered,
                   "deleted": deleted, "raises": raises, "loops": loops,
                   "alternative": with_cells(source, ALTERNATIVE),
                   **{name: with_cells(source, cells) for name, (cells, _) in MISTAKES.items()}}
    for student, nb in submissions.items():
        folder = course / "submitted" / student / "capstone"
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / "capstone.ipynb")
    start = time.perf_counter()
    # A short per-cell timeout so the endless cell costs seconds, not the default minute.
    run_tool("nbgrader", "autograde", "capstone", "--force", "--Execute.timeout=20", cwd=course)
    elapsed = time.perf_counter() - start
    print(f"\nautograde: {len(submissions)} submissions in {elapsed:.1f} s "
          f"({elapsed / len(submissions):.1f} s per submission)")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {s: (gb.find_submission("capstone", s).score, gb.find_submission("capstone", s).max_score)
                  for s in submissions}
        cells = {s: {c.name: gb.find_grade(c.name, "capstone", "capstone", s).score
                     for c in gb.find_notebook("capstone", "capstone").grade_cells}
                 for s in MISTAKES}
    print("scores:", scores)
    return scores, course, cells


@pytest.mark.parametrize("student, expected", [
    ("solution", 100), ("release", 0), ("part1", PART1_POINTS), ("tampered", 0),
    ("deleted", 100), ("raises", 100), ("loops", 100), ("alternative", 100),
])
def test_scores(graded, student, expected):
    scores, _, _ = graded
    assert scores[student] == (expected, 100), f"{student}: scored {scores[student]}, expected {expected}/100"


def test_points_add_up_to_100_across_graded_cells(course):
    source = nbformat.read(course / "source" / "capstone" / "capstone.ipynb", as_version=4)
    points = [c.metadata["nbgrader"]["points"] for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert sum(points) == 100 and len(points) == 10


def test_release_holds_no_solution_and_no_hidden_test(course):
    source = nbformat.read(course / "source" / "capstone" / "capstone.ipynb", as_version=4)
    release_path = course / "release" / "capstone" / "capstone.ipynb"
    release_text = release_path.read_text()
    release_lines = {ln.strip() for c in nbformat.read(release_path, as_version=4).cells for ln in c.source.splitlines()}
    assert not SOLUTION_MARKERS.search(release_text)
    leaked = sorted(solution_lines(source) & release_lines)
    assert not leaked, f"solution or hidden-test lines in the release: {leaked[:5]}"
    assert release_text.count("raise NotImplementedError()") == 10


@pytest.mark.parametrize("student", sorted(MISTAKES))
def test_each_classic_mistake_loses_exactly_the_cell_that_tests_it(graded, student):
    _, _, cells = graded
    targeted = MISTAKES[student][1]
    assert all(cells[student][grade_id] == 0 for grade_id in targeted), (
        f"{student}: a planted mistake was not caught: {[(g, cells[student][g]) for g in targeted]}")
    assert all(cells[student][grade_id] > 0 for grade_id in UNAFFECTED), (
        f"{student}: cells without a mistake lost points: {[(g, cells[student][g]) for g in UNAFFECTED]}")


def test_feedback_is_generated(graded):
    _, course, _ = graded
    run_tool("nbgrader", "generate_feedback", "capstone", "--force", cwd=course)
    page = course / "feedback" / "solution" / "capstone" / "capstone.html"
    assert page.exists() and "100" in page.read_text()
