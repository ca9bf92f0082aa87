"""The subject: a sandboxed process that runs a submission's code and answers the judge's requests.

``python -m tinytorch.instructor.sandboxed.subject`` reads requests on its standard input
and answers on its standard output, one frame each (:mod:`tinytorch.instructor.sandboxed.wire`);
the student's code gets neither: before it runs, both are moved to private descriptors,
and what it prints goes to the standard error, which the judge keeps as a log.

Requests (``op``):

* ``run``: execute one cell's source in the notebook's namespace (as ``__main__``);
* ``describe``: whether a name is defined, and in which module;
* ``call``: call a name or a kept object (or its method) with decoded arguments, and
  answer with the encoded result, or keep the result and answer with a handle; with
  ``stand_ins``, the named functions of the notebook are the package's own during the call
  (:func:`_stand_ins`), so that one function is judged apart from another it calls;
* ``keep``: keep a value the judge sends (a report-shaped stand-in), to pass and change later;
* ``get`` / ``set``: read or write a value inside a kept object or a name, by a path.

Answers are ``{"ok": value}`` or ``{"raised": {...}}`` with the exception's type, its text,
whether it is a ValueError or an OSError, and the line of the student's code that raised.
A probe model in the arguments is a stand-in whose every call asks the judge for its
output (``{"probe": n, "x": array}``) and waits for it: the judge decides what a call
costs and sees every one. Each call also says how long the one before it took here, from
entering ``forward`` to leaving it (``"previous"``), which is what the student's clock sees of it.

Nothing here is trusted. Code that rewrites this module only changes what the judge is
told, and the judge checks what it is told.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import json
import linecache
import os
import re
import signal
import sys
import traceback
import types
from time import perf_counter
from typing import Any, BinaryIO, Iterator

import numpy as np

from tinytorch.core.autograd import is_grad_enabled
from tinytorch.core.layers import Module
from tinytorch.core.tensor import Tensor
from tinytorch.instructor.sandboxed.wire import Handle, WireError, decode, encode, read_frame, write_frame

try:
    import resource
except ImportError:  # not POSIX: no file-size fault
    resource = None  # type: ignore[assignment]

CELL_PREFIX = "<cell "


class Channel:
    """The judge's end: requests in, answers and probe calls out."""

    def __init__(self, requests: BinaryIO, answers: BinaryIO) -> None:
        self.requests, self.answers = requests, answers

    def send(self, message: dict[str, Any]) -> None:
        write_frame(self.answers, message)

    def receive(self) -> dict[str, Any]:
        return read_frame(self.requests)


class Probe(Module):
    """A model whose forward pass is played by the judge: each call sends its input and waits for the output."""

    def __init__(self, channel: Channel, ident: int, buffers: dict[str, np.ndarray]) -> None:
        super().__init__()
        self._channel, self._ident = channel, ident
        self._took: float | None = None
        for name, array in buffers.items():
            self.register_buffer(name, array, parameter=True)

    def forward(self, x: Any) -> Tensor:
        # The clock was bound when this module was imported, before any student code ran.
        entered = perf_counter()
        data = np.asarray(x.data if isinstance(x, Tensor) else x)
        # The mode the call ran in travels with it: the notebook asks for inference under no_grad().
        self._channel.send({"probe": self._ident, "x": encode(data), "grad": bool(is_grad_enabled()),
                            "previous": self._took})
        reply = self._channel.receive()
        output = decode(reply.get("y"))
        if not isinstance(output, np.ndarray):
            raise RuntimeError("the probe model got no output")
        result = Tensor(output)
        self._took = perf_counter() - entered
        return result


