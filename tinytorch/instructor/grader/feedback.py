"""Feedback that says which check failed and why, never how it was tested.

``nbgrader generate_feedback`` renders the autograded notebook, in which every graded
cell holds its hidden-test region again, and each error output holds a traceback that
quotes the failing line. :class:`ScrubHiddenTests` runs as the last feedback
preprocessor (``notebooks/nbgrader_config.py``) and, before the page is written:

* replaces each hidden-test region by one comment line saying that hidden checks ran
  there;
* reduces the error output of such a cell to its last line, ``AssertionError: 2 of 4
  hidden checks failed: ✗ name: message ...``, which is what the student needs;
* withholds every output, of any cell, that quotes a hidden-test line of the notebook or
  of :mod:`tinytorch.instructor.judge.checks` (one line is enough), so that code written to
  print them does not get them out in plain text.

:func:`remove_leaking_files` does the same for the other files of a feedback folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

from tinytorch.instructor.grader.leaks import REGIONS, judge_sources, public_sources, scan_file, scan_text, secret_lines

__all__ = ["ScrubHiddenTests", "remove_leaking_files", "HIDDEN_PLACEHOLDER", "WITHHELD"]

HIDDEN_PLACEHOLDER = "# Hidden checks ran here when your notebook was graded; what they found is below."
WITHHELD = "[this output quoted the hidden tests, so it is not shown]"
_BEGIN, _END = REGIONS["hidden test"]


def _without_hidden(source: str) -> tuple[str, bool]:
    lines, inside, found = [], False, False
    for line in source.splitlines():
        if _BEGIN in line:
            inside = found = True
            lines.append(line[:len(line) - len(line.lstrip())] + HIDDEN_PLACEHOLDER)
        elif _END in line:
            inside = False
        elif not inside:
            lines.append(line)
    return "\n".join(lines), found


def _texts(output: Any) -> list[str]:
    """Every text a student would read in one output: stream text, text data, error value and traceback."""
    texts = []
    for value in (output.get("text"), *(v for k, v in output.get("data", {}).items() if k.startswith("text/")),
                  output.get("evalue"), *output.get("traceback", [])):
        if isinstance(value, list):
            value = "".join(value)
        if isinstance(value, str):
            texts.append(value)
    return texts


def _quotes_hidden(output: Any, secrets: dict[str, str]) -> bool:
    return any(scan_text("", text, secrets) for text in _texts(output))


def _withheld(output: Any) -> Any:
    """A stand-in for an output that quoted the hidden tests: the student is told that it was removed."""
    if output.get("output_type") == "error":
        return nbformat.v4.new_output("error", ename=output.get("ename", "Error"), evalue=WITHHELD,
                                      traceback=[f"{output.get('ename', 'Error')}: {WITHHELD}"])
    return nbformat.v4.new_output("stream", name="stdout", text=WITHHELD + "\n")


def _hidden_secrets(notebook_text: str) -> dict[str, str]:
    """The hidden-test lines: those of the notebook's hidden regions and those of the judge."""
    package = Path(__file__).resolve().parents[2]
    public = public_sources(package)
    return {line: kind for line, kind in secret_lines(notebook_text, hidden_sources=judge_sources(package),
                                                      public_sources=public).items() if kind == "hidden test"}


class ScrubHiddenTests(Preprocessor):
    """Remove hidden-test code from a feedback notebook: sources, tracebacks, and any output quoting it."""

    # nbconvert runs a preprocessor only when it is enabled; listing this one is what enables it.
    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        secrets = _hidden_secrets("\n".join(cell.source for cell in nb.cells))
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            cell.source, had_hidden = _without_hidden(cell.source)
            outputs = []
            for output in cell.get("outputs", []):
                if had_hidden and output.get("output_type") == "error":
                    # The last line is the verdict; the frames above it quote the cell's hidden lines.
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
                outputs.append(_withheld(output) if _quotes_hidden(output, secrets) else output)
            cell.outputs = outputs
        return nb, resources


def remove_leaking_files(notebooks: list[str], **_: Any) -> None:
    """``GenerateFeedback.post_convert_hook``: delete from each feedback folder any file that quotes hidden checks.

    nbgrader copies every file that grading left beside a notebook (``results.json``, and
    whatever the student's code wrote while it ran) into the feedback folder, and
    ``nbgrader release_feedback`` hands any ``.html`` file there back to the student. A
    notebook written to save the hidden checks into such a file would get them out; this
    hook runs after each student's pages are written and removes such files. The feedback
    folder is found from the autograded notebook's path, in nbgrader's default
    ``{nbgrader_step}/{student_id}/{assignment_id}`` layout.
    """
    for notebook in notebooks:
        source = Path(notebook).resolve()
        try:
            text = "\n".join(cell.source for cell in nbformat.read(source, as_version=4).cells)
        except Exception:  # an unreadable notebook still leaves the judge's lines to look for
            text = ""
        secrets = _hidden_secrets(text)
        student, assignment = source.parent.parent.name, source.parent.name
        folder = source.parents[3] / "feedback" / student / assignment
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if scan_file(path, secrets):
                path.unlink()
