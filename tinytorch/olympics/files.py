"""Reading a submission file: whatever is at the path, the answer is a document or a list of problems.

A results file comes from someone else. It may be huge, a FIFO, a device, not UTF-8,
not JSON, JSON with NaN or with a key written twice. Each of these is a ``Problem``
of that file, never an exception or a hang, so a command over many files gives every
file its verdict.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Optional

from tinytorch.olympics.schema import Problem, json_path, printable, submission_problems

__all__ = ["MAX_FILE_BYTES", "MAX_DEPTH", "MAX_ENTRIES", "Found", "load_submission_file", "load_and_check",
           "results_in"]

MAX_FILE_BYTES = 5_000_000   # a real submission is ~10 kB; refuse anything absurd before parsing it


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (JSON has no NaN or Infinity)")


class _JSONObject(dict):
    """A parsed JSON object that remembers the keys it held more than once (the last value wins in a dict)."""

    duplicates: list[str]


def _object(pairs: list[tuple[str, Any]]) -> _JSONObject:
    obj = _JSONObject(pairs)
    seen: set[str] = set()
    obj.duplicates = []
    for key, _ in pairs:
        if key in seen:
            obj.duplicates.append(key)
        seen.add(key)
    return obj


def _duplicate_keys(document: Any) -> list[Problem]:
    """A problem for every key that appears twice in one object: which value counts would be a guess."""
    problems: list[Problem] = []
    pending: list[tuple[Any, list[Any]]] = [(document, [])]
    while pending:
        value, path = pending.pop()
        if isinstance(value, _JSONObject):
            problems += [Problem(json_path([*path, key]), "duplicate-key",
                                 f"the key {printable(key)!r} appears more than once in this object")
                         for key in dict.fromkeys(value.duplicates)]
        if isinstance(value, list) and not any(issubclass(kind, (dict, list)) for kind in set(map(type, value))):
            continue   # only objects hold keys: a flat list of numbers has nothing to look at
        members = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        pending.extend((member, [*path, key]) for key, member in members if isinstance(member, (dict, list)))
    return problems


class _Refused(Exception):
    """A file that is not read at all: ``problem`` says why."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.problem = Problem("$", rule, message)


