"""Tooling that works only in a checkout of this repository, so it is not installed.

``python -m tools.export_reference`` writes the reference solution from the notebook;
``python -m tools.edition`` builds the student edition. Both read the notebook source,
the schemas and ``pyproject.toml`` from the repository beside them.
"""
