"""`tinytorch-olympics validate` on the shipped examples and on hostile files: verdict, time, no traceback.

Each file is validated in its own process, as a user would run it, and timed against the
same command on a valid example in the same run (the ratio is what is stable on a shared
machine; the absolute time says whether a hostile file costs more than an honest one).
`/dev/zero` is read under an address-space limit, so a reader that tried to hold it would
fail rather than fill the machine.

Then the class commands (validate, plot, compare, leaderboard, log) on the largest file the
schema allows (every array of samples at its ``maxItems``, every string at its ``maxLength``,
under the 5 MB a file may take), each as a ratio to the same command on a typical file, run
side by side. Run: python benchmarks/hostile_files.py
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "schemas" / "examples"
MEMORY_LIMIT = 1 << 30   # 1 GiB of address space for the /dev/zero run
REPEATS = 3


def hostile_files(folder: Path) -> list[tuple[str, list[str]]]:
    """(label, command prefix + path) for each hostile input; files are written into ``folder``."""
    valid = json.loads((EXAMPLES / "valid" / "optimized.json").read_text())
    text = json.dumps(valid)
    made = {
        "400-digit integer": text.replace(f'"model_size_bytes": {valid["baseline"]["metrics"]["model_size_bytes"]}',
                                          '"model_size_bytes": ' + "9" * 400, 1),
        "surrogate key": json.dumps({**valid, "\ud800": 1}),
        "newline key": json.dumps({**valid, "x\nresults.json: valid": 1}),
        "duplicate key": text.replace('"accuracy": ', '"accuracy": 0.1, "accuracy": ', 1),
        "misspelt key": text.replace('"samples_ms"', '"samples_MS"', 1),
    }
    out = []
    for label, content in made.items():
        path = folder / (label.replace(" ", "_") + ".json")
        path.write_text(content, encoding="utf-8")
        out.append((label, [str(path)]))
    fifo = folder / "fifo.json"
    os.mkfifo(fifo)
    out.append(("FIFO", [str(fifo)]))
    bad_name = os.fsdecode(bytes(folder) + b"/not-utf8-\xff.json")
    Path(bad_name).write_text(text, encoding="utf-8")
    out.append(("file name not UTF-8", [bad_name]))
    out.append(("/dev/zero, 1 GiB limit", ["--limit", "/dev/zero"]))
    return out


def run(args: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    command = [sys.executable, "-m", "tinytorch.olympics.cli", "validate"]
    if args[0] == "--limit":
        command = [shutil.which("prlimit") or "prlimit", f"--as={MEMORY_LIMIT}", *command]
        args = args[1:]
    start = time.perf_counter()
    done = subprocess.run([*command, *args], capture_output=True, timeout=30,
                          env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    return time.perf_counter() - start, done


def largest_file(folder: Path) -> Path:
    """The largest valid file the schema allows: 4 arrays of 100,000 samples, the longest strings, a note of
    10,000 characters; statistics recomputed so that it is valid."""
    sys.path.insert(0, str(ROOT))
    import random

    from tests.olympics.conftest import with_samples
    from tinytorch.olympics.schema import submission_problems
    from tinytorch.perf.comparison import median_ratio
    rng = random.Random(0)
    doc = json.loads((EXAMPLES / "valid" / "optimized_median_speedup.json").read_text())
    samples = [round(rng.lognormvariate(-4, 0.3), 6) for _ in range(100_000)]
    doc = with_samples(doc, samples)
    swapped = with_samples({"baseline": doc["optimized"], **{k: v for k, v in doc.items() if k != "baseline"}},
                           [round(v * 0.5, 7) for v in samples])
    doc["optimized"] = swapped["baseline"]
    entry = doc["improvements"]["median_speedup"]
    entry.update(baseline_samples_ms=samples, optimized_samples_ms=[round(v * 0.5, 7) for v in samples],
                 rounds=100, runs_per_round=1000)
    found = median_ratio(entry["baseline_samples_ms"], entry["optimized_samples_ms"], entry["confidence_level"])
    entry.update(ratio=found.ratio, ci=[found.low, found.high], verdict=found.verdict)
    b, o = doc["baseline"]["metrics"], doc["optimized"]["metrics"]
    doc["improvements"]["speedup"] = b["latency_ms_mean"] / o["latency_ms_mean"]
    doc["notes"] = "n" * 10_000
    doc["optimized"]["techniques_applied"] = ["t" * 200] * 64
    problems = submission_problems(doc)
    assert not problems, problems[:3]
    path = folder / "largest" / "capstone" / "results.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(doc))
    return path


def class_commands(tmp: Path) -> None:
    """Each class command on the largest file and on a typical one, interleaved; the ratio of medians."""
    big = largest_file(tmp)
    typical = tmp / "typical" / "capstone" / "results.json"
    typical.parent.mkdir(parents=True)
    shutil.copy(EXAMPLES / "valid" / "optimized_median_speedup.json", typical)
    print(f"\nclass commands: largest file {big.stat().st_size / 1e6:.2f} MB against a typical "
          f"{typical.stat().st_size / 1e3:.0f} kB file")

    def commands(path: Path) -> dict[str, list[str]]:
        out = tmp / f"out-{path.parts[-3]}"
        out.mkdir(exist_ok=True)
        found = {"validate": ["validate", str(path)], "plot": ["plot", str(path), "--out", str(out)],
                 "compare": ["compare", str(path), str(path)],
                 "leaderboard": ["leaderboard", str(path.parents[1]), "--out", str(out)]}
        try:
            import mlflow  # noqa: F401
            found["log"] = ["log", str(path), "--tracking-uri", f"sqlite:///{out / 'mlflow.db'}"]
        except ImportError:
            pass
        return found

    print(f"{'command':<12} {'typical s':>9} {'largest s':>9} {'ratio':>6} rc")
    for name, big_args in commands(big).items():
        small_args = commands(typical)[name]
        pairs = []
        for _ in range(REPEATS):
            timed = []
            for args in (small_args, big_args):
                start = time.perf_counter()
                done = subprocess.run([sys.executable, "-m", "tinytorch.olympics.cli", *args], capture_output=True,
                                      timeout=300, env=dict(os.environ, PYTHONIOENCODING="utf-8"))
                timed.append(time.perf_counter() - start)
            pairs.append(timed)
        small, large = (statistics.median(t[i] for t in pairs) for i in (0, 1))
        print(f"{name:<12} {small:9.2f} {large:9.2f} {large / small:6.2f} {done.returncode}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        class_commands(Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        cases = [(f"examples/{p.parent.name}/{p.name}", [str(p)]) for p in sorted(EXAMPLES.glob("*/*.json"))]
        cases += hostile_files(Path(tmp))
        reference = [str(EXAMPLES / "valid" / "optimized.json")]
        print(f"{'input':<44} {'median s':>8} {'x valid':>7} {'rc':>3} traceback  first line")
        worst = 0.0
        for label, args in cases:
            times, ref_times = [], []
            for _ in range(REPEATS):           # interleaved with the reference, so drift hits both
                elapsed, done = run(args)
                times.append(elapsed)
                ref_times.append(run(reference)[0])
            out = done.stdout.decode("utf-8", "replace").splitlines()
            traceback = b"Traceback" in done.stdout + done.stderr
            median = statistics.median(times)
            worst = max(worst, median)
            first = out[0] if out else done.stderr.decode("utf-8", "replace")[:80]
            print(f"{label:<44} {median:8.3f} {median / statistics.median(ref_times):7.2f} {done.returncode:>3} "
                  f"{'YES' if traceback else 'no':<10} {first[-90:]}")
        print(f"slowest: {worst:.3f} s")


if __name__ == "__main__":
    main()
