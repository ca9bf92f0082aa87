"""One source for the solution: the package module is the notebook's export, and staleness fails."""

from __future__ import annotations

import pydoc

import jupytext

from tinytorch.instructor import reference as capstone
from tools.export_reference import SOURCE, TARGET, library_lines, main, render


def test_committed_module_equals_a_fresh_export():
    assert TARGET.read_text(encoding="utf-8") == render(), (
        "tinytorch/instructor/reference.py is stale: run python -m tools.export_reference")
    assert main(["--check"]) == 0


def test_an_edit_to_an_exported_cell_makes_the_check_fail(tmp_path):
    nb = jupytext.read(SOURCE)
    target = next(c for c in nb.cells if "def wilson_interval" in c.source)
    target.source = target.source.replace("z * z / (2 * n)", "z * z / n")
    edited = tmp_path / "capstone.py"
    jupytext.write(nb, edited)
    assert render(edited) != TARGET.read_text(encoding="utf-8")


def test_export_strips_markers_and_keeps_every_graded_function():
    text = TARGET.read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "HIDDEN" not in text
    for name in ("SimpleMLP", "BenchmarkReport", "generate_submission", "validate_submission_schema",
                 "save_submission", "measure_latency", "measure_throughput", "wilson_interval", "get_system_info"):
        assert hasattr(capstone, name)


def test_help_on_the_reference_shows_contracts_not_student_prompts():
    text = pydoc.render_doc(capstone, renderer=pydoc.plaintext)
    for prompt in ("TODO", "HINT", "table above", "imported above", "BEGIN SOLUTION"):
        assert prompt not in text, f"help(reference) shows the student prompt {prompt!r}"
    assert "Wilson score interval" in text and "atomically" in text


def test_prompt_blocks_and_markers_are_dropped_and_nothing_else():
    lines = ["def f():", '    """Contract."""', "    # TODO: write it", "    # HINT: like this",
             "    ### BEGIN SOLUTION", "    # a comment of the solution", "    return 1", "    ### END SOLUTION",
             "# a comment after the function"]
    assert library_lines(lines) == ["def f():", '    """Contract."""', "    # a comment of the solution",
                                    "    return 1", "# a comment after the function"]


def test_every_graded_function_in_the_notebook_has_a_prompt_the_export_drops():
    nb = jupytext.read(SOURCE)
    graded = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    assert len(graded) == 9
    for cell in graded:
        assert "# TODO" in cell.source, f"cell {cell.metadata['nbgrader']['grade_id']} has no # TODO prompt"
        assert "# TODO" not in "\n".join(library_lines(cell.source.splitlines()))
