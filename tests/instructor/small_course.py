"""A small nbgrader course with the capstone's own configuration: two graded functions and a written answer.

Grading the capstone takes ten seconds and more a submission; the parallel grader, the
sandbox and the hostile class are about what happens around a notebook, so most of their
tests grade this one instead. The capstone itself is graded in parallel and sandboxed by
the session's ``graded`` fixture (tests/notebooks/conftest.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader.api import Gradebook

from tests.course import ROOT, run_tool
from tinytorch.instructor.grader.autograde import main

ASSIGNMENT = "small"
POINTS = {"test-add": 5, "test-double": 5, "explain": 2}
# Per-cell timeout for these runs: a cell of the small notebook takes milliseconds.
FAST = ["--Execute.timeout=5"]

ADD = "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION"
DOUBLE = "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
TEST_ADD = "assert add(1, 2) == 3\n### BEGIN HIDDEN TESTS\nassert add(-1, 1) == 0\n### END HIDDEN TESTS"
TEST_DOUBLE = "assert double(4) == 8\n### BEGIN HIDDEN TESTS\nassert double(-2) == -4\n### END HIDDEN TESTS"


def _meta(grade_id: str, *, solution: bool = False, points: int | None = None) -> dict:
    return {"nbgrader": {"grade": points is not None, "grade_id": grade_id, "locked": not solution,
                         "schema_version": 3, "solution": solution, "task": False,
                         **({"points": points} if points is not None else {})}}


def source_notebook() -> nbformat.NotebookNode:
    cells = [new_markdown_cell("# A small assignment", metadata=_meta("intro")),
             new_code_cell(ADD, metadata=_meta("add", solution=True)),
             new_code_cell(TEST_ADD, metadata=_meta("test-add", points=POINTS["test-add"])),
             new_code_cell(DOUBLE, metadata=_meta("double", solution=True)),
             new_code_cell(TEST_DOUBLE, metadata=_meta("test-double", points=POINTS["test-double"])),
             new_markdown_cell("Doubling is adding a number to itself.",
                               metadata=_meta("explain", solution=True, points=POINTS["explain"]))]
    nb = new_notebook(cells=cells)
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def solved(*, extra: str = "", after: str = "double", add: str | None = None) -> nbformat.NotebookNode:
    """A submission: the solution, ``add`` written otherwise if given, and ``extra`` code in a cell of its own
    after the cell ``after``."""
    nb = source_notebook()
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells]
    if add is not None:
        nb.cells[ids.index("add")].source = add
    if extra:
        nb.cells.insert(ids.index(after) + 1, new_code_cell(extra))
    return nb


def build(root: Path) -> Path:
    """The course in ``root`` with the capstone's nbgrader_config.py, its assignment generated."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "notebooks" / "nbgrader_config.py", root)
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    nbformat.write(source_notebook(), source / f"{ASSIGNMENT}.ipynb")
    (source / "data.txt").write_text("a file the instructor ships with the assignment\n")
    run_tool("nbgrader", "generate_assignment", ASSIGNMENT, "--force", cwd=root)
    return root


def submit(root: Path, submissions: dict[str, nbformat.NotebookNode]) -> None:
    for student, nb in submissions.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")


def copy_of(small: Path, tmp_path: Path, name: str, submissions: dict) -> Path:
    root = tmp_path / name
    shutil.copytree(small, root)
    submit(root, submissions)
    return root


def grade_in_process(root: Path, *args: str) -> int:
    """The parallel grader's command run in this process (its workers are processes of their own)."""
    return main([ASSIGNMENT, "--course", str(root), "--no-progress", *args, *FAST])


def gradebook_state(root: Path) -> dict:
    """Everything autograding decides, per student: every grade and comment field, the timestamp, the totals."""
    state = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in gb.students:
            sub = gb.find_submission(ASSIGNMENT, student.id)
            cells = {}
            for nb in sub.notebooks:
                for g in nb.grades:
                    cells[g.name] = (g.auto_score, g.manual_score, g.needs_manual_grade, g.max_score)
                for c in nb.comments:
                    cells[f"{c.name} comment"] = (c.auto_comment, c.manual_comment)
                cells[f"{nb.name} late penalty"] = nb.late_submission_penalty
            state[student.id] = (sub.timestamp, sub.score, sub.max_score, sub.needs_manual_grade, cells)
    return state


def autograded_cells(root: Path, student: str) -> list:
    nb = nbformat.read(root / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    return [(c.cell_type, c.source, [{k: v for k, v in o.items() if k != "execution_count"} for o in
                                     c.get("outputs", [])]) for c in nb.cells]


def varied_class() -> dict[str, nbformat.NotebookNode]:
    """Right, wrong, blank, raising, a correct answer written differently, and a written answer left as given."""
    release = source_notebook()
    for cell in release.cells:
        if cell.metadata["nbgrader"]["solution"] and cell.cell_type == "code":
            cell.source = cell.source.split("    ### BEGIN")[0] + "    raise NotImplementedError()"
    blank_answer = solved()
    blank_answer.cells[-1].source = "YOUR ANSWER HERE"
    return {
        "ada": solved(),
        "bo": solved(add="def add(a, b):\n    return a - b"),
        "cy": release,
        "di": solved(extra="raise RuntimeError('a stray cell')", after="add"),
        "ed": solved(add="def add(a, b):\n    return sum((a, b))"),
        "fay": blank_answer,
    }


def ungraded_copy(small: Path, graded: Path, folder: Path) -> Path:
    """The course with the very notebooks ``graded`` was given (cell ids and all), graded by nobody yet."""
    shutil.copytree(small, folder)
    shutil.copytree(graded / "submitted", folder / "submitted")
    return folder
