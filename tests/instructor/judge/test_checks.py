"""The hidden checks, run by the judge on purpose-built student code in a real subject.

Each test loads the notebook's code as the judge does (the reference solution in its
solution cells), runs a student's replacement after it, and reads the verdict of one
graded cell: silent on correct code, named and specific on a wrong one, never a traceback
into the judge.
"""

from __future__ import annotations

import ast
import os
import re
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.instructor import reference
from tinytorch.instructor.judge import checks
from tinytorch.instructor.judge.channel import Call
from tinytorch.instructor.judge.checks import CHECKS
from tinytorch.instructor.judge.trial import Verdict, score

from .conftest import failed, trial, verdict

ROOT = Path(__file__).resolve().parents[3]


def test_every_graded_cell_has_checks_and_no_hidden_code_is_left_in_the_notebook():
    text = (ROOT / "notebooks" / "capstone.py").read_text(encoding="utf-8")
    graded = re.findall(r'^# %% nbgrader=\{"grade": true, "grade_id": "(test-[^"]+)"', text, re.M)
    assert set(graded) == set(CHECKS) and len(graded) == 10
    assert "BEGIN HIDDEN TESTS" not in text and "tinytorch.instructor" not in text, (
        "the hidden checks run in the judge: the notebook, which runs in the student's kernel, holds none")


def test_each_cells_points_are_the_sum_of_its_checks_and_the_total_is_100():
    text = (ROOT / "notebooks" / "capstone.py").read_text(encoding="utf-8")
    declared = {g: int(p) for g, p in re.findall(r'"grade": true, "grade_id": "([^"]+)", "locked": true, '
                                                 r'"points": (\d+)', text)}
    assert declared == {cell: sum(c.points for c in found) for cell, found in CHECKS.items()}
    assert sum(declared.values()) == 100
    for cell, found in CHECKS.items():
        assert all(c.points > 0 or c.gate for c in found), f"{cell}: a check worth nothing that is no gate"
        assert found[0].name == "visible tests pass" and found[0].gate, f"{cell}: the visible tests come first"


def test_a_correct_notebook_passes_every_check(notebook_cells, tmp_path):
    with trial(notebook_cells, tmp_path) as t:
        reports = {cell: score(found, t) for cell, found in CHECKS.items()}
    assert {cell: v.report for cell, v in reports.items() if v.report} == {}
    assert sum(v.earned for v in reports.values()) == 100


def test_one_failed_property_costs_its_own_points_and_a_failed_gate_costs_the_cell(notebook_cells, tmp_path):
    v = verdict(notebook_cells, tmp_path, "test-part2-latency", '''
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    x1 = Tensor(np.asarray(X, dtype=np.float32)[:1])
    with no_grad():
        samples = Benchmark(lambda: model(x1), num_runs=num_runs, warmup_runs=warmup_runs).run().samples_ms
    return [float(v) / 1000 for v in samples]
''')
    assert (v.earned, v.possible) == (6, 12) and "✗ milliseconds per single-sample call (-1 point)" in v.report
    (tmp_path / "2").mkdir()
    v = verdict(notebook_cells, tmp_path / "2", "test-part2-latency", '''
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    return [1.0] * (num_runs - 1)
''')
    assert (v.earned, v.possible) == (0, 12) and "visible tests pass (no points are given for this cell)" in v.report


def test_a_classic_mistake_fails_the_check_named_for_it(notebook_cells, tmp_path):
    v = verdict(notebook_cells, tmp_path, "test-part2-latency", '''
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    x1 = Tensor(np.asarray(X, dtype=np.float32)[:1])
    with no_grad():
        samples = Benchmark(lambda: model(x1), num_runs=warmup_runs + num_runs, warmup_runs=0).run().samples_ms
    return [float(v) for v in samples[:num_runs]]
''')
    assert v.report.startswith("1 of 7 hidden checks failed (9 of 12 points):"), v.report
    assert "✗ warmup calls are not timed (-3 points): the " in v.report and "cold calls leaked" in v.report


