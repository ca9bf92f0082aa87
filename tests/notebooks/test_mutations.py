"""The mutation runner: does the autograder tell right from wrong, and does a slip cost what it is worth?

Each classic mistake of ``mutations.MISTAKES`` is planted alone in the solution notebook and
graded by nbgrader; the correct alternatives of ``variants.ALTERNATIVES`` are graded a notebook
each, every graded cell of it rewritten. The run fails if a correct alternative loses any point,
if fewer than 95 % of the mistakes lose points, or if a mistake costs more than its severity allows. It prints the table of points lost per mistake (run pytest with ``-s``).
"""

from __future__ import annotations

import pytest

from .mutations import MISTAKES
from .variants import ALTERNATIVES

pytestmark = pytest.mark.nbgrader

AUTOGRADED = 100
#: The most points a mistake of each severity may cost.
SEVERITY = {"minor": 5, "major": 20}


def table(scores: dict, cells: dict) -> str:
    solution = cells["solution"]
    rows = [f"{'mistake':<46} {'cost':<6} {'lost':>5}  where"]
    for i, mistake in enumerate(MISTAKES):
        student = f"mistake-{i:02d}"
        lost = AUTOGRADED - scores[student][0]
        where = ", ".join(f"{cell} -{solution[cell] - got:g}" for cell, got in cells[student].items()
                          if got is not None and solution[cell] is not None and got < solution[cell])
        rows.append(f"{mistake.name:<46} {mistake.cost:<6} {lost:>5g}  {where or 'NOT CAUGHT'}")
    for student, cells_rewritten in ALTERNATIVES.items():
        score = scores[student][0]
        rows.append(f"{student + ' (' + str(len(cells_rewritten)) + ' cells rewritten)':<46} {'':<6} "
                    f"{AUTOGRADED - score:>5g}  score {score:g}")
    return "\n".join(rows)


def test_mutation_table(graded):
    scores, _, cells = graded
    print("\n" + table(scores, cells))
    assert len(MISTAKES) >= 50 and sum(map(len, ALTERNATIVES.values())) >= 10
    lost = {student: AUTOGRADED - scores[student][0] for student in ALTERNATIVES}
    assert not any(lost.values()), f"a correct alternative lost points ({lost}):\n" + table(scores, cells)
    caught = [m for i, m in enumerate(MISTAKES) if scores[f"mistake-{i:02d}"][0] < AUTOGRADED]
    assert len(caught) >= 0.95 * len(MISTAKES), (
        f"only {len(caught)} of {len(MISTAKES)} mistakes lost points:\n" + table(scores, cells))


@pytest.mark.parametrize("index", range(len(MISTAKES)), ids=[m.name for m in MISTAKES])
def test_each_mistake_costs_points_in_the_cell_that_grades_it(graded, index):
    scores, _, cells = graded
    mistake = MISTAKES[index]
    student = f"mistake-{index:02d}"
    assert cells[student][mistake.graded_by] < cells["solution"][mistake.graded_by], (
        f"{mistake.name}: {mistake.graded_by} kept its {cells['solution'][mistake.graded_by]:g} points")
    lost = AUTOGRADED - scores[student][0]
    if mistake.cost == "major":
        assert lost >= 5, f"{mistake.name} is major but cost only {lost:g} points"
    # A slip costs at most what its severity allows: a minor one a twentieth of the grade, a major one a fifth.
    assert lost <= SEVERITY[mistake.cost], f"{mistake.name} is {mistake.cost} but cost {lost:g} points"
