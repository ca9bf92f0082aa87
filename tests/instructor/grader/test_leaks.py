"""The leak scanner finds a secret line wherever a student could read it, and nothing else."""

from __future__ import annotations

import html
import json
import zipfile
from pathlib import Path

import nbformat
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.instructor.grader.leaks import (
    region_lines,
    scan_file,
    scan_text,
    scan_tree,
    secret_lines,
    substantive,
)
from tools.secrets import default_secrets

ROOT = Path(__file__).resolve().parents[3]

NOTEBOOK = '''\
# %% [markdown]
# Return the weighted total of the scores.

# %%
def weighted_total(scores, weights):
    """TODO: the weighted total."""
    ### BEGIN SOLUTION
    products = [s * w for s, w in zip(scores, weights)]
    return float(sum(products))
    ### END SOLUTION

# %%
assert weighted_total([1], [2]) == 2.0, "one score of 1 weighted 2 is 2.0"
### BEGIN HIDDEN TESTS
assert weighted_total([], []) == 0.0, "an empty list totals 0.0"
assert weighted_total([1, 2], [3, 4]) == 11.0
### END HIDDEN TESTS
'''
SECRETS = secret_lines(NOTEBOOK)


def test_regions_split_secret_from_shown_lines():
    inside, outside = region_lines(NOTEBOOK)
    assert "products = [s * w for s, w in zip(scores, weights)]" in inside["solution"]
    assert 'assert weighted_total([], []) == 0.0, "an empty list totals 0.0"' in inside["hidden test"]
    assert 'assert weighted_total([1], [2]) == 2.0, "one score of 1 weighted 2 is 2.0"' in outside
    assert SECRETS == {"products = [s * w for s, w in zip(scores, weights)]": "solution",
                       "return float(sum(products))": "solution",
                       'assert weighted_total([], []) == 0.0, "an empty list totals 0.0"': "hidden test",
                       "assert weighted_total([1, 2], [3, 4]) == 11.0": "hidden test"}


def test_a_line_the_student_is_shown_anyway_is_no_secret():
    shown = NOTEBOOK.replace("# Return the weighted total", "# Hint: return float(sum(products)) for the total")
    assert "return float(sum(products))" not in secret_lines(shown)


def test_short_lines_imports_and_comments_are_not_substantive():
    assert not substantive("    return x")
    assert not substantive("from tinytorch.instructor.judge.checks import graded")
    assert not substantive("# a comment that is long enough to count")
    assert substantive("    products = [s * w for s, w in zip(scores, weights)]")


def test_a_secret_is_found_inside_a_longer_line_but_not_inside_a_longer_name():
    assert scan_text("f", "x = 1\n    return float(sum(products))  # copied\n", SECRETS)[0].line == 2
    assert not scan_text("f", "return float(sum(products_seen))\ny = float(sum(products)) + 1_x\n", {
        "return float(sum(products))": "solution", "float(sum(products)) + 1": "solution"})
    assert not scan_text("f", "_assert weighted_total([1, 2], [3, 4]) == 11.0", SECRETS)


def test_secrets_the_reader_wrote_themselves_are_not_leaks():
    text = "    return float(sum(products))\n"
    assert scan_text("f", text, SECRETS)
    assert not scan_text("f", text, SECRETS, allowed=["total = 0; return float(sum(products)) if products else 0"])
    assert scan_text("f", text, SECRETS, allowed=["return float(sum(products_seen))"])


@given(secret=st.sampled_from(sorted(SECRETS)),
       before=st.lists(st.sampled_from(["x = 1", "def f():", "    pass", "", "print('hello world, this is fine')"])),
       after=st.lists(st.sampled_from(["y = 2", "# done", "z = [i for i in range(10)]"])),
       indent=st.sampled_from(["", "    ", "\t"]))
def test_any_planted_secret_is_found_at_its_line(secret, before, after, indent):
    text = "\n".join([*before, indent + secret, *after])
    leaks = scan_text("planted.py", text, SECRETS)
    assert [(leak.line, leak.secret) for leak in leaks] == [(len(before) + 1, secret)]


@given(st.lists(st.sampled_from(sorted(region_lines(NOTEBOOK)[1]))))
def test_text_made_of_shown_lines_never_leaks(lines):
    assert not scan_text("shown.py", "\n".join(lines), SECRETS)


def test_secrets_are_found_in_notebooks_html_and_archives(tmp_path):
    secret = "products = [s * w for s, w in zip(scores, weights)]"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('print("ok")')])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text=f"{secret}\n")]
    nbformat.write(nb, tmp_path / "out.ipynb")
    (tmp_path / "page.html").write_text('<pre><span class="n">products</span> <span class="o">=</span> '
                                        + html.escape(secret.split(" = ", 1)[1]) + "</pre>")
    with zipfile.ZipFile(tmp_path / "pkg.whl", "w") as wheel:
        wheel.writestr("pkg/mod.py", f"def f():\n    {secret}\n")
    (tmp_path / "data.bin").write_bytes(b"\0\1" + secret.encode())  # binary: not text a student reads
    found = {(leak.file.split(" ")[0].split("!")[0], leak.secret) for leak in scan_tree(tmp_path, SECRETS)}
    assert found == {("out.ipynb", secret), ("page.html", secret), ("pkg.whl", secret)}


def test_the_notebook_cells_view_reads_json_escaped_lines(tmp_path):
    secret = 'assert weighted_total([], []) == 0.0, "an empty list totals 0.0"'
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(secret)])
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    assert any(leak.secret == secret for leak in scan_file(path, SECRETS))


def test_the_repository_secrets_cover_the_solutions_and_the_judge():
    secrets = default_secrets(ROOT)
    kinds = {kind for kind in secrets.values()}
    assert kinds == {"solution", "hidden test"}
    assert any("cold calls leaked into the statistics" in line for line in secrets), "checks.py lines are secrets"
    assert any("self.fixed_ms, self.per_sample_ms" in line for line in secrets), "the probes' lines are secrets"
    assert any("mkstemp" in line for line, kind in secrets.items() if kind == "solution")
    assert len(secrets) > 150


def test_the_rubrics_of_the_written_answers_are_secrets():
    """Markdown answer cells hold their rubric in a solution region; the release shows YOUR ANSWER HERE."""
    secrets = default_secrets(ROOT)
    rubric = [line for line, kind in secrets.items() if kind == "solution" and "McNemar" in line]
    assert rubric, "a rubric line of reflection-4 must be a secret"


def test_a_line_the_public_package_holds_too_is_no_secret():
    secrets = default_secrets(ROOT)
    assert "@dataclass(frozen=True)" not in secrets and "except (TypeError, ValueError) as exc:" not in secrets
    assert any("cold calls leaked into the statistics" in line for line in secrets)