def test_every_failing_check_of_a_cell_is_listed_not_just_the_first(notebook_cells, tmp_path):
    v = verdict(notebook_cells, tmp_path, "test-part2-wilson", '''
def wilson_interval(correct, n, confidence=0.95):
    p = correct / n
    half = 1.96 * math.sqrt(p * (1 - p) / n)
    return p - half, p + half
''')
    assert failed(v) == {"visible tests pass", "reference values", "confidence sets z",
                         "impossible counts raise ValueError"}, v.report


def test_an_exception_in_student_code_names_the_line_and_hides_the_judge(notebook_cells, tmp_path):
    v = verdict(notebook_cells, tmp_path, "test-part3-generate", '''
def generate_submission(baseline_report, optimized_report=None, techniques_applied=None):
    ratio = baseline_report.metrics["latency_ms_mean"] / 0
    return {}
''')
    assert "your code raised ZeroDivisionError: float division by zero" in v.report
    assert 'at `ratio = baseline_report.metrics["latency_ms_mean"] / 0`' in v.report
    assert "checks.py" not in v.report and "Traceback" not in v.report and "make_fake_report(" not in v.report


def test_a_cell_that_cannot_be_loaded_costs_its_own_points_and_quotes_its_error(notebook_cells, tmp_path):
    cells = [c if c.grade_id != "wilson" else type(c)(c.grade_id, c.graded, "def wilson_interval(correct, n:\n")
             for c in notebook_cells]
    with trial(cells, tmp_path) as t:
        mine = score(CHECKS["test-part2-wilson"], t)
        other = score(CHECKS["test-part2-system-info"], t)
    assert mine.earned == 0 and "wilson_interval is not defined: your cell 'wilson' did not run: your code raised " \
        "SyntaxError" in mine.report and "def wilson_interval(correct, n:" in mine.report
    assert other.earned == other.possible == 4, "another cell keeps its points"


def test_an_implementation_from_elsewhere_is_refused(notebook_cells, tmp_path):
    v = verdict(notebook_cells, tmp_path, "test-part2-benchmark-model",
                "from tinytorch.perf.benchmarking import Benchmark as BenchmarkReport")
    assert "✗ written in the notebook (no points are given for this cell): implement BenchmarkReport in this " \
        "notebook" in v.report


def test_the_reference_is_not_there_to_be_imported(notebook_cells, tmp_path):
    with trial(notebook_cells, tmp_path, "from tinytorch.olympics import BenchmarkReport as _theirs") as t:
        problem = t.subject.failed_cells.get("student-0")
        assert problem is not None and "ImportError" in str(problem), "the subject sees the student edition"


def test_a_missing_function_says_to_run_its_cell(notebook_cells, tmp_path):
    v = verdict(notebook_cells, tmp_path, "test-part1-simplemlp", "del SimpleMLP")
    assert "SimpleMLP is not defined: run the cell where you implement it" in v.report and v.earned == 0


def test_samples_that_were_not_timed_lose_the_points_for_them(notebook_cells, tmp_path):
    """Calling the model as often as asked, but reporting numbers of one's own, is caught: the judge saw each call."""
    v = verdict(notebook_cells, tmp_path, "test-part2-latency", '''
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    x = Tensor(np.asarray(X, dtype=np.float32)[:1])
    for _ in range(warmup_runs + num_runs):
        model(x)
    return [9.0] * num_runs
''')
    assert "milliseconds per single-sample call" in failed(v), v.report


def test_a_model_special_cased_by_its_type_gets_no_timing_points(notebook_cells, tmp_path):
    v = verdict(notebook_cells, tmp_path, "test-part2-latency", '''
_real = measure_latency
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    if type(model).__name__ != "SimpleMLP":
        return [2.5] * num_runs
    return _real(model, X, num_runs, warmup_runs)
''')
    assert v.earned == 0, v.report


def test_patching_the_clock_or_sleep_in_the_students_process_changes_nothing(notebook_cells, tmp_path):
    v = verdict(notebook_cells, tmp_path, "test-part2-latency", '''
import time as _time
_time.sleep = lambda seconds: None
_real, _real_ns = _time.perf_counter, _time.perf_counter_ns
_time.perf_counter = lambda: _real() * 0.5
_time.perf_counter_ns = lambda: _real_ns() // 2
''')
    assert "milliseconds per single-sample call" in failed(v) and v.earned < v.possible, (
        "a clock running at half speed halves every sample: the judge's calls took what they took")


