"""The hidden checks: silent on a correct notebook, named and specific on a wrong one, never a traceback.

The checks run against a notebook namespace. Here that namespace is made the way a kernel
makes it: the reference solution's source executed as ``__main__`` from a file named like
an ipykernel cell, so that "defined in the notebook" and "the line of your code" mean what
they mean when a real notebook is graded.
"""

from __future__ import annotations

import contextlib
import io
import json
import linecache
import re
import warnings
from pathlib import Path

import pytest

from tinytorch.instructor import checks, reference
from tinytorch.instructor.judge.checks import CHECKS, graded, score
from tinytorch.olympics.cli import main as olympics

ROOT = Path(__file__).resolve().parents[2]
CELL_FILE = "/tmp/ipykernel_4242/{}.py"   # where ipykernel says a cell's code lives


def run_cell(namespace: dict, source: str) -> dict:
    """``namespace`` after running ``source`` as a kernel runs a cell (its lines readable by tracebacks)."""
    filename = CELL_FILE.format(abs(hash(source)))
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def notebook_namespace() -> dict:
    return run_cell({"__name__": "__main__"}, Path(reference.__file__).read_text(encoding="utf-8"))


student_code = run_cell


def failed_checks(cell: str, namespace: dict) -> str:
    """The report of ``cell``'s hidden checks: '' when all pass."""
    return score(cell, namespace)[2]


@pytest.fixture(scope="module")
def correct() -> dict:
    return notebook_namespace()


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory) -> Path:
    """A folder holding the results.json that the notebook's workflow writes (the reference, via the CLI)."""
    folder = tmp_path_factory.mktemp("results")
    assert olympics(["run", "--quiet", "-o", str(folder / "results.json")]) == 0
    return folder


def graded_cells() -> dict[str, str]:
    """{grade_id: hidden-test region} of every graded cell of the notebook's source."""
    text = (ROOT / "notebooks" / "capstone.py").read_text(encoding="utf-8")
    graded_cell = r'^# %% nbgrader=\{"grade": true, "grade_id": "([^"]+)".*?\n(.*?)(?=\n# %%|\Z)'
    cells = re.findall(graded_cell, text, re.S | re.M)
    return {grade_id: body.split("### BEGIN HIDDEN TESTS", 1)[-1] for grade_id, body in cells}


def test_every_graded_cell_calls_its_own_checks_and_every_check_belongs_to_a_cell():
    cells = graded_cells()
    assert set(cells) == set(CHECKS) and len(cells) == 10
    for grade_id, hidden in cells.items():
        lines = [ln for ln in hidden.splitlines() if ln.strip() and "###" not in ln]
        assert lines == ["from tinytorch.instructor.judge.checks import graded", f'graded("{grade_id}", globals())'], (
            f"{grade_id}: the hidden region is the import and the one call, last in the cell (its value is the "
            "partial credit); the checks live in checks.py")


def test_each_cells_points_are_the_sum_of_its_checks_and_the_total_is_100():
    text = (ROOT / "notebooks" / "capstone.py").read_text(encoding="utf-8")
    declared = {g: int(p) for g, p in re.findall(r'"grade": true, "grade_id": "([^"]+)", "locked": true, '
                                                 r'"points": (\d+)', text)}
    assert declared == {cell: sum(c.points for c in found) for cell, found in CHECKS.items()}
    assert sum(declared.values()) == 100
    for cell, found in CHECKS.items():
        assert all(c.points > 0 or c.gate for c in found), f"{cell}: a check worth nothing that is no gate"


def test_one_failed_property_costs_its_own_points_and_a_failed_gate_costs_the_cell(correct):
    ns = student_code(dict(correct), '''
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    x1 = Tensor(np.asarray(X, dtype=np.float32)[:1])
    samples = Benchmark(lambda: model(x1), runs=num_runs, warmup_runs=warmup_runs).run().samples_ms
    return [float(v) / 1000 for v in samples]
''')
    earned, possible, report = score("test-part2-latency", ns)
    assert (earned, possible) == (5, 10) and "✗ milliseconds per single-sample call (-5 points)" in report
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert graded("test-part2-latency", ns) == 5
    printed = out.getvalue().splitlines()
    assert printed[0] == report.splitlines()[0] and printed[1].startswith("✗ milliseconds per single-sample call")
    ns = dict(correct, BenchmarkReport=reference.BenchmarkReport)
    earned, possible, report = score("test-part2-benchmark-model", ns)
    assert (earned, possible) == (0, 12) and "no points are given for this cell" in report


def test_a_correct_cell_is_silent_and_gets_no_partial_credit_value(correct, capsys):
    assert graded("test-part2-wilson", correct) is None and capsys.readouterr().out == ""


@pytest.mark.parametrize("cell", sorted(CHECKS))
def test_a_correct_notebook_passes_every_check(cell, correct, results_dir, monkeypatch):
    monkeypatch.chdir(results_dir)
    assert failed_checks(cell, correct) == ""