class Subject:
    """The submission's namespace, its kept objects, and the probes the judge handed it."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins,
                                          "get_ipython": lambda: _IPYTHON}
        self.kept: dict[int, Any] = {}
        self.probes: dict[int, Probe] = {}

    # ------------------------------------------------------------------ values in and out

    def _special(self, tag: str, body: dict[str, Any]) -> Any:
        if tag == "$handle":
            return self.kept[int(body["$handle"])]
        if tag == "$probe":
            ident = int(body["$probe"])
            if ident not in self.probes:
                buffers = {k: v for k, v in decode(body.get("buffers", {})).items() if isinstance(v, np.ndarray)}
                self.probes[ident] = Probe(self.channel, ident, buffers)
            return self.probes[ident]
        if tag == "$object":
            return types.SimpleNamespace(**decode(body["$object"], self._special))
        if tag == "$tensor":
            return Tensor(decode(body["$tensor"]))
        raise WireError(f"{tag} is not taken here")

    def _in(self, value: Any) -> Any:
        return decode(value, self._special)

    def _target(self, spec: dict[str, Any]) -> Any:
        if "handle" in spec:
            value = self.kept[int(spec["handle"])]
        elif "module" in spec:  # a name of the framework, as a student's own code would import it
            module = str(spec["module"])
            if not module.startswith("tinytorch."):
                raise ImportError(f"{module} is not part of the framework")
            value = getattr(importlib.import_module(module), str(spec["name"]))
        else:
            value = self.namespace[str(spec["name"])]
        if spec.get("method"):
            value = getattr(value, str(spec["method"]))
        return value

    def _keep(self, value: Any) -> dict[str, Any]:
        ident = len(self.kept) + 1
        self.kept[ident] = value
        return {"$handle": ident, "type": type(value).__qualname__}

    # ------------------------------------------------------------------ requests

    def run(self, request: dict[str, Any]) -> Any:
        name = f"{CELL_PREFIX}{request.get('cell', '')}>"
        source = _python(str(request["source"]))
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)
        exec(compile(source, name, "exec"), self.namespace)  # noqa: S102 (running the student's code is the point)
        return None

    def describe(self, request: dict[str, Any]) -> Any:
        name = str(request["name"])
        if name not in self.namespace:
            return {"defined": False, "module": None}
        module = getattr(self.namespace[name], "__module__", None)
        return {"defined": True, "module": module if isinstance(module, str) else None}

    def call(self, request: dict[str, Any]) -> Any:
        function = self._target(request["target"])
        args = self._in(request.get("args", []))
        kwargs = self._in(request.get("kwargs", {}))
        with _fault(request.get("fault"), self.namespace), _stand_ins(request.get("stand_ins"), self.namespace):
            result = function(*args, **kwargs)
        return self._keep(result) if request.get("keep") else encode(result, self._kept_value)

    def _kept_value(self, value: Any) -> Any:
        for ident, kept in self.kept.items():
            if value is kept:
                return {"$handle": ident, "type": type(value).__qualname__}
        return None

    def _walk(self, request: dict[str, Any]) -> tuple[Any, list[Any]]:
        value = self._target(request["target"])
        path = list(request.get("path", []))
        return value, path

    def keep(self, request: dict[str, Any]) -> Any:
        return self._keep(self._in(request.get("value")))

    def get(self, request: dict[str, Any]) -> Any:
        value, path = self._walk(request)
        for step in path:
            value = _step(value, step)
        if request.get("kept"):  # only whether the value is an object the judge holds a handle of
            return self._kept_value(value)
        top = value
        return encode(value, lambda v: None if v is top else self._kept_value(v))

    def set(self, request: dict[str, Any]) -> Any:
        value, path = self._walk(request)
        for step in path[:-1]:
            value = _step(value, step)
        new = self._in(request.get("value"))
        if isinstance(value, (dict, list)):
            value[path[-1]] = new
        else:
            setattr(value, str(path[-1]), new)
        return None

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        operation = {"run": self.run, "describe": self.describe, "call": self.call, "keep": self.keep,
                     "get": self.get, "set": self.set}.get(str(request.get("op")))
        if operation is None:
            return {"error": f"unknown request {str(request.get('op'))[:40]!r}"}
        try:
            return {"ok": operation(request)}
        except BaseException as exc:  # noqa: B036 (the student's code may raise anything, SystemExit too)
            return {"raised": raised(exc)}


def _step(value: Any, step: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return value[step]
    return getattr(value, str(step))


def raised(exc: BaseException) -> dict[str, Any]:
    """What the judge is told of an exception: its type, text, kind, and the student's line that raised it."""
    try:
        text = str(exc)
    except Exception:  # a __str__ that raises
        text = "(its message could not be read)"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(CELL_PREFIX)]
    line = (frames[-1].line or "").strip() if frames else ""
    if isinstance(exc, SyntaxError) and exc.text:
        line = exc.text.strip()
    return {"type": type(exc).__name__, "message": text[:4000], "line": line[:300],
            "value_error": isinstance(exc, ValueError), "os_error": isinstance(exc, OSError)}