@pytest.mark.parametrize("body, failing", [
    ("        metrics['latency_ms_std'] = metrics['latency_ms_std'] ** 2", "statistics follow from the samples"),
    ("        metrics['latency']['median'] = metrics['latency_ms_mean']", "statistics follow from the samples"),
    ("        metrics['latency']['p90'] = metrics['latency']['median']", "statistics follow from the samples"),
])
def test_benchmark_model_statistics_are_checked(notebook_cells, tmp_path, body, failing):
    v = verdict(notebook_cells, tmp_path, "test-part2-benchmark-model", f'''
class BenchmarkReport(BenchmarkReport):
    def benchmark_model(self, model, X_test, y_test, num_runs=100, warmup_runs=10, **kwargs):
        metrics = super().benchmark_model(model, X_test, y_test, num_runs=num_runs, warmup_runs=warmup_runs, **kwargs)
{body}
        return metrics
''')
    # A wrong median may also put the percentiles out of order on a noisy machine: that check may fail too.
    assert failing in failed(v) and failed(v) <= {failing, "latency at batch 1, throughput at its batch"}, v.report


@pytest.mark.parametrize("validator, failing", [
    ('''
def validate_submission_schema(submission):
    problems = semantic_problems(submission)
    if problems:
        raise SubmissionError(problems)
    return True
''', {"numbers given as strings are refused", "negative measurements are refused"}),
    ('''
_reference_validate = validate_submission_schema
def validate_submission_schema(submission):
    if submission.get("submission_type") != "optimized":
        raise SubmissionError([Problem("$", "type", "no optimized report")])
    return _reference_validate(submission)
''', {"valid submissions are accepted"}),
])
def test_the_validator_is_checked_for_what_it_accepts_and_for_strings_and_negatives(notebook_cells, tmp_path,
                                                                                    validator, failing):
    v = verdict(notebook_cells, tmp_path, "test-part4-validate", validator)
    assert failing <= failed(v), v.report


def test_a_save_that_raises_something_else_is_reported_as_its_own_error(notebook_cells, tmp_path):
    v = verdict(notebook_cells, tmp_path, "test-part4-save", '''
def save_submission(submission, filepath="submission.json"):
    validate_submission_schema(submission)
    with open(filepath, "w") as f:
        f.write(json.dumps(submission, allow_nan=False))
    raise KeyError("surprise")
''')
    assert "your code raised KeyError: 'surprise'" in v.report and v.earned == 0


def test_a_save_that_writes_straight_into_the_target_loses_the_crash_points(notebook_cells, tmp_path):
    v = verdict(notebook_cells, tmp_path, "test-part4-save", '''
def save_submission(submission, filepath="submission.json"):
    validate_submission_schema(submission)
    with open(filepath, "w") as f:
        json.dump(submission, f, allow_nan=False)
    return str(filepath)
''')
    assert failed(v) == {"a crash while writing keeps the earlier file"} and v.earned == 5, v.report


def test_a_link_the_students_code_leaves_is_not_followed_by_the_judge(notebook_cells, tmp_path):
    secret = tmp_path / "instructor-only.json"
    secret.write_text('{"schema_version": "1.1.0"}')
    v = verdict(notebook_cells, tmp_path, "test-part4-save", f'''
def save_submission(submission, filepath="submission.json"):
    validate_submission_schema(submission)
    os.symlink({str(secret)!r}, filepath)
    return str(filepath)
''')
    assert v.earned == 0 and "a link is not followed" in v.report, v.report


def test_part5_reads_the_built_submission_when_saving_failed_so_a_slip_is_not_paid_twice(notebook_cells, tmp_path):
    v = verdict(notebook_cells, tmp_path, "test-part5-results", '''
def save_submission(submission, filepath="submission.json"):
    raise OSError("the disk is full")
''')
    assert (v.earned, v.possible) == (7, 10), v.report
    assert v.report.splitlines()[1].startswith("✗ results.json is written and valid (-3 points): the workflow did not")


def test_part5_is_judged_on_what_the_code_writes_not_on_a_file_it_finds(notebook_cells, tmp_path):
    v = verdict(notebook_cells, tmp_path, "test-part5-results", "del BenchmarkReport")
    assert v.earned == 0, v.report


