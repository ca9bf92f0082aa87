"""Shared test settings and fixtures.

Hypothesis runs without deadlines (the machine is shared and noisy). Session fixtures: the
nbgrader course built from the notebook, the student edition built from this repository,
and a fresh virtual environment into which the edition was installed as a student would.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.course import build_course
from tools.edition import build

REPO = "tinytorch-course/capstone-2026"

settings.register_profile(
    "default", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow]
)
# A long run of every property, for a change to the validator: pytest --hypothesis-profile=thorough
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=2000)
settings.load_profile("default")


@pytest.fixture(scope="session")
def course(tmp_path_factory) -> Path:
    """A course folder with the source notebook built and the student release generated."""
    return build_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="session")
def edition(tmp_path_factory) -> Path:
    """The student edition, built by the builder the README tells instructors to run."""
    out = tmp_path_factory.mktemp("published") / "capstone-2026"
    build(out, repo=REPO, branch="main", hub="https://hub.example.edu")
    return out


@pytest.fixture(scope="session")
def fresh_python(edition: Path, tmp_path_factory) -> Path:
    """A new virtual environment in which the edition was installed with ``pip install .``, as a student would."""
    venv = tmp_path_factory.mktemp("student-venv")
    subprocess.run([sys._base_executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    clone = tmp_path_factory.mktemp("student-clone") / edition.name  # pip builds inside the folder it installs
    shutil.copytree(edition, clone)
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", "."], cwd=clone, capture_output=True,
                               text=True, timeout=1200)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    return python


@pytest.fixture(scope="session")
def student_binder(fresh_python: Path, edition: Path, tmp_path_factory) -> dict[str, str]:
    """The student environment after the edition's binder/postBuild ran in it; the environment to use it with."""
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path_factory.mktemp("student-user-config")),
               PATH=os.pathsep.join([str(fresh_python.parent), os.environ.get("PATH", "")]))
    done = subprocess.run(["bash", "binder/postBuild"], cwd=edition, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return env
