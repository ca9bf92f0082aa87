"""Build the student edition: a folder to publish as the students' own repository.

``python -m tools.edition --out student-edition --repo OWNER/NAME`` (or
``make student-edition``) writes a self-contained folder that an instructor can
``git init`` and push, and that the students' Binder and nbgitpuller links point at:

* ``capstone/capstone.ipynb``: the nbgrader release of ``notebooks/capstone.py``, built
  here, so nothing is generated when Binder starts;
* ``tinytorch/``: the package without :mod:`tinytorch.instructor` (the reference
  solution, the hidden checks, grading and feedback);
* ``schemas/``: the submission schema and its examples;
* ``pyproject.toml``: this repository's, less the instructor package and the
  development extras, so the two editions depend on the same versions;
* ``binder/``, ``README.md``, ``.gitignore`` from ``student_edition/`` beside this file,
  with the repository's links filled in, and ``LICENSE``.

Before the folder replaces an earlier edition, every file in it is scanned for the
lines of the notebook's solution and hidden-test regions, the hidden checks and the
reference solution (:mod:`tinytorch.instructor.grader.leaks`); a single one found stops the
build and leaves any earlier edition as it was. A ``.git`` folder in the target is kept,
so the target can be a clone of the student repository.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence
from urllib.parse import quote

from tinytorch.instructor.grader.leaks import scan_tree
from tools.secrets import default_secrets

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

__all__ = ["ROOT", "MARKER", "Edition", "EditionError", "build", "links", "student_pyproject", "main"]

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).with_name("student_edition")
MARKER = ".tinytorch-student-edition"
ASSIGNMENT = "capstone"
INSTRUCTOR_PACKAGE = "tinytorch.instructor"
_JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_REPOSITORY = re.compile(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+")


class EditionError(RuntimeError):
    """The edition could not be built; nothing was replaced."""


@dataclass(frozen=True)
class Edition:
    """A built student edition: where it is, how many files and bytes it holds."""

    path: Path
    files: int
    size_bytes: int


def links(repo: str, branch: str = "main", hub: str = "https://<your-jupyterhub>") -> dict[str, str]:
    """The Binder and nbgitpuller links that open the edition's notebook, for ``repo`` = ``owner/name``."""
    name = repo.rstrip("/").rpartition("/")[2]
    notebook = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    return {
        "BINDER_URL": f"https://mybinder.org/v2/gh/{repo}/{quote(branch, safe='')}?urlpath=lab/tree/{notebook}",
        "NBGITPULLER_URL": (f"{hub.rstrip('/')}/hub/user-redirect/git-pull?repo="
                            f"{quote(f'https://github.com/{repo}', safe='')}&branch={quote(branch, safe='')}"
                            f"&urlpath={quote(f'lab/tree/{name}/{notebook}', safe='')}"),
    }


