"""A submission's graded cells put back as the instructor wrote them, and the instructor told what was changed.

nbgrader stops grading a notebook whose structure it does not expect: a test cell whose
``grade`` flag was switched off fails its checksum check, and a deleted cell whose
neighbour above is not graded cannot be put back. The student then gets no grade at all,
for an edit as honest as deleting one cell.

:class:`RestoreGradedCells` runs first when nbgrader sanitizes a submission. Against the
gradebook's record of the source notebook, it keeps one copy of each graded or locked cell
(the last, as nbgrader does), gives it back its type and its nbgrader metadata (flags,
points), and a locked cell its source; it puts back every such cell that is missing, after
the nearest cell above it in the source that is there; and it strips the metadata of a cell
that claims an id the source does not have. nbgrader's own steps then find nothing to stop
at, so the submission is graded against the instructor's cells.

Every change is logged as a warning that starts with ``integrity:`` and kept in the
notebook's metadata (``tinytorch.changed_cells``), so the instructor sees, per student,
what was changed.
"""

from __future__ import annotations

from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

__all__ = ["RestoreGradedCells", "CHANGES_KEY", "changed_cells"]

CHANGES_KEY = "changed_cells"


def changed_cells(nb: NotebookNode) -> list[str]:
    """What :class:`RestoreGradedCells` changed in this (sanitized) notebook, one sentence each."""
    changes = nb.metadata.get("tinytorch", {}).get(CHANGES_KEY, [])
    return [str(change) for change in changes] if isinstance(changes, list) else []


class RestoreGradedCells(NbGraderPreprocessor):
    """Rebuild a submission's graded and locked cells from the gradebook's source cells; record what changed."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            source = gb.find_notebook(info["notebook"], info["assignment"])
            cells = {c.name: (c.cell_type, c.locked, c.source) for c in source.source_cells}
            order = [c.name for c in source.source_cells]
            points = {c.name: float(c.max_score) for c in source.grade_cells}
            solutions = {c.name for c in source.solution_cells}
            tasks = {c.name for c in source.task_cells}
        changes: list[str] = []
        last = {}
        for index, cell in enumerate(nb.cells):
            grade_id = _grade_id(cell)
            if grade_id is not None:
                last[grade_id] = index
        kept: list[NotebookNode] = []
        for index, cell in enumerate(nb.cells):
            grade_id = _grade_id(cell)
            if not isinstance(cell.get("metadata"), dict):
                cell["metadata"] = NotebookNode()
            if "nbgrader" in cell.metadata and grade_id not in cells:
                changes.append(f"a cell claimed the graded cell id {str(grade_id)[:80]!r}, which the assignment "
                               "does not have: graded as an ordinary cell")
                del cell.metadata["nbgrader"]
            elif grade_id is not None and last[grade_id] != index:
                changes.append(f"cell {grade_id!r} appears more than once: the last copy is graded, the others "
                               "are ordinary cells")
                del cell.metadata["nbgrader"]
            elif grade_id is not None:
                cell = self._restore(cell, grade_id, cells[grade_id], points, solutions, tasks, changes)
            kept.append(cell)
        present = {_grade_id(c) for c in kept}
        for position, name in enumerate(order):
            if name in present:
                continue
            cell_type, locked, text = cells[name]
            if not locked and name not in points:
                continue  # an unlocked ungraded cell (a solution without points) is the student's to delete
            above = next((p for p in reversed(order[:position]) if p in present), None)
            at = 0 if above is None else next(i for i, c in enumerate(kept) if _grade_id(c) == above) + 1
            restored = (new_code_cell if cell_type == "code" else new_markdown_cell)(text)
            restored.metadata["nbgrader"] = _metadata(name, locked, points, solutions, tasks)
            kept.insert(at, restored)
            present.add(name)
            changes.append(f"cell {name!r} was deleted: put back as the instructor wrote it")
        nb.cells = kept
        nb.metadata.setdefault("tinytorch", {})[CHANGES_KEY] = changes
        for change in changes:
            self.log.warning("integrity: %s: %s", info.get("student"), change)
        return nb, resources

    @staticmethod
    def _restore(cell: NotebookNode, name: str, source: tuple[str, bool, str], points: dict[str, float],
                 solutions: set[str], tasks: set[str], changes: list[str]) -> NotebookNode:
        cell_type, locked, text = source
        if cell.cell_type != cell_type:
            changes.append(f"cell {name!r} was made a {cell.cell_type} cell: made a {cell_type} cell again")
            body = text if locked else cell.source
            cell = (new_code_cell if cell_type == "code" else new_markdown_cell)(body, metadata=dict(cell.metadata))
        wanted = _metadata(name, locked, points, solutions, tasks)
        had = cell.metadata.get("nbgrader")
        had = had if isinstance(had, dict) else {}
        differ = sorted(key for key in ("grade", "solution", "locked", "task", "points")
                        if key in wanted and (had.get(key) != wanted[key] if key != "points"
                                              else not _same_number(had.get(key), wanted[key])))
        if differ:
            changes.append(f"cell {name!r} had its {', '.join(differ)} changed: set back")
        cell.metadata["nbgrader"] = {**wanted, **({"checksum": had["checksum"]} if "checksum" in had else {})}
        if locked and cell.source != text:
            changes.append(f"locked cell {name!r} was edited: its source is put back")
            cell.source = text
        return cell


def _grade_id(cell: NotebookNode) -> str | None:
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return grade_id if isinstance(grade_id, str) else None


def _same_number(value: Any, number: float) -> bool:
    try:
        return float(value) == number
    except (TypeError, ValueError):
        return False


def _metadata(name: str, locked: bool, points: dict[str, float], solutions: set[str], tasks: set[str]
              ) -> dict[str, Any]:
    metadata: dict[str, Any] = {"grade": name in points, "grade_id": name, "locked": bool(locked),
                                "schema_version": 3, "solution": name in solutions, "task": name in tasks}
    if name in points:
        metadata["points"] = points[name]
    return metadata