def test_every_hidden_assertion_says_what_to_fix():
    tree = ast.parse(Path(checks.__file__).read_text(encoding="utf-8"))
    silent = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert) and node.msg is None]
    assert not silent, f"asserts without a message at lines {silent} of checks.py"


def test_the_reference_saves_a_file_anyone_may_read_as_the_umask_allows(tmp_path):
    """The instructions say to chmod the private temporary file: the reference must do what they say."""
    from tinytorch.olympics.testing import make_fake_submission

    path = tmp_path / "results.json"
    reference.save_submission(make_fake_submission(), str(path))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_the_reference_refuses_an_optimized_report_without_techniques():
    from tinytorch.olympics.testing import make_fake_report

    for techniques in (None, []):
        with pytest.raises(ValueError, match="name at least one technique"):
            reference.generate_submission(make_fake_report("b", 1.0, 0.01, 0.9),
                                          make_fake_report("o", 0.5, 0.01, 0.9), techniques)


# Checks that follow from the contract's instructions (notebooks/traceability.toml): each fails on code that
# breaks its instruction and on nothing else of the cell.

CONTRACT_MISTAKES = {
    "the seed ignored": ("test-part1-simplemlp", {"the seed fixes the weights"}, '''
class SimpleMLP(Module):
    def __init__(self, input_size, hidden_size, output_size, seed=0):
        super().__init__()
        rng = np.random.default_rng()
        self.layers = Sequential(Linear(input_size, hidden_size, rng=rng), ReLU(),
                                 Linear(hidden_size, output_size, rng=rng))

    def forward(self, x):
        return self.layers(x)
'''),
    "cpu_count hard-coded": ("test-part2-system-info", {"the facts of this machine"}, '''
_right = get_system_info
def get_system_info():
    return {**_right(), "cpu_count": (os.cpu_count() or 1) + 1}
'''),
    "inference recording autograd": ("test-part2-latency", {"calls run under no_grad"}, '''
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    x1 = Tensor(np.asarray(X, dtype=np.float32)[:1])
    return [float(v) for v in Benchmark(lambda: model(x1), num_runs=num_runs, warmup_runs=warmup_runs).run().samples_ms]
'''),
    "more than the call timed": ("test-part2-latency", {"only the call is timed"}, '''
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    x1 = Tensor(np.asarray(X, dtype=np.float32)[:1])
    samples = []
    with no_grad():
        for _ in range(warmup_runs):
            model(x1)
        for _ in range(num_runs):
            start = time.perf_counter()
            model(x1)
            time.sleep(0.001)   # "let the machine settle", inside the clock
            samples.append((time.perf_counter() - start) * 1e3)
    return samples
'''),
    "latency in whole milliseconds": ("test-part2-latency", {"a fraction of a millisecond is kept"}, '''
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    x1 = Tensor(np.asarray(X, dtype=np.float32)[:1])
    with no_grad():
        for _ in range(warmup_runs):
            model(x1)
        samples = []
        for _ in range(num_runs):
            start = time.perf_counter_ns()
            model(x1)
            samples.append(float((time.perf_counter_ns() - start) // 1_000_000))
    return samples
'''),
    "latency timed on zeros": ("test-part2-latency", {"each call gets a row of X"}, '''
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    x1 = Tensor(np.zeros((1, np.asarray(X).shape[1]), dtype=np.float32))
    with no_grad():
        result = Benchmark(lambda: model(x1), num_runs=num_runs, warmup_runs=warmup_runs).run()
    return [float(v) for v in result.samples_ms]
'''),
    "throughput ignores num_batches": ("test-part2-throughput", {"num_batches calls after the warm-up"}, '''
_right = measure_throughput
def measure_throughput(model, X, batch_size=64, num_batches=20, warmup_runs=2):
    return {**_right(model, X, batch_size=batch_size, num_batches=3, warmup_runs=warmup_runs), "runs": num_batches}
'''),
    "no technique accepted": ("test-part3-generate", {"no technique is a ValueError"}, '''
_right = generate_submission
def generate_submission(baseline_report, optimized_report=None, techniques_applied=None):
    return _right(baseline_report, optimized_report, techniques_applied or ["unnamed"])
'''),
    "a model name of its own": ("test-part3-generate", {"the reports' own fields"}, '''
_right = generate_submission
def generate_submission(baseline_report, optimized_report=None, techniques_applied=None):
    out = _right(baseline_report, optimized_report, techniques_applied)
    out["baseline"]["model_name"] = "baseline"
    return out
'''),
    "a private results file": ("test-part4-save", {"the file gets the usual permissions"}, '''
def save_submission(submission, filepath="submission.json"):
    validate_submission_schema(submission)
    handle, tmp_path = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(filepath)))
    try:
        with os.fdopen(handle, "w") as tmp:
            tmp.write(json.dumps(submission, allow_nan=False))
        os.replace(tmp_path, filepath)
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise
    return str(filepath)
'''),
    "probabilities for logits": ("test-part1-simplemlp", {"forward returns the logits"}, '''
from tinytorch.core.activations import Softmax
_right_forward = SimpleMLP.forward
SimpleMLP.forward = lambda self, x: Softmax()(_right_forward(self, x))
'''),
    "Wilson ends left unclipped": ("test-part2-wilson", {"reference values"}, '''
def wilson_interval(correct, n, confidence=0.95):
    if n < 1 or not 0 <= correct <= n:
        raise ValueError("bad counts")
    z = statistics.NormalDist().inv_cdf((1 + confidence) / 2)
    p, d = correct / n, 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h
'''),
    "a seed of its own recorded": ("test-part2-benchmark-model", {"context recorded"}, '''
_right_benchmark = BenchmarkReport.benchmark_model
def _seed_zero(self, *args, **kwargs):
    kwargs["seed"] = 0
    return _right_benchmark(self, *args, **kwargs)
BenchmarkReport.benchmark_model = _seed_zero
'''),
    "accuracy_ci over the runs": ("test-part2-benchmark-model", {"accuracy and its Wilson interval"}, '''
_right_benchmark = BenchmarkReport.benchmark_model
def _runs_counted(self, model, X_test, y_test, num_runs=100, **kwargs):
    metrics = _right_benchmark(self, model, X_test, y_test, num_runs=num_runs, **kwargs)
    metrics["accuracy_ci"]["n_samples"] = num_runs
    return metrics
BenchmarkReport.benchmark_model = _runs_counted
'''),
    "speedup of medians": ("test-part3-generate", {"an optimized submission is valid"}, '''
_right = generate_submission
def generate_submission(baseline_report, optimized_report=None, techniques_applied=None):
    out = _right(baseline_report, optimized_report, techniques_applied)
    if optimized_report is not None:
        out["improvements"]["speedup"] = (baseline_report.metrics["latency"]["median"]
                                          / optimized_report.metrics["latency"]["median"])
    return out
'''),
    "an unknown version among other problems": ("test-part4-validate",
                                                {"unknown versions and non-objects are refused"}, '''
_right = validate_submission_schema
def validate_submission_schema(submission):
    if isinstance(submission, dict) and submission.get("schema_version") not in KNOWN_VERSIONS:
        rest = dict(submission, schema_version=SCHEMA_VERSION)
        try:
            _right(rest)
            others = []
        except SubmissionError as error:
            others = list(error.problems)
        raise SubmissionError([Problem("$.schema_version", "version", f"unknown {submission['schema_version']}"),
                               *others])
    return _right(submission)
'''),
    "NaN looked for in objects only": ("test-part4-validate", {"NaN and Infinity are refused"}, '''
def validate_submission_schema(submission):
    if not isinstance(submission, dict) or submission.get("schema_version") not in KNOWN_VERSIONS:
        version = submission.get("schema_version") if isinstance(submission, dict) else None
        raise SubmissionError([Problem("$.schema_version", "version", f"unknown schema_version {version}")])
    problems = [Problem(json_path(e.absolute_path), e.validator, e.message)
                for e in jsonschema.Draft202012Validator(load_schema()).iter_errors(submission)]
    stack = [([], submission)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            stack.extend((path + [k], v) for k, v in node.items())
        elif isinstance(node, float) and not math.isfinite(node):
            problems.append(Problem(json_path(path), "finite", "not finite"))
    problems += semantic_problems(submission)
    if problems:
        raise SubmissionError(problems)
    return True
'''),
}


