"""The instructor edition: the reference solution, the hidden checks, feedback scrubbing and the edition builder.

Nothing in this package reaches students. ``python -m tinytorch.instructor.edition``
builds the student edition without it, and checks the result for any solution or
hidden-test line before it says it is done.
"""
