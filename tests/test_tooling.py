"""Lint, import order and types stay at zero findings: CI fails on the first new one.

ruff and mypy are development dependencies (the ``dev`` extra) and read their settings
from pyproject.toml, so running them by hand in the repository root gives the same
verdict as this test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    result = _run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing():
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_would_fail_on_a_finding(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    result = _run("ruff", "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(bad))
    assert result.returncode == 1 and "F401" in result.stdout