def _read_regular_file(path: str, dir_fd: Optional[int] = None) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most MAX_FILE_BYTES; _Refused says why not.

    Opened without blocking and checked with fstat before reading, so a FIFO cannot hang the
    reader and a device such as /dev/zero (size 0 to stat) cannot fill memory; the limit is
    also enforced while reading, for a file that grows. With ``dir_fd``, ``path`` is a name in
    that folder and a link there is refused, not followed.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (getattr(os, "O_NOFOLLOW", 0) if dir_fd is not None else 0)
    try:
        descriptor = os.open(path, flags, dir_fd=dir_fd)
    except OSError as exc:
        if dir_fd is not None and exc.errno == errno.ELOOP:
            raise _Refused("readable", "the file is a link, which is not followed") from None
        raise
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode) \
                else "a device or socket"
            raise _Refused("readable", f"the file is {kind}, not a regular file")
        chunks, size = [], 0
        while chunk := os.read(descriptor, 1 << 20):
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise _Refused("size", f"the file is more than {MAX_FILE_BYTES:,} bytes; "
                                       f"a submission is at most {MAX_FILE_BYTES:,}")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def load_submission_file(path: str, dir_fd: Optional[int] = None) -> tuple[Optional[Any], list[Problem]]:
    """Read and parse ``path`` (a name in the folder ``dir_fd``, links refused, if given); returns
    (document or None, problems found while reading)."""
    try:
        data = _read_regular_file(path, dir_fd)
    except _Refused as refused:
        return None, [refused.problem]
    except (OSError, ValueError) as exc:  # ValueError: a name no file can have (an embedded NUL)
        return None, [Problem("$", "readable", f"cannot read the file: {getattr(exc, 'strerror', None) or exc}")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem("$", "encoding", f"not UTF-8 text (byte {exc.start})")]
    try:
        document = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_object)
    except json.JSONDecodeError as exc:
        return None, [Problem("$", "json", f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")]
    except (ValueError, RecursionError) as exc:
        return None, [Problem("$", "json", str(exc) if isinstance(exc, ValueError) else "nested too deeply")]
    return document, _duplicate_keys(document)


def load_and_check(path: str, dir_fd: Optional[int] = None) -> tuple[Optional[Any], list[Problem]]:
    """Read ``path`` and check it as a submission; returns (document or None, every problem found).

    The one way every command (``validate``, ``plot``, and any that compares or ranks
    files) reads a submission, so each gives the same verdict on the same file.

    Every input gets a verdict: should a check itself fail on a document nobody foresaw,
    that is reported as a problem of this file, and the next file is still checked.
    """
    try:
        document, problems = load_submission_file(path, dir_fd)
        if document is None:
            return None, problems
        return document, problems + submission_problems(document)
    except Exception as exc:  # a bug of the validator must not hide the other files' verdicts
        return None, [Problem("$", "internal", f"the validator failed on this file ({type(exc).__name__}: "
                                               f"{printable(str(exc))[:200]}); please report it")]


#: Folders deeper than this below a path given are not entered (an nbgrader tree is 3 deep).
MAX_DEPTH = 16
#: At most this many names are looked at below one path given.
MAX_ENTRIES = 200_000
#: Folders Jupyter writes for itself: their copies are not submissions.
_SKIPPED = frozenset({".ipynb_checkpoints"})


@dataclass
class Found:
    """One results file below a path given, read and checked, or a problem met on the way to it.

    ``parts`` are the names from the path given down to it (empty for a file given by
    name); ``identity`` is the file's (device, inode), so that one file reached twice is
    counted once; ``document`` is None where the file is invalid or was not read.
    """

    given: str
    parts: tuple[str, ...]
    document: Optional[Any] = None
    problems: list[Problem] = field(default_factory=list)
    identity: Optional[tuple[int, int]] = None

    @property
    def path(self) -> str:
        return os.path.join(self.given, *self.parts)


def _refused(given: str, parts: tuple[str, ...], message: str, rule: str = "readable") -> Found:
    return Found(given, parts, problems=[Problem("$", rule, message)])


def _file(given: str, parts: tuple[str, ...], name: str, folder: int) -> Found:
    try:
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except OSError as exc:
        return _refused(given, parts, f"cannot read the file: {exc.strerror}")
    document, problems = load_and_check(name, dir_fd=folder)
    return Found(given, parts, document, problems, (info.st_dev, info.st_ino))


def results_in(given: str, suffix: str = ".json") -> Iterator[Found]:
    """``given`` itself if it is not a folder, else every ``*suffix`` file below it, in name order.

    The walk is iterative and holds one open folder per level: below the folder given,
    names are opened relative to their folder (so no path grows past PATH_MAX), links are
    not followed (a link to another student's file is refused), a folder too deep or that
    cannot be entered is a problem of its own, and the walk stops after MAX_ENTRIES names.
    """
    try:
        top = os.open(given, os.O_RDONLY | os.O_DIRECTORY)
    except NotADirectoryError:
        document, problems = load_and_check(given)
        try:
            info = os.stat(given)
            identity: Optional[tuple[int, int]] = (info.st_dev, info.st_ino)
        except OSError:
            identity = None
        yield Found(given, (), document, problems, identity)
        return
    except (OSError, ValueError) as exc:
        if isinstance(exc, FileNotFoundError) or not isinstance(exc, OSError):
            yield Found(given, (), *load_and_check(given))
        else:
            yield _refused(given, (), f"cannot enter the folder: {exc.strerror}")
        return
    stack: list[tuple[int, Iterator[str], tuple[str, ...]]] = []
    seen = 0
    try:
        stack.append((top, iter(sorted(os.listdir(top))), ()))
        while stack:
            folder, names, parts = stack[-1]
            name = next(names, None)
            if name is None:
                os.close(folder)
                stack.pop()
                continue
            seen += 1
            if seen > MAX_ENTRIES:
                yield _refused(given, parts, f"more than {MAX_ENTRIES:,} names below {printable(given)}: "
                                             "the rest were not looked at", rule="too-many")
                return
            here = (*parts, name)
            try:
                info = os.stat(name, dir_fd=folder, follow_symlinks=False)
            except OSError as exc:
                yield _refused(given, here, f"cannot look at it: {exc.strerror}")
                continue
            if stat.S_ISLNK(info.st_mode):
                try:   # what the link points to, to say why it is not followed
                    to_folder = stat.S_ISDIR(os.stat(name, dir_fd=folder).st_mode)
                except OSError:
                    to_folder = False
                if name.endswith(suffix) or to_folder:
                    yield _refused(given, here, "a link, which is not followed: a submission is a file of its own")
                continue
            if stat.S_ISDIR(info.st_mode):
                if name in _SKIPPED:
                    continue
                if len(here) > MAX_DEPTH:
                    yield _refused(given, here, f"a folder more than {MAX_DEPTH} levels deep, not entered",
                                   rule="too-deep")
                    continue
                try:
                    child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0),
                                    dir_fd=folder)
                except OSError as exc:
                    yield _refused(given, here, f"cannot enter the folder: {exc.strerror}")
                    continue
                try:
                    listing = iter(sorted(os.listdir(child)))
                except OSError as exc:
                    os.close(child)
                    yield _refused(given, here, f"cannot enter the folder: {exc.strerror}")
                    continue
                stack.append((child, listing, here))
            elif name.endswith(suffix):
                yield _file(given, here, name, folder)
    finally:
        for folder, _, _ in stack:
            os.close(folder)
