"""Every instruction the notebook gives a student, traced to what grades it (``notebooks/traceability.toml``).

A hidden check grown from the mistakes someone already made misses the next one. The
checks are meant to follow from the notebook's contract instead: each sentence that says
what to call, in which units, mode or order, what to return or leave unchanged, or what a
value must be, is listed in the table with the checks that grade it, or with the reason it
is not graded. :func:`instructions` finds those sentences in ``notebooks/capstone.py``;
:func:`trace` matches them with the table's rows and says what does not match, so that a
sentence added to the notebook without a row fails the test suite.

What counts as an instruction:

* every sentence of a graded function's docstring and of its ``TODO`` and ``HINT``
  comments (the contract of that function);
* every row of a markdown table (each one defines a field);
* every other markdown sentence with a word that directs (must, return, call, run, in
  milliseconds, ...) or a definition (``a = b``), which keeps the table to sentences a
  student could break.

Checkout-only, like the notebook it reads: ``python -m tools.traceability`` prints the counts.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import jupytext
import tomllib

__all__ = ["Instruction", "Row", "instructions", "load_rows", "trace", "Traced", "known_graders", "main"]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "capstone.py"
TABLE = ROOT / "notebooks" / "traceability.toml"

#: Words that make a markdown sentence an instruction a student could break.
DIRECTIVE = re.compile(
    r"\b(must|should|never|do not|don't|not|only|exactly|always|returns?|raises?|call|use|run|time|build|keep|"
    r"pass|add|record|report|write|compute|store|fill|copy|include|remove|measure|count|validate|give|leave|"
    r"prepare|make|answer|stored|milliseconds|under|first|before|after|then|otherwise)\b"
    r"|\s=\s", re.IGNORECASE)   # or a definition: `speedup` = baseline latency / optimized latency
_SOLUTION = re.compile(r"### BEGIN SOLUTION.*?### END SOLUTION", re.DOTALL)
_ITEM = re.compile(r"^(\*|-|\d+\.)\s")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*(])")


@dataclass(frozen=True)
class Instruction:
    """One sentence of the notebook that tells the student what to do: its cell and its text."""

    cell: str
    text: str


@dataclass(frozen=True)
class Row:
    """One row of the table: a quote that picks out one instruction, and what grades it or why nothing does."""

    cell: str
    quote: str
    graded_by: tuple[str, ...]
    not_graded: str

    @property
    def graded(self) -> bool:
        return bool(self.graded_by)


@dataclass(frozen=True)
class Traced:
    """How the table and the notebook agree: every instruction's rows, and what does not match."""

    rows_of: dict[Instruction, list[Row]]
    unmatched_rows: list[Row]
    ambiguous_rows: list[tuple[Row, int]]
    unknown_graders: list[tuple[Row, str]]
    unexplained_rows: list[Row]

    @property
    def untraced(self) -> list[Instruction]:
        return [instruction for instruction, rows in self.rows_of.items() if not rows]

    @property
    def problems(self) -> list[str]:
        return ([f"no row for the instruction in {i.cell}: {i.text!r}" for i in self.untraced]
                + [f"the row quoting {r.quote!r} ({r.cell}) matches no instruction of that cell"
                   for r in self.unmatched_rows]
                + [f"the row quoting {r.quote!r} ({r.cell}) matches {n} instructions: quote more of one"
                   for r, n in self.ambiguous_rows]
                + [f"the row quoting {r.quote!r} ({r.cell}) names {g!r}, which grades nothing"
                   for r, g in self.unknown_graders]
                + [f"the row quoting {r.quote!r} ({r.cell}) needs graded_by or a not_graded reason, not both or "
                   "neither" for r in self.unexplained_rows])


def _normal(text: str) -> str:
    return " ".join(text.split())


def _units(text: str) -> Iterable[tuple[str, bool]]:
    """Paragraphs, list items and table rows of ``text``, each with whether it is a table row."""
    for paragraph in re.split(r"\n\s*\n", text):
        unit: list[str] = []
        lines = [line.strip() for line in paragraph.splitlines()]
        for index, stripped in enumerate(lines):
            if stripped.startswith("|"):
                if unit:
                    yield " ".join(unit), False
                unit = []
                header = index + 1 < len(lines) and set(lines[index + 1]) <= set("|-: ")
                if not header and not set(stripped) <= set("|-: "):
                    yield stripped, True
            elif _ITEM.match(stripped) or stripped.startswith("#"):
                if unit:
                    yield " ".join(unit), False
                unit = [stripped]
            elif stripped:
                unit.append(stripped)
        if unit:
            yield " ".join(unit), False