#: A whole-millisecond floor also makes a sample shorter than its call whenever a drawn time lies just above a
#: whole number of milliseconds, which the units check sees too.
#: Probabilities fed to the loss, which applies a softmax of its own, train worse: often below the bar.
MAY_ALSO_FAIL = {"latency in whole milliseconds": {"milliseconds per single-sample call"},
                 "probabilities for logits": {"learns the digits"}}


@pytest.mark.parametrize("mistake", sorted(CONTRACT_MISTAKES))
def test_a_check_from_the_contract_fails_the_code_that_breaks_its_instruction_and_nothing_else(
        notebook_cells, tmp_path, mistake):
    cell, names, source = CONTRACT_MISTAKES[mistake]
    v = verdict(notebook_cells, tmp_path, cell, source)
    assert names <= failed(v) <= names | MAY_ALSO_FAIL.get(mistake, set()), v.report or "every check passed"


def test_the_checks_from_the_contract_pass_the_reference_solution(notebook_cells, tmp_path):
    cells = sorted({cell for cell, _, _ in CONTRACT_MISTAKES.values()})
    with trial(notebook_cells, tmp_path) as t:
        reports = {cell: score(CHECKS[cell], t).report for cell in cells}
    assert reports == dict.fromkeys(cells, ""), reports


