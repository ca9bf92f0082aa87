"""One source for the solution: the package module is the notebook's export, and staleness fails."""

from __future__ import annotations

import jupytext

from tinytorch.instructor import reference as capstone
from tinytorch.instructor.export import SOURCE, TARGET, main, render


def test_committed_module_equals_a_fresh_export():
    assert TARGET.read_text(encoding="utf-8") == render(), (
        "tinytorch/instructor/reference.py is stale: run python -m tinytorch.instructor.export")
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
