"""Every graded cell of every submission, one CSV row each: ``nbgrader export`` at the grain of a cell.

nbgrader's own exporter writes one total per student and assignment. A course with partial
credit and hand-graded answers needs the cell: which property cost a student points, and
which written answers still wait for a grader. Use it as an export plugin::

    nbgrader export --exporter=tinytorch.instructor.grader.grades.CellGradesExport --to cell_grades.csv

The file is written to a temporary name and renamed, so an export that fails leaves any
earlier file as it was.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin

__all__ = ["CellGradesExport", "COLUMNS"]

COLUMNS = ["assignment", "student_id", "notebook", "cell", "kind", "score", "max_score", "needs_manual_grade"]


class CellGradesExport(ExportPlugin):
    """One row per (assignment, student, notebook, graded cell): score, points and whether a grader is needed.

    ``kind`` is "autograded" for a test cell and "manual" for an answer a person grades; a
    manual cell's score is empty until it is graded.
    """

    def export(self, gradebook: Gradebook) -> None:
        destination = Path(self.to or "cell_grades.csv")
        wanted_students = {str(s) for s in self.student}
        wanted_assignments = {str(a) for a in self.assignment}
        rows = []
        for assignment in gradebook.assignments:
            if wanted_assignments and assignment.name not in wanted_assignments:
                continue
            for student in gradebook.students:
                if wanted_students and student.id not in wanted_students:
                    continue
                for notebook in assignment.notebooks:
                    try:
                        submitted = gradebook.find_submission_notebook(notebook.name, assignment.name, student.id)
                    except MissingEntry:
                        continue
                    for grade in sorted(submitted.grades, key=lambda g: g.cell.cell_type != "code"):
                        rows.append({
                            "assignment": assignment.name, "student_id": student.id, "notebook": notebook.name,
                            "cell": grade.name, "kind": "autograded" if grade.cell.cell_type == "code" else "manual",
                            "score": "" if grade.score is None or grade.needs_manual_grade else f"{grade.score:g}",
                            "max_score": f"{grade.max_score:g}",
                            "needs_manual_grade": "yes" if grade.needs_manual_grade else "no",
                        })
        self.log.info("Exporting %d cell grades to %s", len(rows), destination)
        handle, temporary = tempfile.mkstemp(dir=destination.resolve().parent, suffix=".csv.tmp")
        try:
            with os.fdopen(handle, "w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, fieldnames=COLUMNS)
                writer.writeheader()
                writer.writerows(rows)
            os.replace(temporary, destination)
        except BaseException:
            os.unlink(temporary)
            raise
