"""A hostile class: each submission solves the assignment and also attacks, graded with honest classmates.

Each attack is a cell of its own, after the ``double`` function and before its test, so
an attack that takes the kernel down costs exactly that test's 5 points; one that is
refused costs nothing (the cell is not graded). The honest students are graded in the
same run and, apart, in a clean run: their grades must be the same. Everything is asserted
through nbgrader's Gradebook API and the files on disk.
"""

from __future__ import annotations

import hashlib
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.course import run_tool
from tinytorch.instructor.grader.execution import STOPPED

from ..small_course import ASSIGNMENT, FAST, copy_of, grade_in_process, gradebook_state, solved, submit

pytestmark = pytest.mark.nbgrader

HONEST = ("ada", "bo", "cy")


def attempts(*tries: str) -> str:
    """A cell that makes each attempt in turn and prints what came of it, so the graded notebook tells."""
    lines = ["outcomes = []"]
    for attempt in tries:
        lines += ["try:", *(f"    {line}" for line in attempt.splitlines()), "    outcomes.append('DONE')",
                  "except Exception as error:", "    outcomes.append(f'refused: {type(error).__name__}')"]
    return "\n".join([*lines, "print(outcomes)"])


def hostile_cells(root: Path, port: int) -> dict[str, str]:
    other = root / "submitted" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    gradebook = root / "gradebook.db"
    return {
        "reads-other": attempts(f"print(open({str(other)!r}).read()[:200])",
                                f"print(open('../../../submitted/ada/{ASSIGNMENT}/{ASSIGNMENT}.ipynb').read()[:200])",
                                f"import os\nprint(os.listdir({str(root)!r}))"),
        "writes-gradebook": attempts(
            f"import sqlite3\ndb = sqlite3.connect({str(gradebook)!r})\n"
            "db.execute('UPDATE grade SET auto_score = 9990')\ndb.commit()",
            "import sqlite3\ndb = sqlite3.connect('../../../gradebook.db')\n"
            "db.execute('UPDATE grade SET auto_score = 9990')\ndb.commit()"),
        "writes-other-folder": attempts(f"open({str(other)!r}, 'a').write('tampered')",
                                        f"open({str(root / 'outside.txt')!r}, 'w').write('written')",
                                        "open('../../../submitted/bo/extra.txt', 'w').write('planted')"),
        "network": attempts(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5)",
                            "import urllib.request\nurllib.request.urlopen('http://example.com', timeout=5)"),
        "memory-bomb": attempts("hog = bytearray(64 * 1024 ** 3)",
                                "import numpy as np\nhog = []\nwhile True:\n    hog.append(np.empty(1 << 27))"),
        "fork-bomb": "import os\nwhile True:\n    os.fork()",
        "never-finishes": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
        "fake-score": attempts(f"import os\nos.remove('{ASSIGNMENT}.ipynb')\nos.symlink({str(gradebook)!r}, "
                               f"'{ASSIGNMENT}.ipynb')",
                               f"open('{ASSIGNMENT}.html', 'w').write('<h1>FAKE score 12 / 12</h1>')",
                               "open('timestamp.txt', 'w').write('2020-01-01 00:00:00 UTC')",
                               f"import os\nos.makedirs({str(root / 'feedback' / 'fake-score' / ASSIGNMENT)!r})"),
    }


