"""Student code for the grading tests: a correct solution written differently, cell by cell.

Each entry maps a solution cell's grade_id to replacement source. Each notebook of
``ALTERNATIVES`` must score 100. ``ALTERNATIVE`` uses another timer, another percentile
method, another interval algebra, another way to count bytes, a hand-assembled validator
that raises a plain ValueError, and pathlib for saving; ``SECOND_ALTERNATIVE`` is written
differently again. The classic mistakes are in ``mutations.py``;
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
        stamps = [time.perf_counter_ns()]
        for _ in range(num_batches):
            model(batch)
            stamps.append(time.perf_counter_ns())
    middle = float(np.median(np.diff(stamps))) / 1e9
    return {"batch_size": batch_size, "runs": num_batches, "samples_per_sec": batch_size / middle}
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


#: A second correct solution, cell by cell, written differently again: layers built apart then put in order,
#: facts from ``platform.uname``, the interval from its alpha, per-call timing with ``perf_counter_ns``, the
#: median batch time picked by hand from ``precise_timer``, the latency fields picked by the schema, reports
#: copied field by field, a validator that walks the document as a generator, and a save that opens its own
#: temporary name.
SECOND_ALTERNATIVE = {
    "simple-mlp": '''
class SimpleMLP(Module):
    def __init__(self, input_size, hidden_size, output_size, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        hidden = Linear(input_size, hidden_size, rng=rng)
        out = Linear(hidden_size, output_size, rng=rng)
        self.layers = Sequential(hidden, ReLU(), out)

    def forward(self, x):
        return self.layers.forward(x)
''',
    "system-info": '''
import sys

def get_system_info():
    uname = platform.uname()
    facts = [("platform", platform.platform()), ("machine", uname.machine), ("cpu_model", cpu_model()),
             ("cpu_count", max(1, os.cpu_count() or 1)), ("python_version", sys.version.split()[0]),
             ("numpy_version", np.__version__), ("blas", blas_info()), ("tinytorch_version", tinytorch.__version__),
             ("git_commit", git_commit())]
    return dict(facts)
''',
    "wilson": '''
def wilson_interval(correct, n, confidence=0.95):
    if n < 1:
        raise ValueError("n must be at least 1")
    if correct < 0 or correct > n:
        raise ValueError("correct must lie within 0..n")
    alpha = 1 - confidence
    z = statistics.NormalDist().inv_cdf(1 - alpha / 2)
    z2 = z ** 2
    p = correct / n
    center = (p + z2 / (2 * n)) / (1 + z2 / n)
    margin = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n ** 2))
    low, high = center - margin, center + margin
    return (0.0 if low < 0 else low, 1.0 if high > 1 else high)
''',
    "latency": '''
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    x1 = Tensor(np.array(X[:1], dtype=np.float32))
    samples = []
    with no_grad():
        for _ in range(warmup_runs):
            model(x1)
        for _ in range(num_runs):
            start = time.perf_counter_ns()
            model(x1)
            samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples
''',
    "throughput": '''
def measure_throughput(model, X, batch_size=64, num_batches=20, warmup_runs=2):
    X = np.asarray(X, dtype=np.float32)
    batch = Tensor(X[np.arange(batch_size) % len(X)])
    with no_grad():
        for _ in range(warmup_runs):
            model(batch)
        ns = []
        while len(ns) < num_batches:
            with precise_timer() as clock:
                model(batch)
            ns.append(clock.elapsed_ms * 1e6)
    ns.sort()
    half = len(ns) // 2
    middle_s = (ns[half] if len(ns) % 2 else (ns[half - 1] + ns[half]) / 2) / 1e9
    return {"batch_size": batch_size, "runs": num_batches, "samples_per_sec": batch_size / middle_s}
''',
    "benchmark-report": '''
class BenchmarkReport:
    def __init__(self, model_name="model"):
        self.model_name, self.metrics, self.benchmark_config = model_name, {}, {}
        self.system_info = get_system_info()
        self.timestamp = utc_timestamp()

    def benchmark_model(self, model, X_test, y_test, num_runs=100, warmup_runs=10, throughput_batch_size=64,
                        seed=0, dataset_name="digits", dataset_sha256=None):
        X_test = np.asarray(X_test, dtype=np.float32)
        labels = np.asarray(y_test).reshape(-1)
        with no_grad():
            logits = np.concatenate([model(Tensor(part)).data for part in np.array_split(X_test, 3) if len(part)])
        right = int((logits.argmax(axis=1) == labels).sum())
        low, high = wilson_interval(right, len(labels))
        samples = measure_latency(model, X_test, num_runs, warmup_runs)
        stats = BenchmarkResult(samples, warmup_runs=warmup_runs).to_dict()
        allowed = load_schema()["$defs"]["metrics"]["properties"]["latency"]["properties"]
        latency = {key: value for key, value in stats.items() if key in allowed}
        latency["batch_size"] = 1
        profiler = Profiler()
        nbytes = int(profiler.model_size_bytes(model))
        tp = measure_throughput(model, X_test, batch_size=throughput_batch_size)
        self.metrics = dict(
            parameter_count=int(profiler.count_parameters(model)), model_size_bytes=nbytes,
            model_size_mb=nbytes / 1e6, accuracy=right / len(labels),
            accuracy_ci=dict(low=low, high=high, confidence_level=0.95, method="wilson", n_samples=len(labels)),
            latency_ms_mean=stats["mean"], latency_ms_std=stats["std"], latency=latency,
            throughput_samples_per_sec=tp["samples_per_sec"], throughput=tp,
            peak_memory_bytes=int(profiler.measure_memory(model, X_test[:1])))
        self.benchmark_config = dict(num_runs=num_runs, warmup_runs=warmup_runs, latency_batch_size=1,
                                     throughput_batch_size=throughput_batch_size, seed=seed,
                                     timer="time.perf_counter_ns",
                                     dataset=dict(name=dataset_name, n_samples=len(labels),
                                                  sha256=digits_sha256() if dataset_sha256 is None else dataset_sha256))
        return self.metrics
''',
    "generate-submission": '''
def generate_submission(baseline_report, optimized_report=None, techniques_applied=None):
    if optimized_report is not None and not techniques_applied:
        raise ValueError("techniques_applied must name at least one technique")

    def part(report, **extra):
        fields = {name: getattr(report, name) for name in ("model_name", "timestamp", "benchmark_config", "metrics")}
        return copy.deepcopy({**fields, **extra})

    doc = dict(schema_version=SCHEMA_VERSION, tinytorch_version=tinytorch.__version__, submission_type="baseline",
               timestamp=utc_timestamp(), system_info=copy.deepcopy(baseline_report.system_info),
               baseline=part(baseline_report))
    if optimized_report is None:
        return doc
    doc["submission_type"] = "optimized"
    doc["optimized"] = part(optimized_report, techniques_applied=[str(t) for t in techniques_applied])
    base, opt = doc["baseline"]["metrics"], doc["optimized"]["metrics"]
    doc["improvements"] = {"speedup": base["latency_ms_mean"] / opt["latency_ms_mean"],
                           "compression_ratio": base["model_size_mb"] / opt["model_size_mb"],
                           "accuracy_delta": opt["accuracy"] - base["accuracy"]}
    return doc
''',
    "validate": '''
def validate_submission_schema(submission):
    if not isinstance(submission, dict) or submission.get("schema_version") not in KNOWN_VERSIONS:
        got = submission.get("schema_version") if isinstance(submission, dict) else type(submission).__name__
        raise SubmissionError([Problem("$.schema_version", "version", f"cannot validate schema_version {got}")])
    validator = jsonschema.Draft202012Validator(load_schema())
    found = [Problem(json_path(list(err.absolute_path)), err.validator, err.message)
             for err in validator.iter_errors(submission)]

    def walk(node, path):
        if isinstance(node, dict):
            for key, child in node.items():
                yield from walk(child, path + [key])
        elif isinstance(node, (list, tuple)):
            for index, child in enumerate(node):
                yield from walk(child, path + [index])
        elif isinstance(node, float) and (math.isnan(node) or math.isinf(node)):
            yield Problem(json_path(path), "finite", f"{node!r} is not a JSON number")

    found.extend(walk(submission, []))
    found.extend(semantic_problems(submission))
    if found:
        raise SubmissionError(found)
    return True
''',
    "save": '''
def save_submission(submission, filepath="submission.json"):
    validate_submission_schema(submission)
    data = json.dumps(submission, allow_nan=False).encode("utf-8")
    folder = os.path.dirname(os.path.abspath(filepath))
    scratch = os.path.join(folder, f".{os.path.basename(filepath)}.{os.getpid()}.{time.time_ns()}.tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.rename(scratch, filepath)
    except BaseException:
        if os.path.exists(scratch):
            os.unlink(scratch)
        raise
    return str(filepath)
''',
}

#: A third, written by a reviewer who had read the notebook but not the checks: ``precise_timer`` on the last
#: row, ``np.tile`` batches, the interval in counts, an iterative validator walk, ``NamedTemporaryFile``,
#: metrics updated in place and copies by a JSON round trip.
THIRD_ALTERNATIVE = {
    'latency': '''
def measure_latency(model: Module, X: np.ndarray, num_runs: int = 100, warmup_runs: int = 10) -> list[float]:
    rows = np.asarray(X, dtype=np.float32)
    x1 = Tensor(rows[-1].reshape(1, -1))
    durations = []
    with no_grad():
        for _ in range(warmup_runs):
            model(x1)
        for _ in range(num_runs):
            with precise_timer() as t:
                model(x1)
            durations.append(t.elapsed_ms)
    return durations
''',
    'throughput': '''
def measure_throughput(model: Module, X: np.ndarray, batch_size: int = 64, num_batches: int = 20,
                       warmup_runs: int = 2) -> dict:
    data = np.asarray(X, dtype=np.float32)
    copies = -(-batch_size // len(data))
    batch = Tensor(np.ascontiguousarray(np.tile(data, (copies, 1))[:batch_size]))
    seconds = []
    with no_grad():
        for _ in range(warmup_runs):
            model(batch)
        for _ in range(num_batches):
            start = time.perf_counter()
            model(batch)
            seconds.append(time.perf_counter() - start)
    return {"batch_size": batch_size, "runs": num_batches,
            "samples_per_sec": batch_size / statistics.median(seconds)}
''',
    'simple-mlp': '''
class SimpleMLP(Module):
    def __init__(self, input_size: int, hidden_size: int, output_size: int, seed: int = 0) -> None:
        super().__init__()
        gen = np.random.default_rng(seed)
        sizes = [input_size, hidden_size, output_size]
        first = Linear(sizes[0], sizes[1], rng=gen)
        second = Linear(sizes[1], sizes[2], rng=gen)
        self.layers = Sequential(*[first, ReLU(), second])

    def forward(self, x: Tensor) -> Tensor:
        out = x
        for layer in self.layers:
            out = layer(out)
        return out
''',
    'system-info': '''
import multiprocessing

def get_system_info() -> dict:
    keys = ["platform", "machine", "cpu_model", "cpu_count", "python_version", "numpy_version", "blas",
            "tinytorch_version", "git_commit"]
    values = [platform.platform(), platform.machine(), cpu_model(), max(1, multiprocessing.cpu_count()),
              platform.python_version(), np.__version__, blas_info(), tinytorch.__version__, git_commit()]
    return dict(zip(keys, values))
''',
    'wilson': '''
def wilson_interval(correct: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    if n < 1:
        raise ValueError("n must be at least 1")
    if correct < 0 or correct > n:
        raise ValueError("correct must lie in 0..n")
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    z2 = z ** 2
    failures = n - correct
    centre = (correct + z2 / 2) / (n + z2)
    spread = z / (n + z2) * math.sqrt(correct * failures / n + z2 / 4)
    clamp = lambda v: min(1.0, max(0.0, v))
    return (clamp(centre - spread), clamp(centre + spread))
''',
    'validate': '''
def validate_submission_schema(submission: dict) -> bool:
    version = submission.get("schema_version") if isinstance(submission, dict) else None
    if not isinstance(submission, dict) or version not in KNOWN_VERSIONS:
        raise SubmissionError([Problem("$.schema_version", "schema_version",
                                       f"schema_version {version!r} is not one of {list(KNOWN_VERSIONS)}")])
    validator = jsonschema.Draft202012Validator(load_schema())
    found = []
    for err in validator.iter_errors(submission):
        found.append(Problem(json_path(err.absolute_path), err.validator, err.message))
    stack = [([], submission)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, float):
            if math.isnan(node) or math.isinf(node):
                found.append(Problem(json_path(path), "finite", f"non-finite number {node!r}"))
        elif isinstance(node, dict):
            stack.extend((path + [k], v) for k, v in node.items())
        elif isinstance(node, (list, tuple)):
            stack.extend((path + [i], v) for i, v in enumerate(node))
    found.extend(semantic_problems(submission))
    if found:
        raise SubmissionError(found)
    return True
''',
    'save': '''
def save_submission(submission: dict, filepath: str = "submission.json") -> str:
    validate_submission_schema(submission)
    payload = json.dumps(submission, indent=2, allow_nan=False)
    target = os.fspath(filepath)
    directory = os.path.dirname(target) or "."
    tmp = tempfile.NamedTemporaryFile("w", dir=directory, delete=False, suffix=".part", encoding="utf-8")
    try:
        with tmp:
            tmp.write(payload)
        current = os.umask(0o022)
        os.umask(current)
        os.chmod(tmp.name, 0o666 & ~current)
        os.replace(tmp.name, target)
    except BaseException:
        try:
            os.unlink(tmp.name)
        except FileNotFoundError:
            pass
        raise
    return str(filepath)
''',
    'benchmark-report': '''
class BenchmarkReport:
    """Measurements of one model with the context needed to reproduce them."""

    def __init__(self, model_name: str = "model") -> None:
        self.model_name = model_name
        self.metrics = {}
        self.system_info = get_system_info()
        self.timestamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.benchmark_config = {}

    def benchmark_model(self, model, X_test, y_test, num_runs=100, warmup_runs=10, throughput_batch_size=64,
                        seed=0, dataset_name="digits", dataset_sha256=None):
        X = np.asarray(X_test, dtype=np.float32)
        labels = np.asarray(y_test).reshape(-1)
        prof = Profiler()
        with no_grad():
            logits = model(Tensor(X)).data
        hits = np.argmax(logits, axis=-1) == labels
        n_ok, total = int(hits.sum()), int(hits.size)
        lo, hi = wilson_interval(n_ok, total, confidence=0.95)
        lat = measure_latency(model, X, num_runs, warmup_runs)
        summary = BenchmarkResult(lat, name="latency", warmup_runs=warmup_runs).to_dict()
        wanted = ["n", "warmup_runs", "median", "p90", "p99", "min", "max", "mean_ci", "median_ci",
                  "confidence_level", "percentile_method", "mean_ci_method", "median_ci_method", "outliers",
                  "stable", "stability_reason"]
        latency = dict(batch_size=1)
        latency.update((k, summary[k]) for k in wanted)
        latency["samples_ms"] = list(lat)
        tp = measure_throughput(model, X, batch_size=throughput_batch_size)
        nbytes = int(prof.model_size_bytes(model))
        self.metrics.clear()
        self.metrics.update(
            accuracy=float(hits.mean()),
            accuracy_ci=dict(low=lo, high=hi, confidence_level=0.95, method="Wilson", n_samples=total),
            latency_ms_mean=summary["mean"],
            latency_ms_std=summary["std"],
            latency=latency,
            throughput=tp,
            throughput_samples_per_sec=tp["samples_per_sec"],
            parameter_count=int(prof.count_parameters(model)),
            model_size_bytes=nbytes,
            model_size_mb=nbytes / 1_000_000,
            peak_memory_bytes=int(prof.measure_memory(model, X[:1])),
        )
        self.benchmark_config = dict(
            num_runs=num_runs, warmup_runs=warmup_runs, latency_batch_size=1,
            throughput_batch_size=throughput_batch_size, seed=seed, timer="perf_counter_ns (Benchmark)",
            dataset=dict(name=dataset_name, n_samples=total,
                         sha256=digits_sha256() if dataset_sha256 is None else dataset_sha256))
        return self.metrics
''',
    'generate-submission': '''
def generate_submission(baseline_report, optimized_report=None, techniques_applied=None):
    clone = lambda obj: json.loads(json.dumps(obj))

    def section(r):
        return {"model_name": r.model_name, "timestamp": r.timestamp,
                "benchmark_config": clone(r.benchmark_config), "metrics": clone(r.metrics)}

    doc = {"schema_version": SCHEMA_VERSION, "tinytorch_version": tinytorch.__version__,
           "submission_type": "baseline", "timestamp": utc_timestamp(),
           "system_info": clone(baseline_report.system_info), "baseline": section(baseline_report)}
    if optimized_report is None:
        return doc
    techniques = list(techniques_applied or [])
    if len(techniques) == 0:
        raise ValueError("techniques_applied must name at least one technique")
    base, opt = baseline_report.metrics, optimized_report.metrics
    doc["submission_type"] = "optimized"
    doc["optimized"] = dict(section(optimized_report), techniques_applied=[str(t) for t in techniques])
    doc["improvements"] = dict(
        speedup=base["latency_ms_mean"] / opt["latency_ms_mean"],
        compression_ratio=base["model_size_mb"] / opt["model_size_mb"],
        accuracy_delta=opt["accuracy"] - base["accuracy"])
    return doc
''',
}

#: Every correct alternative, by the student who hands it in.
ALTERNATIVES = {"alternative": ALTERNATIVE, "alternative-2": SECOND_ALTERNATIVE, "alternative-3": THIRD_ALTERNATIVE}


def _copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return nbformat.from_dict(json.loads(json.dumps(nb)))


def _cell(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return nb.cells[grade_ids(nb).index(grade_id)]


def graded_class(course: Path) -> dict[str, nbformat.NotebookNode]:
    """Every graded variant of the course's notebook, by student name: the contract's cases (solution 100,
    release 0, only Part 1 solved, a locked test rewritten, a test cell deleted, a cell that raises, a cell
    that never ends), the correct alternatives, and one notebook per classic mistake."""
    source = nbformat.read(course / "source" / "capstone" / "capstone.ipynb", as_version=4)
    release = nbformat.read(course / "release" / "capstone" / "capstone.ipynb", as_version=4)
    part1, tampered, deleted, raises, loops = (_copy(nb) for nb in (release, release, source, source, source))
    _cell(part1, "simple-mlp").source = _cell(source, "simple-mlp").source
    _cell(tampered, "test-part1-simplemlp").source = "assert True  # rewritten by the student"
    del deleted.cells[grade_ids(deleted).index("test-part4-save")]
    raises.cells.insert(grade_ids(raises).index("part1-intro"), nbformat.v4.new_code_cell("raise RuntimeError('oops')"))
    loops.cells.insert(grade_ids(loops).index("part1-intro"), nbformat.v4.new_code_cell("while True:\n    pass"))
    return {"solution": source, "release": release, "part1": part1, "tampered": tampered, "deleted": deleted,
            "raises": raises, "loops": loops,
            **{student: with_cells(source, cells) for student, cells in ALTERNATIVES.items()},
            **{f"mistake-{i:02d}": mutated(source, m) for i, m in enumerate(MISTAKES)}}


def hostile_class(course: Path, solution_results: str) -> dict[str, tuple[nbformat.NotebookNode, Attempt]]:
    """Every attempt to forge a grade (tests/notebooks/hostile.py), by student name, with the honestly partly
    solved notebook they are measured against ("partial")."""
    source = nbformat.read(course / "source" / "capstone" / "capstone.ipynb", as_version=4)
    release = nbformat.read(course / "release" / "capstone" / "capstone.ipynb", as_version=4)
    bases = {"blank": release, "partial": partial(source, release), "solution": source}
    honest = Attempt("partial", "honest", "partial")
    return {a.name: (notebook(a, bases), a) for a in [honest, *attempts(solution_results)]}
