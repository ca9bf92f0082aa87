"""The leak test: nothing of the solution or the hidden tests reaches a student, by any path.

It builds the student edition with the builder instructors run, and checks:

* no substantive line of a solution region, no line of a hidden-test region, of the hidden
  checks or of the reference solution stands in any file of the edition, in a wheel built
  from it, in what ``pip install .`` puts in a fresh environment, or in the feedback pages
  of a failing and a passing submission; and that one such line copied into any of those
  is found (so the scan can fail);
* the edition installs and imports in a fresh environment, its command line works, and
  what needs the reference says so in one sentence;
* its notebook runs until the first function the student has to write;
* a correct solution written into the edition's notebook passes its visible tests there,
  and scores 100 when autograded in the instructor course, as it does through the release.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.course import ROOT, build_course, run_tool, with_cells
from tests.notebooks.variants import ALTERNATIVE
from tinytorch.instructor.grader.judged import FINDINGS_PREFIX
from tinytorch.instructor.grader.leaks import scan_file, scan_tree
from tools.secrets import default_secrets

pytestmark = [pytest.mark.slow, pytest.mark.nbgrader]

SECRETS = default_secrets(ROOT)
RUN_NOTEBOOK = """
import sys, nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
nb = nbformat.read(sys.argv[1], as_version=4)
client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=sys.argv[3] == "continue",
                        resources={"metadata": {"path": sys.argv[2]}})
try:
    client.execute()
except CellExecutionError:
    pass
nbformat.write(nb, sys.argv[1])
"""


# A student's cell that tries to carry the hidden checks out through the feedback: printed in
# an output, and written into files that grading leaves beside the notebook.
STEAL = """
import importlib, inspect, pathlib, sys
try:
    _stolen = inspect.getsource(importlib.import_module("tinytorch.instructor.judge.checks"))
except ImportError:
    _found = [p for root in map(pathlib.Path, sys.path) if root.is_dir()
              for p in root.glob("tinytorch/instructor/**/*") if p.is_file()]
    _stolen = "".join(p.read_bytes().decode("latin-1") for p in _found) or "nothing to take"
pathlib.Path("stolen.html").write_text("<pre>" + _stolen + "</pre>")
pathlib.Path("stolen.txt").write_text(_stolen)
print(_stolen)
"""


# Three classic mistakes in a student's own words: warm-up timed, a validator that checks the schema
# only (so NaN passes it), and a save whose JSON text allows NaN.
MISTAKEN_CELLS = {
    "latency": '''
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    x1 = Tensor(np.asarray(X[:1], dtype=np.float32))
    # the "warmup" calls are timed like the others and the first num_runs samples kept
    samples = Benchmark(lambda: model(x1), runs=warmup_runs + num_runs, warmup_runs=0).run().samples_ms
    return list(samples[:num_runs])
''',
    "validate": '''
def validate_submission_schema(submission):
    errors = list(jsonschema.Draft202012Validator(load_schema()).iter_errors(submission))
    if errors:
        raise ValueError("; ".join(f"{json_path(e.absolute_path)}: {e.message}" for e in errors))
    return True
''',
    "save": '''
def save_submission(submission, filepath="submission.json"):
    validate_submission_schema(submission)
    text = json.dumps(submission, indent=2)
    tmp = filepath + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, filepath)
    return filepath
''',
}

def planted_lines() -> dict[str, str]:
    """One secret of each kind: a solution line, a line of the hidden checks, a line of the judge's probes."""
    def first(kind: str, fragment: str) -> str:
        return next(line for line, k in sorted(SECRETS.items()) if k == kind and fragment in line)
    return {"solution": first("solution", "mkstemp"),
            "probe": first("hidden test", "self.fixed_ms, self.per_sample_ms"),
            "hidden check": first("hidden test", "cold calls leaked")}


def run_in(python: Path, nb, folder: Path, on_error: str = "stop"):
    """Execute ``nb`` in ``folder`` with the kernel of the environment of ``python``; the executed notebook."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "capstone.ipynb"
    nbformat.write(nb, path)
    done = subprocess.run([str(python), "-c", RUN_NOTEBOOK, str(path), str(folder), on_error],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return nbformat.read(path, as_version=4)


def errors(nb) -> list[tuple]:
    return [(i, c.metadata.get("nbgrader", {}).get("grade_id"), o.ename, o.evalue[:200])
            for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for o in c.get("outputs", []) if o.output_type == "error"]


def visible_text(page: str) -> str:
    """What a browser shows of an HTML page: its text without tags, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", "", page))


