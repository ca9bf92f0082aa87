"""GuardedExecute: a kernel that dies or runs out of wall time costs the cells from there on, not the grade.

Graded by plain ``nbgrader autograde`` in the small course, whose configuration is the
capstone's: the guard is part of every autograding, sequential or parallel.
"""

from __future__ import annotations

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.course import ROOT, run_tool
from tinytorch.instructor.grader.execution import STOPPED, GuardedExecute

from ..small_course import ASSIGNMENT, copy_of, solved

pytestmark = pytest.mark.nbgrader


def graded(root, student: str) -> tuple[dict, list]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        scores = {g: gb.find_grade(g, ASSIGNMENT, ASSIGNMENT, student).auto_score for g in ("test-add", "test-double")}
    nb = nbformat.read(root / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    errors = [o.evalue for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error" and o.ename == STOPPED]
    return scores, errors


def test_a_kernel_that_dies_keeps_the_points_before_and_loses_those_after(small, tmp_path):
    root = copy_of(small, tmp_path, "course", {"ends": solved(extra="import os\nos._exit(3)", after="test-add")})
    run_tool("nbgrader", "autograde", ASSIGNMENT, "--Execute.timeout=30", cwd=root)
    scores, errors = graded(root, "ends")
    assert scores == {"test-add": 5, "test-double": 0}
    assert errors[0].startswith("this cell was stopped: the kernel died")
    assert len(errors) == 3 and all(e.startswith("not run: the notebook was stopped") for e in errors[1:])


def test_the_wall_time_bounds_the_notebook_and_cells_not_reached_score_zero(small, tmp_path):
    root = copy_of(small, tmp_path, "course", {"slow": solved(extra="import time\ntime.sleep(600)",
                                                                after="test-add")})
    # A cell may take 10 minutes, the notebook 4 s: the sleeping cell is interrupted when the time is up.
    run_tool("nbgrader", "autograde", ASSIGNMENT, "--Execute.timeout=600", "--GuardedExecute.wall_time=4",
             cwd=root)
    scores, errors = graded(root, "slow")
    assert scores == {"test-add": 5, "test-double": 0}
    assert errors[0] == "this cell was stopped: the notebook used up its 4 s of wall time"


def test_the_course_configuration_swaps_in_the_guard_and_the_judge_and_keeps_nbgraders_other_preprocessors():
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute, SaveAutoGrades
    from traitlets.config.loader import PyFileConfigLoader

    from tinytorch.instructor.grader.integrity import RestoreGradedCells
    from tinytorch.instructor.grader.judged import Judge, SaveJudgedGrades

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT / "notebooks")).load_config()
    configured = config.Autograde.autograde_preprocessors
    defaults = Autograde.class_traits()["autograde_preprocessors"].default()
    assert Execute in defaults and Execute not in configured and GuardedExecute in configured
    swapped = {Execute: GuardedExecute, SaveAutoGrades: SaveJudgedGrades}
    assert [p for p in configured if p is not Judge] == [swapped.get(p, p) for p in defaults]
    assert configured.index(Judge) == configured.index(GuardedExecute) + 1, "the judge runs right after execution"
    sanitize = config.Autograde.sanitize_preprocessors
    assert sanitize[1] is RestoreGradedCells and [p for p in sanitize if p is not RestoreGradedCells] == \
        Autograde.class_traits()["sanitize_preprocessors"].default()
    assert issubclass(GuardedExecute, Execute) and config.GuardedExecute.wall_time == 900
