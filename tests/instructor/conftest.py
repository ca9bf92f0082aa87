"""The small course, built once for the tests of grading."""

from __future__ import annotations

from pathlib import Path

import pytest

from .small_course import build


@pytest.fixture(scope="session")
def small(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("small") / "course")
