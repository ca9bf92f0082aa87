"""`tinytorch-olympics validate` on the shipped examples and on hostile files: verdict, time, no traceback.

Each file is validated in its own process, as a user would run it, and timed against the
same command on a valid example in the same run (the ratio is what is stable on a shared
machine; the absolute time says whether a hostile file costs more than an honest one).
`/dev/zero` is read under an address-space limit, so a reader that tried to hold it would
fail rather than fill the machine. Run: python benchmarks/hostile_files.py
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


def main() -> None:
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
