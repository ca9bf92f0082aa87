"""``tinytorch-olympics``: run the capstone headless, validate submissions, plot them.

``run`` trains the baseline on the bundled digits, applies an optimization stack,
benchmarks both models the same way, writes a validated ``results.json`` with its plots
as PNG files beside it, and prints a summary. ``validate`` checks any number of files
and prints one line per problem (file, JSON path, rule, message); it never shows a
traceback for a bad file. ``plot`` draws the PNG files from any valid results file.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

# jsonschema imports every optional format checker that is installed; rfc3987-syntax
# (pulled in by jupyter-events) compiles a grammar when imported, about 2.5 s, for URI
# formats our schema never uses. This process is ours, so skip it: validate starts in
# well under a second instead of nearly four.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from tinytorch.olympics.schema import (Problem, SubmissionError, json_path, printable,  # noqa: E402
                                       submission_problems)
from tinytorch.olympics.stack import DEFAULT_STACK  # noqa: E402

__all__ = ["main", "load_submission_file", "check_file", "MAX_FILE_BYTES"]

MAX_FILE_BYTES = 5_000_000   # a real submission is ~10 kB; refuse anything absurd before parsing it
_LINE_CHARS = 500            # a message quoting a huge value is cut here


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (JSON has no NaN or Infinity)")


class _JSONObject(dict):
    """A parsed JSON object that remembers the keys it held more than once (the last value wins in a dict)."""

    duplicates: list[str]


def _object(pairs: list[tuple[str, Any]]) -> _JSONObject:
    obj = _JSONObject(pairs)
    seen: set[str] = set()
    obj.duplicates = [key for key, _ in pairs if key in seen or seen.add(key)]
    return obj


def _duplicate_keys(document: Any) -> list[Problem]:
    """A problem for every key that appears twice in one object: which value counts would be a guess."""
    problems, pending = [], [(document, [])]
    while pending:
        value, path = pending.pop()
        if isinstance(value, _JSONObject):
            problems += [Problem(json_path([*path, key]), "duplicate-key",
                                 f"the key {printable(key)!r} appears more than once in this object")
                         for key in dict.fromkeys(value.duplicates)]
        members = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        pending.extend((member, [*path, key]) for key, member in members)
    return problems


class _Refused(Exception):
    """A file that is not read at all: ``problem`` says why."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.problem = Problem("$", rule, message)