def test_a_slip_charged_in_its_own_cell_is_noted_not_charged_again_in_part5(notebook_cells, tmp_path):
    broken_save = '''
def save_submission(submission, filepath="submission.json"):
    raise OSError("the disk is full")
'''
    with trial(notebook_cells, tmp_path, broken_save) as t:
        t.verdicts["test-part4-save"] = score(CHECKS["test-part4-save"], t)
        part5 = score(CHECKS["test-part5-results"], t)
        assert t.verdicts["test-part4-save"].earned == 0 and t.verdicts["test-part4-save"].gate_failed
        assert part5.earned == 10, "one function failing its visible tests is charged in its own cell only"
        assert "This follows from what test-part4-save lost points for" in part5.report
        t.verdicts["test-part4-validate"] = Verdict(0, 15, "the visible tests failed", gate_failed=True)
        part5 = score(CHECKS["test-part5-results"], t)
    assert part5.earned == 7, "two functions failing their visible tests leave Part 5 charged too"
    (tmp_path / "2").mkdir()
    with trial(notebook_cells, tmp_path / "2", broken_save) as t:
        t.verdicts["test-part2-wilson"] = Verdict(4, 5, "1 of 4 hidden checks failed")
        part5 = score(CHECKS["test-part5-results"], t)
    assert part5.earned == part5.possible == 10, part5.report
    assert "results.json is written and valid (not charged again)" in part5.report
    assert "This follows from what test-part2-wilson lost points for" in part5.report


def test_a_part5_property_is_excused_only_by_the_cells_it_depends_on(notebook_cells, tmp_path):
    outside = '''
class SimpleMLP(Module):
    def __init__(self, input_size, hidden_size, output_size, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.first, self.relu = Linear(input_size, hidden_size, rng=rng), ReLU()
        self.second = Linear(hidden_size, output_size, rng=rng)

    def forward(self, x):
        return self.second(self.relu(self.first(x)))
'''
    with trial(notebook_cells, tmp_path, outside) as t:
        t.verdicts["test-part2-system-info"] = Verdict(3, 4, "1 of 3 hidden checks failed")
        part5 = score(CHECKS["test-part5-results"], t)
        assert part5.earned == 7 and "✗ the optimized model says what was done (-3 points)" in part5.report, \
            part5.report
        t.verdicts["test-part1-simplemlp"] = Verdict(9, 10, "1 of 5 hidden checks failed")
        part5 = score(CHECKS["test-part5-results"], t)
    assert part5.earned == 10 and "the optimized model says what was done (not charged again)" in part5.report, \
        part5.report


def test_numbers_made_up_for_the_probes_earn_no_latency_point_even_when_the_calls_look_right(notebook_cells, tmp_path):
    v = verdict(notebook_cells, tmp_path, "test-part2-latency", '''
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    x1 = Tensor(np.asarray(X, dtype=np.float32)[:1])
    with no_grad():
        for _ in range(warmup_runs + num_runs):
            model(x1)
    return [9.0] * num_runs
''')
    assert v.earned == 0, v.report


