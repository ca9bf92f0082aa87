"""The small course, built once for the tests of grading, and its varied class graded by nbgrader itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.course import run_tool

from .small_course import ASSIGNMENT, FAST, build, copy_of, varied_class


@pytest.fixture(scope="session")
def small(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("small") / "course")


@pytest.fixture(scope="session")
def by_nbgrader(small, tmp_path_factory) -> Path:
    """The varied class graded by nbgrader's own sequential ``autograde``: what every other run must equal."""
    root = copy_of(small, tmp_path_factory.mktemp("by-nbgrader"), "course", varied_class())
    run_tool("nbgrader", "autograde", ASSIGNMENT, "--force", *FAST, cwd=root)
    return root
