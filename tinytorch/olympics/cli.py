"""``tinytorch-olympics``: run the capstone headless, validate, plot and compare submissions.

``run`` trains the baseline on the bundled digits, applies an optimization stack,
benchmarks both models the same way, writes a validated ``results.json`` with its plots
as PNG files beside it, and prints a summary. ``validate`` checks any number of files
and prints one line per problem (file, JSON path, rule, message); it never shows a
traceback for a bad file. ``plot`` draws the PNG files from any valid results file.
``compare OLD NEW`` says, metric by metric, whether NEW is significantly worse, better or
the same, and exits 1 on a regression: a check for CI. NEW may be a folder of results.
``leaderboard PATH...`` ranks a class's valid submissions in five events, with ties where
intervals overlap, and writes an HTML page, a CSV and a PNG. ``log FILE... --tracking-uri URI``
records valid results in MLflow (the optional ``mlflow`` extra).

The shape is pyperf's: ``create_parser()`` builds the whole command line, each
subcommand is one ``cmd_*`` function found through ``COMMANDS``, values are checked by
argparse types before anything runs, files are read by one ``load_and_check``, and the
``format_*`` functions return lines, so what is printed can be tested without a terminal.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

# jsonschema imports every optional format checker that is installed; rfc3987-syntax
# (pulled in by jupyter-events) compiles a grammar when imported, about 2.5 s, for URI
# formats our schema never uses. This process is ours, so skip it: validate starts in
# well under a second instead of nearly four.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from tinytorch.argtypes import float_in, int_at_least  # noqa: E402
from tinytorch.core.activations import ReLU  # noqa: E402
from tinytorch.core.deprecation import warn_renamed  # noqa: E402
from tinytorch.core.layers import Linear, Sequential  # noqa: E402
from tinytorch.olympics import files  # noqa: E402
from tinytorch.olympics.compare import (  # noqa: E402
    METRICS,
    Change,
    added_models,
    compare_documents,
    missing_models,
    regressions,
    system_differences,
)
from tinytorch.olympics.files import load_and_check, results_in  # noqa: E402
from tinytorch.olympics.leaderboard import Rules, collect, rank  # noqa: E402
from tinytorch.olympics.leaderboard_page import format_leaderboard, write_leaderboard  # noqa: E402
from tinytorch.olympics.output import OutputError  # noqa: E402
from tinytorch.olympics.schema import Problem, SubmissionError, printable, submission_problems  # noqa: E402
from tinytorch.olympics.speedup import measure_median_speedup  # noqa: E402
from tinytorch.olympics.stack import DEFAULT_STACK, Step, apply_stack, parse_stack  # noqa: E402

__all__ = ["main", "create_parser", "COMMANDS", "cmd_run", "cmd_validate", "cmd_plot", "cmd_compare",
           "cmd_leaderboard", "cmd_log", "format_problems", "format_results", "format_changes"]

_LINE_CHARS = 500            # a message quoting a huge value is cut here


# ------------------------------------------------------------------ formatting
def cut(text: str) -> str:
    """``text`` on one line (escapes made visible) and at most _LINE_CHARS long: how every line is printed.

    Cut in the middle, so that both the file a line names and the verdict that ends it stay.
    """
    text = printable(text)
    half = _LINE_CHARS // 2
    return text if len(text) <= _LINE_CHARS else text[:half - 1] + "…" + text[-half:]


def format_problems(path: str, problems: Sequence[Problem]) -> list[str]:
    """One line per problem (file, JSON path, rule, message), escaped and cut where a value is huge;
    ``path: valid`` when there is none."""
    if not problems:
        return [cut(f"{path}: valid")]
    return [cut(f"{path}: {problem}") for problem in problems]


def _row(name: str, m: dict[str, Any]) -> str:
    lat = m["latency"]
    return (f"{name:<10} {m['accuracy']:>8.4f} {lat['median'] * 1e3:>9.1f} "
            f"[{lat['median_ci'][0] * 1e3:.1f}, {lat['median_ci'][1] * 1e3:.1f}]".ljust(45)
            + f"{lat['p99'] * 1e3:>8.1f} {m['throughput_samples_per_sec']:>12,.0f} {m['model_size_bytes']:>10,}")


def format_results(submission: dict[str, Any]) -> list[str]:
    """The summary table of a results document: one row per model, the improvements, and any noisy latency."""
    lines = [f"{'model':<10} {'accuracy':>8} {'p50 us':>9} {'95% CI':<24} {'p99 us':>8} {'samples/s':>12} "
             f"{'bytes':>10}"]
    models = [name for name in ("baseline", "optimized") if name in submission]
    lines += [_row(name, submission[name]["metrics"]) for name in models]
    if "improvements" in submission:
        imp = submission["improvements"]
        lines.append("")
        if "median_speedup" in imp:
            robust = imp["median_speedup"]
            low, high = robust["ci"]
            lines.append(f"median speedup {robust['ratio']:.2f}x, 95% CI [{low:.2f}, {high:.2f}]: {robust['verdict']} "
                         f"(both models taking turns, {robust['rounds']} rounds of {robust['runs_per_round']} calls)")
        lines.append(f"mean-latency speedup {imp['speedup']:.2f}x (swings with outliers), compression "
                     f"{imp['compression_ratio']:.2f}x, accuracy delta {imp['accuracy_delta']:+.4f}")
    for name in models:
        latency = submission[name]["metrics"]["latency"]
        if not latency["stable"]:
            lines.append(f"note: {name} latency is noisy ({latency['stability_reason']}); "
                         "compare medians with their confidence intervals")
    return lines


_UNITS = {"latency": ("µs", 1e3, "{:.1f}"), "accuracy": ("", 1.0, "{:.4f}"), "size": ("B", 1.0, "{:,.0f}")}


def format_changes(changes: Sequence[Change]) -> list[str]:
    """One row per model and metric: old, new, ratio new/old and the verdict (with p where a test ran)."""
    lines = [f"{'model':<10} {'metric':<9} {'old':>14} {'new':>14} {'new/old':>8}  verdict"]
    for c in changes:
        unit, scale, number = _UNITS[c.metric]
        old, new = (number.format(v * scale) + (f" {unit}" if unit else "") for v in (c.old, c.new))
        p = f" (p = {c.p_value:.2g})" if c.p_value is not None else ""
        lines.append(f"{c.model:<10} {c.metric:<9} {old:>14} {new:>14} {c.ratio:>7.3f}x  {c.verdict}{p}")
    return lines


def _print(lines: Sequence[str], stream: Any = None) -> None:
    for line in lines:
        print(cut(line), file=stream or sys.stdout)


def _fail(command: str, message: str) -> None:
    print(cut(f"tinytorch-olympics {command}: {message}"), file=sys.stderr)


# ------------------------------------------------------------------ commands
def cmd_validate(args: argparse.Namespace) -> int:
    """Every file gets its verdict; exit 1 if any is invalid."""
    failed = 0
    for path in args.files:
        _, problems = load_and_check(path)
        _print(format_problems(path, problems))
        failed += bool(problems)
    if len(args.files) > 1:
        print(f"{len(args.files) - failed} of {len(args.files)} files valid")
    return 1 if failed else 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Exit 1 if any NEW file got significantly worse in a ``--fail-on`` metric or lost a model OLD has;
    2 if a file is invalid."""
    old, problems = load_and_check(args.old)
    if old is None or problems:
        _print(format_problems(args.old, problems))
        return 2
    news = list(results_in(args.new))
    if not news:
        _fail("compare", f"no results file (*.json) in {args.new}")
        return 2
    invalid = regressed = 0
    for found in news:
        new = found.document
        _print([f"{found.path} against {args.old}:"])
        if new is None or found.problems:
            _print(format_problems(found.path, found.problems))
            invalid += 1
            continue
        differences = system_differences(old, new)
        if differences:
            _print(["warning: the two files come from different systems or test sets, so their figures are not "
                    "comparable: "
                    + "; ".join(differences)])
        changes = compare_documents(old, new, args.min_effect)
        _print(format_changes(changes))
        lost = missing_models(old, new)
        _print([f"{model}: in {args.old}, missing from {found.path}: nothing to compare" for model in lost]
               + [f"{model}: only in {found.path}, not in {args.old}: nothing to compare it with"
                  for model in added_models(old, new)])
        worse = [f"{c.model} {c.metric}" for c in regressions(changes, args.fail_on)] + [f"{m} missing" for m in lost]
        regressed += bool(worse)
        _print([f"regression in {', '.join(worse)}" if worse
                else f"no significant regression in {', '.join(args.fail_on)}"])
    if len(news) > 1:
        print(f"{regressed} of {len(news)} files regressed; {invalid} invalid")
    return 2 if invalid else 1 if regressed else 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    """Rank every valid submission; list the invalid ones. Exit 1 only when nothing could be ranked."""
    rules = Rules(args.min_accuracy, args.min_accuracy_extreme)
    entries, invalid = collect(args.paths)
    events = rank(entries, rules)
    _print(format_leaderboard(events, invalid, rules, args.top))
    if args.out:
        try:
            _print([f"wrote {p}" for p in write_leaderboard(args.out, entries, events, invalid, rules)])
        except OutputError as exc:
            _fail("leaderboard", f"nothing written: {exc}")
            return 2
    print(f"{len(entries)} ranked, {len(invalid)} invalid")
    return 0 if entries else 1


