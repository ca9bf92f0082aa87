"""The hostile class: attempts to forge a grade, graded with the real grader beside the grading contract's class.

Each attempt (tests/notebooks/hostile.py) must score exactly what the code it really
solved earns: 0 from a blank notebook, 19 from the partly solved one, 100 from the
solution whose graded cells were edited. Nothing an attempt read may reach its feedback
folder, and the instructor is told, per student, which graded cells were changed.
"""

from __future__ import annotations

import nbformat
import pytest

from tests.course import ROOT, run_tool
from tinytorch.instructor.grader.leaks import scan_tree
from tools.secrets import default_secrets

from .hostile import HONEST

pytestmark = pytest.mark.nbgrader


def test_every_attempt_scores_exactly_what_its_honest_part_earns(graded, graded_run):
    scores, _, cells = graded
    _, hostile = graded_run
    assert scores["partial"][0] == HONEST["partial"], "the honest partly solved notebook earns its 19 points"
    rows = [f"{'attempt':<26} {'kind':<6} {'honest':>6} {'graded':>6}"]
    wrong = []
    for student, attempt in hostile.items():
        if student == "partial":
            continue
        got = scores[student][0]
        rows.append(f"{student:<26} {attempt.kind:<6} {attempt.honest:>6} {got:>6g}")
        if got != attempt.honest:
            wrong.append(f"{student}: {got:g} instead of {attempt.honest} "
                         f"({ {c: s for c, s in cells[student].items() if s} })")
    print("\n" + "\n".join(rows))
    assert len(hostile) - 1 >= 25 and {a.kind for a in hostile.values()} >= set("abcdefg")
    assert not wrong, "\n".join(wrong)


def test_nothing_an_attempt_read_reaches_its_feedback_folder(graded, graded_run):
    _, course, _ = graded
    _, hostile = graded_run
    thieves = [s for s, a in hostile.items() if a.kind in ("e", "b", "c")]
    for student in thieves:
        run_tool("nbgrader", "generate_feedback", "capstone", "--force", "--student", student, cwd=course)
    secrets = default_secrets(ROOT)
    for student in thieves:
        folder = course / "feedback" / student / "capstone"
        assert (folder / "capstone.html").is_file(), f"{student}: no feedback page"
        submitted = nbformat.read(course / "submitted" / student / "capstone" / "capstone.ipynb", as_version=4)
        own = [line for cell in submitted.cells for line in cell.source.splitlines()]  # the student's own lines
        leaks = scan_tree(folder, secrets, allowed=own)
        assert not leaks, f"{student}: " + "\n".join(map(str, leaks[:5]))
        page = (folder / "capstone.html").read_text(encoding="utf-8")
        assert "Hidden checks, judged outside your notebook" in page, "the judge's findings are on the page"


def test_the_instructor_is_told_which_graded_cells_each_submission_changed(graded_run):
    summary, hostile = graded_run
    for student, attempt in hostile.items():
        if attempt.kind == "g":
            assert f"  {student}: cell '" in summary, f"{student}'s structural edit is not reported:\n{summary}"
    assert "  solution: " not in summary and "  partial: " not in summary