def test_a_classic_mistake_fails_the_check_named_for_it(correct):
    ns = student_code(dict(correct), '''
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    x1 = Tensor(np.asarray(X, dtype=np.float32)[:1])
    samples = Benchmark(lambda: model(x1), runs=warmup_runs + num_runs, warmup_runs=0).run().samples_ms
    return [float(v) for v in samples[:num_runs]]
''')
    report = failed_checks("test-part2-latency", ns)
    assert report.startswith("1 of 2 hidden checks failed (5 of 10 points):")
    assert "✗ warmup calls are not timed (-5 points): the 250 ms cold calls leaked into the statistics" in report
    assert "milliseconds" not in report.split("\n", 1)[1].split(":")[0], "only the warmup check fails"


def test_every_failing_check_of_a_cell_is_listed_not_just_the_first(correct):
    ns = student_code(dict(correct), '''
def wilson_interval(correct, n, confidence=0.95):
    p = correct / n
    half = 1.96 * math.sqrt(p * (1 - p) / n)
    return p - half, p + half
''')
    report = failed_checks("test-part2-wilson", ns)
    assert report.startswith("3 of 3 hidden checks failed (0 of 5 points):")
    for name in ("reference values", "confidence sets z", "impossible counts raise ValueError"):
        assert f"✗ {name} (" in report


def test_an_exception_in_student_code_names_the_line_and_hides_the_check(correct):
    ns = student_code(dict(correct), '''
def generate_submission(baseline_report, optimized_report=None, techniques_applied=None):
    ratio = baseline_report.metrics["latency_ms_mean"] / 0
    return {}
''')
    report = failed_checks("test-part3-generate", ns)
    assert "your code raised ZeroDivisionError: float division by zero" in report
    assert 'at `ratio = baseline_report.metrics["latency_ms_mean"] / 0`' in report
    assert "checks.py" not in report and "make_fake_report(" not in report


def test_a_reference_imported_instead_of_written_is_refused(correct):
    ns = dict(correct, BenchmarkReport=reference.BenchmarkReport)
    expected = ("✗ written in the notebook (no points are given for this cell): "
                "implement BenchmarkReport in this notebook")
    assert expected in failed_checks("test-part2-benchmark-model", ns)


def test_a_missing_function_says_to_run_its_cell(correct):
    ns = {k: v for k, v in correct.items() if k != "SimpleMLP"}
    assert "SimpleMLP is not defined: run the cell where you implement it" in failed_checks("test-part1-simplemlp", ns)


def test_redefining_the_stand_in_models_in_the_notebook_changes_nothing(correct):
    ns = student_code(dict(correct), '''
class SleepyModel(Module):
    def __init__(self, *args, **kwargs):
        super().__init__()
        self.shapes = []
    def forward(self, x):
        self.shapes.append((1, 64))
        return Tensor(np.zeros((x.shape[0], 10), dtype=np.float32))

def measure_latency(model, X, num_runs=100, warmup_runs=10):
    return [2.0] * num_runs
''')
    assert "✗ warmup calls are not timed" not in failed_checks("test-part2-latency", ns)
    ns = student_code(ns, '''
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    x = Tensor(np.asarray(X, dtype=np.float32)[:1])
    for _ in range(warmup_runs + num_runs):
        model(x)
    return [0.001] * num_runs
''')
    assert "✗ milliseconds per single-sample call" in failed_checks("test-part2-latency", ns)


def test_the_save_check_restores_json_even_when_the_student_code_misbehaves(correct):
    real = json.dump, json.dumps
    ns = student_code(dict(correct), '''
def save_submission(submission, filepath="submission.json"):
    validate_submission_schema(submission)
    with open(filepath, "w") as f:
        f.write(json.dumps(submission, allow_nan=False))
    raise KeyError("surprise")
''')
    report = failed_checks("test-part4-save", ns)
    assert "your code raised KeyError" in report
    assert (json.dump, json.dumps) == real and ns["json"].dumps is real[1]


def test_an_unknown_cell_is_an_instructor_error():
    with pytest.raises(KeyError, match="no hidden checks are registered for the graded cell 'test-part9'"):
        failed_checks("test-part9", {})


def test_checks_build_their_own_inputs():
    source = Path(checks.__file__).read_text(encoding="utf-8")
    for helper in ("SleepyModel", "make_fake_report", "make_fake_submission"):
        assert f'ns["{helper}"]' not in source, f"{helper} must come from tinytorch.olympics.testing, not the notebook"


def _benchmark_model_with(correct: dict, body: str) -> dict:
    """The reference BenchmarkReport with its latency block computed by ``body`` (samples -> (mean, std, latency))."""
    return student_code(dict(correct), f'''
class BenchmarkReport(BenchmarkReport):
    def benchmark_model(self, model, X_test, y_test, num_runs=100, warmup_runs=10, **kwargs):
        metrics = super().benchmark_model(model, X_test, y_test, num_runs=num_runs, warmup_runs=warmup_runs, **kwargs)
{body}
        return metrics
BenchmarkReport.__module__ = "__main__"
''')


