"""One judging of one notebook: load its code into a subject, run every hidden check, give each graded cell
its points and its findings.

A graded cell's checks are independent properties, each registered with its points (the
cell's points are their sum); every check runs, even after one fails. A ``gate`` (the
visible tests, "written in the notebook") is worth nothing itself, but when it fails the
cell earns 0. What the student's code did wrong is said in the student's terms: its own
exception and line, or what it returned; never a traceback into the judge.

The subject runs in a folder of its own, made empty for this trial: files handed in beside
the notebook are not there, so whatever a check reads, the student's code wrote while it
was judged.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import stat
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinytorch.instructor.judge.channel import Limits, StudentRaised, Subject, SubjectLost
from tinytorch.olympics.files import MAX_FILE_BYTES

__all__ = ["Trial", "HiddenCheck", "Registry", "Verdict", "Cell", "ChargedElsewhere", "score", "judge_cells"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cell:
    """A code cell of the notebook as the judge reads it: its grade id (if any), whether it is graded, its source."""

    grade_id: str | None
    graded: bool
    source: str


@dataclass(frozen=True)
class Verdict:
    """What the judge decided for one graded cell."""

    earned: float
    possible: float
    report: str
    gate_failed: bool = False

    def feedback(self) -> str:
        return self.report or f"Hidden checks: all passed ({self.earned:g} of {self.possible:g} points)."


class ChargedElsewhere(Exception):
    """A check's failure that follows from a slip an earlier cell already charged: reported, not charged again.

    Part 5 holds no code of the student's: the workflow fails only when a function it calls
    does, and that function's own cell has lost points for it. Charging the same slip again
    in Part 5 would make one mistake cost twice.
    """


class Trial:
    """What a check works with: the subject, this run's random draws, its folder, and what was measured once."""

    def __init__(self, subject: Subject, workdir: Path, rng: random.Random, workflow: list[Cell],
                 defined_in: dict[str, str]) -> None:
        self.subject, self.workdir, self.rng = subject, workdir, rng
        self.workflow, self.defined_in = workflow, defined_in
        self.memo: dict[str, Any] = {}
        #: The verdicts of the cells judged so far, in order.
        self.verdicts: dict[str, Verdict] = {}
        self._folders = 0

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time ``key`` is asked for; its value (or its failure) every time."""
        if key not in self.memo:
            try:
                self.memo[key] = ("ok", compute())
            except (AssertionError, StudentRaised, SubjectLost) as failed:
                self.memo[key] = ("failed", failed)
        kind, value = self.memo[key]
        if kind == "failed":
            raise value
        return value

    def charged_cells(self) -> list[str]:
        """The cells judged so far that lost points, or none at all if two or more of them failed a gate.

        A slip is charged in the cell of the function that has it: any number of property-level
        slips, and one function that fails its visible tests, are charged there only. Two or
        more functions that do not work mean the notebook is not yet a workflow, and what
        depends on them is charged too: a blank or broken notebook collects nothing downstream.
        """
        if sum(verdict.gate_failed for verdict in self.verdicts.values()) > 1:
            return []
        return [cell for cell, verdict in self.verdicts.items() if verdict.earned < verdict.possible]

    def need(self, name: str) -> str:
        """``name`` must be defined in the notebook; the message says why it is not (the cell's own error)."""
        defined, _ = self.subject.defined(name)
        if not defined:
            cell = self.defined_in.get(name)
            problem = self.subject.failed_cells.get(cell) if cell else None
            because = f": your cell {cell!r} did not run: {_said(problem)}" if problem else \
                ": run the cell where you implement it"
            raise AssertionError(f"{name} is not defined{because}")
        return name

    def own(self, name: str) -> str:
        """``name`` must be defined in the notebook itself, not imported from elsewhere."""
        self.need(name)
        _, module = self.subject.defined(name)
        assert module == "__main__", f"implement {name} in this notebook; do not import an implementation"
        return name

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.subject.call(self.need(name), *args, **kwargs)

    def folder(self) -> str:
        """A new empty folder in the subject's folder, for one check to write in: its path."""
        self._folders += 1
        path = self.workdir / f"check-{self._folders}"
        path.mkdir()
        if os.geteuid() == 0:
            owner = self.workdir.stat()
            os.chown(path, owner.st_uid, owner.st_gid)
        return str(path)

    def read(self, relative: str) -> bytes | None:
        """A file the student's code wrote in its folder (None if there is none), read without following links.

        The folder is the student's: every step is opened with O_NOFOLLOW from the trial's
        own folder, and only a regular file of at most MAX_FILE_BYTES is read.
        """
        return _read_below(self.workdir, relative)

    def mode(self, relative: str) -> int:
        """The permission bits of a file the student's code wrote, looked at without following a link."""
        folder, name = os.path.split(relative)
        descriptor = _open_folder(self.workdir, folder)
        try:
            found = os.stat(name, dir_fd=descriptor, follow_symlinks=False)
        except FileNotFoundError:
            raise AssertionError(f"{relative} was not written") from None
        finally:
            os.close(descriptor)
        assert stat.S_ISREG(found.st_mode), f"{relative} is not a regular file"
        return stat.S_IMODE(found.st_mode)

    def listing(self, relative: str) -> list[str]:
        descriptor = _open_folder(self.workdir, relative)
        try:
            return sorted(os.listdir(descriptor))
        finally:
            os.close(descriptor)

    def run_workflow(self) -> tuple[float, float]:
        """Run the notebook's workflow cells (train, optimize, submit) once, in the subject's folder: the
        judge's clock (seconds since the epoch) when they started and when they ended."""
        def run() -> tuple[float, float]:
            started = time.time()
            for cell in self.workflow:
                self.subject.run_cell(cell.grade_id or "workflow", cell.source)
            return started, time.time()
        return self.once("workflow", run)


def _said(problem: BaseException) -> str:
    return problem.describe() if isinstance(problem, StudentRaised) else str(problem)


def _open_folder(root: Path, relative: str) -> int:
    descriptor = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for part in Path(relative).parts if relative not in ("", ".") else ():
        try:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=descriptor)
        except OSError as exc:
            os.close(descriptor)
            raise AssertionError(f"{relative} is not a folder your code may replace ({exc.strerror})") from None
        os.close(descriptor)
        descriptor = inner
    return descriptor


