"""The instructor edition: the judge, the grader's side of nbgrader, the sandboxed subject, the reference solution.

Nothing in this package reaches students: ``python -m tools.edition`` (a checkout's
tooling, not installed) builds the student edition without it, and the sandbox shows a
student's code none of it but the subject (:mod:`tinytorch.instructor.sandboxed`). The
folders name where their code runs: :mod:`~tinytorch.instructor.judge` in the trusted judge,
:mod:`~tinytorch.instructor.grader` beside nbgrader, :mod:`~tinytorch.instructor.sandboxed`
inside the sandbox.
"""
