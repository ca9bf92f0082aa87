"""Grade every collected submission with N workers: the same grades as ``nbgrader autograde``, sooner, resumably.

``python -m tinytorch.instructor.grader.autograde capstone --jobs 4`` (``make autograde JOBS=4``)

nbgrader grades one submission after another, and its SQLite gradebook takes one writer
at a time. Here each worker is a long-lived process with a scratch course of its own: a
copy of the course's configuration and non-notebook source files, and a gradebook that
holds the assignment and no student. A worker grades one submission at a time in its
scratch course, with nbgrader itself (in-process, as nbgrader's own tests run it); the
coordinator, alone, then writes that submission into the course gradebook
(:mod:`tinytorch.instructor.grader.merge`) and moves its autograded folder into the course.

* **The same result.** Each submission is graded by ``nbgrader autograde`` with the
  course's own configuration, and what it writes is carried over field by field.
* **Resumable.** A submission is done when its autograded folder is in the course, and
  that folder is moved in last, after the gradebook has it. After a crash, a kill or
  Ctrl-C, running the command again grades only the submissions without one, and writing
  a submission again replaces it: nothing is counted twice. ``--force`` regrades all.
* **Safe.** Every submission's code runs in the sandbox of
  :mod:`tinytorch.instructor.grader.sandbox`, set up by the course's configuration; a worker
  that dies or hangs costs the one submission it was grading, and is replaced.
* **Spread over machines.** ``--shard K/N`` grades every N-th submission into a copy of
  the course (a job array's task on a shared filesystem); ``--merge-from`` then brings
  the graded copies into the course, through the same merge.

A progress bar shows the submissions done and the time left, and a summary ends the run:
graded, failed with the reason, and time per submission.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import logging
import os
import queue
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from tinytorch.argtypes import int_at_least
from tinytorch.instructor.grader.merge import read_submission, write_submission
from tinytorch.instructor.grader.sandbox import NO_SANDBOX_WARNING, disarm, missing_protection

__all__ = ["Course", "Outcome", "Summary", "grade", "merge_from", "pending", "main"]

CONFIG = "nbgrader_config.py"
#: How much longer than the notebook's wall time a worker may take before it is stopped.
GRACE_SECONDS = 120


@dataclass(frozen=True)
class Course:
    """An nbgrader course folder, its gradebook and its layout, read from its nbgrader_config.py."""

    root: Path
    assignment: str
    db_url: str
    wall_time: int

    @classmethod
    def load(cls, root: Path, assignment: str) -> Course:
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config.loader import PyFileConfigLoader

        root = root.resolve()
        if not (root / CONFIG).is_file():
            raise SystemExit(f"{root}: no {CONFIG}: give the course folder with --course")
        config = PyFileConfigLoader(CONFIG, path=str(root)).load_config()
        coursedir = CourseDirectory(config=config)
        if Path(coursedir.root).resolve() != root:
            raise SystemExit(f"{root / CONFIG}: CourseDirectory.root is {coursedir.root}, not this folder")
        wall_time = int(config.get("GuardedExecute", {}).get("wall_time", 900))
        return cls(root, assignment, coursedir.db_url, wall_time)

    def submitted(self, student: str) -> Path:
        return self.root / "submitted" / student / self.assignment

    def autograded(self, student: str) -> Path:
        return self.root / "autograded" / student / self.assignment

    def students(self) -> list[str]:
        """Every student with a submission of the assignment, sorted."""
        return sorted(p.parent.name for p in self.root.glob(f"submitted/*/{self.assignment}") if p.is_dir())

    def sqlite_path(self) -> Path:
        prefix = "sqlite:///"
        if not self.db_url.startswith(prefix):
            raise SystemExit(f"{self.db_url}: parallel grading copies the course's SQLite gradebook; with another "
                             "database, let workers write to it with `nbgrader autograde --student` (README)")
        path = Path(self.db_url[len(prefix):])
        if not path.is_file():
            raise SystemExit(f"{path}: no gradebook yet: run `nbgrader generate_assignment {self.assignment}` first")
        return path


@dataclass(frozen=True)
class Outcome:
    student: str
    graded: bool
    seconds: float
    reason: str = ""
    #: what the submission changed in the graded cells, which grading put back (grader/integrity.py)
    integrity: tuple[str, ...] = ()


@dataclass
class Summary:
    jobs: int
    outcomes: list[Outcome] = field(default_factory=list)
    skipped: int = 0
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def graded(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.graded]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.graded]

    def lines(self) -> list[str]:
        """The run in a few lines: what was graded, what failed and why, how long each took."""
        done = len(self.graded)
        lines = [f"graded {done} of {len(self.outcomes)} submissions with {self.jobs} worker"
                 f"{'s' if self.jobs != 1 else ''} in {self.seconds:.1f} s"
                 + (f" ({self.seconds / done:.1f} s per submission)" if done else "")
                 + (f"; {self.skipped} already graded, skipped" if self.skipped else "")]
        if self.graded:
            times = [o.seconds for o in self.graded]
            slowest = max(self.graded, key=lambda o: o.seconds)
            lines.append(f"time per submission on a worker: median {statistics.median(times):.1f} s, "
                         f"slowest {slowest.seconds:.1f} s ({slowest.student})")
        changed = [(o.student, change) for o in self.outcomes for change in o.integrity]
        if changed:
            lines.append(f"graded cells changed by {len({s for s, _ in changed})} submissions, graded against "
                         "the instructor's cells:")
            lines += [f"  {student}: {change}" for student, change in changed]
        if self.failed:
            lines.append(f"failed to grade {len(self.failed)}:")
            lines += [f"  {o.student}: {o.reason}" for o in self.failed]
        if self.interrupted:
            lines.append("interrupted: run the same command again to grade what is left")
        elif self.failed:
            lines.append("run the same command again to retry the failed ones")
        return lines


def pending(course: Course, students: Iterable[str], force: bool) -> list[str]:
    """The students to grade: all with --force, otherwise those nbgrader would not skip.

    Like ``nbgrader autograde`` without --force: a submission is skipped when it has an
    autograded folder that is not older than the submission's timestamp.
    """
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory()
    todo = []
    for student in students:
        done = course.autograded(student)
        if force or not done.is_dir():
            todo.append(student)
            continue
        new, old = (coursedir.get_existing_timestamp(str(p)) for p in (course.submitted(student), done))
        if new is not None and old is not None and new > old:
            todo.append(student)
    return todo


def _copy_clean(source: Path, target: Path) -> None:
    """Copy a folder written by a student or their code, without links or special files (nbgrader would follow
    a link as the instructor)."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, symlinks=True)
    disarm(target)


