"""Hostile files and names: every input gets a verdict on its own lines, quickly, and nothing can forge a line.

These are the reproducers of an audit, each standing for a class: numbers beyond the float
range, keys and file names that are not printable (surrogates, newlines), files that are not
regular files (a FIFO that never ends, a device that never ends), and duplicate keys.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.olympics.cli import main
from tinytorch.olympics.files import load_submission_file
from tinytorch.olympics.schema import submission_problems

from .conftest import EXAMPLES

VALID = json.loads((EXAMPLES / "valid" / "optimized.json").read_text())


def validate(*paths: str, memory_limit: int | None = None) -> tuple[subprocess.CompletedProcess, float]:
    """``tinytorch-olympics validate`` in its own process (optionally under an address-space limit); and its time."""
    command = [sys.executable, "-m", "tinytorch.olympics.cli", "validate", *paths]
    if memory_limit is not None:
        command = [shutil.which("prlimit") or "prlimit", f"--as={memory_limit}", *command]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, timeout=60, env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    return done, time.perf_counter() - start


def lines_of(done: subprocess.CompletedProcess) -> list[str]:
    return done.stdout.decode("utf-8").splitlines()


def assert_one_verdict_per_line(done: subprocess.CompletedProcess, *paths: str) -> None:
    """No traceback, and every line is a file's verdict or the closing count: no line can be forged."""
    assert b"Traceback" not in done.stdout + done.stderr, done.stderr.decode(errors="replace")[-2000:]
    prefixes = tuple(f"{p}: " for p in paths)
    for line in lines_of(done):
        assert line.startswith(prefixes) or line.endswith("files valid"), f"a line that is no verdict: {line!r}"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("where", [("baseline", "metrics", "accuracy"), ("optimized", "metrics", "model_size_bytes"),
                                   ("baseline", "metrics", "latency", "samples_ms", 0)])
def test_a_400_digit_integer_gets_a_verdict_and_the_next_file_is_still_checked(tmp_path, where):
    text = json.dumps(VALID)
    doc = json.loads(text)
    target = doc
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = 0  # placeholder, replaced by a 400-digit integer in the text
    text = json.dumps(doc).replace(f'"{where[-1]}": 0' if isinstance(where[-1], str) else '"samples_ms": [0',
                                   f'"{where[-1]}": {"9" * 400}' if isinstance(where[-1], str)
                                   else f'"samples_ms": [{"9" * 400}', 1)
    huge = write(tmp_path, "huge.json", text)
    good = str(EXAMPLES / "valid" / "optimized.json")
    done, seconds = validate(huge, good)
    assert_one_verdict_per_line(done, huge, good)
    assert "[range] an integer of 400 digits" in done.stdout.decode() and f"{good}: valid" in done.stdout.decode()
    assert done.returncode == 1 and seconds < 10


def test_keys_that_are_not_printable_cannot_forge_a_line(tmp_path):
    doc = json.loads(json.dumps(VALID))
    doc["x\nresults.json: valid"] = 1                    # no object allows another key: it is reported
    doc["\ud800"] = 2
    path = write(tmp_path, "forged.json", json.dumps(doc))
    done, _ = validate(path)
    assert_one_verdict_per_line(done, path)
    out = lines_of(done)
    assert f"{path}: valid" not in out and done.returncode == 1
    assert any("results.json: valid" in line and "[unknown-key]" in line for line in out)


def test_a_file_name_that_is_not_utf8_is_printed_escaped(tmp_path):
    name = os.fsdecode(b"caf\xe9.json")  # a Latin-1 name: not UTF-8
    shutil.copy(EXAMPLES / "valid" / "optimized.json", tmp_path / name)
    done, _ = validate(str(tmp_path / name))
    assert done.returncode == 0 and b"Traceback" not in done.stderr
    assert lines_of(done)[0].endswith("caf\\udce9.json: valid")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_gets_a_verdict_at_once(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    done, seconds = validate(str(fifo))
    assert_one_verdict_per_line(done, str(fifo))
    assert "[readable] the file is a FIFO, not a regular file" in done.stdout.decode() and seconds < 10


@pytest.mark.skipif(not Path("/dev/zero").exists() or not shutil.which("prlimit"), reason="needs /dev/zero and prlimit")
def test_dev_zero_gets_a_verdict_under_a_memory_limit():
    done, seconds = validate("/dev/zero", memory_limit=2 * 1024**3)
    assert_one_verdict_per_line(done, "/dev/zero")
    assert "[readable] the file is a device or socket, not a regular file" in done.stdout.decode() and seconds < 10


def test_a_file_that_grows_past_the_limit_is_refused_while_reading(tmp_path, monkeypatch):
    monkeypatch.setattr("tinytorch.olympics.files.MAX_FILE_BYTES", 10)
    path = write(tmp_path, "big.json", "[" + "1," * 20 + "1]")
    document, problems = load_submission_file(path)
    assert document is None and [p.rule for p in problems] == ["size"]


def test_duplicate_keys_are_refused_with_their_path(tmp_path):
    text = json.dumps(VALID).replace('"accuracy": ', '"accuracy": 0.1, "accuracy": ', 1)
    path = write(tmp_path, "dup.json", text)
    document, problems = load_submission_file(path)
    assert [(p.path, p.rule) for p in problems] == [("$.baseline.metrics.accuracy", "duplicate-key")]


_keys = st.text(min_size=1, max_size=12)
_values = st.one_of(st.integers(-10**400, 10**400), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=10), st.booleans(), st.none())


@given(key=_keys, value=_values, where=st.sampled_from([(), ("baseline",), ("baseline", "metrics"),
                                                        ("optimized", "metrics", "latency")]))
def test_any_added_key_gets_one_escaped_line_per_problem_and_the_api_agrees(tmp_path_factory, key, value, where):
    doc = json.loads(json.dumps(VALID))
    target = doc
    for part in where:
        target = target[part]
    target[key] = value
    folder = tmp_path_factory.mktemp("mutated")
    path = folder / "doc.json"
    path.write_text(json.dumps(doc), encoding="utf-8", errors="surrogatepass")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["validate", str(path)])
    lines = out.getvalue().splitlines()
    loaded, reading = load_submission_file(str(path))
    api_valid = not reading and not submission_problems(loaded)
    assert (code == 0) == api_valid
    assert lines and all(line.startswith(f"{path}: ") for line in lines)
    assert all(ch.isprintable() or ch == " " for line in lines for ch in line), "an unprintable character was printed"


def test_a_name_no_file_can_have_gets_a_verdict():
    document, problems = load_submission_file("results\0.json")
    assert document is None and [p.rule for p in problems] == ["readable"]
    assert "embedded null byte" in problems[0].message
