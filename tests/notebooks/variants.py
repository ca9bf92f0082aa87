"""Student code for the grading tests: a correct solution written differently, cell by cell.

Each entry maps a solution cell's grade_id to replacement source. ``ALTERNATIVE`` must
score 100: it uses another timer, another percentile method, another interval
algebra, another way to count bytes, a hand-assembled validator that raises a plain
ValueError, and pathlib for saving. The classic mistakes are in ``mutations.py``;
:func:`graded_class` puts all of them, and the grading contract's special cases, in one class.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from tests.course import grade_ids, with_cells

from .hostile import Attempt, attempts, notebook, partial
from .mutations import MISTAKES, mutated

ALTERNATIVE = {
    "simple-mlp": '''
class SimpleMLP(Module):
    def __init__(self, input_size, hidden_size, output_size, seed=0):
        super().__init__()
        gen = np.random.default_rng(seed)
        parts = [Linear(input_size, hidden_size, rng=gen), ReLU(), Linear(hidden_size, output_size, rng=gen)]
        self.layers = Sequential(*parts)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
''',
    "system-info": '''
import multiprocessing, sys
def get_system_info():
    info = dict(platform=platform.platform(), machine=platform.machine(), cpu_model=cpu_model())
    info["cpu_count"] = multiprocessing.cpu_count()
    info["python_version"] = "%d.%d.%d" % sys.version_info[:3]
    info.update(numpy_version=np.__version__, blas=blas_info(), tinytorch_version=tinytorch.__version__,
                git_commit=git_commit())
    return info
''',
    "wilson": '''
def wilson_interval(correct, n, confidence=0.95):
    if n <= 0 or correct < 0 or correct > n:
        raise ValueError("bad counts")
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    root = z * math.sqrt(z * z + 4 * correct * (n - correct) / n)
    low = (2 * correct + z * z - root) / (2 * (n + z * z))
    high = (2 * correct + z * z + root) / (2 * (n + z * z))
    return (max(low, 0.0), min(high, 1.0))
''',
    "latency": '''
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    rows = [Tensor(np.asarray(X[i:i + 1], dtype=np.float32)) for i in range(len(X))]
    times = []
    with no_grad():
        for i in range(warmup_runs):
            model(rows[i % len(rows)])
        for i in range(num_runs):
            x = rows[i % len(rows)]
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1000.0)
    return times
''',
    "throughput": '''
def measure_throughput(model, X, batch_size=64, num_batches=20, warmup_runs=2):
    reps = -(-batch_size // len(X))
    batch = Tensor(np.concatenate([np.asarray(X, dtype=np.float32)] * reps)[:batch_size])
    with no_grad():
        for _ in range(warmup_runs):
            model(batch)
        start = time.perf_counter_ns()
        for _ in range(num_batches):
            model(batch)
        total_s = (time.perf_counter_ns() - start) / 1e9
    return {"batch_size": batch_size, "runs": num_batches, "samples_per_sec": batch_size * num_batches / total_s}
''',
    "benchmark-report": '''
import tracemalloc
from tinytorch.perf.distributions import median_ci_ranks, student_t_ppf

class BenchmarkReport:
    def __init__(self, model_name="model"):
        self.model_name = model_name
        self.metrics = {}
        self.system_info = get_system_info()
        self.timestamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.benchmark_config = {}

    def benchmark_model(self, model, X_test, y_test, num_runs=100, warmup_runs=10, throughput_batch_size=64,
                        seed=0, dataset_name="digits", dataset_sha256=None):
        hits = 0
        with no_grad():
            for start in range(0, len(X_test), 50):
                logits = model(Tensor(np.asarray(X_test[start:start + 50], dtype=np.float32))).data
                hits += int((logits.argmax(axis=1) == np.asarray(y_test[start:start + 50])).sum())
        n_test = len(y_test)
        t = np.sort(np.array(measure_latency(model, X_test, num_runs, warmup_runs)))
        n = len(t)
        mean, sd = float(t.mean()), float(t.std(ddof=1))
        half = student_t_ppf(0.975, n - 1) * sd / math.sqrt(n)
        lo_rank, hi_rank, _ = median_ci_ranks(n)
        q1, med, q3, p90, p99 = (float(np.percentile(t, q, method="median_unbiased")) for q in (25, 50, 75, 90, 99))
        iqr = q3 - q1
        outliers = int(((t < q1 - 1.5 * iqr) | (t > q3 + 1.5 * iqr)).sum())
        tp = measure_throughput(model, X_test, throughput_batch_size)
        nbytes = sum(v.nbytes for v in model.state_dict().values())
        tracemalloc.start()
        base_mem = tracemalloc.get_traced_memory()[0]
        with no_grad():
            model(Tensor(np.asarray(X_test[:1], dtype=np.float32)))
        peak = tracemalloc.get_traced_memory()[1] - base_mem
        tracemalloc.stop()
        lo_ci, hi_ci = wilson_interval(hits, n_test)
        self.metrics = dict(
            parameter_count=Profiler().count_parameters(model), model_size_mb=nbytes / 1_000_000,
            model_size_bytes=nbytes, accuracy=hits / n_test,
            accuracy_ci=dict(low=lo_ci, high=hi_ci, confidence_level=0.95, method="wilson", n_samples=n_test),
            latency_ms_mean=mean, latency_ms_std=sd,
            latency=dict(batch_size=1, n=n, warmup_runs=warmup_runs, median=med, p90=p90, p99=p99,
                         min=float(t[0]), max=float(t[-1]), mean_ci=[mean - half, mean + half],
                         median_ci=[float(t[lo_rank - 1]), float(t[hi_rank - 1])], confidence_level=0.95,
                         percentile_method="median_unbiased", mean_ci_method="t", median_ci_method="binomial ranks",
                         outliers=outliers, stable=sd / mean < 0.1, stability_reason="cv"),
            throughput_samples_per_sec=tp["samples_per_sec"], throughput=tp, peak_memory_bytes=max(int(peak), 0))
        self.benchmark_config = dict(num_runs=num_runs, warmup_runs=warmup_runs, latency_batch_size=1,
                                     throughput_batch_size=throughput_batch_size, seed=seed, timer="perf_counter",
                                     dataset=dict(name=dataset_name, n_samples=n_test,
                                                  sha256=dataset_sha256 if dataset_sha256 else digits_sha256()))
        return self.metrics
''',
    "generate-submission": '''
def generate_submission(baseline_report, optimized_report=None, techniques_applied=None):
    def snap(r):
        return json.loads(json.dumps({"model_name": r.model_name, "timestamp": r.timestamp,
                                      "benchmark_config": r.benchmark_config, "metrics": r.metrics}))
    out = {"schema_version": SCHEMA_VERSION, "tinytorch_version": tinytorch.__version__,
           "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "system_info": json.loads(json.dumps(baseline_report.system_info)), "baseline": snap(baseline_report)}
    out["submission_type"] = "optimized" if optimized_report else "baseline"
    if optimized_report:
        if not techniques_applied:
            raise ValueError("name the techniques applied to the optimized model")
        base, opt = out["baseline"]["metrics"], snap(optimized_report)["metrics"]
        out["optimized"] = dict(snap(optimized_report), techniques_applied=list(techniques_applied))
        out["improvements"] = {"accuracy_delta": opt["accuracy"] - base["accuracy"],
                               "compression_ratio": base["model_size_mb"] / opt["model_size_mb"],
                               "speedup": base["latency_ms_mean"] / opt["latency_ms_mean"]}
    return out
''',
    "validate": '''
def validate_submission_schema(submission):
    messages = []
    if not isinstance(submission, dict) or submission.get("schema_version") != SCHEMA_VERSION:
        version = submission.get("schema_version") if isinstance(submission, dict) else None
        raise ValueError(f"schema_version {version!r} is not supported (expected {SCHEMA_VERSION})")
    schema = load_schema()
    checker = jsonschema.validators.validator_for(schema)(schema)
    for error in sorted(checker.iter_errors(submission), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        messages.append(f"{where}: {error.message}")
    stack = [("", submission)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, dict):
            stack.extend((f"{where}.{k}" if where else k, v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(node))
        elif isinstance(node, float) and (node != node or node in (float("inf"), float("-inf"))):
            messages.append(f"{where}: non-finite number {node}")
    messages += [f"{p.path} ({p.rule}): {p.message}" for p in semantic_problems(submission)]
    if messages:
        raise ValueError("submission rejected:\\n" + "\\n".join(messages))
    return True
''',
    "save": '''
from pathlib import Path

def save_submission(submission, filepath="submission.json"):
    validate_submission_schema(submission)
    payload = json.dumps(submission, allow_nan=False, sort_keys=True)
    target = Path(filepath)
    with tempfile.NamedTemporaryFile("w", dir=target.resolve().parent, delete=False, suffix=".part") as f:
        scratch = Path(f.name)
    try:
        scratch.write_text(payload)
        umask = os.umask(0o22)
        os.umask(umask)
        scratch.chmod(0o666 & ~umask)
        scratch.replace(target)
    finally:
        if scratch.exists():
            scratch.unlink()
    return str(filepath)
''',
}


def _copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return nbformat.from_dict(json.loads(json.dumps(nb)))


def _cell(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return nb.cells[grade_ids(nb).index(grade_id)]


def graded_class(course: Path) -> dict[str, nbformat.NotebookNode]:
    """Every graded variant of the course's notebook, by student name: the contract's cases (solution 100,
    release 0, only Part 1 solved, a locked test rewritten, a test cell deleted, a cell that raises, a cell
    that never ends), the correct alternative, and one notebook per classic mistake."""
    source = nbformat.read(course / "source" / "capstone" / "capstone.ipynb", as_version=4)
    release = nbformat.read(course / "release" / "capstone" / "capstone.ipynb", as_version=4)
    part1, tampered, deleted, raises, loops = (_copy(nb) for nb in (release, release, source, source, source))
    _cell(part1, "simple-mlp").source = _cell(source, "simple-mlp").source
    _cell(tampered, "test-part1-simplemlp").source = "assert True  # rewritten by the student"
    del deleted.cells[grade_ids(deleted).index("test-part4-save")]
    raises.cells.insert(grade_ids(raises).index("part1-intro"), nbformat.v4.new_code_cell("raise RuntimeError('oops')"))
    loops.cells.insert(grade_ids(loops).index("part1-intro"), nbformat.v4.new_code_cell("while True:\n    pass"))
    return {"solution": source, "release": release, "part1": part1, "tampered": tampered, "deleted": deleted,
            "raises": raises, "loops": loops, "alternative": with_cells(source, ALTERNATIVE),
            **{f"mistake-{i:02d}": mutated(source, m) for i, m in enumerate(MISTAKES)}}


def hostile_class(course: Path, solution_results: str) -> dict[str, tuple[nbformat.NotebookNode, Attempt]]:
    """Every attempt to forge a grade (tests/notebooks/hostile.py), by student name, with the honestly partly
    solved notebook they are measured against ("partial")."""
    source = nbformat.read(course / "source" / "capstone" / "capstone.ipynb", as_version=4)
    release = nbformat.read(course / "release" / "capstone" / "capstone.ipynb", as_version=4)
    bases = {"blank": release, "partial": partial(source, release), "solution": source}
    honest = Attempt("partial", "honest", "partial")
    return {a.name: (notebook(a, bases), a) for a in [honest, *attempts(solution_results)]}