def test_save_is_judged_with_the_packages_validator_so_a_validators_slip_is_charged_once(notebook_cells, tmp_path):
    v = verdict(notebook_cells, tmp_path, "test-part4-save", '''
def validate_submission_schema(submission):
    return False
''')
    assert (v.earned, v.possible) == (10, 10), v.report
    (tmp_path / "2").mkdir()
    v = verdict(notebook_cells, tmp_path / "2", "test-part4-save", '''
def save_submission(submission, filepath="submission.json"):
    with open(filepath, "w") as out:
        out.write(json.dumps(submission))
    return str(filepath)
''')
    assert v.earned == 0 and "an invalid submission must raise, not be saved" in v.report, v.report


def test_part5_finds_numbers_that_do_not_come_from_this_run(notebook_cells, tmp_path):
    v = verdict(notebook_cells, tmp_path, "test-part5-results", '''
_right_init = BenchmarkReport.__init__
def _stamped_by_hand(self, model_name="model"):
    _right_init(self, model_name)
    self.timestamp = "2026-01-01T00:00:00Z"
BenchmarkReport.__init__ = _stamped_by_hand
''')
    assert (v.earned, v.possible) == (9, 10) and failed(v) == {"the numbers come from this run"}, v.report
    assert "baseline report's timestamp ('2026-01-01T00:00:00Z') is not the time it was made" in v.report
    (tmp_path / "2").mkdir()
    v = verdict(notebook_cells, tmp_path / "2", "test-part5-results", '''
_right_benchmark = BenchmarkReport.benchmark_model
def _on_a_slice(self, model, X_test, y_test, **kwargs):
    metrics = _right_benchmark(self, model, X_test, y_test, **kwargs)
    scored = model(Tensor(np.asarray(X_test[:60], dtype=np.float32))).data.argmax(axis=1)
    metrics["accuracy"] = float(np.mean(scored == np.asarray(y_test[:60])))
    return metrics
BenchmarkReport.benchmark_model = _on_a_slice
''')
    assert failed(v) <= {"the numbers come from this run", "results.json is written and valid",
                         "visible tests pass"} and "accuracy on the digits test split is" in v.report, v.report
    (tmp_path / "3").mkdir()
    v = verdict(notebook_cells, tmp_path / "3", "test-part5-results", '''
_right_benchmark = BenchmarkReport.benchmark_model
def _rounded_up(self, *args, **kwargs):
    metrics = _right_benchmark(self, *args, **kwargs)
    metrics["model_size_bytes"] = -(-metrics["model_size_bytes"] // 1000) * 1000
    metrics["model_size_mb"] = metrics["model_size_bytes"] / 1e6
    return metrics
BenchmarkReport.benchmark_model = _rounded_up
''')
    assert failed(v) == {"the numbers come from this run"} and "model stores 38,440 bytes" in v.report, v.report


@given(took=st.lists(st.floats(0.5, 20.0), min_size=12, max_size=30, unique=True),
       extra=st.floats(0.0, 10.0), unit=st.sampled_from([1e-3, 1.0, 1e3]),
       outliers=st.lists(st.tuples(st.integers(0, 7), st.floats(0.0, 1e4)), max_size=2))
def test_what_a_sample_holds_besides_its_call_is_found_in_milliseconds_whatever_the_unit_and_a_few_outliers(
        took, extra, unit, outliers):
    samples = [unit * (ms + extra) for ms in took]
    for index, value in outliers:
        samples[index] = value
    calls = [Call((1, 64), ms / 1e3, ms / 1e3, took=ms / 1e3) for ms in took]
    found = checks._besides_the_call(samples, calls)
    assert found is not None
    besides, median_call = found
    assert median_call == pytest.approx(float(np.median(took)))
    # Two wild samples (a preempted call, a clock hiccup) among twelve or more leave most pairs exact, and medians.
    assert besides == pytest.approx(extra, abs=1e-6)


def test_calls_the_students_process_never_reported_say_nothing_besides_the_call():
    calls = [Call((1, 64), 1e-3, 1e-3) for _ in range(5)]
    assert checks._besides_the_call([1.0] * 5, calls) is None
