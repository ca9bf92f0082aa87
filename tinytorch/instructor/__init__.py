"""The instructor edition: the reference solution, the hidden checks, grade export and feedback scrubbing.

Nothing in this package reaches students. ``python -m tools.edition`` (a checkout's
tooling, not installed) builds the student edition without it, and checks the result
for any solution or hidden-test line before it says it is done.
"""
