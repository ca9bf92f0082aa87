"""nbgrader configuration for the capstone course; run nbgrader from this folder.

The course lives here: ``source/capstone/capstone.ipynb`` is built from
``capstone.py`` (jupytext text, the source of truth), ``release/`` is what students
get, ``submitted/<student>/capstone/`` what they hand in, ``autograded/`` and
``feedback/`` what grading produces, ``gradebook.db`` the scores. All of them are
built by commands (see the README), none is committed.
"""

import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

HERE = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "tinytorch-capstone"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")

# The student release replaces each solution region by this stub, so an untouched
# release fails its tests at once instead of computing something wrong.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Grading a notebook that raises, loops forever, or lost a test cell still finishes:
# errors do not stop execution, each cell gets at most 60 s before it is interrupted,
# and grade cells the student deleted are put back from the source version.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
c.OverwriteCells.add_missing_cells = True
c.Autograde.create_student = True

# Feedback names each failed check and its message, and never shows how it was tested:
# hidden-test regions, the tracebacks that quote them, and any output that quotes a hidden
# line are scrubbed from the page before it is written, and any other file in a feedback
# folder that quotes one is removed (tinytorch/instructor/grader/feedback.py).
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from tinytorch.instructor.grader.feedback import ScrubHiddenTests, remove_leaking_files  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ScrubHiddenTests]
c.GenerateFeedback.post_convert_hook = remove_leaking_files

# Each submission's code runs in a sandbox (tinytorch/instructor/grader/sandbox.py: bubblewrap with
# no network, no view of the course, the gradebook or the other submissions, and limits on
# memory, processes and file size), the notebook within a wall-time limit, and a kernel that
# dies or will not stop costs the cells from there on instead of the whole grade
# (tinytorch/instructor/grader/execution.py).
from tinytorch.instructor.grader.execution import autograde_preprocessors, sanitize_preprocessors  # noqa: E402

c.Autograde.autograde_preprocessors = autograde_preprocessors()

# A deleted, duplicated or re-flagged graded cell does not stop grading: the instructor's cells are put
# back before nbgrader looks, and each change is logged as "integrity: ..." (grader/integrity.py). Every
# automatic point is then decided by the judge, outside the student's kernel (grader/judged.py).
c.Autograde.sanitize_preprocessors = sanitize_preprocessors()
c.GuardedExecute.wall_time = 900
