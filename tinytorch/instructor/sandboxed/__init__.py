"""What runs inside the sandbox: the subject, a process that holds the student's code for the judge to call.

Nothing here is secret, and nothing here decides a point: the judge
(:mod:`tinytorch.instructor.judge`) checks everything the subject answers.
"""
