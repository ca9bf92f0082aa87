"""Feedback that says which check failed and why, never how it was tested.

``nbgrader generate_feedback`` renders the autograded notebook, in which every graded
cell holds its hidden-test region again, and each error output holds a traceback that
quotes the failing line. :class:`ScrubHiddenTests` runs as the last feedback
preprocessor (``notebooks/nbgrader_config.py``) and, before the page is written:

* replaces each hidden-test region by one comment line saying that hidden checks ran
  there;
* reduces the error output of such a cell to its last line, ``AssertionError: 2 of 4
  hidden checks failed: ✗ name: message ...``, which is what the student needs;
* removes, from every output of every cell, any line that quotes a hidden-test line of
  the notebook or of :mod:`tinytorch.instructor.checks`, so that not even code written
  to print them gets them out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

from tinytorch.instructor.leaks import REGIONS, scan_text, secret_lines

__all__ = ["ScrubHiddenTests", "HIDDEN_PLACEHOLDER", "REDACTED"]

HIDDEN_PLACEHOLDER = "# Hidden checks ran here when your notebook was graded; what they found is below."
REDACTED = "[a line of the hidden tests was removed here]"
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


def _redact(text: str, secrets: dict[str, str]) -> str:
    bad = {leak.line for leak in scan_text("", text, secrets)}
    if not bad:
        return text
    return "\n".join(REDACTED if number in bad else line for number, line in enumerate(text.split("\n"), 1))


def _scrub_output(output: Any, secrets: dict[str, str]) -> None:
    if "text" in output:
        output["text"] = _redact("".join(output["text"]) if isinstance(output["text"], list) else output["text"],
                                 secrets)
    for mime, value in dict(output.get("data", {})).items():
        if isinstance(value, (str, list)) and mime.startswith("text/"):
            output["data"][mime] = _redact("".join(value) if isinstance(value, list) else value, secrets)
    if output.get("output_type") == "error":
        output["evalue"] = _redact(str(output.get("evalue", "")), secrets)
        output["traceback"] = [_redact(frame, secrets) for frame in output.get("traceback", [])]


class ScrubHiddenTests(Preprocessor):
    """Remove hidden-test code from a feedback notebook: sources, tracebacks, and any output quoting it."""

    # nbconvert runs a preprocessor only when it is enabled; listing this one is what enables it.
    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        checks = Path(__file__).with_name("checks.py").read_text(encoding="utf-8")
        notebook_text = "\n".join(cell.source for cell in nb.cells)
        secrets = {line: kind for line, kind in secret_lines(notebook_text, hidden_sources=[checks]).items()
                   if kind == "hidden test"}
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            cell.source, had_hidden = _without_hidden(cell.source)
            for output in cell.get("outputs", []):
                if had_hidden and output.get("output_type") == "error":
                    # The last line is the verdict; the frames above it quote the cell's hidden lines.
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
                _scrub_output(output, secrets)
        return nb, resources