def cmd_log(args: argparse.Namespace) -> int:
    """Log each valid file to MLflow; an invalid one, or one MLflow fails on, is listed and not logged (exit 2).
    The store is opened only when some file is valid; one that cannot be opened is one line, and nothing is
    tried after it."""
    from tinytorch.olympics.tracking import TrackingError, limited_http, log_submission, open_experiment

    valid = []
    for path in args.files:
        document, problems = load_and_check(path)
        if document is None or problems:
            _print(format_problems(path, problems))
        else:
            valid.append((path, document))
    invalid = len(args.files) - len(valid)
    if not valid:
        return 2
    limited_http()   # this process is ours: bounded retries and a timeout, never a hang
    try:
        opened = open_experiment(args.tracking_uri, args.experiment)
    except (ImportError, TrackingError) as exc:
        _fail("log", f"nothing logged: {exc}")
        return 2
    for path, document in valid:
        try:
            run_id = log_submission(document, path, args.tracking_uri, args.experiment, opened=opened)
        except TrackingError as exc:
            _print([f"{path}: not logged: {exc}"])
            invalid += 1
            continue
        _print([f"{path}: logged as run {run_id} in experiment '{args.experiment}' at {args.tracking_uri}"])
    return 2 if invalid else 0


def _write_plots(doc: dict[str, Any], results_path: str, folder: Optional[str] = None) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    from tinytorch.olympics.plots import save_figures

    stem = os.path.splitext(os.path.basename(results_path))[0]
    return save_figures(doc, folder or os.path.dirname(os.path.abspath(results_path)), prefix=stem)