def edition_notebook(edition: Path):
    return nbformat.read(edition / "capstone" / "capstone.ipynb", as_version=4)


# ----------------------------------------------------------------------------- the files

def test_no_secret_line_in_any_file_of_the_edition(edition):
    files = [p for p in edition.rglob("*") if p.is_file()]
    leaks = scan_tree(edition, SECRETS)
    print(f"\nedition: {len(files)} files, {sum(p.stat().st_size for p in files):,} bytes, "
          f"scanned for {len(SECRETS)} secret lines: {len(leaks)} found")
    assert not leaks, "\n".join(map(str, leaks[:10]))


@pytest.mark.parametrize("where", ["tinytorch/core/tensor.py", "capstone/capstone.ipynb", "README.md",
                                   "schemas/examples/valid/optimized.json", "binder/postBuild"])
@pytest.mark.parametrize("kind", sorted(planted_lines()))
def test_one_copied_secret_line_anywhere_in_the_edition_is_found(edition, tmp_path, where, kind):
    copy = tmp_path / "edition"
    shutil.copytree(edition, copy)
    line = planted_lines()[kind]
    target = copy / where
    if where.endswith(".ipynb"):
        nb = nbformat.read(target, as_version=4)
        cell = next(c for c in nb.cells if c.cell_type == "code" and "NotImplementedError" in c.source)
        cell.source += f"\n{line}"
        nbformat.write(nb, target)
    else:
        target.write_text(target.read_text() + f"\n{line}\n")
    leaks = scan_tree(copy, SECRETS)
    assert leaks and {leak.file.split(" ")[0] for leak in leaks} == {where}
    assert line in {leak.secret for leak in leaks}


def test_no_secret_line_in_a_wheel_built_from_the_edition_and_a_planted_one_is_found(edition, tmp_path):
    def wheel_of(folder: Path) -> Path:
        out = tmp_path / f"wheel-{folder.name}"
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(out), str(folder)], check=True, capture_output=True)
        return next(out.glob("tinytorch-*.whl"))

    clean_copy, planted = tmp_path / "clean", tmp_path / "planted"   # a build writes into its source folder
    shutil.copytree(edition, clean_copy)
    shutil.copytree(edition, planted)
    clean = scan_file(wheel_of(clean_copy), SECRETS)
    assert not clean, "\n".join(map(str, clean[:10]))
    line = planted_lines()["solution"]
    (planted / "tinytorch" / "olympics" / "plots.py").write_text(
        (planted / "tinytorch" / "olympics" / "plots.py").read_text() + f"\n# {line}\n")
    found = scan_file(wheel_of(planted), SECRETS)
    assert [(leak.file.split("!")[1], leak.secret) for leak in found] == [("tinytorch/olympics/plots.py", line)]


# ------------------------------------------------------------------ a fresh environment

def site_packages(python: Path) -> Path:
    return Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())


def test_the_installed_package_holds_no_secret_and_no_instructor_module(fresh_python):
    installed = site_packages(fresh_python)
    leaks = scan_tree(installed / "tinytorch", SECRETS) + [
        leak for info in installed.glob("tinytorch-*.dist-info") for leak in scan_tree(info, SECRETS)]
    assert not leaks, "\n".join(map(str, leaks[:10]))
    assert not (installed / "tinytorch" / "instructor").exists()
    imported = subprocess.run([str(fresh_python), "-c", "import tinytorch, tinytorch.olympics.widgets, "
                               "tinytorch.olympics.stack, tinytorch.perf.quantization; print(tinytorch.__file__)"],
                              capture_output=True, text=True, cwd="/")
    assert imported.returncode == 0 and imported.stdout.startswith(str(installed)), imported.stderr


