"""The nbgrader course built from the repository's notebook, as the tests use it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_TEXT = ROOT / "notebooks" / "capstone.py"
BIN = Path(sys.executable).parent


def tool_env() -> dict[str, str]:
    """The environment for jupyter/nbgrader: this interpreter's scripts first on PATH (nbgrader runs alembic)."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_tool(*args: str, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    result = subprocess.run([str(BIN / args[0]), *args[1:]], cwd=cwd, env=tool_env(), capture_output=True,
                            text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def build_course(root: Path) -> Path:
    """An nbgrader course in ``root``: the source notebook built from the text and the student release generated."""
    shutil.copy(ROOT / "notebooks" / "nbgrader_config.py", root)
    source = root / "source" / "capstone"
    source.mkdir(parents=True)
    run_tool("jupytext", "--quiet", "--to", "ipynb", str(NOTEBOOK_TEXT), "-o", str(source / "capstone.ipynb"),
             cwd=root)
    run_tool("nbgrader", "generate_assignment", "capstone", "--force", cwd=root)
    return root


def grade_ids(nb) -> list:
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def with_cells(nb, replacements: dict[str, str]):
    """A copy of ``nb`` with the cells named by grade_id given new source (a student's code)."""
    copy = nbformat.from_dict(json.loads(json.dumps(nb)))
    for grade_id, source in replacements.items():
        copy.cells[grade_ids(copy).index(grade_id)].source = source.strip("\n")
    return copy