def _template_gradebook(course: Course, target: Path) -> None:
    """The course gradebook with its assignments and no student: a consistent copy, then students removed."""
    with contextlib.closing(sqlite3.connect(course.sqlite_path())) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{target}") as gb:
        for student in [s.id for s in gb.students]:
            gb.remove_student(student)


def make_scratch(course: Course, scratch: Path, template: Path) -> Path:
    """A scratch course in ``scratch``: the course's configuration aimed at this folder and its own gradebook,
    the non-notebook files of the assignment's source (nbgrader copies them into every autograded folder),
    and no notebook with solutions."""
    scratch.mkdir(parents=True, exist_ok=True)
    config = (course.root / CONFIG).read_text(encoding="utf-8")
    (scratch / CONFIG).write_text(
        f"{config}\n\n# A scratch course of the parallel grader: its own folder and gradebook.\n"
        f"c.CourseDirectory.root = {str(scratch)!r}\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(scratch / 'gradebook.db')!r}\n", encoding="utf-8")
    shutil.copyfile(template, scratch / "gradebook.db")
    source = course.root / "source" / course.assignment
    for path in source.rglob("*") if source.is_dir() else []:
        if path.is_file() and path.suffix != ".ipynb" and not path.is_symlink():
            target = scratch / "source" / course.assignment / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    (scratch / "source" / course.assignment).mkdir(parents=True, exist_ok=True)
    return scratch


