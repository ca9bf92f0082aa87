"""Carry one autograded submission from a scratch course's gradebook into the course's, through nbgrader's API.

SQLite takes one writer at a time, so parallel workers never share the course gradebook:
each grades in a scratch course whose gradebook holds the assignment and the submissions
it graded, and the coordinator alone writes the course gradebook, one submission at a
time, here. What is written is what ``nbgrader autograde`` itself writes when it grades
in the course: the submission's timestamp, each cell's automatic score and comment, each
notebook's late penalty, and which cells need a grader, by nbgrader's own rule (a cell
that a grader already scored by hand needs one again). A grader's scores and comments,
and the flags, stay as they are, so merging a submission again leaves the same
gradebook: nothing is counted twice.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

__all__ = ["GradedSubmission", "read_submission", "write_submission"]


@dataclass(frozen=True)
class GradedSubmission:
    """What autograding decided for one student's submission of one assignment."""

    assignment: str
    student: str
    timestamp: object
    #: notebook -> late penalty (None when not late)
    late_penalties: dict[str, float | None]
    #: (notebook, cell) -> automatic score (None where the cell needs a grader)
    auto_scores: dict[tuple[str, str], float | None]
    #: (notebook, cell) -> nbgrader's automatic comment ("No response." or None)
    auto_comments: dict[tuple[str, str], str | None]


def read_submission(db_url: str, assignment: str, student: str) -> GradedSubmission:
    """The autograder's results for ``student`` in the gradebook at ``db_url``."""
    with Gradebook(db_url) as gb:
        submission = gb.find_submission(assignment, student)
        return GradedSubmission(
            assignment, student, submission.timestamp,
            late_penalties={nb.name: nb.late_submission_penalty for nb in submission.notebooks},
            auto_scores={(nb.name, g.name): g.auto_score for nb in submission.notebooks for g in nb.grades},
            auto_comments={(nb.name, c.name): c.auto_comment for nb in submission.notebooks for c in nb.comments})


def write_submission(db_url: str, graded: GradedSubmission) -> None:
    """Write ``graded`` into the gradebook at ``db_url`` as ``nbgrader autograde`` would have."""
    # nbgrader's add_submission touches objects before they are in the session; SQLAlchemy 2 warns about it.
    with Gradebook(db_url) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        gb.update_or_create_student(graded.student)
        # Like nbgrader: a submission without a timestamp file keeps the timestamp it had.
        stamp = {} if graded.timestamp is None else {"timestamp": graded.timestamp}
        submission = gb.update_or_create_submission(graded.assignment, graded.student, **stamp)
        for notebook in submission.notebooks:
            notebook.late_submission_penalty = graded.late_penalties.get(notebook.name)
            for grade in notebook.grades:
                grade.auto_score = graded.auto_scores[(notebook.name, grade.name)]
                grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
            for comment in notebook.comments:
                comment.auto_comment = graded.auto_comments[(notebook.name, comment.name)]
        gb.db.commit()