def test_the_command_line_works_without_the_reference(fresh_python, edition, tmp_path):
    cli = fresh_python.parent / "tinytorch-olympics"
    examples = sorted((edition / "schemas/examples/valid").glob("*.json"))
    valid = subprocess.run([str(cli), "validate", *map(str, examples)], capture_output=True, text=True, cwd=tmp_path)
    assert valid.returncode == 0 and "3 of 3 files valid" in valid.stdout, valid.stdout + valid.stderr
    invalid = subprocess.run([str(cli), "validate", str(edition / "schemas/examples/invalid/inverted_speedup.json")],
                             capture_output=True, text=True, cwd=tmp_path)
    assert invalid.returncode == 1 and "[improvements-agree]" in invalid.stdout
    drawn = subprocess.run([str(cli), "plot", str(edition / "schemas/examples/valid/optimized.json"), "--out",
                            str(tmp_path)], capture_output=True, text=True)
    assert drawn.returncode == 0 and len(list(tmp_path.glob("*.png"))) == 3, drawn.stderr
    run = subprocess.run([str(cli), "run"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 2 and not run.stdout and "Traceback" not in run.stderr
    assert run.stderr.strip().count("\n") == 0, "one sentence, on one line"
    assert "does not include the reference solution" in run.stderr and "Part 5" in run.stderr
    api = subprocess.run([str(fresh_python), "-c", "from tinytorch.olympics import BenchmarkReport"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert api.returncode == 1
    assert api.stderr.strip().splitlines()[-1] == ("ImportError: BenchmarkReport is yours to write in the capstone "
                                                   "notebook: this student edition of tinytorch does not include the "
                                                   "reference solution")


def test_the_edition_notebook_runs_until_the_first_unwritten_function(fresh_python, edition, tmp_path):
    nb = edition_notebook(edition)
    nb.cells.insert(0, nbformat.v4.new_code_cell("import tinytorch; print(tinytorch.__file__)"))
    ran = run_in(fresh_python, nb, tmp_path / "untouched")
    assert ran.cells[0].outputs[0].text.startswith(str(site_packages(fresh_python))), "the kernel must be the student's"
    found = errors(ran)
    assert len(found) == 1, found
    index, _, ename, _ = found[0]
    assert ename == "NotImplementedError"
    first_call = next(i for i, c in enumerate(ran.cells) if c.cell_type == "code" and "SimpleMLP(64" in c.source)
    assert index == first_call, "every cell before the first use of a student function must run cleanly"
    assert all(c.get("execution_count") for c in ran.cells[:index] if c.cell_type == "code")


# ------------------------------------------------------------ grading and feedback

@pytest.fixture(scope="module")
def graded(fresh_python, edition, tmp_path_factory):
    """An instructor course grading notebooks that were written in the edition (and one through the release)."""
    course = build_course(tmp_path_factory.mktemp("course"))
    written = run_in(fresh_python, with_cells(edition_notebook(edition), ALTERNATIVE),
                     tmp_path_factory.mktemp("student") / "work", on_error="continue")
    release = nbformat.read(course / "release" / "capstone" / "capstone.ipynb", as_version=4)
    thief = with_cells(edition_notebook(edition), ALTERNATIVE)
    thief.cells.append(nbformat.v4.new_code_cell(STEAL))
    submissions = {"edition_correct": written, "edition_thief": thief,
                   "release_correct": with_cells(release, ALTERNATIVE),
                   "edition_untouched": edition_notebook(edition),
                   "edition_mistakes": with_cells(edition_notebook(edition), {**ALTERNATIVE, **MISTAKEN_CELLS})}
    for student, nb in submissions.items():
        folder = course / "submitted" / student / "capstone"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "capstone.ipynb")
    run_tool("nbgrader", "autograde", "capstone", "--force", "--Execute.timeout=60", cwd=course)
    run_tool("nbgrader", "generate_feedback", "capstone", "--force", cwd=course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {s: gb.find_submission("capstone", s).score for s in submissions}
    print(f"\nscores: {scores}")
    return course, written, submissions, scores


def test_a_correct_solution_passes_its_visible_tests_in_the_edition(graded):
    _, written, _, _ = graded
    assert not errors(written), errors(written)
    graded_cells = [c for c in written.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    assert len(graded_cells) == 10 and all(c.get("execution_count") for c in graded_cells)


def test_the_edition_solution_scores_as_through_the_release(graded):
    _, _, _, scores = graded
    assert scores["edition_correct"] == scores["release_correct"] == 100
    assert scores["edition_untouched"] == 0
    assert 0 < scores["edition_mistakes"] < 100


@pytest.mark.parametrize("student", ["edition_correct", "edition_mistakes", "edition_untouched", "edition_thief"])
def test_feedback_holds_no_hidden_test_and_no_solution_the_student_did_not_write(graded, student):
    course, _, submissions, _ = graded
    page = course / "feedback" / student / "capstone" / "capstone.html"
    own = [line for cell in submissions[student].cells for line in cell.source.splitlines()]
    leaks = scan_file(page, SECRETS, name=page.name, allowed=own)
    assert not leaks, "\n".join(map(str, leaks[:10]))
    text = visible_text(page.read_text())
    for word in ('graded("', "tinytorch.instructor"):
        assert word not in text or any(word in line for line in own), f"{word} in the feedback of {student}"
    assert text.count(FINDINGS_PREFIX.strip()) == 10, "each graded cell shows what the judge found"


def test_feedback_names_each_failed_check_and_why(graded):
    course, _, _, _ = graded
    text = (course / "feedback" / "edition_mistakes" / "capstone" / "capstone.html").read_text()
    plain = visible_text(text)
    assert "hidden checks failed" in plain
    # The cold calls' time is drawn afresh for every grading run, so only its form is fixed.
    assert re.search(r"✗ warmup calls are not timed \(-3 points\): the 1[5-9]\d ms cold calls leaked into the "
                     r"statistics", plain), plain
    assert "✗ NaN and Infinity are refused" in plain
    print("\n" + next(line for line in plain.splitlines() if "warmup calls are not timed" in line))


# ------------------------------------------------------------------------ Binder

def test_the_edition_binder_keeps_student_tools_and_turns_off_instructor_tools(fresh_python, edition,
                                                                             student_binder):
    """The edition's postBuild, run in the student's environment as Binder runs it (repository root, env first)."""
    from tests.test_packaging import extension_states

    prefix = fresh_python.parent.parent
    disabled = json.loads((prefix / "etc" / "jupyter" / "labconfig" / "page_config.json").read_text())[
        "disabledExtensions"]
    for instructor_only in ("formgrader", "create-assignment", "course-list"):
        assert disabled.get(f"@jupyter/nbgrader:{instructor_only}"), f"{instructor_only} must be off for students"
    for student_tool in ("assignment-list", "validate-assignment"):
        assert not disabled.get(f"@jupyter/nbgrader:{student_tool}"), f"{student_tool} must stay on"
    assert extension_states(fresh_python, student_binder) == {
        "nbgrader.server_extensions.formgrader": "disabled", "nbgrader.server_extensions.course_list": "disabled",
        "nbgrader.server_extensions.assignment_list": "enabled",
        "nbgrader.server_extensions.validate_assignment": "enabled"}
    user_config = Path(student_binder["JUPYTER_CONFIG_DIR"])
    assert not any(user_config.rglob("*.json")), "settings belong to the environment, not the user"
    assert not (edition / "capstone" / "release").exists() and not (edition / "gradebook.db").exists(), \
        "the notebook is pre-built: postBuild builds nothing"


def test_code_written_to_carry_the_checks_out_gets_nothing_into_the_feedback(graded):
    course, _, submissions, scores = graded
    assert scores["edition_thief"] == 100, "the notebook is still graded"
    autograded = course / "autograded" / "edition_thief" / "capstone"
    # The checks run in the judge's process, which the student's kernel cannot import or read.
    assert (autograded / "stolen.txt").read_text() == "nothing to take"
    feedback = course / "feedback" / "edition_thief" / "capstone"
    own = [line for cell in submissions["edition_thief"].cells for line in cell.source.splitlines()]
    assert not scan_tree(feedback, SECRETS, allowed=own)
    # Files the cell wrote come back to the student (nbgrader copies them), holding what it found.
    assert (feedback / "stolen.html").read_text() == "<pre>nothing to take</pre>"
    assert (feedback / "capstone.html").exists() and (feedback / "results.json").exists()
    assert "nothing to take" in visible_text((feedback / "capstone.html").read_text())