def _contract_text(source: str) -> str:
    """A graded function's contract: its docstrings and the comments outside the solution region."""
    docs = [ast.get_docstring(node) or "" for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    comments = [line.strip()[1:].strip() for line in _SOLUTION.sub("", source).splitlines()
                if line.strip().startswith("#")]
    return "\n\n".join([*filter(None, docs), "\n".join(comments)])


def instructions(notebook: Path = NOTEBOOK) -> list[Instruction]:
    """The notebook's instruction sentences, in order."""
    found: list[Instruction] = []
    for cell in jupytext.read(notebook).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "markdown":
            continue  # a written answer's cell: the rubric, for graders only
        contract = cell.cell_type == "code" and bool(meta.get("solution"))
        if cell.cell_type == "code" and not contract:
            continue
        text = _contract_text(cell.source) if contract else cell.source
        for unit, row in _units(text):
            for sentence in [unit] if row else _SENTENCE_END.split(unit):
                sentence = _normal(sentence)
                if sentence and (contract or row or DIRECTIVE.search(sentence)):
                    found.append(Instruction(str(meta.get("grade_id")), sentence))
    return found


def load_rows(table: Path = TABLE) -> list[Row]:
    """The rows of the table; a row that is not well formed is a ValueError naming its place."""
    data = tomllib.loads(table.read_text(encoding="utf-8"))
    rows = []
    for index, raw in enumerate(data.get("row", []), start=1):
        try:
            rows.append(Row(str(raw["cell"]), _normal(str(raw["quote"])), tuple(map(str, raw.get("graded_by", []))),
                            str(raw.get("not_graded", ""))))
        except KeyError as missing:
            raise ValueError(f"{table.name}: row {index} has no {missing}") from None
    return rows


def known_graders(registry: dict[str, list]) -> set[str]:
    """What a row may name: ``cell / check`` for each hidden check, ``visible / cell`` for each graded cell's
    visible test, ``manual / cell`` for a written answer graded by hand."""
    names = {f"{cell} / {check.name}" for cell, checks in registry.items() for check in checks}
    names |= {f"visible / {cell}" for cell in registry}
    names |= {f"manual / reflection-{n}" for n in range(1, 6)}
    return names


def trace(found: Sequence[Instruction], rows: Sequence[Row], graders: set[str]) -> Traced:
    """Match each row's quote with the instructions of its cell."""
    rows_of: dict[Instruction, list[Row]] = {instruction: [] for instruction in found}
    unmatched, ambiguous, unknown, unexplained = [], [], [], []
    for row in rows:
        hits = [i for i in found if i.cell == row.cell and row.quote in i.text]
        if not hits:
            unmatched.append(row)
        elif len(hits) > 1:
            ambiguous.append((row, len(hits)))
        for instruction in hits[:1]:
            rows_of[instruction].append(row)
        unknown += [(row, name) for name in row.graded_by if name not in graders]
        if bool(row.graded_by) == bool(row.not_graded.strip()):
            unexplained.append(row)
    return Traced(rows_of, unmatched, ambiguous, unknown, unexplained)


def main(argv: Optional[Sequence[str]] = None) -> int:
    from tinytorch.instructor.judge.checks import REGISTRY

    del argv
    found = instructions()
    traced = trace(found, load_rows(), known_graders(REGISTRY.checks))
    graded = [i for i, rows in traced.rows_of.items() if any(r.graded for r in rows)]
    reasons = [i for i, rows in traced.rows_of.items() if rows and not any(r.graded for r in rows)]
    print(f"{len(found)} instructions: {len(graded)} graded, {len(reasons)} not graded (each with its reason), "
          f"{len(traced.untraced)} without a row")
    for problem in traced.problems:
        print(f"  {problem}")
    return 1 if traced.problems else 0


if __name__ == "__main__":
    sys.exit(main())