def _read_regular_file(path: str) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most MAX_FILE_BYTES; _Refused says why not.

    Opened without blocking and checked with fstat before reading, so a FIFO cannot hang the
    reader and a device such as /dev/zero (size 0 to stat) cannot fill memory; the limit is
    also enforced while reading, for a file that grows.
    """
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode) \
                else "a device or socket"
            raise _Refused("readable", f"the file is {kind}, not a regular file")
        chunks, size = [], 0
        while chunk := os.read(descriptor, 1 << 20):
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise _Refused("size", f"the file is more than {MAX_FILE_BYTES:,} bytes; "
                                       f"a submission is at most {MAX_FILE_BYTES:,}")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def load_submission_file(path: str) -> tuple[Optional[Any], list[Problem]]:
    """Read and parse ``path``; returns (document or None, problems found while reading)."""
    try:
        data = _read_regular_file(path)
    except _Refused as refused:
        return None, [refused.problem]
    except (OSError, ValueError) as exc:  # ValueError: a name no file can have (an embedded NUL)
        return None, [Problem("$", "readable", f"cannot read the file: {getattr(exc, 'strerror', None) or exc}")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem("$", "encoding", f"not UTF-8 text (byte {exc.start})")]
    try:
        document = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_object)
    except json.JSONDecodeError as exc:
        return None, [Problem("$", "json", f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")]
    except (ValueError, RecursionError) as exc:
        return None, [Problem("$", "json", str(exc) if isinstance(exc, ValueError) else "nested too deeply")]
    return document, _duplicate_keys(document)


def check_file(path: str) -> tuple[Optional[Any], list[Problem]]:
    """Read ``path`` and check it as a submission; returns (document or None, every problem found).

    Every input gets a verdict: should a check itself fail on a document nobody foresaw,
    that is reported as a problem of this file, and the next file is still checked.
    """
    try:
        document, problems = load_submission_file(path)
        if document is None:
            return None, problems
        return document, problems + submission_problems(document)
    except Exception as exc:  # a bug of the validator must not hide the other files' verdicts
        return None, [Problem("$", "internal", f"the validator failed on this file ({type(exc).__name__}: "
                                               f"{printable(str(exc))[:200]}); please report it")]


def _line(path: str, problem: Problem) -> str:
    """One printed line per problem: file, JSON path, rule, message; escaped, and cut where a value is huge."""
    text = printable(f"{path}: {problem}")
    return text if len(text) <= _LINE_CHARS else text[:_LINE_CHARS - 1] + "…"


def _validate(paths: Sequence[str]) -> int:
    failed = 0
    for path in paths:
        _, problems = check_file(path)
        for problem in problems:
            print(_line(path, problem))
        if problems:
            failed += 1
        else:
            print(f"{printable(path)}: valid")
    if len(paths) > 1:
        print(f"{len(paths) - failed} of {len(paths)} files valid")
    return 1 if failed else 0


def _write_plots(doc: dict, results_path: str, folder: Optional[str] = None) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    from tinytorch.olympics.plots import save_figures

    stem = os.path.splitext(os.path.basename(results_path))[0]
    return save_figures(doc, folder or os.path.dirname(os.path.abspath(results_path)), prefix=stem)


def _plot(path: str, folder: Optional[str]) -> int:
    document, problems = check_file(path)
    if problems:
        for problem in problems:
            print(_line(path, problem))
        print(f"{printable(path)}: not plotted: the file is not a valid submission", file=sys.stderr)
        return 1
    if folder and not os.path.isdir(folder):
        print(f"tinytorch-olympics plot: {printable(folder)} is not a directory", file=sys.stderr)
        return 2
    for written in _write_plots(document, path, folder):
        print(f"wrote {printable(written)}")
    return 0


def _row(name: str, m: dict) -> str:
    lat = m["latency"]
    return (f"{name:<10} {m['accuracy']:>8.4f} {lat['median'] * 1e3:>9.1f} "
            f"[{lat['median_ci'][0] * 1e3:.1f}, {lat['median_ci'][1] * 1e3:.1f}]".ljust(45)
            + f"{lat['p99'] * 1e3:>8.1f} {m['throughput_samples_per_sec']:>12,.0f} {m['model_size_bytes']:>10,}")


def _run(args: argparse.Namespace) -> int:
    from tinytorch.core.training import accuracy, fit
    from tinytorch.datasets import load_digits
    from tinytorch.olympics import reference
    from tinytorch.olympics.stack import apply_stack, parse_stack

    try:
        solution = reference()
    except ImportError as exc:
        print(f"tinytorch-olympics run: {exc}, which run needs; run Part 5 of capstone.ipynb to write "
              "results.json with your own code, then check it with: tinytorch-olympics validate results.json",
              file=sys.stderr)
        return 2
    BenchmarkReport, SimpleMLP = solution.BenchmarkReport, solution.SimpleMLP
    generate_submission, save_submission = solution.generate_submission, solution.save_submission

    try:
        steps = parse_stack(args.stack)
    except ValueError as exc:
        print(f"tinytorch-olympics run: {exc}", file=sys.stderr)
        return 2
    data = load_digits()
    print(f"[1/4] training SimpleMLP(64, {args.hidden_size}, 10) on digits "
          f"({len(data.y_train)} train / {len(data.y_test)} test images, seed {args.seed})")
    model = SimpleMLP(64, args.hidden_size, 10, seed=args.seed)
    fit(model, data.X_train, data.y_train, epochs=args.epochs, seed=args.seed, progress=not args.quiet)
    print(f"      test accuracy {accuracy(model, data.X_test, data.y_test):.4f}")
    print(f"[2/4] benchmarking the baseline: {args.runs} runs at batch 1 after {args.warmup} warmup runs, "
          f"throughput at batch {args.batch_size}")
    settings = dict(num_runs=args.runs, warmup_runs=args.warmup, throughput_batch_size=args.batch_size, seed=args.seed)
    baseline = BenchmarkReport(model_name=f"simple_mlp_64_{args.hidden_size}_10")
    baseline.benchmark_model(model, data.X_test, data.y_test, **settings)
    optimized = None
    techniques: list[str] = []
    if steps:
        try:
            optimized_model, techniques = apply_stack(model, steps)
        except (ValueError, TypeError) as exc:
            print(f"tinytorch-olympics run: the stack {args.stack!r} cannot be applied: {exc}", file=sys.stderr)
            return 2
        print(f"[3/4] benchmarking the optimized model: {' -> '.join(techniques)}")
        optimized = BenchmarkReport(model_name="simple_mlp_" + "_".join(name.split("(")[0] for name in techniques))
        optimized.benchmark_model(optimized_model, data.X_test, data.y_test, **settings)
    else:
        print("[3/4] empty stack: submitting the baseline only")
    submission = generate_submission(baseline, optimized, techniques or None)
    try:
        path = save_submission(submission, args.output)
    except (SubmissionError, OSError) as exc:
        print(f"tinytorch-olympics run: results not written: {exc}", file=sys.stderr)
        return 1
    plots = _write_plots(submission, path)
    print(f"[4/4] wrote {path} (validated against schema {submission['schema_version']}) "
          f"and {len(plots)} plots: {', '.join(os.path.basename(p) for p in plots)}\n")
    print(f"{'model':<10} {'accuracy':>8} {'p50 us':>9} {'95% CI':<24} {'p99 us':>8} {'samples/s':>12} {'bytes':>10}")
    print(_row("baseline", baseline.metrics))
    if optimized is not None:
        print(_row("optimized", optimized.metrics))
        imp = submission["improvements"]
        print(f"\nspeedup {imp['speedup']:.2f}x (mean latency), compression {imp['compression_ratio']:.2f}x, "
              f"accuracy delta {imp['accuracy_delta']:+.4f}")
    for name, report in (("baseline", baseline), ("optimized", optimized)):
        if report is not None and not report.metrics["latency"]["stable"]:
            print(f"note: {name} latency is noisy ({report.metrics['latency']['stability_reason']}); "
                  "compare medians with their confidence intervals")
    return 0


def _int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number no smaller than ``minimum``, refused with a message that says so."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {printable(text)!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def _output_path(text: str) -> str:
    """Where ``run`` writes, checked before anything is measured: a folder means results.json inside it."""
    path = Path(text)
    if path.is_dir():
        path = path / "results.json"
    folder = path.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {printable(str(folder))} does not exist")
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write into the folder {printable(str(folder))}")
    if path.exists() and not path.is_file():
        raise argparse.ArgumentTypeError(f"{printable(str(path))} exists and is not a regular file")
    return str(path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    # Whatever a file name or a message holds, printing it must not fail on a narrow terminal encoding.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = argparse.ArgumentParser(prog="tinytorch-olympics", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="train, optimize, benchmark and write results.json")
    run.add_argument("--output", "-o", type=_output_path, default="results.json",
                     help="file to write, or a folder to write results.json into (default: results.json)")
    run.add_argument("--runs", type=_int_at_least(6), default=200,
                     help="timed latency runs per model, at least 6: a 95%% interval of the median needs 6 (default 200)")
    run.add_argument("--warmup", type=_int_at_least(0), default=20, help="untimed warmup runs (default 20)")
    run.add_argument("--batch-size", type=_int_at_least(1), default=64, help="throughput batch size (default 64)")
    run.add_argument("--stack", default=DEFAULT_STACK,
                     help=f"optimizations in order, e.g. 'prune:0.4,quantize,fuse' or '' (default {DEFAULT_STACK})")
    run.add_argument("--hidden-size", type=_int_at_least(1), default=128)
    run.add_argument("--epochs", type=_int_at_least(1), default=30)
    run.add_argument("--seed", type=_int_at_least(0), default=0)
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    check = sub.add_parser("validate", help="check submissions; one line per problem")
    check.add_argument("files", nargs="+")
    draw = sub.add_parser("plot", help="draw the plots of a valid results file as PNG")
    draw.add_argument("file")
    draw.add_argument("--out", help="folder for the PNG files (default: beside the file)")
    args = parser.parse_args(argv)
    if args.command == "validate":
        return _validate(args.files)
    if args.command == "plot":
        return _plot(args.file, args.out)
    return _run(args)


if __name__ == "__main__":
    raise SystemExit(main())
