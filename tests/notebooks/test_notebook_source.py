"""The notebook's source, read as text: what a failing visible test tells the student."""

from __future__ import annotations

import ast
import re

from tests.course import NOTEBOOK_TEXT


def graded_cells() -> dict[str, str]:
    """{grade_id: visible part} of every autograded (code) cell, the hidden region cut off."""
    cells = {}
    for cell in NOTEBOOK_TEXT.read_text(encoding="utf-8").split("\n# %%"):
        head, _, body = cell.partition("\n")
        if '"grade": true' in head and "[markdown]" not in head:
            cells[re.search(r'"grade_id": "([^"]+)"', head).group(1)] = body.split("### BEGIN HIDDEN TESTS")[0]
    return cells


def test_every_visible_assert_says_what_to_fix():
    silent = [(grade_id, ast.get_source_segment(body, node))
              for grade_id, body in graded_cells().items() for node in ast.walk(ast.parse(body))
              if isinstance(node, ast.Assert) and node.msg is None]
    assert not silent, f"a failing visible test must say what to fix: {silent}"
    assert len(graded_cells()) == 10