def _through_a_link(folder: str) -> bool:
    """Whether some folder on the way to ``folder`` is a link (a student may plant one to send writes away)."""
    return os.path.realpath(folder) != os.path.normpath(folder)


def cmd_plot(args: argparse.Namespace) -> int:
    """The PNG files of one valid results file; an invalid one is listed and not drawn (exit 1); nothing
    written (exit 2) where the output cannot be, or would land through a link."""
    document: Any = None
    if os.path.islink(args.file):
        problems = [Problem("$", "readable", "a link, which is not followed: plot the file it points to")]
    elif args.out is None and _through_a_link(os.path.dirname(os.path.abspath(args.file))):
        _fail("plot", f"not plotted beside {args.file}: its folder is reached through a link, so the plots "
                      "would land elsewhere; give --out")
        return 2
    else:
        document, problems = load_and_check(args.file)
    if problems or document is None:
        _print(format_problems(args.file, problems))
        _print([f"{args.file}: not plotted: the file is not a valid submission"], sys.stderr)
        return 1
    try:
        _print([f"wrote {written}" for written in _write_plots(document, args.file, args.out)])
    except OutputError as exc:
        _fail("plot", f"nothing written: {exc}")
        return 2
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Train, optimize, benchmark, write and summarize; exit 2 where the edition or the stack cannot run."""
    from tinytorch.core.training import accuracy, fit
    from tinytorch.datasets import load_digits
    from tinytorch.olympics import reference

    try:
        solution = reference()
    except ImportError as exc:
        print(f"tinytorch-olympics run: {exc}, which run needs; run Part 5 of capstone.ipynb to write "
              "results.json with your own code, then check it with: tinytorch-olympics validate results.json",
              file=sys.stderr)
        return 2
    BenchmarkReport, SimpleMLP = solution.BenchmarkReport, solution.SimpleMLP
    generate_submission, save_submission = solution.generate_submission, solution.save_submission

    steps: list[Step] = args.stack
    data = load_digits()
    print(f"[1/4] training SimpleMLP(64, {args.hidden_size}, 10) on digits "
          f"({len(data.y_train)} train / {len(data.y_test)} test images, seed {args.seed})")
    model = SimpleMLP(64, args.hidden_size, 10, seed=args.seed)
    fit(model, data.X_train, data.y_train, epochs=args.epochs, seed=args.seed, progress=not args.quiet)
    print(f"      test accuracy {accuracy(model, data.X_test, data.y_test):.4f}")
    print(f"[2/4] benchmarking the baseline: {args.num_runs} runs at batch 1 after {args.warmup_runs} warmup runs, "
          f"throughput at batch {args.batch_size}")
    settings = dict(num_runs=args.num_runs, warmup_runs=args.warmup_runs, throughput_batch_size=args.batch_size,
                    seed=args.seed)
    baseline = BenchmarkReport(model_name=f"simple_mlp_64_{args.hidden_size}_10")
    baseline.benchmark_model(model, data.X_test, data.y_test, **settings)
    optimized = None
    techniques: list[str] = []
    if steps:
        try:
            optimized_model, techniques = apply_stack(model, steps)
        except (ValueError, TypeError) as exc:
            print(f"tinytorch-olympics run: the stack cannot be applied: {exc}", file=sys.stderr)
            return 2
        print(f"[3/4] benchmarking the optimized model: {' -> '.join(techniques)}; then both, taking turns")
        optimized = BenchmarkReport(model_name="simple_mlp_" + "_".join(name.split("(")[0] for name in techniques))
        optimized.benchmark_model(optimized_model, data.X_test, data.y_test, **settings)
    else:
        print("[3/4] empty stack: submitting the baseline only")
    submission = generate_submission(baseline, optimized, techniques or None)
    if optimized is not None:
        submission["improvements"]["median_speedup"] = measure_median_speedup(model, optimized_model, data.X_test)
    problems = submission_problems(submission)   # the one validator `validate` and the grader use
    if problems:
        print("tinytorch-olympics run: results not written, the validator refuses them:\n"
              + "\n".join(f"  {p}" for p in problems[:20]), file=sys.stderr)
        return 1
    try:
        path = save_submission(submission, args.output)
    except (SubmissionError, OSError) as exc:
        print(f"tinytorch-olympics run: results not written: {exc}", file=sys.stderr)
        return 1
    try:
        plots = _write_plots(submission, path)
    except OutputError as exc:
        _fail("run", f"{path} written, its plots not: {exc}")
        return 1
    print(f"[4/4] wrote {path} (validated against schema {submission['schema_version']}) "
          f"and {len(plots)} plots: {', '.join(os.path.basename(p) for p in plots)}\n")
    _print(format_results(submission))
    return 0


# ------------------------------------------------------------------ argument types
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


def _directory(text: str) -> str:
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{printable(text)} is not a directory")
    return text


def _experiment(text: str) -> str:
    """An MLflow experiment's name: printable, not blank, and short enough to show."""
    if not text.strip() or printable(text) != text or len(text) > 200:
        raise argparse.ArgumentTypeError("an experiment name is 1 to 200 printable characters, not only spaces; "
                                         f"got {cut(repr(text))}")
    return text