@pytest.mark.parametrize("body, failing", [
    ("        metrics['latency_ms_std'] = metrics['latency_ms_std'] ** 2", "statistics follow from the samples"),
    ("        metrics['latency']['median'] = metrics['latency_ms_mean']", "statistics follow from the samples"),
    ("        metrics['latency']['p90'] = metrics['latency']['median']", "statistics follow from the samples"),
    ("""        x1 = Tensor(np.asarray(X_test, dtype=np.float32)[:1])
        if hasattr(model, 'single_calls'):
            model.single_calls = 0   # timed as the model's first calls, with no warm-up
        with no_grad():
            samples = [float(v) for v in Benchmark(lambda: model(x1), runs=num_runs, warmup_runs=0).run().samples_ms]
        stats = BenchmarkResult(samples).to_dict()
        metrics['latency_ms_mean'], metrics['latency_ms_std'] = stats['mean'], stats['std']
        for key in ('median', 'p90', 'p99', 'min', 'max', 'mean_ci', 'median_ci', 'outliers'):
            metrics['latency'][key] = stats[key]
        metrics['latency']['samples_ms'] = samples""", "warm-up calls are not timed"),
])
def test_benchmark_model_statistics_and_warmup_are_checked(correct, body, failing):
    _, _, report = score("test-part2-benchmark-model", _benchmark_model_with(correct, body))
    failed = [line.split(" (", 1)[0][2:] for line in report.splitlines()[1:]]
    # A wrong median may also put the percentiles out of order on a noisy machine: that check may fail too.
    assert failing in failed and set(failed) <= {failing, "latency at batch 1, throughput at its batch"}, report


@pytest.mark.parametrize("validator, failing", [
    ('''
def validate_submission_schema(submission):
    problems = semantic_problems(submission)
    if problems:
        raise SubmissionError(problems)
    return True
''', {"numbers given as strings are refused", "negative measurements are refused"}),
    ('''
def validate_submission_schema(submission):
    if submission.get("submission_type") != "optimized":
        raise SubmissionError([Problem("$", "type", "no optimized report")])
    return _reference_validate(submission)
''', {"valid submissions are accepted"}),
])
def test_the_validator_is_checked_for_what_it_accepts_and_for_strings_and_negatives(correct, validator, failing):
    ns = student_code(dict(correct, _reference_validate=correct["validate_submission_schema"]), validator)
    _, _, report = score("test-part4-validate", ns)
    failed = {line.split(" (", 1)[0][2:] for line in report.splitlines()[1:]}
    assert failing <= failed, report


def test_the_reference_saves_a_file_anyone_may_read_as_the_umask_allows(correct, tmp_path):
    """The instructions say to chmod the private temporary file: the reference must do what they say."""
    import os
    import stat

    from tinytorch.olympics.testing import make_fake_submission

    path = tmp_path / "results.json"
    correct["save_submission"](make_fake_submission(), str(path))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_the_reference_refuses_an_optimized_report_without_techniques(correct):
    from tinytorch.olympics.testing import make_fake_report

    for techniques in (None, []):
        with pytest.raises(ValueError, match="name at least one technique"):
            correct["generate_submission"](make_fake_report("b", 1.0, 0.01, 0.9), make_fake_report("o", 0.5, 0.01, 0.9),
                                           techniques)


def test_a_warning_from_student_code_never_reaches_stderr(correct, capsys):
    """nbgrader scores a test cell 0 when it wrote anything to stderr."""
    ns = student_code(dict(correct), '''
import warnings as _w
_wilson = wilson_interval
def wilson_interval(correct, n, confidence=0.95):
    _w.warn("a student warning", RuntimeWarning)
    return _wilson(correct, n, confidence)
''')
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        assert graded("test-part2-wilson", ns) is None
    assert escaped == [] and capsys.readouterr().err == ""


def test_part5_reads_the_built_submission_when_saving_failed_so_a_slip_is_not_paid_twice(correct, results_dir,
                                                                                      tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # no results.json here: the workflow's save refused
    built = json.loads((results_dir / "results.json").read_text(encoding="utf-8"))
    earned, possible, report = score("test-part5-results", dict(correct, submission=built))
    assert (earned, possible) == (6, 10), report
    assert report.splitlines()[1].startswith("✗ results.json is written and valid (-4 points): the workflow did not")
    earned, _, report = score("test-part5-results", dict(correct))
    assert earned == 0 and "run the workflow cell" in report


def test_every_hidden_assertion_says_what_to_fix():
    import ast

    tree = ast.parse(Path(checks.__file__).read_text(encoding="utf-8"))
    silent = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert) and node.msg is None]
    assert not silent, f"asserts without a message at lines {silent} of checks.py"
