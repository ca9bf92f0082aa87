"""Autograding 40 capstone submissions: nbgrader's sequential ``autograde`` against the parallel grader.

The class is a mix of the graded variants the tests use: the solution, correct
alternatives, the release, partial and tampered notebooks, a cell that raises, a cell that
never ends, and the 26 classic mistakes. Two copies of the course are graded one after the
other in this run, each with the course's own configuration (every kernel sandboxed):
one by ``nbgrader autograde capstone --force``, one by ``python -m
tinytorch.instructor.grader.autograde capstone --jobs 2``. It prints both times, seconds per
submission and the speedup, and checks that the two gradebooks agree on every cell of
every student. Run from the repository root: python -m benchmarks.autograde
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from tests.course import build_course, run_tool, tool_env
from tests.notebooks.variants import graded_class

SIZE = 40
TIMEOUT = "--Execute.timeout=20"


def the_class(course: Path) -> dict[str, nbformat.NotebookNode]:
    """The tests' graded class (34 notebooks) and correct notebooks to make up the 40."""
    students = graded_class(course)
    correct = [students["solution"], students["alternative"]]
    for i in range(SIZE - len(students)):
        students[f"correct-{i:02d}"] = correct[i % 2]
    return students


def grades(course: Path) -> dict[str, dict[str, tuple]]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s.id: {g.name: (g.auto_score, g.needs_manual_grade)
                       for nb in gb.find_submission("capstone", s.id).notebooks for g in nb.grades}
                for s in gb.students}


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    if command[0] == "nbgrader":
        run_tool(*command, cwd=cwd, timeout=3600)
    else:
        subprocess.run(command, cwd=cwd, env=tool_env(), check=True, capture_output=True, timeout=3600)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "course").mkdir()
        course = build_course(Path(tmp) / "course")
        for student, nb in the_class(course).items():
            folder = course / "submitted" / student / "capstone"
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / "capstone.ipynb")
        sequential, parallel = Path(tmp) / "sequential", Path(tmp) / "parallel"
        for copy in (sequential, parallel):
            shutil.copytree(course, copy)
        seconds = {
            "nbgrader autograde (one process)": timed(["nbgrader", "autograde", "capstone", "--force", TIMEOUT],
                                                      sequential),
            "parallel grader, 2 workers": timed([sys.executable, "-m", "tinytorch.instructor.grader.autograde",
                                                 "capstone", "--jobs", "2", "--no-progress", TIMEOUT], parallel),
        }
        same = grades(sequential) == grades(parallel)
        print(f"{SIZE} capstone submissions, {len(grades(parallel))} graded by each:")
        for name, value in seconds.items():
            print(f"  {name:34s} {value:7.1f} s  {value / SIZE:5.1f} s per submission")
        first, second = seconds.values()
        print(f"  speedup with 2 workers: {first / second:.2f}x")
        print(f"  every cell of every student graded alike: {'yes' if same else 'NO'}")
        if not same:
            sys.exit(1)


if __name__ == "__main__":
    main()
