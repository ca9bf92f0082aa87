"""The traceability table: every instruction of the notebook has a row, and every row names what grades it.

The table is ``notebooks/traceability.toml``; :mod:`tools.traceability` finds the
instruction sentences. These tests fail when a sentence is added to the notebook without a
row, when a row's quote no longer matches, and when a row names a check that does not
exist, and they show each of those failures on a planted copy.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinytorch.instructor.judge.checks import REGISTRY
from tools.traceability import NOTEBOOK, Row, instructions, known_graders, load_rows, main, trace

GRADERS = known_graders(REGISTRY.checks)


def test_every_instruction_of_the_notebook_is_traced_to_a_check_or_a_reason(capsys):
    traced = trace(instructions(), load_rows(), GRADERS)
    assert not traced.problems, "\n".join(traced.problems)
    assert main([]) == 0
    counts = capsys.readouterr().out.splitlines()[0]
    print("\n" + counts)
    found, graded, reasons = map(int, re.match(r"(\d+) instructions: (\d+) graded, (\d+) not graded", counts).groups())
    assert found == graded + reasons and found >= 140


def test_every_hidden_check_grades_some_instruction():
    named = {name for row in load_rows() for name in row.graded_by}
    unused = {f"{cell} / {check.name}" for cell, checks in REGISTRY.checks.items() for check in checks
              if not check.gate} - named
    assert not unused, f"checks that grade no instruction of the notebook: {sorted(unused)}"


def _planted(tmp_path: Path, cell_marker: str, sentence: str) -> Path:
    """A copy of the notebook with ``sentence`` added to the markdown cell whose header holds ``cell_marker``."""
    text = NOTEBOOK.read_text(encoding="utf-8")
    header = next(line for line in text.splitlines() if cell_marker in line)
    copy = tmp_path / "capstone.py"
    copy.write_text(text.replace(header, f"{header}\n# {sentence}\n#", 1), encoding="utf-8")
    return copy


def test_a_sentence_added_without_a_row_is_reported(tmp_path):
    sentence = "Always return the samples sorted from fastest to slowest."
    found = instructions(_planted(tmp_path, '"grade_id": "latency-md"', sentence))
    traced = trace(found, load_rows(), GRADERS)
    assert [(i.cell, i.text) for i in traced.untraced] == [("latency-md", sentence)]
    assert traced.problems == [f"no row for the instruction in latency-md: {sentence!r}"]


def test_stale_ambiguous_unknown_and_unexplained_rows_are_reported():
    rows = load_rows()
    broken = [Row("latency-md", "a sentence the notebook no longer has", ("visible / test-part2-latency",), ""),
              Row("intro", "the", (), "matches many sentences"),
              Row("latency-md", "Run inference under `no_grad()`", ("test-part2-latency / a check nobody wrote",), ""),
              Row("latency-md", "Build that input before the clock starts", (), "")]
    problems = trace(instructions(), rows + broken, GRADERS).problems
    assert len(problems) == 4, problems
    assert "matches no instruction" in problems[0] and "matches" in problems[1] and "instructions" in problems[1]
    assert "a check nobody wrote" in problems[2] and "needs graded_by or a not_graded reason" in problems[3]


def test_a_row_without_its_cell_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('row = [{quote = "x", not_graded = "y"}]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.toml: row 1 has no 'cell'"):
        load_rows(bad)


WORDS = st.lists(st.sampled_from(["the", "model", "value", "batch", "sample", "report", "field", "number"]),
                 min_size=2, max_size=8)


@settings(max_examples=25, deadline=None)
@given(before=WORDS, directive=st.sampled_from(["must", "never", "return", "call", "in milliseconds", "="]),
       after=WORDS)
def test_any_directing_sentence_in_markdown_is_an_instruction(tmp_path_factory, before, directive, after):
    sentence = " ".join(["Each", *before, directive, *after]) + "."
    found = instructions(_planted(tmp_path_factory.mktemp("nb"), '"grade_id": "throughput-md"', sentence))
    assert ("throughput-md", sentence) in {(i.cell, i.text) for i in found}