def merge_graded(source: Course, target: Course, student: str) -> None:
    """Bring ``student``'s graded submission from the course copy ``source`` into ``target``.

    The gradebook first, the autograded folder last (that folder marks the submission done).
    The submission's timestamp file is put back as submitted: the student's code could rewrite
    it, and nbgrader reads it to decide whether a later submission needs grading.
    """
    write_submission(target.db_url, read_submission(source.db_url, source.assignment, student))
    final = target.autograded(student)
    partial = final.with_name(final.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.parent.mkdir(parents=True, exist_ok=True)
    _copy_clean(source.autograded(student), partial)
    stamp = target.submitted(student) / "timestamp.txt"
    if stamp.is_file():
        shutil.copyfile(stamp, partial / stamp.name)
    if final.exists():
        shutil.rmtree(final)
    partial.rename(final)


# ---------------------------------------------------------------- a worker: one process, many submissions


def serve(assignment: str, nbgrader_args: Sequence[str], requests: TextIO, replies: TextIO) -> None:
    """Grade each student named on ``requests`` (one JSON string a line) in the scratch course here; answer one
    JSON line each."""
    from jupyter_core.application import NoStart
    from nbgrader.apps.nbgraderapp import NbGraderApp

    for line in requests:
        student = json.loads(line)
        start = time.perf_counter()
        log = io.StringIO()
        app = NbGraderApp.instance()
        code = 0
        try:
            app.initialize(["autograde", assignment, f"--student={student}", "--force", *nbgrader_args])
            app.init_logging(logging.StreamHandler, [log], color=False, subapps=True)
            app.start()
        except NoStart:  # how a subcommand that ran says it is done
            pass
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        finally:
            app.reset()
        graded = code == 0 and (Path("autograded") / student / assignment).is_dir()
        errors = [ln for ln in log.getvalue().splitlines() if "[ERROR]" in ln or "Error" in ln]
        reason = "" if graded else (errors[-1].strip() if errors else f"nbgrader exited with {code}")
        marker = f"integrity: {student}: "
        integrity = [ln.split(marker, 1)[1].strip() for ln in log.getvalue().splitlines() if marker in ln]
        reply = {"student": student, "graded": graded, "seconds": time.perf_counter() - start, "reason": reason,
                 "integrity": integrity}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


class Worker:
    """A ``serve`` process and its scratch course; started again when it dies."""

    def __init__(self, course: Course, folder: Path, template: Path, env: dict[str, str],
                 nbgrader_args: Sequence[str]) -> None:
        self.course = course
        self.scratch = Course(make_scratch(course, folder, template), course.assignment,
                              f"sqlite:///{folder / 'gradebook.db'}", course.wall_time)
        self.env = env
        self.nbgrader_args = list(nbgrader_args)
        self.process: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tinytorch.instructor.grader.autograde", "--serve", self.course.assignment,
                 *self.nbgrader_args], cwd=self.scratch.root, env=self.env, text=True, start_new_session=True,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=(self.scratch.root / "worker.log").open("a"))
        return self.process

    def grade(self, student: str) -> Outcome:
        """Grade one submission in the scratch course; stop the worker if it outlives the wall time."""
        start = time.perf_counter()
        _copy_clean(self.course.submitted(student), self.scratch.submitted(student))
        process = self._start()
        assert process.stdin is not None and process.stdout is not None
        timer = threading.Timer(self.course.wall_time + GRACE_SECONDS, self.stop)
        timer.start()
        try:
            process.stdin.write(json.dumps(student) + "\n")
            process.stdin.flush()
            line = process.stdout.readline()
        except OSError:
            line = ""
        finally:
            timer.cancel()
        if not line:
            self.stop()
            code = process.wait()
            log = (self.scratch.root / "worker.log").read_text(errors="replace").strip().splitlines()
            why = (f"took longer than {self.course.wall_time + GRACE_SECONDS} s and was stopped"
                   if code == -signal.SIGKILL and time.perf_counter() - start >= self.course.wall_time
                   else f"the worker grading it died ({_exit_name(code)}"
                   + (f"; its last words: {log[-1]}" if log and code > 0 else "") + ")")
            return Outcome(student, False, time.perf_counter() - start, why)
        reply = json.loads(line)
        return Outcome(student, reply["graded"], reply["seconds"], reply["reason"], tuple(reply.get("integrity", ())))

    def clear(self, student: str) -> None:
        for path in (self.scratch.submitted(student), self.scratch.autograded(student)):
            shutil.rmtree(path.parent, ignore_errors=True)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)


def _exit_name(code: int) -> str:
    return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"


def _worker_env(jobs: int) -> dict[str, str]:
    """The environment of the workers: BLAS threads shared out among them, so N kernels do not fight over cores."""
    env = dict(os.environ)
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, threads)
    return env


