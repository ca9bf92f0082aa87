"""The grading contract, end to end through nbgrader and asserted via its Gradebook API.

One autograde run grades: the solution (100), the untouched release (0), the release
with only Part 1 solved (Part 1's 10 points), a release whose locked test cell was
rewritten to pass (0: the cell is restored), the solution with a test cell deleted
(100: the cell is re-inserted), the solution with a cell that raises (100), the solution
with a cell that never ends (100: the cell is interrupted), a correct solution written
differently (100). The same run grades the catalogue of classic mistakes (test_mutations.py).
"""

from __future__ import annotations

import csv
import re

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.course import grade_ids, run_tool
from tinytorch.instructor.judge.checks import CHECKS

pytestmark = pytest.mark.nbgrader

PART1_POINTS = 10
POINTS = {cell: sum(check.points for check in found) for cell, found in CHECKS.items()}
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


@pytest.mark.parametrize("student, expected", [
    ("solution", 100), ("release", 0), ("part1", PART1_POINTS), ("tampered", 0),
    ("deleted", 100), ("raises", 100), ("loops", 100), ("alternative", 100), ("alternative-2", 100), ("alternative-3", 100),
])
def test_scores(graded, student, expected):
    scores, _, _ = graded
    assert scores[student] == (expected, 110), (
        f"{student}: scored {scores[student]}, expected {expected} of 100 autograded (+10 graded by hand)")


def test_points_add_up_to_100_autograded_and_10_by_hand(course):
    source = nbformat.read(course / "source" / "capstone" / "capstone.ipynb", as_version=4)
    graded_cells = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    auto = [c.metadata["nbgrader"]["points"] for c in graded_cells if c.cell_type == "code"]
    manual = [c.metadata["nbgrader"]["points"] for c in graded_cells if c.cell_type == "markdown"]
    assert sum(auto) == 100 and len(auto) == 10
    assert manual == [2] * 5 and all(c.metadata["nbgrader"]["solution"] for c in graded_cells
                                     if c.cell_type == "markdown")


MANUAL = [f"reflection-{i}" for i in range(1, 6)]


def test_written_answers_reach_the_gradebook_as_needing_a_grader(graded):
    _, course, _ = graded
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        answered = [gb.find_grade(cell, "capstone", "capstone", "solution") for cell in MANUAL]
        blank = [gb.find_grade(cell, "capstone", "capstone", "release") for cell in MANUAL]
        assert all(g.needs_manual_grade and g.max_score == 2 for g in answered)
        assert all(not g.needs_manual_grade and g.score == 0 for g in blank), "an unanswered question scores 0 at once"
        assert gb.find_submission("capstone", "solution").needs_manual_grade


def test_export_lists_every_cell_and_a_hand_grade_counts(graded):
    _, course, _ = graded
    run_tool("nbgrader", "export", "--exporter=tinytorch.instructor.grader.grades.CellGradesExport",
             "--to=cell_grades.csv", cwd=course)
    with open(course / "cell_grades.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["student_id"] == "solution"]
    manual = {r["cell"]: r for r in rows if r["kind"] == "manual"}
    assert sorted(manual) == MANUAL and all(r["needs_manual_grade"] == "yes" and r["score"] == "" for r in
                                           manual.values())
    assert sum(float(r["score"]) for r in rows if r["kind"] == "autograded") == 100
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:   # what formgrader stores for a grader
        grade = gb.find_grade("reflection-1", "capstone", "capstone", "solution")
        grade.manual_score = 1.5
        gb.db.commit()
    run_tool("nbgrader", "export", cwd=course)
    with open(course / "grades.csv", newline="", encoding="utf-8") as f:
        totals = {r["student_id"]: r for r in csv.DictReader(f)}
    assert float(totals["solution"]["raw_score"]) == 101.5 and float(totals["solution"]["max_score"]) == 110


def test_release_holds_no_solution_and_no_hidden_test(course):
    source = nbformat.read(course / "source" / "capstone" / "capstone.ipynb", as_version=4)
    release_path = course / "release" / "capstone" / "capstone.ipynb"
    release_text = release_path.read_text()
    release_lines = {ln.strip() for c in nbformat.read(release_path, as_version=4).cells for ln in c.source.splitlines()}
    assert not SOLUTION_MARKERS.search(release_text)
    leaked = sorted(solution_lines(source) & release_lines)
    assert not leaked, f"solution or hidden-test lines in the release: {leaked[:5]}"
    assert release_text.count("raise NotImplementedError()") == 10
    assert release_text.count("YOUR ANSWER HERE") == 5, "each written answer starts blank, its rubric removed"


def test_feedback_is_generated(graded):
    _, course, _ = graded
    run_tool("nbgrader", "generate_feedback", "capstone", "--force", "--student", "solution", cwd=course)
    page = course / "feedback" / "solution" / "capstone" / "capstone.html"
    assert page.exists() and "100" in page.read_text()
