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
from typing import Any, Optional

from tinytorch.olympics.schema import Problem, json_path, printable, submission_problems

__all__ = ["MAX_FILE_BYTES", "load_submission_file", "load_and_check"]

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
        members = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        pending.extend((member, [*path, key]) for key, member in members)
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
