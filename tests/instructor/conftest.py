"""A student edition built once per test session, and a fresh environment that installs it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tinytorch.instructor.edition import build

REPO = "tinytorch-course/capstone-2026"


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
