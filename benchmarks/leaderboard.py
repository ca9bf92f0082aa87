"""`tinytorch-olympics leaderboard` over a generated class: how long 100 and 1,000 submissions take.

The class is written as an nbgrader ``autograded/<student>/capstone/results.json`` tree of
valid generated submissions (``tinytorch.olympics.testing.example_class``, 40 latency
samples per model), then the command runs on it in its own process, as an instructor would
run it, writing the HTML page, the CSV and the PNG. Both sizes run in one go, so the ratio
of their times (how the cost grows with the class) is read side by side; the seconds say
whether a class of 1,000 takes seconds. Run: python benchmarks/leaderboard.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tinytorch.olympics.testing import example_class

SIZES = (100, 1000)


def write_class(root: Path, size: int) -> Path:
    tree = root / f"class_{size}" / "autograded"
    for student, doc in example_class(size, seed=size).items():
        folder = tree / student / "capstone"
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(json.dumps(doc))
    return tree


def timed_leaderboard(tree: Path) -> tuple[float, str]:
    out = tree.parent / "board"
    out.mkdir()
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tinytorch.olympics.cli", "leaderboard", str(tree), "--out", str(out)],
                          capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout.strip().splitlines()[-1]


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        rows = []
        for size in SIZES:
            tree = write_class(Path(scratch), size)
            seconds, summary = timed_leaderboard(tree)
            rows.append((size, seconds, summary))
        print(f"{'submissions':>11} {'seconds':>8} {'ms each':>8}  summary")
        for size, seconds, summary in rows:
            print(f"{size:>11} {seconds:>8.2f} {1e3 * seconds / size:>8.2f}  {summary}")
        (small, t_small, _), (large, t_large, _) = rows
        print(f"{large // small}x the submissions took {t_large / t_small:.2f}x the time")


if __name__ == "__main__":
    main()
