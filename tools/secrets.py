"""What the leak scanner looks for in this checkout: the lines of the notebook's solution and hidden-test regions,
of the judge and of the reference solution. Checkout-only: it reads ``notebooks/capstone.py``."""

from __future__ import annotations

from pathlib import Path

from tinytorch.instructor.grader.leaks import judge_sources, public_sources, secret_lines

__all__ = ["default_secrets"]


def default_secrets(root: Path) -> dict[str, str]:
    """The secrets of the instructor repository at ``root``: the notebook, the judge, the reference."""
    package = root / "tinytorch"
    return secret_lines((root / "notebooks" / "capstone.py").read_text(encoding="utf-8"),
                        hidden_sources=judge_sources(package),
                        solution_sources=[(package / "instructor" / "reference.py").read_text(encoding="utf-8")],
                        public_sources=public_sources(package))