def _toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped, everything else as is."""
    escaped = "".join("\\" + char if char in '"\\' else f"\\u{ord(char):04x}" if ord(char) < 0x20 or ord(char) == 0x7F
                      else char for char in text)
    return f'"{escaped}"'


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml_value, value)) + "]"
    if isinstance(value, (int, float)):
        return str(value)
    raise EditionError(f"pyproject.toml holds a {type(value).__name__} ({value!r}) inside a list or value, which "
                       "the student edition's pyproject writer does not write; drop it there or teach _toml to")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml(table: dict[str, Any], header: tuple[str, ...] = ()) -> str:
    """TOML for plain data (strings, integers, booleans, lists of them, nested tables): enough for a pyproject."""
    lines = [f"{_toml_key(key)} = {_toml_value(value)}"
             for key, value in table.items() if not isinstance(value, dict)]
    if header and (lines or not table):  # a table with only sub-tables needs no header of its own
        lines.insert(0, f"[{'.'.join(map(_toml_key, header))}]")
    text = "\n".join(lines) + "\n" if lines else ""
    for key, value in table.items():
        if isinstance(value, dict):
            text += "\n" + _toml(value, (*header, key))
    return text


def student_pyproject(instructor: dict[str, Any]) -> str:
    """This repository's pyproject without the instructor package, the development extras and the settings of
    the development tools (pytest, ruff, mypy), which the student edition does not have."""
    data = copy.deepcopy(instructor)
    data["project"].pop("optional-dependencies", None)
    for tool in ("pytest", "ruff", "mypy"):
        data.get("tool", {}).pop(tool, None)
    setuptools = data["tool"]["setuptools"]
    setuptools["packages"] = [p for p in setuptools["packages"]
                              if p != INSTRUCTOR_PACKAGE and not p.startswith(INSTRUCTOR_PACKAGE + ".")]
    return ("# The student edition of the TinyTorch capstone, built by python -m tools.edition.\n"
            + _toml(data))


def _release_notebook(folder: Path) -> Path:
    """nbgrader's student release of notebooks/capstone.py, built in a scratch course under ``folder``."""
    import jupytext

    course = folder / "course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "nbgrader_config.py", course)
    jupytext.write(jupytext.read(ROOT / "notebooks" / "capstone.py"),
                   course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    # nbgrader runs helper programs (alembic) by name: this environment's scripts come first.
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    done = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force"],
                          cwd=course, env=env, capture_output=True, text=True)
    release = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    if done.returncode != 0 or not release.exists():
        raise EditionError(f"nbgrader generate_assignment failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return release


def _fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", value)
    left = re.findall(r"\{\{[A-Z_]+\}\}", template)
    if left:
        raise EditionError(f"template placeholders without a value: {sorted(set(left))}")
    return template


def _assemble(stage: Path, values: dict[str, str]) -> None:
    shutil.copytree(ROOT / "tinytorch", stage / "tinytorch",
                    ignore=lambda folder, names: [*_JUNK(folder, names),
                                                  *(["instructor"] if Path(folder) == ROOT / "tinytorch" else [])])
    shutil.copytree(ROOT / "schemas", stage / "schemas", ignore=_JUNK)
    (stage / ASSIGNMENT).mkdir()
    shutil.copy(_release_notebook(stage.parent), stage / ASSIGNMENT)
    for template in sorted(p for p in TEMPLATES.rglob("*") if p.is_file()):
        relative = template.relative_to(TEMPLATES)
        target = stage / relative.parent / (".gitignore" if relative.name == "gitignore" else relative.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_fill(template.read_text(encoding="utf-8"), values), encoding="utf-8")
        shutil.copymode(template, target)
    shutil.copy(ROOT / "binder" / "runtime.txt", stage / "binder" / "runtime.txt")
    shutil.copy(ROOT / "LICENSE", stage / "LICENSE")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (stage / "pyproject.toml").write_text(student_pyproject(pyproject), encoding="utf-8")
    (stage / MARKER).write_text("A student edition of the TinyTorch capstone: built, not edited. "
                                "Rebuilding replaces everything here but .git.\n", encoding="utf-8")


def _replace(out: Path, stage: Path) -> None:
    """Swap the staged edition in at ``out`` by renames, keeping its .git; never overwrite a folder that is not
    an edition. If the swap fails, the earlier edition is put back."""
    if not out.exists():
        os.replace(stage, out)
        return
    if any(p.name != ".git" for p in out.iterdir()) and not (out / MARKER).exists():
        raise EditionError(f"{out} exists and is not a student edition (no {MARKER}); choose an empty or new folder")
    previous = stage.parent / "previous"
    os.replace(out, previous)
    try:
        if (previous / ".git").exists():
            os.replace(previous / ".git", stage / ".git")
        os.replace(stage, out)
    except OSError:
        if (stage / ".git").exists():
            os.replace(stage / ".git", previous / ".git")
        os.replace(previous, out)
        raise


def build(out: Path, repo: str = "<owner>/<repository>", branch: str = "main",
          hub: str = "https://<your-jupyterhub>", secrets: Optional[dict[str, str]] = None) -> Edition:
    """Build the student edition into ``out``; raise EditionError (``out`` untouched) on any leak or failure."""
    out = out.resolve()
    for source in (ROOT / "tinytorch", ROOT / "schemas", ROOT / "notebooks"):
        if out == source or source in out.parents:
            raise EditionError(f"{out} is inside {source}, which the edition is built from; choose a folder outside it")
    if out.exists() and not out.is_dir():
        raise EditionError(f"{out} is a file; give the folder to write the edition into")
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        stage = scratch / "edition"
        stage.mkdir()
        _assemble(stage, {"REPO": repo, "BRANCH": branch, **links(repo, branch, hub)})
        leaks = scan_tree(stage, default_secrets(ROOT) if secrets is None else secrets)
        if leaks:
            raise EditionError(f"{len(leaks)} solution or hidden-test line(s) in the edition; nothing written:\n"
                               + "\n".join(f"  {leak}" for leak in leaks[:20]))
        files = [p for p in stage.rglob("*") if p.is_file()]
        edition = Edition(out, len(files), sum(p.stat().st_size for p in files))
        _replace(out, stage)
        return edition
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.edition",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="student-edition", help="folder to write (default: student-edition)")
    parser.add_argument("--repo", default="<owner>/<repository>",
                        help="the student repository's GitHub path, owner/name, for the Binder and nbgitpuller links")
    parser.add_argument("--branch", default="main", help="its branch (default: main)")
    parser.add_argument("--hub", default="https://<your-jupyterhub>", help="your JupyterHub's address, for nbgitpuller")
    args = parser.parse_args(argv)
    if not _REPOSITORY.fullmatch(args.repo) and args.repo != "<owner>/<repository>":
        parser.error(f"--repo must be a GitHub repository as owner/name, got {args.repo!r}")
    try:
        edition = build(Path(args.out), args.repo, args.branch, args.hub)
    except (EditionError, OSError) as exc:
        print(f"student edition not built: {exc}", file=sys.stderr)
        return 1
    print(f"wrote the student edition to {edition.path}: {edition.files} files, {edition.size_bytes:,} bytes; "
          "no solution or hidden-test line found in it")
    found = links(args.repo, args.branch, args.hub)
    print(f"Binder: {found['BINDER_URL']}\nnbgitpuller: {found['NBGITPULLER_URL']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
