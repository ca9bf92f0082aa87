"""Execute a submission in the sandbox under a wall-time limit, and grade it even when its kernel does not survive.

nbgrader's ``Execute`` gives up on the whole submission when the kernel dies (a fork
bomb takes the kernel's own threads with it), when a cell that ignores the interrupt
never answers, or when code writes into the kernel's own sockets and what arrives is no
Jupyter message: the student gets no grade at all and the instructor an error. Each cell
already has a timeout, but nothing bounds the notebook: forty cells that each wait out
their timeout take forty times as long.

:class:`GuardedExecute` runs the kernel in the sandbox (:mod:`tinytorch.instructor.grader.sandbox`),
caps every cell's timeout by what is left of ``wall_time``, and when the kernel dies, stops
answering, or the time is up, it stops there: the cell that was running and every code
cell after it get an error output that says why, so their tests score zero and the cells
before them keep their points. That is what the student's code earned.
"""

from __future__ import annotations

import math
import time
from typing import Any

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute, SaveAutoGrades
from traitlets import Integer

from tinytorch.instructor.grader.integrity import RestoreGradedCells
from tinytorch.instructor.grader.judged import Judge, SaveJudgedGrades
from tinytorch.instructor.grader.sandbox import SandboxedKernelManager

__all__ = ["GuardedExecute", "SubmissionStopped", "autograde_preprocessors", "sanitize_preprocessors", "STOPPED"]

STOPPED = "SubmissionStopped"


class SubmissionStopped(Exception):
    """The notebook cannot go on: the kernel died, ignored an interrupt, or the wall time is up."""


class GuardedExecute(Execute):
    """nbgrader's ``Execute`` with the sandboxed kernel, a wall-time limit, and a grade for what ran."""

    wall_time = Integer(900, help="Seconds the whole notebook may run; cells not reached by then are not run"
                        ).tag(config=True)

    _deadline = float("inf")
    _running = 0

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        # A graded kernel has nothing to save: stop it at once, rather than ask it to stop and wait
        # out the grace period of one that will not (an endless cell that ignores interrupts).
        kwargs.setdefault("shutdown_kernel", "immediate")
        super().__init__(**kwargs)

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None) -> tuple[NotebookNode, Any]:
        self._deadline = time.monotonic() + self.wall_time
        try:
            return super().preprocess(nb, resources, km)
        except Exception as stop:  # noqa: BLE001 (whatever the kernel did, the cells before keep their points)
            reason = self._reason(stop)
            self.log.warning("Stopped at cell %d: %s", self._running, reason)
            self._stop_from(nb, self._running, reason)
            return nb, self.resources

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> tuple[NotebookNode, Any]:
        self._running = index
        if cell.cell_type == "code" and time.monotonic() >= self._deadline:
            raise SubmissionStopped(f"the notebook used up its {self.wall_time} s of wall time")
        return super().preprocess_cell(cell, resources, index)

    def _get_timeout(self, cell: NotebookNode | None) -> int | None:
        timeout = super()._get_timeout(cell)
        if self._deadline == float("inf"):
            return timeout
        left = max(1, math.ceil(self._deadline - time.monotonic()))
        return left if timeout is None else min(timeout, left)

    def _reason(self, stop: Exception) -> str:
        if isinstance(stop, DeadKernelError):
            return ("the kernel died while it ran (it ran out of memory, processes or threads, "
                    "or the code ended its own process)")
        if isinstance(stop, CellTimeoutError):
            return "the cell ran past its time limit and did not stop when it was interrupted"
        if isinstance(stop, SubmissionStopped):
            return str(stop)
        # Code in the kernel can write to the kernel's own sockets: what then arrives is not a Jupyter message.
        return (f"the kernel stopped speaking the Jupyter protocol ({type(stop).__name__}: {str(stop)[:200]}); "
                "the code may have written into the kernel's own connections")

    @staticmethod
    def _stop_from(nb: NotebookNode, first: int, reason: str) -> None:
        for index, cell in enumerate(nb.cells[first:], start=first):
            if cell.cell_type != "code":
                continue
            message = (f"this cell was stopped: {reason}" if index == first
                       else f"not run: the notebook was stopped at an earlier cell: {reason}")
            cell.outputs.append(new_output("error", ename=STOPPED, evalue=message,
                                           traceback=[f"{STOPPED}: {message}"]))


def autograde_preprocessors() -> list[type]:
    """nbgrader's own autograde preprocessors, in its order, with :class:`GuardedExecute` for ``Execute``, the
    judge right after it, and :class:`~tinytorch.instructor.grader.judged.SaveJudgedGrades` for ``SaveAutoGrades``."""
    defaults = Autograde.class_traits()["autograde_preprocessors"].default()
    order: list[type] = []
    for step in defaults:
        if step is Execute:
            order += [GuardedExecute, Judge]
        else:
            order.append(SaveJudgedGrades if step is SaveAutoGrades else step)
    return order


def sanitize_preprocessors() -> list[type]:
    """nbgrader's own sanitize preprocessors, with
    :class:`~tinytorch.instructor.grader.integrity.RestoreGradedCells` before its first look at the cells."""
    defaults = Autograde.class_traits()["sanitize_preprocessors"].default()
    return [defaults[0], RestoreGradedCells, *defaults[1:]]
