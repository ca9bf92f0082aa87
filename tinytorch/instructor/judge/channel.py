"""The judge's end of the channel to the subject: start it in the sandbox, ask, play its probes, time it out.

:class:`Subject` is the one way the judge reaches the student's code. Each request is a
frame of plain data (:mod:`tinytorch.instructor.sandboxed.wire`), and so is each answer,
decoded without ever importing, unpickling or evaluating what came back. While a request
runs, the subject may ask for a probe model's output: the judge computes it, waits as
long as that probe's call is meant to take (the judge's own clock and sleep, which the
student's code cannot touch), answers, and records the call.

Whatever goes wrong on the other side (the code raised, ran past its time, ended its
process, sent what is not a frame) comes back as :class:`StudentRaised` or
:class:`SubjectLost`, which the checks turn into lost points; the subject is started again
for the next check, with the cells it had run.
"""

from __future__ import annotations

import logging
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinytorch.instructor.grader.sandbox import (
    NO_SANDBOX_WARNING,
    _chown_tree,
    _fresh_uid,
    kernel_env,
    missing_protection,
    sandbox_command,
)
from tinytorch.instructor.sandboxed.wire import MAX_FRAME, Handle, WireError, decode, encode, pack, unpack

__all__ = ["Subject", "SubjectLost", "StudentRaised", "Probe", "Call", "StandIn", "TensorArg", "Limits"]

log = logging.getLogger(__name__)

COMMAND = ["-E", "-s", "-B", "-m", "tinytorch.instructor.sandboxed.subject"]
#: At most this many probe calls answered within one request: enough for any honest measurement.
MAX_PROBE_CALLS = 20_000
#: After this many restarts, what is left is not run: a submission that keeps ending its process costs its own
#: points, not the grader's hours.
MAX_RESTARTS = 8


class SubjectLost(Exception):
    """The subject cannot answer: its code ran past the time, ended the process, or broke the channel."""