def _stack(text: str) -> list[Step]:
    """The parsed stack, tried on a small MLP first: an order that cannot work is refused
    before training and measuring, not minutes later."""
    try:
        steps = parse_stack(text)
        apply_stack(Sequential(Linear(4, 4), ReLU(), Linear(4, 2)), steps)
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return steps


def _metrics(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in METRICS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown metric {', '.join(map(repr, unknown)) or '(none given)'}; "
                                         f"known: {', '.join(METRICS)}")
    return names


class _Store(argparse.Action):
    """Store the value; an option spelt with a renamed flag also warns, on stderr, with the new flag."""

    renamed = {"--runs": "--num-runs", "--warmup": "--warmup-runs"}

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: Optional[str] = None) -> None:
        if option_string in self.renamed:
            print(f"{parser.prog}: warning: {option_string} is renamed {self.renamed[option_string]}",
                  file=sys.stderr)
        setattr(namespace, self.dest, values)


def create_parser() -> argparse.ArgumentParser:
    """The whole command line: every subcommand, option, default and check."""
    parser = argparse.ArgumentParser(prog="tinytorch-olympics", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="train, optimize, benchmark and write results.json")
    run.add_argument("--output", "-o", type=_output_path, default="results.json",
                     help="file to write, or a folder to write results.json into (default: results.json)")
    run.add_argument("--num-runs", "--runs", dest="num_runs", action=_Store, type=int_at_least(6), default=200,
                     help="timed latency runs per model, at least 6: a 95%% interval of the median needs 6 "
                          "(default 200)")
    run.add_argument("--warmup-runs", "--warmup", dest="warmup_runs", action=_Store, type=int_at_least(0),
                     default=20, help="untimed warmup runs before the timed ones (default 20)")
    run.add_argument("--batch-size", type=int_at_least(1), default=64, help="throughput batch size (default 64)")
    run.add_argument("--stack", type=_stack, default=DEFAULT_STACK,
                     help=f"optimizations in order, e.g. 'prune:0.4,quantize,fuse' or '' (default {DEFAULT_STACK})")
    run.add_argument("--hidden-size", type=int_at_least(1), default=128)
    run.add_argument("--epochs", type=int_at_least(1), default=30)
    run.add_argument("--seed", type=int_at_least(0), default=0)
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    check = sub.add_parser("validate", help="check submissions; one line per problem")
    check.add_argument("files", nargs="+")
    draw = sub.add_parser("plot", help="draw the plots of a valid results file as PNG")
    draw.add_argument("file")
    draw.add_argument("--out", type=_directory, help="folder for the PNG files (default: beside the file)")
    diff = sub.add_parser("compare", help="is NEW significantly worse than OLD? exit 1 on a regression")
    diff.add_argument("old", help="the reference results file")
    diff.add_argument("new", help="a results file, or a folder whose *.json files are each compared with OLD")
    diff.add_argument("--fail-on", type=_metrics, default=METRICS,
                      help=f"metrics whose significant worsening fails (default {','.join(METRICS)})")
    factor = float_in(1.0, sys.float_info.max, "a finite factor of at least 1")
    diff.add_argument("--min-effect", type=factor, default=1.1,
                      help="smallest factor that counts as a change, as in asv (default 1.1)")
    board = sub.add_parser("leaderboard", help="rank a class's submissions in five events; HTML, CSV, PNG")
    board.add_argument("paths", nargs="+",
                       help="results files, or folders of them (an nbgrader autograded/ tree: one per student)")
    board.add_argument("--out", type=_directory, help="folder for leaderboard.html, .csv and _tradeoff.png")
    fraction = float_in(0.0, 1.0, "a fraction in [0, 1]")
    board.add_argument("--min-accuracy", type=fraction, default=Rules.min_accuracy,
                       help=f"accuracy needed to enter the speed and size events (default {Rules.min_accuracy})")
    board.add_argument("--min-accuracy-extreme", type=fraction, default=Rules.min_accuracy_extreme,
                       help=f"accuracy needed for Extreme Push (default {Rules.min_accuracy_extreme})")
    board.add_argument("--top", type=int_at_least(1), default=10, help="places shown per event (default 10)")
    track = sub.add_parser("log", help="record results files in MLflow (pip install 'tinytorch[mlflow]')")
    track.add_argument("files", nargs="+")
    track.add_argument("--tracking-uri", required=True, help="e.g. sqlite:///mlflow.db or http://host:5000")
    track.add_argument("--experiment", type=_experiment, default="tinytorch-olympics",
                       help="default: tinytorch-olympics")
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run,
    "validate": cmd_validate,
    "plot": cmd_plot,
    "compare": cmd_compare,
    "leaderboard": cmd_leaderboard,
    "log": cmd_log,
}


def main(argv: Optional[Sequence[str]] = None) -> int:
    # Whatever a file name or a message holds, printing it must not fail on a narrow terminal encoding.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = create_parser().parse_args(argv)
    return COMMANDS[args.command](args)


_MOVED = {"check_file": "load_and_check", "load_submission_file": "load_submission_file",
          "MAX_FILE_BYTES": "MAX_FILE_BYTES"}


def __getattr__(name: str) -> Any:
    """Names that reading a file had here before it became ``tinytorch.olympics.files``."""
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warn_renamed(f"tinytorch.olympics.cli.{name}", f"tinytorch.olympics.files.{_MOVED[name]}")
    return getattr(files, _MOVED[name])


if __name__ == "__main__":
    raise SystemExit(main())