#: What each attack may cost its author. Refused attacks cost nothing. The endless cell is stopped and
#: takes test-double with it. A fork bomb leaves the kernel without threads of its own: whether it
#: can still stop the cell when interrupted depends on which thread asked first, so it keeps
#: test-double or is stopped before it; either way test-add, before the attack, keeps its points.
EXPECTED = {"reads-other": {10}, "writes-gradebook": {10}, "writes-other-folder": {10}, "network": {10},
            "memory-bomb": {10}, "fork-bomb": {5, 10}, "never-finishes": {5}, "fake-score": {10}}


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_hostile_class_loses_only_its_own_points_and_touches_nobody_else(small, by_nbgrader, tmp_path):
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    reached: list[object] = []
    listening = threading.Event()

    def listen() -> None:
        while not listening.is_set():
            try:
                reached.append(server.accept())
            except OSError:
                pass

    threading.Thread(target=listen, daemon=True).start()
    honest = {s: solved() for s in HONEST}
    root = copy_of(small, tmp_path, "course", honest)
    cells = hostile_cells(root, server.getsockname()[1])
    submit(root, {name: solved(extra=code, after="double") for name, code in cells.items()})
    before = {s: digest(root / "submitted" / s) for s in (*HONEST, *cells)}
    course_files = sorted(p.name for p in root.iterdir())

    code = grade_in_process(root, "--jobs", "2")
    listening.set()
    server.close()
    assert code == 0

    state = gradebook_state(root)
    scores = {s: state[s][1] for s in cells}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        stopped = {s: gb.find_grade("test-double", ASSIGNMENT, ASSIGNMENT, s).auto_score for s in cells}
    table = ["attempt | what its code was told | its score"]
    for name in cells:
        nb = nbformat.read(root / "autograded" / name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
        attack = next(c for c in nb.cells if c.cell_type == "code" and c.source == cells[name])
        said = " ".join(o.get("text", "").strip() or f"{o.get('ename')}: {o.get('evalue', '')[:90]}"
                        for o in attack.outputs)
        table.append(f"{name} | {said} | {scores[name]} of 10 (test-double {stopped[name]})")
    print("\n" + "\n".join(table))

    assert all(scores[s] in EXPECTED[s] for s in cells), scores
    for name, text in zip(cells, table[1:], strict=True):
        if scores[name] == 5:
            assert stopped[name] == 0 and STOPPED in text, f"{name} lost points without being stopped: {text}"
        elif name != "fake-score":
            assert "DONE" not in text.split("|")[1], f"{name} got through: {text}"
    clean = gradebook_state(by_nbgrader)["ada"]  # the same solution, graded by nbgrader with no attacker about
    assert all(state[s] == clean for s in HONEST), "an honest student's grade changed"
    assert all(state[s][2] == 12 for s in state), "a maximum score changed"
    with sqlite3.connect(root / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT MAX(auto_score) FROM grade").fetchone() == (5.0,)
    assert {s: digest(root / "submitted" / s) for s in before} == before, "a submitted folder changed"
    assert sorted(p.name for p in root.iterdir() if p.name != "autograded") == course_files
    assert not reached, "a submission reached a server on the machine's loopback"
    print("honest students: the same grades as in a clean run; gradebook intact; no submitted file changed")

    run_tool("nbgrader", "generate_feedback", ASSIGNMENT, "--force", *FAST, cwd=root)
    page = (root / "feedback" / "fake-score" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "<h1>FAKE" not in page and "10.0" in page, "the feedback page is the grader's, with the real score"
    graded = root / "autograded" / "fake-score" / ASSIGNMENT
    assert not (graded / f"{ASSIGNMENT}.ipynb").is_symlink()
    assert (graded / "timestamp.txt").read_text() == (root / "submitted" / "fake-score" / ASSIGNMENT /
                                                      "timestamp.txt").read_text()


def test_unconfined_the_same_attacks_succeed(small, tmp_path):
    """The control: run as nbgrader runs code without the sandbox, the attacks do what they try."""
    server = socket.create_server(("127.0.0.1", 0))
    root = copy_of(small, tmp_path, "course", {s: solved() for s in HONEST})
    run_tool("nbgrader", "autograde", ASSIGNMENT, "--student", "ada", *FAST, cwd=root)
    cells = hostile_cells(root, server.getsockname()[1])
    folder = root / "autograded" / "mallory" / ASSIGNMENT
    folder.mkdir(parents=True)
    for name in ("reads-other", "writes-gradebook", "writes-other-folder", "network"):
        ran = subprocess.run([sys.executable, "-c", cells[name]], cwd=folder, capture_output=True, text=True,
                             timeout=60)
        assert "'DONE'" in ran.stdout, f"{name}: {ran.stdout} {ran.stderr}"
    server.close()
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        assert gb.find_submission(ASSIGNMENT, "ada").score >= 9990
    assert (root / "outside.txt").exists()