class StudentRaised(Exception):
    """The student's code raised; ``info`` has its type, text, kind and the student's line."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = {key: info.get(key) for key in ("type", "message", "line", "value_error", "os_error")}
        super().__init__(self.describe())

    @property
    def value_error(self) -> bool:
        return self.info["value_error"] is True

    @property
    def os_error(self) -> bool:
        return self.info["os_error"] is True

    def message(self) -> str:
        return str(self.info["message"] or "")

    def describe(self) -> str:
        where = f" (raised in your code, at `{self.info['line']}`)" if self.info.get("line") else ""
        return f"your code raised {str(self.info['type'])[:80]}: {self.message()[:600]}{where}"


@dataclass
class Call:
    """One call of a probe model, as the judge saw it: the input's shape, the wait it chose, the time it took,
    the rows it got and whether autograd was recording (as the student's process reported it).

    ``took`` is the call's time in the student's process, from entering the model to leaving it
    (None until the next call reports it): what a student's clock around the call must at least
    see. The student's process reports it, so it is never taken to be shorter than ``seconds``.
    """

    shape: tuple[int, ...]
    wait: float
    seconds: float
    rows: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    grad: bool = False
    took: float | None = None


class Probe:
    """A model the judge plays: ``respond`` gives each call's wait (seconds) and output; ``calls`` records them.

    ``buffers`` are the arrays the model stores in the student's process, so that sizes and
    parameter counts there are what the judge knows them to be.
    """

    buffers: dict[str, np.ndarray] = {}

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def respond(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        raise NotImplementedError

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        return [call.shape for call in self.calls]


class StandIn:
    """An object with plain attributes, built in the student's process (a report-shaped fake)."""

    def __init__(self, **attributes: Any) -> None:
        self.attributes = attributes


class TensorArg:
    """A Tensor of this array, built in the student's process."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = np.ascontiguousarray(array)


@dataclass(frozen=True)
class Limits:
    """What the subject may take: the sandbox's limits and each request's time."""

    memory: int = 4 * 1024 ** 3
    processes: int = 256
    file_size: int = 256 * 1024 ** 2
    tmp_size: int = 256 * 1024 ** 2
    seconds: float = 60.0
    require_sandbox: bool = False


class Subject:
    """The sandboxed process that holds the student's code, and the cells it has run (replayed on a restart)."""

    def __init__(self, workdir: Path, limits: Limits | None = None, env: dict[str, str] | None = None) -> None:
        self.workdir, self.limits = workdir, limits or Limits()
        self.env = kernel_env(dict(os.environ if env is None else env))
        self.env.setdefault("NBGRADER_EXECUTION", "autograde")
        self.process: subprocess.Popen[bytes] | None = None
        self.cells: list[tuple[str, str]] = []
        self.failed_cells: dict[str, StudentRaised | SubjectLost] = {}
        self.probes: dict[int, Probe] = {}
        self.restarts = 0
        self._private: Path | None = None
        self._buffer = b""
        self.log_path = workdir.parent / "subject.log"

    # ---------------------------------------------------------------- the process

    def _command(self) -> list[str]:
        command = [sys.executable, *COMMAND]
        missing = missing_protection()
        if missing:
            message = f"{NO_SANDBOX_WARNING}: " + "; ".join(missing) + "."
            if self.limits.require_sandbox or os.environ.get("TINYTORCH_REQUIRE_SANDBOX") == "1":
                raise RuntimeError(message)
            log.warning("%s", message)
            return command
        self._private = Path(tempfile.mkdtemp(prefix="tinytorch-subject-"))
        uid = None
        if os.geteuid() == 0:
            uid = _fresh_uid()
            _chown_tree(self.workdir, uid, uid)
            _chown_tree(self._private, uid, uid)
        return sandbox_command(command, workdir=self.workdir, private=self._private, env=self.env,
                               memory=self.limits.memory, processes=self.limits.processes,
                               file_size=self.limits.file_size, tmp_size=self.limits.tmp_size, uid=uid,
                               subject=True)

    def start(self) -> None:
        self.stop()
        self._buffer = b""
        self.process = subprocess.Popen(self._command(), cwd=self.workdir, env=self.env, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.log_path.open("ab"),
                                        start_new_session=True)
        for cell, source in list(self.cells):
            if cell not in self.failed_cells or isinstance(self.failed_cells[cell], StudentRaised):
                try:
                    self._ask({"op": "run", "cell": cell, "source": source})
                except StudentRaised:
                    pass
                except SubjectLost as lost:  # it brought the subject down again: never run it again
                    self.failed_cells[cell] = lost
                    self.start()
                    return

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        if self.process is not None:
            for stream in (self.process.stdin, self.process.stdout):
                if stream is not None:
                    stream.close()
        self.process = None
        if self._private is not None:
            shutil.rmtree(self._private, ignore_errors=True)
            self._private = None

    def __enter__(self) -> Subject:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- frames

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process is not None and self.process.stdin is not None
        try:
            self.process.stdin.write(pack(message))
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise SubjectLost("the process running your code ended (it exited or was killed)") from None

    def _read(self, size: int, deadline: float) -> bytes:
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while len(self._buffer) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SubjectLost(f"your code did not finish within {self.limits.seconds:g} s")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, max(65536, size - len(self._buffer)))
            if not chunk:
                code = self.process.wait()
                how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
                raise SubjectLost(f"the process running your code {how}")
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _frame(self, deadline: float) -> dict[str, Any]:
        size = int.from_bytes(self._read(4, deadline), "big")
        if size > MAX_FRAME:
            raise SubjectLost(f"the process running your code sent {size:,} bytes at once, over the "
                              f"{MAX_FRAME:,} allowed")
        try:
            return unpack(self._read(size, deadline))
        except WireError as exc:
            raise SubjectLost(f"the process running your code sent what is not an answer ({exc})") from None

    # ---------------------------------------------------------------- requests

    def _encode(self, value: Any) -> Any:
        def special(item: Any) -> Any:
            if isinstance(item, Probe):
                first = id(item) not in self.probes
                self.probes[id(item)] = item
                return {"$probe": id(item), **({"buffers": encode(item.buffers)} if first else {})}
            if isinstance(item, StandIn):
                return {"$object": encode(item.attributes, special)}
            if isinstance(item, TensorArg):
                return {"$tensor": encode(item.array)}
            if isinstance(item, Handle):
                return {"$handle": item.id}
            return None

        return encode(value, special)

    @staticmethod
    def _decode(value: Any) -> Any:
        def special(tag: str, body: dict[str, Any]) -> Any:
            if tag == "$handle" and type(body.get("$handle")) is int:
                return Handle(body["$handle"], str(body.get("type", ""))[:200])
            raise WireError(f"{tag} is not an answer")

        try:
            return decode(value, special)
        except (WireError, RecursionError) as exc:
            raise SubjectLost(f"the process running your code sent what is not an answer ({exc})") from None

    def _play(self, message: dict[str, Any]) -> None:
        received = time.perf_counter()
        probe = self.probes.get(message.get("probe"))  # type: ignore[arg-type]
        if probe is None:
            raise SubjectLost("the process running your code called a model it was not given")
        x = self._decode(message.get("x"))
        if not isinstance(x, np.ndarray):
            raise SubjectLost("a model was called without an array")
        previous = message.get("previous")
        if probe.calls and isinstance(previous, float) and math.isfinite(previous):
            probe.calls[-1].took = max(previous, probe.calls[-1].seconds)
        wait, output = probe.respond(x)
        if wait > 0:
            time.sleep(wait)
        self._send({"y": encode(np.ascontiguousarray(output, dtype=np.float32))})
        rows = x.reshape(-1, x.shape[-1]) if x.ndim >= 1 and x.size and x.shape[-1] else np.zeros((0, 0))
        probe.calls.append(Call(tuple(int(n) for n in x.shape), wait, time.perf_counter() - received, rows,
                                message.get("grad") is not False))

    def _ask(self, message: dict[str, Any], seconds: float | None = None) -> Any:
        if self.process is None:
            if self.restarts >= MAX_RESTARTS:
                raise SubjectLost(f"not run: the process running your code ended {self.restarts} times")
            self.start()
        deadline = time.monotonic() + (seconds or self.limits.seconds)
        try:
            self._send(message)
            for _ in range(MAX_PROBE_CALLS + 1):
                answer = self._frame(deadline)
                if "probe" in answer:
                    self._play(answer)
                    continue
                if "ok" in answer:
                    return self._decode(answer["ok"])
                if isinstance(answer.get("raised"), dict):
                    raise StudentRaised(answer["raised"])
                raise SubjectLost("the process running your code sent what is not an answer")
            raise SubjectLost(f"your code called the model more than {MAX_PROBE_CALLS:,} times in one go")
        except SubjectLost:
            self.stop()
            self.restarts += 1
            raise

    # ---------------------------------------------------------------- what the checks use

    def run_cell(self, cell: str, source: str, seconds: float | None = None) -> None:
        """Run one cell of the notebook; a cell that raises or hangs is remembered with what happened."""
        self.cells.append((cell, source))
        try:
            self._ask({"op": "run", "cell": cell, "source": source}, seconds)
        except (StudentRaised, SubjectLost) as problem:
            self.failed_cells[cell] = problem

    def defined(self, name: str) -> tuple[bool, str | None]:
        """Whether the notebook defines ``name``, and the module its value says it comes from."""
        answer = self._ask({"op": "describe", "name": name})
        if not isinstance(answer, dict):
            raise SubjectLost("the process running your code sent what is not an answer")
        module = answer.get("module")
        return answer.get("defined") is True, module if isinstance(module, str) else None

    def keep(self, value: Any) -> Handle:
        """``value`` built in the student's process and kept there, to pass to its code and change later."""
        kept = self._ask({"op": "keep", "value": self._encode(value)})
        if not isinstance(kept, Handle):
            raise SubjectLost("the process running your code sent what is not an answer")
        return kept

    def call(self, target: str | Handle | tuple[str, str], *args: Any, keep: bool = False, fault: str | None = None,
             method: str | None = None, seconds: float | None = None, stand_ins: tuple[str, ...] = (),
             **kwargs: Any) -> Any:
        """``target(*args, **kwargs)`` in the student's process (a name, or a kept object and its ``method``);
        the notebook's functions named in ``stand_ins`` are the package's own during the call."""
        spec: dict[str, Any] = {"handle": target.id} if isinstance(target, Handle) else \
            {"module": target[0], "name": target[1]} if isinstance(target, tuple) else {"name": target}
        if method:
            spec["method"] = method
        return self._ask({"op": "call", "target": spec, "args": self._encode(list(args)),
                          "kwargs": self._encode(kwargs), "keep": keep, "fault": fault,
                          "stand_ins": list(stand_ins)}, seconds)

    def get(self, target: str | Handle, *path: str | int) -> Any:
        spec: dict[str, Any] = {"handle": target.id} if isinstance(target, Handle) else {"name": target}
        return self._ask({"op": "get", "target": spec, "path": list(path)})

    def kept_as(self, target: str | Handle, *path: str | int) -> Handle | None:
        """The handle of the value at ``path`` if it is an object the judge holds a handle of (the same object)."""
        spec: dict[str, Any] = {"handle": target.id} if isinstance(target, Handle) else {"name": target}
        found = self._ask({"op": "get", "target": spec, "path": list(path), "kept": True})
        return found if isinstance(found, Handle) else None

    def set(self, target: Handle, path: list[str | int], value: Any) -> None:
        self._ask({"op": "set", "target": {"handle": target.id}, "path": path, "value": self._encode(value)})

