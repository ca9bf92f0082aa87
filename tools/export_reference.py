"""Export the capstone notebook's solution cells into ``tinytorch/instructor/reference.py``.

The notebook (``notebooks/capstone.py``, jupytext text) is the one source of the capstone
solution. Cells tagged ``export`` are copied in order, so the package's reference and the
solution a student is graded against cannot drift apart: ``--check`` (run by the tests)
fails when the committed module differs from a fresh export.

Two things are the notebook's and not the library's, and are left out: nbgrader's
``### BEGIN/END SOLUTION`` marker lines, and the student prompts. A prompt is a block
of comments whose first line starts with ``# TODO``; it ends at the first line that is
not a comment, or at the solution marker. Docstrings state contracts, so ``help()`` on the reference reads like a
library's.

The reference is instructor-only: the student edition omits it (see
tools/edition.py). Run from the repository root:
``python -m tools.export_reference [--check]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["SOURCE", "TARGET", "library_lines", "render", "main"]

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "notebooks" / "capstone.py"
TARGET = ROOT / "tinytorch" / "instructor" / "reference.py"
_MARKERS = {"### BEGIN SOLUTION", "### END SOLUTION"}
_PROMPT = "# TODO"
_HEADER = '''"""The capstone's reference solution (Module 20): SimpleMLP, BenchmarkReport, generate_submission,
validate_submission_schema, save_submission. Instructor edition only.

GENERATED from notebooks/capstone.py (cells tagged "export") by
``python -m tools.export_reference``. Do not edit by hand: edit the notebook and
re-export; tests/tools/test_export_reference.py fails when this file is stale.
"""
'''


def library_lines(lines: list[str]) -> list[str]:
    """``lines`` without solution markers and without ``# TODO`` prompt blocks."""
    kept: list[str] = []
    in_prompt = False
    for line in lines:
        text = line.strip()
        in_prompt = text.startswith(_PROMPT) or (in_prompt and text.startswith("#") and text not in _MARKERS)
        if not in_prompt and text not in _MARKERS:
            kept.append(line)
    return kept


def render(source: Path = SOURCE) -> str:
    """The module text a fresh export of ``source`` produces."""
    import jupytext

    notebook = jupytext.read(source)
    blocks = []
    for cell in notebook.cells:
        if cell.cell_type == "code" and "export" in cell.metadata.get("tags", []):
            blocks.append("\n".join(library_lines(cell.source.splitlines())).strip("\n"))
    if not blocks:
        raise ValueError(f"{source} has no cells tagged 'export'")
    return _HEADER + "\n" + "\n\n\n".join(blocks) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.export_reference", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed module is stale")
    args = parser.parse_args(argv)
    fresh = render()
    if args.check:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != fresh:
            print(f"{TARGET} is stale: run python -m tools.export_reference", file=sys.stderr)
            return 1
        print(f"{TARGET} is up to date with {SOURCE}")
        return 0
    TARGET.write_text(fresh, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
