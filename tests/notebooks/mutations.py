"""Classic student mistakes, one per notebook: each is an edit of one solution cell of the source.

A mistake is written as the solution's own text with one passage replaced, so that the
catalogue breaks loudly (the passage is not found) rather than silently when the solution
changes. ``cost`` says how serious the mistake is, and so what it may cost: "major" breaks what
the function is for, or fails a visible test the student sees (5 to 20 points); "minor" breaks
one property of it (at most 5).
"""

from __future__ import annotations

from dataclasses import dataclass

import nbformat

from tests.course import grade_ids


@dataclass(frozen=True)
class Mistake:
    name: str
    cell: str          # grade_id of the solution cell it edits
    old: str           # passage of the solution cell ...
    new: str           # ... and what the student wrote instead
    graded_by: str     # the graded cell that should lose points
    cost: str = "minor"


MISTAKES = [
    Mistake("MLP without the ReLU", "simple-mlp", "Linear(input_size, hidden_size, rng=rng), ReLU(),",
            "Linear(input_size, hidden_size, rng=rng),", "test-part1-simplemlp", "major"),
    Mistake("cpu_count as text", "system-info", '"cpu_count": os.cpu_count() or 1,',
            '"cpu_count": str(os.cpu_count()),', "test-part2-system-info"),
    Mistake("Wald interval instead of Wilson", "wilson",
            "    center = (p + z * z / (2 * n)) / denominator\n"
            "    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator",
            "    center = p\n    half = z * math.sqrt(p * (1 - p) / n)", "test-part2-wilson", "major"),
    Mistake("z fixed at 1.96", "wilson", "z = statistics.NormalDist().inv_cdf((1 + confidence) / 2)", "z = 1.96",
            "test-part2-wilson"),
    Mistake("impossible counts accepted", "wilson",
            "    if n < 1 or not 0 <= correct <= n:\n"
            '        raise ValueError(f"need 0 <= correct <= n and n >= 1; got correct={correct}, n={n}")\n', "",
            "test-part2-wilson"),
    Mistake("warm-up calls timed", "latency", "num_runs=num_runs, warmup_runs=warmup_runs,",
            "num_runs=num_runs, warmup_runs=0,", "test-part2-latency", "major"),
    Mistake("latency in seconds", "latency", "return [float(v) for v in result.samples_ms]",
            "return [float(v) / 1000 for v in result.samples_ms]", "test-part2-latency", "major"),
    Mistake("latency of the whole test set", "latency", "x1 = Tensor(np.asarray(X, dtype=np.float32)[:1])",
            "x1 = Tensor(np.asarray(X, dtype=np.float32))", "test-part2-latency", "major"),
    Mistake("throughput as 1000 / latency", "throughput",
            '"samples_per_sec": batch_size / (result.median / 1e3)}', '"samples_per_sec": 1000 / result.median}',
            "test-part2-throughput", "major"),
    Mistake("batch cut from X, not filled", "throughput",
            "batch = Tensor(np.resize(X, (batch_size, X.shape[1])))", "batch = Tensor(X[:batch_size])",
            "test-part2-throughput"),
    Mistake("variance reported as the std", "benchmark-report", '"latency_ms_std": stats["std"],',
            '"latency_ms_std": stats["std"] ** 2,', "test-part2-benchmark-model"),
    Mistake("accuracy as a percentage", "benchmark-report", '"accuracy": correct / scored,',
            '"accuracy": 100 * correct / scored,', "test-part2-benchmark-model", "major"),
    Mistake("megabytes as MiB", "benchmark-report", '"model_size_mb": size_bytes / 1e6,',
            '"model_size_mb": size_bytes / 2**20,', "test-part2-benchmark-model"),
    Mistake("median reported as the mean", "benchmark-report", '"latency": {"batch_size": 1, **latency,',
            '"latency": {"batch_size": 1, **latency, "median": stats["mean"],', "test-part2-benchmark-model"),
    Mistake("BenchmarkResult told no warm-up", "benchmark-report",
            "stats = BenchmarkResult(samples, warmup_runs=warmup_runs).to_dict()",
            "stats = BenchmarkResult(samples).to_dict()", "test-part2-benchmark-model"),
    Mistake("benchmark_model times without warm-up", "benchmark-report",
            "samples = measure_latency(model, X_test, num_runs=num_runs, warmup_runs=warmup_runs)",
            "samples = measure_latency(model, X_test, num_runs=num_runs, warmup_runs=0)",
            "test-part2-benchmark-model"),
    Mistake("speedup inverted", "generate-submission", '"speedup": b["latency_ms_mean"] / o["latency_ms_mean"],',
            '"speedup": o["latency_ms_mean"] / b["latency_ms_mean"],', "test-part3-generate", "major"),
    Mistake("reports not copied", "generate-submission", '"metrics": copy.deepcopy(report.metrics)}',
            '"metrics": report.metrics}', "test-part3-generate"),
    Mistake("improvements in a baseline-only submission", "generate-submission", "    return submission\n",
            '    submission.setdefault("improvements", {"speedup": 1.0, "compression_ratio": 1.0, '
            '"accuracy_delta": 0.0})\n    return submission\n', "test-part3-generate"),
    Mistake("validator without the NaN walk", "validate", "    non_finite(submission, [])\n", "",
            "test-part4-validate"),
    Mistake("validator without the cross-field rules", "validate", "    problems += semantic_problems(submission)\n",
            "", "test-part4-validate", "major"),
    Mistake("validator stops at the first problem", "validate",
            "    problems = [Problem(json_path(e.absolute_path), e.validator, e.message)\n"
            "                for e in jsonschema.Draft202012Validator(load_schema()).iter_errors(submission)]",
            "    problems = [Problem(json_path(e.absolute_path), e.validator, e.message)\n"
            "                for e in jsonschema.Draft202012Validator(load_schema()).iter_errors(submission)][:1]\n"
            "    if problems:\n        raise SubmissionError(problems)", "test-part4-validate"),
    Mistake("validator insists on an optimized model", "validate", "    problems += semantic_problems(submission)\n",
            "    problems += semantic_problems(submission)\n    if \"optimized\" not in submission:\n"
            '        problems.append(Problem("$", "required", "an optimized model is required"))\n',
            "test-part4-validate"),
    Mistake("save writes straight into the target", "save",
            'handle, tmp_path = tempfile.mkstemp(dir=folder, prefix=".submission-", suffix=".tmp")',
            "handle, tmp_path = os.open(filepath, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), filepath",
            "test-part4-save", "major"),
    Mistake("save without validating", "save", "    validate_submission_schema(submission)\n    text = json.dumps",
            "    text = json.dumps", "test-part4-save", "major"),
    Mistake("save leaves its temporary file", "save", "        if os.path.exists(tmp_path):\n"
            "            os.remove(tmp_path)\n", "", "test-part4-save"),
    # Written from notebooks/traceability.toml: one instruction broken each, none of them a mistake a check was
    # first written for.
    Mistake("the seed ignored", "simple-mlp", "rng = np.random.default_rng(seed)", "rng = np.random.default_rng()",
            "test-part1-simplemlp"),
    Mistake("platform as the system's name", "system-info", '"platform": platform.platform(),',
            '"platform": platform.system(),', "test-part2-system-info"),
    Mistake("latency recorded by autograd", "latency",
            "    with no_grad():\n        result = Benchmark(lambda: model(x1), num_runs=num_runs, "
            "warmup_runs=warmup_runs,\n                           name=\"latency at batch 1\").run()",
            "    result = Benchmark(lambda: model(x1), num_runs=num_runs, warmup_runs=warmup_runs,\n"
            "                       name=\"latency at batch 1\").run()", "test-part2-latency"),
    Mistake("latency timed on a zero input", "latency", "x1 = Tensor(np.asarray(X, dtype=np.float32)[:1])",
            "x1 = Tensor(np.zeros((1, np.asarray(X).shape[1]), dtype=np.float32))", "test-part2-latency"),
    Mistake("latency floored to whole milliseconds", "latency", "return [float(v) for v in result.samples_ms]",
            "return [float(v // 1) for v in result.samples_ms]", "test-part2-latency", "major"),
    Mistake("throughput timed once", "throughput", "num_runs=num_batches, warmup_runs=warmup_runs,",
            "num_runs=1, warmup_runs=warmup_runs,", "test-part2-throughput"),
    Mistake("an optimized report without techniques accepted", "generate-submission",
            "        if not techniques_applied:\n            raise ValueError(\"an optimized report needs "
            "techniques_applied: name at least one technique\")\n",
            "        techniques_applied = techniques_applied or [\"unspecified\"]\n", "test-part3-generate"),
    Mistake("the model's name replaced", "generate-submission", '"model_name": report.model_name,',
            '"model_name": "model",', "test-part3-generate"),
    Mistake("results file left private", "save", "        umask = os.umask(0)\n        os.umask(umask)\n"
            "        os.chmod(tmp_path, 0o666 & ~umask)\n", "", "test-part4-save"),
    Mistake("layers kept outside a Sequential", "simple-mlp",
            "        self.layers = Sequential(Linear(input_size, hidden_size, rng=rng), ReLU(),\n"
            "                                 Linear(hidden_size, output_size, rng=rng))",
            "        self.first, self.relu = Linear(input_size, hidden_size, rng=rng), ReLU()\n"
            "        self.second = Linear(hidden_size, output_size, rng=rng)\n"
            "        self.layers = lambda x: self.second(self.relu(self.first(x)))",
            "test-part5-results"),
    # A second batch written from the table, one row each: what a student who read only that row could get wrong.
    Mistake("forward returns probabilities", "simple-mlp", "        return self.layers(x)\n",
            "        from tinytorch.core.activations import softmax\n        return softmax(self.layers(x))\n",
            "test-part1-simplemlp"),
    Mistake("python_version as sys.version", "system-info", '"python_version": platform.python_version(),',
            '"python_version": __import__("sys").version,', "test-part2-system-info"),
    Mistake("blas as text", "system-info", '"blas": blas_info(),', '"blas": str(blas_info()),',
            "test-part2-system-info"),
    Mistake("Wilson ends not kept within [0, 1]", "wilson",
            "return max(0.0, center - half), min(1.0, center + half)", "return center - half, center + half",
            "test-part2-wilson"),
    Mistake("z one-sided", "wilson", "z = statistics.NormalDist().inv_cdf((1 + confidence) / 2)",
            "z = statistics.NormalDist().inv_cdf(confidence)", "test-part2-wilson", "major"),
    Mistake("p by integer division", "wilson", "    p = correct / n\n", "    p = correct // n\n", "test-part2-wilson", "major"),
    Mistake("latency in microseconds", "latency", "return [float(v) for v in result.samples_ms]",
            "return [float(v) * 1000 for v in result.samples_ms]", "test-part2-latency", "major"),
    Mistake("latency on a 1-D row", "latency", "x1 = Tensor(np.asarray(X, dtype=np.float32)[:1])",
            "x1 = Tensor(np.asarray(X, dtype=np.float32)[0])", "test-part2-latency", "major"),
    Mistake("throughput in batches per second", "throughput",
            '"samples_per_sec": batch_size / (result.median / 1e3)}', '"samples_per_sec": 1 / (result.median / 1e3)}',
            "test-part2-throughput", "major"),
    Mistake("throughput's runs is the batch size", "throughput", '"runs": num_batches, "median_batch_ms"', '"runs": batch_size, "median_batch_ms"',
            "test-part2-throughput", "major"),
    Mistake("throughput without its warm-up", "throughput", "num_runs=num_batches, warmup_runs=warmup_runs,",
            "num_runs=num_batches, warmup_runs=0,", "test-part2-throughput"),
    Mistake("parameter count as bytes", "benchmark-report", '"parameter_count": int(profiler.count_parameters(model)),',
            '"parameter_count": int(size_bytes),', "test-part2-benchmark-model"),
    Mistake("size in bytes as the parameter count", "benchmark-report", '"model_size_bytes": int(size_bytes),',
            '"model_size_bytes": int(profiler.count_parameters(model)),', "test-part2-benchmark-model"),
    Mistake("throughput at batch 1", "benchmark-report",
            "throughput = measure_throughput(model, X_test, batch_size=throughput_batch_size)",
            "throughput = measure_throughput(model, X_test, batch_size=1)", "test-part2-benchmark-model"),
    Mistake("the seed not recorded", "benchmark-report", '"throughput_batch_size": throughput_batch_size, "seed": seed,',
            '"throughput_batch_size": throughput_batch_size, "seed": 0,', "test-part2-benchmark-model"),
    Mistake("the dataset's hash always the digits'", "benchmark-report", '"sha256": dataset_sha256 or digits_sha256()},',
            '"sha256": digits_sha256()},', "test-part2-benchmark-model"),
    Mistake("accuracy_ci counts the runs", "benchmark-report", '"n_samples": scored},', '"n_samples": num_runs},',
            "test-part2-benchmark-model"),
    Mistake("accuracy_delta reversed", "generate-submission", '"accuracy_delta": o["accuracy"] - b["accuracy"],',
            '"accuracy_delta": b["accuracy"] - o["accuracy"],', "test-part3-generate", "major"),
    Mistake("compression ratio inverted", "generate-submission",
            '"compression_ratio": b["model_size_mb"] / o["model_size_mb"],',
            '"compression_ratio": o["model_size_mb"] / b["model_size_mb"],', "test-part3-generate", "major"),
    Mistake("speedup from the medians", "generate-submission",
            '"speedup": b["latency_ms_mean"] / o["latency_ms_mean"],',
            '"speedup": b["latency"]["median"] / o["latency"]["median"],', "test-part3-generate"),
    Mistake("submission_type always optimized", "generate-submission",
            '"submission_type": "baseline" if optimized_report is None else "optimized",',
            '"submission_type": "optimized",', "test-part3-generate"),
    Mistake("timestamp as seconds since 1970", "generate-submission", '"timestamp": utc_timestamp(),',
            '"timestamp": str(__import__("time").time()),', "test-part3-generate", "major"),
    Mistake("an unknown version reported with the rest", "validate",
            "    if version not in KNOWN_VERSIONS:\n        raise SubmissionError([Problem(\"$.schema_version\", \"version\",\n"
            "                                       f\"unknown schema_version {version!r}; this validator knows \"\n"
            "                                       f\"{', '.join(KNOWN_VERSIONS)}\")])\n", "", "test-part4-validate"),
    Mistake("the NaN walk skips lists", "validate",
            "children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()",
            "children = value.items() if isinstance(value, dict) else ()", "test-part4-validate"),
    Mistake("validator returns False", "validate", "        raise SubmissionError(problems)\n    return True",
            "        return False\n    return True", "test-part4-validate", "major"),
    Mistake("temporary file in the system's folder", "save",
            'handle, tmp_path = tempfile.mkstemp(dir=folder, prefix=".submission-", suffix=".tmp")',
            'handle, tmp_path = tempfile.mkstemp(prefix=".submission-", suffix=".tmp")', "test-part4-save", "major"),
    Mistake("the report's time written by hand", "benchmark-report", "self.timestamp: str = utc_timestamp()",
            'self.timestamp: str = "2026-01-01T00:00:00Z"', "test-part5-results"),
    # Written by a reviewer who had read the notebook but not the checks.
    Mistake("counts outside 0…n left to the square root", "wilson", "    if n < 1 or not 0 <= correct <= n:\n",
            "    if n < 1:\n", "test-part2-wilson"),
    Mistake("throughput from the mean call", "throughput", '"samples_per_sec": batch_size / (result.median / 1e3)}',
            '"samples_per_sec": batch_size / (result.mean / 1e3)}', "test-part2-throughput"),
    Mistake("peak memory of the whole test set", "benchmark-report",
            '"peak_memory_bytes": int(profiler.measure_memory(model, X_test[:1])),',
            '"peak_memory_bytes": int(profiler.measure_memory(model, X_test)),', "test-part2-benchmark-model"),
    Mistake("save returns nothing", "save", "    return str(filepath)\n", "    return None\n", "test-part4-save", "major"),
    # Written from what the judge observes of the timed region.
    Mistake("garbage collected inside the timed region", "latency", "result = Benchmark(lambda: model(x1),",
            "result = Benchmark(lambda: (__import__('gc').collect(), model(x1))[1],", "test-part2-latency"),
]


def mutated(source_nb, mistake: Mistake):
    """A copy of the solution notebook with ``mistake`` planted in its cell."""
    copy = nbformat.reads(nbformat.writes(source_nb), as_version=4)
    cell = copy.cells[grade_ids(copy).index(mistake.cell)]
    assert cell.source.count(mistake.old) == 1, f"{mistake.name}: the passage is not in {mistake.cell} once"
    cell.source = cell.source.replace(mistake.old, mistake.new)
    return copy
