"""Shared test settings: hypothesis without deadlines (the machine is shared and noisy); the nbgrader course."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.course import build_course

settings.register_profile(
    "default", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("default")


@pytest.fixture(scope="session")
def course(tmp_path_factory) -> Path:
    """A course folder with the source notebook built and the student release generated."""
    return build_course(tmp_path_factory.mktemp("course"))