class _Shell:
    """``get_ipython()`` for cells that use magics or shell commands: they do nothing here, except that a cell
    magic which only times or captures its body runs the body."""

    def __init__(self) -> None:
        self.user_ns: dict[str, Any] = {}

    def run_line_magic(self, *_: Any, **__: Any) -> None:
        return None

    def system(self, *_: Any, **__: Any) -> None:
        return None

    getoutput = system

    def run_cell_magic(self, name: str, line: str, body: str) -> None:
        if name in ("time", "timeit", "capture", "prun"):
            exec(compile(_python(body), f"{CELL_PREFIX}magic>", "exec"), _SUBJECT.namespace)  # noqa: S102


_IPYTHON = _Shell()
_SUBJECT: Subject


def _python(source: str) -> str:
    """A cell's source as plain Python: IPython's magics and ``!`` commands become calls of get_ipython()."""
    if not re.search(r"^\s*[%!]|\?\s*$", source, re.M):
        return source  # plain Python already: no need to import IPython for it
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return source
    return str(TransformerManager().transform_cell(source))


def _package_validator(submission: Any) -> bool:
    """``validate_submission_schema`` as the package's one validator decides it: True, or every problem."""
    from tinytorch.olympics.schema import SubmissionError, submission_problems

    problems = submission_problems(submission)
    if problems:
        raise SubmissionError(problems)
    return True


#: The notebook's functions the judge may swap for the package's own while it judges another function.
STAND_INS = {"validate_submission_schema": _package_validator}


@contextlib.contextmanager
def _stand_ins(names: Any, namespace: dict[str, Any]) -> Iterator[None]:
    """The named functions of the notebook replaced by :data:`STAND_INS` for one call, and put back after."""
    names = [str(name) for name in names or ()]
    unknown = [name for name in names if name not in STAND_INS]
    if unknown:
        raise ValueError(f"no stand-in for {unknown[0][:40]!r}")
    missing = object()
    kept = {name: namespace.get(name, missing) for name in names}
    namespace.update({name: STAND_INS[name] for name in names})
    try:
        yield
    finally:
        for name, value in kept.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


@contextlib.contextmanager
def _fault(kind: Any, namespace: dict[str, Any]) -> Iterator[None]:
    """Make the call fail the way a full disk does: ``json`` fails json.dump/dumps mid-write (under any name
    the notebook imported them by); ``fsize:N`` fails every write past N bytes of a file."""
    if not kind:
        yield
        return
    if kind == "json":
        real_dump, real_dumps = json.dump, json.dumps

        def dump(obj: Any, fp: Any, *args: Any, **kwargs: Any) -> None:
            fp.write(real_dumps(obj, *args, **kwargs)[:40])
            raise OSError("disk full (simulated)")

        def dumps(obj: Any, *args: Any, **kwargs: Any) -> str:
            raise OSError("disk full (simulated)")

        aliases = {name: value for name, value in namespace.items() if value is real_dump or value is real_dumps}
        json.dump, json.dumps = dump, dumps
        namespace.update({name: dump if value is real_dump else dumps for name, value in aliases.items()})
        try:
            yield
        finally:
            json.dump, json.dumps = real_dump, real_dumps
            namespace.update(aliases)
        return
    if str(kind).startswith("fsize:") and resource is not None and hasattr(signal, "SIGXFSZ"):
        limit = int(str(kind).split(":", 1)[1])
        previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit raises, not kills
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
        try:
            yield
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
            signal.signal(signal.SIGXFSZ, previous)
        return
    raise ValueError(f"unknown fault {str(kind)[:40]!r}")


def serve() -> None:
    """Answer the judge until it closes the channel. The student's code never sees descriptors 0 and 1."""
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull)  # noqa: SIM115
    sys.stdout = sys.stderr
    # jsonschema loads an optional IRI-format helper that builds a grammar when imported (seconds, once per
    # process). The schema here names no such format, so the subject goes without it.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    global _SUBJECT
    _SUBJECT = Subject(Channel(requests, answers))
    while True:
        try:
            request = _SUBJECT.channel.receive()
        except EOFError:
            return
        _SUBJECT.channel.send(_SUBJECT.answer(request))


__all__ = ["Subject", "Probe", "Channel", "Handle", "serve", "raised"]

if __name__ == "__main__":
    serve()
