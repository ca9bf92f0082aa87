"""The judge: the trusted process that decides every automatic point of the capstone.

It runs no student code. It drives the student's graded functions, loaded in a sandboxed
subject process (:mod:`tinytorch.instructor.sandboxed`), over a channel of plain data, and
plays the probe models itself, so every time a student's code measures is a time the
judge chose and saw.
"""
