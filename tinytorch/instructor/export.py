"""Export the capstone notebook's solution cells into ``tinytorch/instructor/reference.py``.

The notebook (``notebooks/capstone.py``, jupytext text) is the one source of the capstone
solution. Cells tagged ``export`` are copied here in order, with nbgrader's
``### BEGIN/END SOLUTION`` marker lines removed, so the package's reference and the
solution a student is graded against cannot drift apart: ``--check`` (run by the tests)
fails when the committed module differs from a fresh export.

The reference is instructor-only: the student edition omits it (see
:mod:`tinytorch.instructor.edition`). Run from the repository root:
``python -m tinytorch.instructor.export [--check]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["SOURCE", "TARGET", "render", "main"]

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "notebooks" / "capstone.py"
TARGET = Path(__file__).with_name("reference.py")
_MARKERS = {"### BEGIN SOLUTION", "### END SOLUTION"}
_HEADER = '''"""The capstone's reference solution (Module 20): SimpleMLP, BenchmarkReport, generate_submission,
validate_submission_schema, save_submission. Instructor edition only.

GENERATED from notebooks/capstone.py (cells tagged "export") by
``python -m tinytorch.instructor.export``. Do not edit by hand: edit the notebook and
re-export; tests/instructor/test_export.py fails when this file is stale.
"""
'''


def render(source: Path = SOURCE) -> str:
    """The module text a fresh export of ``source`` produces."""
    import jupytext

    notebook = jupytext.read(source)
    blocks = []
    for cell in notebook.cells:
        if cell.cell_type == "code" and "export" in cell.metadata.get("tags", []):
            lines = [ln for ln in cell.source.splitlines() if ln.strip() not in _MARKERS]
            blocks.append("\n".join(lines).strip("\n"))
    if not blocks:
        raise ValueError(f"{source} has no cells tagged 'export'")
    return _HEADER + "\n" + "\n\n\n".join(blocks) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinytorch.instructor.export", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed module is stale")
    args = parser.parse_args(argv)
    fresh = render()
    if args.check:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != fresh:
            print(f"{TARGET} is stale: run python -m tinytorch.instructor.export", file=sys.stderr)
            return 1
        print(f"{TARGET} is up to date with {SOURCE}")
        return 0
    TARGET.write_text(fresh, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
