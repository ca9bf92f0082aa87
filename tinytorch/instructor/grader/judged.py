"""nbgrader's autograde step with the judge's scores: what plugs the judge into nbgrader.

nbgrader scores a test cell by what the student's kernel printed in it: an error is 0, a
number is partial credit, anything else full marks. Code in that kernel can print
whatever it likes, so for an assignment with a judge those outputs are feedback only:

* :class:`Judge` runs after the notebook was executed. It hands the notebook's cells (the
  instructor's locked cells restored by nbgrader, the student's own as written) to the
  judge (:func:`tinytorch.instructor.judge.trial.judge_cells`), which loads them into a
  sandboxed subject and runs the hidden checks from outside it. Each graded cell gets one
  more output, the judge's findings, which the feedback shows.
* :class:`SaveJudgedGrades` is nbgrader's ``SaveAutoGrades`` with one change: a graded
  code cell's automatic score is the judge's, not the one read from its outputs.

Everything else (manual grading, formgrader, feedback, late penalties, ``nbgrader
autograde`` and the parallel grader) is nbgrader's own, and sees the judge's scores.
An assignment without a judge (``Judge.judges`` names none for it) is graded as nbgrader
grades it.
"""

from __future__ import annotations

import importlib
from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor, SaveAutoGrades
from traitlets import Dict, Integer

from tinytorch.instructor.judge.channel import Limits
from tinytorch.instructor.judge.trial import Cell, Verdict, judge_cells

__all__ = ["Judge", "SaveJudgedGrades", "VERDICTS", "FINDINGS_PREFIX", "cells_of"]

#: Where the verdicts travel from the judging step to the saving step.
VERDICTS = "tinytorch_judge"
FINDINGS_PREFIX = "Hidden checks, judged outside your notebook: "


def cells_of(nb: NotebookNode) -> list[Cell]:
    """The notebook's code cells as the judge reads them."""
    return [Cell(cell.metadata.get("nbgrader", {}).get("grade_id"), utils.is_grade(cell), cell.source)
            for cell in nb.cells if cell.cell_type == "code"]


class Judge(NbGraderPreprocessor):
    """Judge the executed notebook from outside the student's kernel; put the findings under each graded cell."""

    judges = Dict({"capstone": "tinytorch.instructor.judge.checks"},
                  help="assignment -> module with the assignment's REGISTRY of checks (and WORKFLOW, SKIPPED, "
                       "DEFINED_IN)").tag(config=True)
    timeout = Integer(0, help="Seconds each request to the student's code may take (0: Execute.timeout, or 60)"
                      ).tag(config=True)
    memory_limit = Integer(Limits.memory, help="Address space of the subject, in bytes").tag(config=True)

    def _seconds(self) -> float:
        if self.timeout:
            return float(self.timeout)
        configured = self.config.get("Execute", {}).get("timeout")
        return float(configured) if isinstance(configured, (int, float)) and configured > 0 else 60.0

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        assignment = resources.get("nbgrader", {}).get("assignment")
        if assignment not in self.judges:
            self.log.warning("no judge is configured for the assignment %r (Judge.judges): its scores are read "
                             "from what the student's kernel printed, which the student's code controls", assignment)
            return nb, resources
        module = importlib.import_module(self.judges[assignment])
        limits = Limits(memory=self.memory_limit, seconds=self._seconds())
        verdicts = judge_cells(cells_of(nb), module.REGISTRY, workflow_ids=module.WORKFLOW,
                               skipped_ids=module.SKIPPED, defined_in=module.DEFINED_IN, limits=limits)
        resources[VERDICTS] = verdicts
        for cell in nb.cells:
            verdict = verdicts.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
            if cell.cell_type == "code" and utils.is_grade(cell) and verdict is not None:
                cell.outputs.append(new_output("stream", name="stdout", text=FINDINGS_PREFIX + verdict.feedback()
                                               + "\n"))
        self.log.info("Judged %s: %s", resources.get("nbgrader", {}).get("student"),
                      ", ".join(f"{k} {v.earned:g}/{v.possible:g}" for k, v in verdicts.items()))
        return nb, resources


class SaveJudgedGrades(SaveAutoGrades):
    """``SaveAutoGrades``, with each judged cell's automatic score taken from the judge."""

    def _add_score(self, cell: NotebookNode, resources: dict[str, Any]) -> None:
        verdicts: dict[str, Verdict] | None = resources.get(VERDICTS)
        if verdicts is None or cell.cell_type != "code":
            return super()._add_score(cell, resources)
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        grade = self.gradebook.find_grade(grade_id, self.notebook_id, self.assignment_id, self.student_id)
        verdict = verdicts.get(grade_id)
        # A graded cell the judge has no checks for earns nothing: a score read from the kernel proves nothing.
        grade.auto_score = min(verdict.earned, float(cell.metadata["nbgrader"]["points"])) if verdict else 0.0
        grade.needs_manual_grade = grade.manual_score is not None
        self.gradebook.db.commit()