def grade(course: Course, students: Sequence[str], jobs: int, nbgrader_args: Sequence[str] = (),
          progress: Callable[[Outcome], None] | None = None) -> Summary:
    """Grade ``students`` with ``jobs`` workers, each submission written into the course as soon as it is graded."""
    summary = Summary(jobs)
    if not students:
        return summary
    start = time.perf_counter()
    todo: queue.Queue[str] = queue.Queue()
    for student in students:
        todo.put(student)
    writing = threading.Lock()
    stopping = threading.Event()
    with tempfile.TemporaryDirectory(prefix="tinytorch-autograde-") as tmp:
        template = Path(tmp) / "template.db"
        _template_gradebook(course, template)
        workers = [Worker(course, Path(tmp) / f"worker-{i}", template, _worker_env(jobs), nbgrader_args)
                   for i in range(min(jobs, len(students)))]
        summary.jobs = len(workers)

        def run(worker: Worker) -> None:
            while not stopping.is_set():
                try:
                    student = todo.get_nowait()
                except queue.Empty:
                    return
                outcome = worker.grade(student)
                if stopping.is_set():
                    return
                with writing:
                    if outcome.graded:
                        merge_graded(worker.scratch, course, student)
                    summary.outcomes.append(outcome)
                    if progress is not None:
                        progress(outcome)
                worker.clear(student)

        threads = [threading.Thread(target=run, args=(w,), daemon=True) for w in workers]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)
        except KeyboardInterrupt:
            summary.interrupted = True
            stopping.set()
            for worker in workers:
                worker.stop()
            with writing:  # a merge under way finishes; none starts
                pass
        finally:
            for worker in workers:
                worker.stop()
            for thread in threads:
                thread.join(10)
    summary.seconds = time.perf_counter() - start
    return summary


def merge_from(course: Course, copies: Sequence[Path]) -> list[str]:
    """Merge every submission graded in the course copies ``copies`` (shards) into ``course``; returns who."""
    merged = []
    for folder in copies:
        copy = Course.load(folder, course.assignment)
        for student in copy.students():
            if copy.autograded(student).is_dir():
                merge_graded(copy, course, student)
                merged.append(student)
    return merged


def _shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give the shard as K/N, e.g. 1/4") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"{text!r}: K must be from 1 to N")
    return k, n


def create_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tinytorch.instructor.grader.autograde",
        description="Grade every collected submission with N sandboxed workers; rerun to resume.",
        epilog="Other options (--Execute.timeout=20, ...) are passed to nbgrader autograde.")
    parser.add_argument("assignment", help="the assignment, e.g. capstone")
    parser.add_argument("--course", type=Path, default=Path("."), help="the course folder (default: here)")
    parser.add_argument("--jobs", "-j", type=int_at_least(1), default=os.cpu_count() or 1,
                        help="workers grading at once (default: one per core)")
    parser.add_argument("--force", action="store_true", help="regrade submissions that are already graded")
    parser.add_argument("--shard", type=_shard, metavar="K/N",
                        help="grade only every N-th submission, from the K-th (one task of a job array)")
    parser.add_argument("--merge-from", type=Path, nargs="+", metavar="COPY",
                        help="merge the submissions graded in these course copies, and grade nothing")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (the summary still prints)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args, nbgrader_args = create_parser().parse_known_args(argv)
    unknown = [a for a in nbgrader_args if not a.startswith("--") or "." not in a.split("=")[0]]
    if unknown:
        create_parser().error(f"unrecognized arguments: {' '.join(unknown)}")
    course = Course.load(args.course, args.assignment)
    for option in nbgrader_args:  # a wall time given for this run bounds its workers too
        if option.startswith(("--GuardedExecute.wall_time=", "--Execute.wall_time=")):
            course = dataclasses.replace(course, wall_time=int(option.split("=", 1)[1]))
    if args.merge_from:
        merged = merge_from(course, args.merge_from)
        print(f"merged {len(merged)} graded submissions into {course.root}")
        return 0
    for problem in missing_protection():
        print(f"\n{'!' * 72}\n{NO_SANDBOX_WARNING}: {problem}.\n{'!' * 72}\n", file=sys.stderr)
    students = course.students()
    if args.shard:
        k, n = args.shard
        students = students[k - 1::n]
    todo = pending(course, students, args.force)
    if args.force:
        # Regrading starts from no autograded folder, so that a run stopped halfway resumes where it stopped.
        for student in todo:
            shutil.rmtree(course.autograded(student), ignore_errors=True)
    from tqdm import tqdm

    with tqdm(total=len(todo), unit="submission", disable=args.no_progress, file=sys.stderr) as bar:
        def progress(outcome: Outcome) -> None:
            bar.update(1)
            bar.set_postfix_str(f"{outcome.student} {'graded' if outcome.graded else 'FAILED'}")

        summary = grade(course, todo, args.jobs, nbgrader_args, progress)
    summary.skipped = len(students) - len(todo)
    print("\n".join(summary.lines()))
    return 130 if summary.interrupted else (1 if summary.failed else 0)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        # Replies go to the real stdout alone: anything nbgrader or a library prints goes to the log.
        replies = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)
        serve(sys.argv[2], sys.argv[3:], sys.stdin, replies)
    else:
        sys.exit(main())
