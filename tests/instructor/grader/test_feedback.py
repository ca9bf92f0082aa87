"""Feedback scrubbing: the verdict of the hidden checks stays, their code goes, wherever it would show."""

from __future__ import annotations

from pathlib import Path

import nbformat

from tinytorch.instructor.grader.feedback import HIDDEN_PLACEHOLDER, WITHHELD, ScrubHiddenTests
from tinytorch.instructor.judge import checks

VERDICT = ("1 of 2 hidden checks failed (5 of 10 points):\n"
           "✗ warmup calls are not timed (-5 points): the 250 ms cold calls leaked")
CHECK_LINE = next(line for line in Path(checks.__file__).read_text().splitlines() if "cold_calls=3" in line)
VISIBLE = 'assert len(samples) == 30, "return num_runs samples"'


def graded_cell(outcome: str = "passed") -> nbformat.NotebookNode:
    """The latency test cell as autograding leaves it: passed, failed hidden checks, or failed its visible test."""
    cell = nbformat.v4.new_code_cell(
        f"{VISIBLE}\n"
        "### BEGIN HIDDEN TESTS\n"
        "from tinytorch.instructor.judge.checks import graded\n"
        'graded("test-part2-latency", globals())\n'
        "### END HIDDEN TESTS")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "test-part2-latency", "points": 10, "locked": True}
    if outcome == "hidden":
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=VERDICT + "\n"),
                        nbformat.v4.new_output("execute_result", data={"text/plain": "5.0"}, execution_count=1)]
    elif outcome == "visible":
        cell.outputs = [nbformat.v4.new_output(
            "error", ename="AssertionError", evalue="return num_runs samples",
            traceback=["\x1b[0;31mAssertionError\x1b[0m  Traceback (most recent call last)", f"----> 1 {VISIBLE}",
                       "AssertionError: return num_runs samples"])]
    return cell


def scrub(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=list(cells))
    return ScrubHiddenTests()(nb, {})[0]  # called as nbconvert calls it


def test_the_hidden_region_becomes_one_line_and_the_visible_test_stays():
    cell = scrub(graded_cell()).cells[0]
    assert cell.source == f"{VISIBLE}\n{HIDDEN_PLACEHOLDER}"


def test_failed_hidden_checks_keep_their_verdict_and_the_points_earned():
    cell = scrub(graded_cell("hidden")).cells[0]
    assert [o.output_type for o in cell.outputs] == ["stream", "execute_result"]
    assert cell.outputs[0].text == VERDICT + "\n" and cell.outputs[1].data["text/plain"] == "5.0"
    assert 'graded("' not in str(cell) and "tinytorch.instructor" not in str(cell)


def test_a_failed_visible_test_keeps_its_message_and_loses_the_traceback():
    (error,) = scrub(graded_cell("visible")).cells[0].outputs
    assert error.traceback == ["AssertionError: return num_runs samples"]


def test_an_output_that_quotes_the_checks_is_withheld_whole():
    student = nbformat.v4.new_code_cell("import inspect, tinytorch.instructor.judge.checks as c\n"
                                        "print(inspect.getsource(c))")
    student.outputs = [nbformat.v4.new_output("stream", text=f"my own output\n    {CHECK_LINE.strip()}\nmore\n"),
                       nbformat.v4.new_output("stream", text="an innocent line\n")]
    shown = nbformat.v4.new_code_cell("x")
    shown.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "fine", "text/html": CHECK_LINE})]
    nb = scrub(student, shown)
    assert [o.text for o in nb.cells[0].outputs] == [f"{WITHHELD}\n", "an innocent line\n"]
    assert nb.cells[1].outputs[0].text == f"{WITHHELD}\n" and "data" not in nb.cells[1].outputs[0]


def test_a_traceback_through_the_checks_in_a_student_cell_is_withheld():
    student = nbformat.v4.new_code_cell("measure_latency(model, X)")
    student.outputs = [nbformat.v4.new_output("error", ename="KeyboardInterrupt", evalue="",
                                              traceback=["Traceback", f"  {CHECK_LINE.strip()}", "KeyboardInterrupt"])]
    (error,) = scrub(student).cells[0].outputs
    assert (error.ename, error.evalue, error.traceback) == ("KeyboardInterrupt", WITHHELD,
                                                            [f"KeyboardInterrupt: {WITHHELD}"])


def test_cells_without_hidden_tests_are_left_as_they_were():
    cell = nbformat.v4.new_code_cell("def f():\n    return 1 / 0\nf()")
    cell.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                           traceback=["----> 3 f()", "----> 2 return 1 / 0", "ZeroDivisionError"])]
    before = nbformat.from_dict(dict(cell))
    assert scrub(cell).cells[0] == before


def test_leaking_files_are_removed_even_when_the_notebook_cannot_be_read(tmp_path):
    from tinytorch.instructor.grader.feedback import remove_leaking_files

    notebook = tmp_path / "autograded" / "alice" / "capstone" / "capstone.ipynb"
    notebook.parent.mkdir(parents=True)
    notebook.write_text("{ not a notebook")
    feedback = tmp_path / "feedback" / "alice" / "capstone"
    feedback.mkdir(parents=True)
    (feedback / "stolen.html").write_text(f"<pre>{CHECK_LINE}</pre>")
    (feedback / "capstone.html").write_text("<p>your score</p>")
    remove_leaking_files(notebooks=[str(notebook)], assignment="capstone", student="alice")
    assert sorted(p.name for p in feedback.iterdir()) == ["capstone.html"]