def _read_below(root: Path, relative: str) -> bytes | None:
    folder, name = os.path.split(relative)
    descriptor = _open_folder(root, folder)
    try:
        try:
            handle = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=descriptor)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AssertionError(f"{relative} cannot be read: {exc.strerror} (a link is not followed)") from None
        try:
            if not stat.S_ISREG(os.fstat(handle).st_mode):
                raise AssertionError(f"{relative} is not a regular file")
            chunks, size = [], 0
            while chunk := os.read(handle, 1 << 20):
                size += len(chunk)
                if size > MAX_FILE_BYTES:
                    raise AssertionError(f"{relative} is more than {MAX_FILE_BYTES:,} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(handle)
    finally:
        os.close(descriptor)


# ---------------------------------------------------------------- the registry of checks

Check = Callable[[Trial], None]


@dataclass(frozen=True)
class HiddenCheck:
    """One independent property of a graded cell, worth ``points`` (a gate is worth nothing, but fails the cell)."""

    name: str
    points: float
    run: Check
    gate: bool = False


@dataclass
class Registry:
    """The checks of one assignment, by graded cell, in the order they run."""

    checks: dict[str, list[HiddenCheck]] = field(default_factory=dict)

    def check(self, cell: str, name: str, points: float = 0, gate: bool = False) -> Callable[[Check], Check]:
        def add(function: Check) -> Check:
            self.checks.setdefault(cell, []).append(HiddenCheck(name, points, function, gate))
            return function
        return add


def score(checks: list[HiddenCheck], trial: Trial) -> Verdict:
    """Run every check of one cell: its points and a report ('' when every check passed)."""
    failures, notes, lost, gate_failed = [], [], 0.0, False
    for check in checks:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check.run(trial)
            continue
        except ChargedElsewhere as exc:
            notes.append(f"· {check.name} (not charged again): {exc}")
            continue
        except AssertionError as exc:
            why = str(exc) or "the check failed without a message (please report this to your instructor)"
        except StudentRaised as exc:
            why = exc.describe()
        except SubjectLost as exc:
            why = str(exc)
        except Exception as exc:  # what the code returned cannot be read as this check expects
            why = f"your code returned something this check cannot read ({type(exc).__name__}: {str(exc)[:300]})"
        lost += check.points
        gate_failed |= check.gate
        cost = "no points are given for this cell" if check.gate else \
            f"-{check.points:g} point{'s' if check.points != 1 else ''}"
        failures.append(f"✗ {check.name} ({cost}): {why}")
    possible = sum(check.points for check in checks)
    if not failures:
        header = f"Hidden checks: all passed ({possible:g} of {possible:g} points), with a note:"
        return Verdict(possible, possible, "\n".join([header, *notes]) if notes else "")
    earned = 0.0 if gate_failed else possible - lost
    header = f"{len(failures)} of {len(checks)} hidden checks failed ({earned:g} of {possible:g} points):"
    return Verdict(earned, possible, "\n".join([header, *failures, *notes]), gate_failed)


def judge_cells(cells: Iterable[Cell], registry: Registry, *, workflow_ids: Iterable[str], skipped_ids: Iterable[str],
                defined_in: dict[str, str], limits: Limits | None = None,
                env: dict[str, str] | None = None) -> dict[str, Verdict]:
    """Judge a notebook's code cells: every graded cell the registry knows gets a verdict.

    The subject first runs every code cell that is neither graded nor one of the workflow or
    skipped cells, in order (a cell that fails is remembered; the others go on); the checks
    run the workflow cells when they need what it writes.
    """
    cells = list(cells)
    workflow_ids, skipped_ids = set(workflow_ids), set(skipped_ids)
    scratch = Path(tempfile.mkdtemp(prefix="tinytorch-judge-"))
    try:
        workdir = scratch / "work"
        workdir.mkdir()
        os.chmod(scratch, 0o755)
        rng = random.Random(int.from_bytes(os.urandom(16), "big"))
        with Subject(workdir, limits or Limits(), env) as subject:
            for index, cell in enumerate(cells):
                if not cell.graded and cell.grade_id not in workflow_ids | skipped_ids:
                    subject.run_cell(cell.grade_id or f"added-{index}", cell.source)
            trial = Trial(subject, workdir, rng, [c for c in cells if c.grade_id in workflow_ids], defined_in)
            for grade_id, checks in registry.checks.items():
                trial.verdicts[grade_id] = score(checks, trial)
            return dict(trial.verdicts)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

