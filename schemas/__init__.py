"""The submission JSON Schema, installed with the package as ``tinytorch.schemas``.

This folder is the one copy: the package, the notebook and the grader all read
``submission.schema.json`` from here (``tinytorch.olympics.schema.load_schema()``).
"""
