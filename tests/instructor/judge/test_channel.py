"""The judge's channel to the subject: what the student's process can do to it, and what the judge sees."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from tinytorch.instructor.grader.sandbox import missing_protection
from tinytorch.instructor.judge.channel import Limits, StudentRaised, Subject, SubjectLost
from tinytorch.instructor.judge.probes import Sleepy

SANDBOXED = not missing_protection()
#: Student code that times ``runs`` calls of a model, each on its own clock.
TIMED = ("import time\nfrom tinytorch import Tensor\nimport numpy as np\n"
         "def timed(model, runs):\n    out = []\n    for _ in range(runs):\n"
         "        t = time.perf_counter()\n        model(Tensor(np.ones((1, 4), np.float32)))\n"
         "        out.append(time.perf_counter() - t)\n    return out")


@pytest.fixture
def subject(tmp_path: Path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    with Subject(workdir, Limits(seconds=5)) as started:
        yield started


def test_values_come_back_as_plain_data_and_objects_stay_behind_a_handle(subject):
    subject.run_cell("a", "import numpy as np\ndef f(x, y=1):\n"
                          "    return {'sum': x + y, 'a': np.arange(3), 't': (1, 2)}\n"
                          "class Box:\n    def __init__(self, v):\n        self.v = v")
    assert subject.call("f", 2, y=3)["sum"] == 5
    assert subject.call("f", 1)["a"].tolist() == [0, 1, 2]
    box = subject.call("Box", [1, 2], keep=True)
    assert box.type == "Box" and subject.get(box, "v", 1) == 2
    subject.set(box, ["v", 0], 9)
    assert subject.get(box, "v") == [9, 2]
    assert subject.defined("f") == (True, "__main__") and subject.defined("nothing") == (False, None)


def test_the_students_exception_comes_back_with_its_line(subject):
    subject.run_cell("a", "def f():\n    return 1 / 0")
    with pytest.raises(StudentRaised) as raised:
        subject.call("f")
    assert raised.value.info["type"] == "ZeroDivisionError" and raised.value.info["line"] == "return 1 / 0"
    assert "your code raised ZeroDivisionError: division by zero (raised in your code, at `return 1 / 0`)" \
        == raised.value.describe()


def test_every_call_of_a_probe_takes_the_time_the_judge_chose_and_is_recorded(subject):
    subject.run_cell("a", TIMED)
    probe = Sleepy(seconds=0.02)
    samples = subject.call("timed", probe, 3)
    assert [c.shape for c in probe.calls] == [(1, 4)] * 3
    assert all(s >= 0.02 for s in samples) and all(c.wait == 0.02 and c.seconds >= 0.02 for c in probe.calls)


def test_each_call_reports_what_the_students_clock_saw_of_it_with_the_next_and_never_less_than_the_judge_saw(
        subject):
    subject.run_cell("a", TIMED)
    probe = Sleepy(seconds=0.01)
    samples = subject.call("timed", probe, 4)
    took = [c.took for c in probe.calls]
    assert took[-1] is None, "the last call has no next call to report it"
    assert all(c.seconds <= c.took <= s for c, s in zip(probe.calls[:-1], samples, strict=False))
    # A forged report of a call shorter than the judge saw it is taken as what the judge saw.
    subject.run_cell("b", "def forged(model):\n    model._took = -1.0\n    model(Tensor(np.ones((1, 4))))\n"
                          "    model._took = 0.0\n    model(Tensor(np.ones((1, 4))))")
    probe = Sleepy(seconds=0.01)
    subject.call("forged", probe)
    assert probe.calls[0].took == probe.calls[0].seconds >= 0.01


def test_a_sleep_patched_in_the_students_process_does_not_shorten_a_probe(subject):
    subject.run_cell("a", "import time\ntime.sleep = lambda s: None\nfrom tinytorch import Tensor\nimport numpy as np\n"
                          "def once(model):\n    t = time.perf_counter()\n    model(Tensor(np.ones((1, 4))))\n"
                          "    return time.perf_counter() - t")
    assert subject.call("once", Sleepy(seconds=0.05)) >= 0.05


def test_code_past_its_time_is_stopped_and_the_subject_comes_back_without_it(subject):
    subject.run_cell("defs", "def f():\n    return 42")
    start = time.monotonic()
    subject.run_cell("loop", "while True:\n    pass")
    assert isinstance(subject.failed_cells["loop"], SubjectLost) and time.monotonic() - start < 15
    assert "did not finish within 5 s" in str(subject.failed_cells["loop"])
    assert subject.call("f") == 42, "the cells before were run again in a new subject, the endless one was not"


def test_a_process_that_ends_itself_is_reported_and_replaced(subject):
    subject.run_cell("a", "import os\ndef bye():\n    os._exit(3)\ndef hello():\n    return 'hi'")
    with pytest.raises(SubjectLost, match="exited with status 3"):
        subject.call("bye")
    assert subject.call("hello") == "hi"


@pytest.mark.parametrize("forgery", [
    "os.write(fd, b'garbage that is no frame')",
    "os.write(fd, (2**31).to_bytes(4, 'big'))",
    "os.write(fd, len(b'{\"ok\": {\"$pickle\": 1}}').to_bytes(4, 'big') + b'{\"ok\": {\"$pickle\": 1}}')",
    "os.write(fd, len(b'{\"probe\": 999, \"x\": 1}').to_bytes(4, 'big') + b'{\"probe\": 999, \"x\": 1}')",
])
def test_writing_to_the_judges_channel_from_student_code_is_refused_never_trusted(subject, forgery):
    subject.run_cell("a", "import os\ndef forge():\n    for fd in range(3, 64):\n        try:\n"
                          f"            {forgery}\n        except OSError:\n            pass\n    return 'honest'")
    try:
        answer = subject.call("forge")
    except SubjectLost as lost:
        assert "not an answer" in str(lost) or "allowed" in str(lost) or "was not given" in str(lost) \
            or "ended" in str(lost)
    else:
        assert answer == "honest"


def test_a_forged_answer_is_only_a_value_the_judge_then_checks(subject):
    subject.run_cell("a", "import os, json\ndef forge():\n    frame = json.dumps({'ok': [0.5, 0.5]}).encode()\n"
                          "    for fd in range(3, 64):\n        try:\n"
                          "            os.write(fd, len(frame).to_bytes(4, 'big') + frame)\n"
                          "        except OSError:\n            pass\n    return 'late'")
    first = subject.call("forge")
    assert first in ([0.5, 0.5], "late")   # a value like any other: the checks judge it


def test_a_huge_answer_is_refused(subject):
    subject.run_cell("a", "def big():\n    return 'x' * (70 * 1024 * 1024)")
    with pytest.raises(SubjectLost):
        subject.call("big")


@pytest.mark.skipif(not SANDBOXED, reason="bubblewrap is not usable here: the subject runs unconfined")
def test_the_subject_sees_the_student_edition_and_its_own_folder_only(subject, tmp_path):
    subject.run_cell("a", "import importlib.util, os\n"
                          "def look(name):\n    try:\n        return importlib.util.find_spec(name) is not None\n"
                          "    except ImportError:\n        return False\n"
                          "def listing(path):\n    try:\n        return sorted(os.listdir(path))\n"
                          "    except OSError as e:\n        return type(e).__name__")
    assert subject.call("look", "tinytorch.olympics") is True
    for secret in ("tinytorch.instructor.judge.checks", "tinytorch.instructor.reference",
                   "tinytorch.instructor.grader.sandbox"):
        assert subject.call("look", secret) is False, secret
    package = Path(__import__("tinytorch").__file__).parent
    assert subject.call("listing", str(package / "instructor")) == ["__init__.py", "sandboxed"], (
        "of the instructor package, the subject sees only the code that runs it (no judge, no solutions)")
    assert "__pycache__" not in subject.call("listing", str(package / "instructor" / "sandboxed")) or \
        subject.call("listing", str(package / "instructor" / "sandboxed" / "__pycache__")) != "PermissionError"
    assert subject.call("listing", str(tmp_path)) == ["work"]
    checkout = Path(__import__("tinytorch").__file__).parents[1]
    seen = subject.call("listing", str(checkout))
    assert isinstance(seen, str) or not {"notebooks", "tests", "tools", ".git"} & set(seen), (
        f"the subject sees only the installation and the package of the checkout, not {seen}")


def test_arrays_of_any_size_a_model_returns_reach_the_judge_as_arrays(subject):
    subject.run_cell("a", "import numpy as np\ndef arr(n):\n    return np.ones((n, 3), np.float32)")
    assert subject.call("arr", 1000).shape == (1000, 3)
    assert np.array_equal(subject.call("arr", 0), np.ones((0, 3), np.float32))
