"""The parallel grader against nbgrader's own sequential ``autograde``, through the Gradebook API.

Every test grades the small course (tests/instructor/small_course.py) with the capstone's
configuration, so every submission's kernel runs in the sandbox.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from tests.course import run_tool, tool_env
from tinytorch.instructor.grader.autograde import Course, Summary, grade, main, pending

from ..small_course import (
    ASSIGNMENT,
    FAST,
    autograded_cells,
    copy_of,
    grade_in_process,
    gradebook_state,
    solved,
    ungraded_copy,
    varied_class,
)

pytestmark = pytest.mark.nbgrader

def test_parallel_grading_equals_nbgraders_sequential_grading(small, by_nbgrader, tmp_path):
    submissions = varied_class()
    sequential = tmp_path / "sequential"
    shutil.copytree(by_nbgrader, sequential)
    parallel = ungraded_copy(small, by_nbgrader, tmp_path / "parallel")
    assert grade_in_process(parallel, "--jobs", "2") == 0

    expected = gradebook_state(sequential)
    assert sorted(expected) == sorted(submissions)
    assert gradebook_state(parallel) == expected
    totals = {s: expected[s][1] for s in ("ada", "bo", "cy", "di", "ed", "fay")}
    assert totals == {"ada": 10, "bo": 5, "cy": 0, "di": 10, "ed": 10, "fay": 10}, "the small course grades as meant"
    assert expected["ada"][3] and not expected["fay"][3], "a written answer needs a grader, a blank one does not"
    for student in submissions:
        assert autograded_cells(parallel, student) == autograded_cells(sequential, student), student
        assert (sorted(p.name for p in (parallel / "autograded" / student / ASSIGNMENT).iterdir())
                == sorted(p.name for p in (sequential / "autograded" / student / ASSIGNMENT).iterdir()))

    # A grader scores the written answers, then everything is graded again: the hand grades stay and
    # are flagged for review, in both.
    for root in (sequential, parallel):
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
            gb.find_grade("explain", ASSIGNMENT, ASSIGNMENT, "ada").manual_score = 1.5
            gb.find_comment("explain", ASSIGNMENT, ASSIGNMENT, "ada").manual_comment = "good"
            gb.db.commit()
    run_tool("nbgrader", "autograde", ASSIGNMENT, "--force", "--student", "ada", *FAST, cwd=sequential)
    grade(Course.load(parallel, ASSIGNMENT), ["ada"], jobs=1, nbgrader_args=FAST)
    again = gradebook_state(sequential)
    assert again["ada"][4]["explain"] == (None, 1.5, True, 2.0)
    assert gradebook_state(parallel) == again

    for root in (sequential, parallel):
        run_tool("nbgrader", "generate_feedback", ASSIGNMENT, "--force", cwd=root)
    for student in submissions:
        pages = [(root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
                 for root in (sequential, parallel)]
        assert pages[0] == pages[1], f"{student}: the feedback pages differ"


def test_a_run_killed_halfway_resumes_with_what_is_missing_and_counts_nothing_twice(small, by_nbgrader, tmp_path):
    submissions = varied_class()
    root = ungraded_copy(small, by_nbgrader, tmp_path / "killed")
    run = subprocess.Popen([sys.executable, "-m", "tinytorch.instructor.grader.autograde", ASSIGNMENT, "--jobs", "1",
                            *FAST], cwd=root, env=tool_env(), start_new_session=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list(root.glob(f"autograded/*/{ASSIGNMENT}"))) < 2:
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGKILL)  # the coordinator, its worker and the worker's kernel, at once
    run.wait()
    done = sorted(p.parent.name for p in root.glob(f"autograded/*/{ASSIGNMENT}"))
    assert 2 <= len(done) < len(submissions), done

    course = Course.load(root, ASSIGNMENT)
    left = pending(course, course.students(), force=False)
    assert sorted(left) == sorted(set(submissions) - set(done))
    summary = grade(course, left, jobs=2, nbgrader_args=FAST)
    assert sorted(o.student for o in summary.graded) == sorted(left) and not summary.failed

    assert gradebook_state(root) == gradebook_state(by_nbgrader)
    with sqlite3.connect(root / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT COUNT(*) FROM submitted_assignment").fetchone() == (len(submissions),)
    assert not list(root.glob("autograded/*/*.partial"))


def test_ctrl_c_stops_the_run_with_a_summary_and_a_rerun_grades_the_rest_with_progress(small, tmp_path, capsys):
    submissions = {"ada": solved(), "bo": solved(), "cy": solved(), "di": solved()}
    root = copy_of(small, tmp_path, "course", submissions)
    (root / "submitted" / "cy" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text("{not a notebook")
    run = subprocess.Popen([sys.executable, "-m", "tinytorch.instructor.grader.autograde", ASSIGNMENT, "--jobs", "1",
                            "--no-progress", *FAST], cwd=root, env=tool_env(), text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list(root.glob(f"autograded/*/{ASSIGNMENT}")):
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)  # what Ctrl-C sends to the command
    out, _ = run.communicate(timeout=120)
    assert run.returncode == 130, out
    assert out.splitlines()[-1] == "interrupted: run the same command again to grade what is left"
    done = len(list(root.glob(f"autograded/*/{ASSIGNMENT}")))
    assert 1 <= done < 3

    code = main([ASSIGNMENT, "--course", str(root), "--jobs", "2", *FAST])
    shown = capsys.readouterr()
    assert code == 1, "a submission that could not be graded fails the command"
    left = len(submissions) - done
    assert f"{left}/{left}" in shown.err and "<" in shown.err and "submission" in shown.err, shown.err
    lines = shown.out.splitlines()
    assert lines[0].startswith(f"graded {left - 1} of {left} submissions with 2 workers in ")
    assert lines[0].endswith(f"; {done} already graded, skipped")
    assert lines[1].startswith("time per submission on a worker: median ")
    assert lines[2:] == ["failed to grade 1:", "  cy: nbformat.reader.NotJSONError: Notebook does not appear "
                         "to be JSON: '{not a notebook'", "run the same command again to retry the failed ones"]
    assert grade_in_process(root, "--jobs", "2") == 1
    assert capsys.readouterr().out.startswith("graded 0 of 1 submissions with 1 worker in "), "one is enough"
    assert {s: v[1] for s, v in gradebook_state(root).items()} == {"ada": 10, "bo": 10, "di": 10}


def test_a_killed_worker_costs_the_submission_it_graded_and_a_rerun_grades_just_that(small, tmp_path):
    submissions = {f"s{i}": solved() for i in range(3)}
    root = copy_of(small, tmp_path, "course", submissions)
    course = Course.load(root, ASSIGNMENT)
    killed: list[int] = []

    def kill_a_worker(outcome) -> None:
        if killed:
            return
        workers = subprocess.run(["pgrep", "-f", "tinytorch.instructor.grader.autograde --serve"], capture_output=True,
                                 text=True).stdout.split()
        mine = [int(p) for p in workers if Path(f"/proc/{p}/cwd").resolve().name.startswith("worker-")]
        os.kill(mine[0], signal.SIGKILL)
        killed.append(mine[0])

    summary = grade(course, course.students(), jobs=1, nbgrader_args=FAST, progress=kill_a_worker)
    assert killed and len(summary.failed) == 1, summary.lines()
    failed = summary.failed[0]
    assert failed.reason == "the worker grading it died (killed by SIGKILL)"
    assert len(summary.graded) == 2, "the worker was replaced and the others were graded"
    assert pending(course, course.students(), force=False) == [failed.student]

    again = grade(course, [failed.student], jobs=1, nbgrader_args=FAST)
    assert [o.student for o in again.graded] == [failed.student]
    assert {s: v[1] for s, v in gradebook_state(root).items()} == {s: 10 for s in submissions}


def test_shards_graded_apart_and_merged_equal_one_run(small, by_nbgrader, tmp_path):
    submissions = varied_class()
    whole = by_nbgrader
    course = ungraded_copy(small, by_nbgrader, tmp_path / "course")
    shards = []
    for k in (1, 2):
        shard = tmp_path / f"shard-{k}"
        shutil.copytree(course, shard)
        assert grade_in_process(shard, "--jobs", "1", "--shard", f"{k}/2") == 0
        shards.append(shard)
    assert sum(len(list(s.glob(f"autograded/*/{ASSIGNMENT}"))) for s in shards) == len(submissions)
    assert main([ASSIGNMENT, "--course", str(course), "--merge-from", *map(str, shards)]) == 0
    assert gradebook_state(course) == gradebook_state(whole)
    for student in submissions:
        assert autograded_cells(course, student) == autograded_cells(whole, student)


@pytest.mark.parametrize("argv, message", [
    (["--jobs", "0"], "--jobs"), (["--shard", "4/3"], "K must be from 1 to N"), (["--shard", "x"], "K/N"),
    (["stray"], "unrecognized arguments: stray"),
])
def test_bad_arguments_are_refused_with_what_is_wrong(small, argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([ASSIGNMENT, "--course", str(small), *argv])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_a_folder_that_is_no_course_is_named(tmp_path):
    with pytest.raises(SystemExit, match="no nbgrader_config.py"):
        main([ASSIGNMENT, "--course", str(tmp_path)])


def test_the_summary_says_what_was_graded_what_failed_and_how_to_go_on():
    from tinytorch.instructor.grader.autograde import Outcome

    summary = Summary(2, [Outcome("a", True, 2.0), Outcome("b", True, 4.0), Outcome("c", False, 1.0, "why")],
                      skipped=1, seconds=3.0, interrupted=True)
    assert summary.lines() == [
        "graded 2 of 3 submissions with 2 workers in 3.0 s (1.5 s per submission); 1 already graded, skipped",
        "time per submission on a worker: median 3.0 s, slowest 4.0 s (b)",
        "failed to grade 1:", "  c: why",
        "interrupted: run the same command again to grade what is left"]
