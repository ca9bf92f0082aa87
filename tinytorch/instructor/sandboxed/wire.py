"""The plain data that the judge and the sandboxed subject exchange: JSON frames, arrays as bytes.

The judge never unpickles, imports or evaluates anything the student's process sends:
each frame is a length and UTF-8 JSON, and a value is JSON with a few tagged forms:

* ``{"$array": {"dtype", "shape", "data"}}``: a numpy array of a numeric dtype, its bytes
  in base64 (no object arrays, so no pickles);
* ``{"$dict": [[key, value], ...]}``: a dict whose keys are not all plain strings, or
  one of which starts with ``$`` (so a student's dict cannot pass for a tag);
* ``{"$foreign": "module.Type", "value": ...}``: a value that ``json.dumps`` would refuse
  (a numpy scalar, any object), with its plain value where it has one, so that a check
  can say "plain JSON values" and still read the number;
* ``{"$handle": n, "type": name}``: an object that stays in the student's process, to be
  called or read later;
* from the judge only, ``{"$probe": n, ...}``, ``{"$object": {...}}`` and ``{"$tensor": array}``:
  a probe model, an object with plain attributes (a report-shaped stand-in) and a Tensor.

Every frame and every value is bounded (size, depth, array size); what breaks a bound or
the format is a :class:`WireError`, which the judge counts against the code that sent it.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable

import numpy as np

__all__ = ["WireError", "Foreign", "ForeignFloat", "ForeignInt", "Handle", "MAX_FRAME", "MAX_DEPTH",
           "encode", "decode", "write_frame", "read_frame", "pack", "unpack"]

MAX_FRAME = 64 * 1024 * 1024
MAX_DEPTH = 64
_HEADER = struct.Struct(">I")
DTYPES = frozenset({"bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
                    "float16", "float32", "float64"})
TAGS = frozenset({"$array", "$dict", "$foreign", "$handle", "$probe", "$object", "$tensor"})


class WireError(Exception):
    """A frame or value that is not in the format, or is beyond its bounds."""


@dataclass(frozen=True)
class Handle:
    """An object that stays in the student's process; the judge names it by number."""

    id: int
    type: str = ""


class Foreign:
    """A value the student's code returned that JSON has no form for (not a number): its type and its text."""

    def __init__(self, type_name: str, value: Any = None) -> None:
        self.type_name, self.value = type_name, value

    def __repr__(self) -> str:
        return f"<{self.type_name}: {self.value!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Foreign) and (self.type_name, self.value) == (other.type_name, other.value)

    __hash__ = None  # type: ignore[assignment]


class ForeignFloat(float):
    """A number of a type JSON does not take (numpy.float32, ...): it compares as a number and says its type."""

    type_name = "float"

    def __repr__(self) -> str:
        return f"{self.type_name}({float(self)!r})"


class ForeignInt(int):
    """A whole number of a type JSON does not take (numpy.int64, ...)."""

    type_name = "int"

    def __repr__(self) -> str:
        return f"{self.type_name}({int(self)!r})"


def _type_name(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" else kind.__qualname__


def _plain_key(key: Any) -> bool:
    return type(key) is str and not key.startswith("$")


def encode(value: Any, extra: Callable[[Any], Any] | None = None, depth: int = 0) -> Any:
    """``value`` as wire data. ``extra`` encodes what this format does not know (a probe, a kept object);
    without it such a value becomes ``$foreign``."""
    if depth > MAX_DEPTH:
        return {"$foreign": "too deep", "value": None}
    if value is None or isinstance(value, (bool, str)):
        return value if type(value) in (bool, str, type(None)) else {"$foreign": _type_name(value),
                                                                      "value": str(value)[:10_000]}
    if isinstance(value, int) and type(value) is not bool:
        return int(value)   # an int subclass is an int to json.dumps too
    if isinstance(value, float):
        return float(value)  # numpy.float64 is a float subclass, which json.dumps takes as a float
    if extra is not None:
        special = extra(value)
        if special is not None:
            return special
    if type(value) in (list, tuple):
        return [encode(v, extra, depth + 1) for v in value]
    if type(value) is dict:
        if all(_plain_key(k) for k in value):
            return {k: encode(v, extra, depth + 1) for k, v in value.items()}
        return {"$dict": [[encode(k, extra, depth + 1), encode(v, extra, depth + 1)] for k, v in value.items()]}
    if isinstance(value, np.ndarray):
        if value.dtype.name not in DTYPES:
            return {"$foreign": f"numpy.ndarray[{value.dtype.name}]", "value": None}
        contiguous = np.array(value, order="C", copy=True)  # ascontiguousarray would make a 0-d array 1-d
        return {"$array": {"dtype": contiguous.dtype.name, "shape": list(contiguous.shape),
                           "data": base64.b64encode(contiguous.tobytes()).decode("ascii")}}
    if isinstance(value, np.generic) and value.dtype.name in DTYPES:
        plain: Any = value.item()
        return {"$foreign": _type_name(value), "value": plain}
    return {"$foreign": _type_name(value), "value": None}


def _array(spec: Any) -> np.ndarray:
    if not (isinstance(spec, dict) and set(spec) == {"dtype", "shape", "data"}):
        raise WireError("an array is {dtype, shape, data}")
    dtype, shape, data = spec["dtype"], spec["shape"], spec["data"]
    if dtype not in DTYPES or not isinstance(shape, list) or not isinstance(data, str):
        raise WireError(f"an array of dtype {dtype!r} is not taken")
    if len(shape) > 8 or not all(type(n) is int and 0 <= n <= MAX_FRAME for n in shape):
        raise WireError(f"an array shape must be at most 8 sizes from 0 up, got {shape!r}")
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError as exc:
        raise WireError(f"an array's data is not base64: {exc}") from None
    itemsize = np.dtype(dtype).itemsize
    if math.prod(shape) * itemsize != len(raw):
        raise WireError(f"an array of shape {shape} and dtype {dtype} needs {math.prod(shape) * itemsize} bytes, "
                        f"got {len(raw)}")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def decode(value: Any, extra: Callable[[str, Any], Any] | None = None, depth: int = 0) -> Any:
    """Wire data as Python values. ``extra(tag, body)`` decodes ``$probe``, ``$object`` and ``$handle`` where a
    side takes them; elsewhere they are a :class:`WireError`."""
    if depth > MAX_DEPTH + 2:
        raise WireError(f"a value nested more than {MAX_DEPTH} deep")
    if value is None or type(value) in (bool, str, int, float):
        return value
    if type(value) is list:
        return [decode(v, extra, depth + 1) for v in value]
    if type(value) is not dict:
        raise WireError(f"not a wire value: {type(value).__name__}")
    tags = [key for key in value if key.startswith("$")]
    if not tags:
        return {k: decode(v, extra, depth + 1) for k, v in value.items()}
    tag = tags[0]
    if tag not in TAGS:
        raise WireError(f"unknown tag {tag[:40]!r}")
    body = value[tag]
    if tag == "$array" and len(value) == 1:
        return _array(body)
    if tag == "$dict" and len(value) == 1:
        if not isinstance(body, list) or not all(isinstance(p, list) and len(p) == 2 for p in body):
            raise WireError("a $dict is a list of [key, value] pairs")
        out: dict = {}
        for raw_key, raw_value in body:
            key = decode(raw_key, extra, depth + 1)
            try:
                out[key] = decode(raw_value, extra, depth + 1)
            except TypeError:  # an unhashable key (a list)
                out[Foreign("unhashable key", repr(key)[:200])] = decode(raw_value, extra, depth + 1)
        return out
    if tag == "$foreign" and set(value) == {"$foreign", "value"} and isinstance(body, str):
        plain = value["value"]
        if type(plain) is float:
            number = ForeignFloat(plain)
            number.type_name = body[:200]
            return number
        if type(plain) is int:
            whole = ForeignInt(plain)
            whole.type_name = body[:200]
            return whole
        return Foreign(body[:200], plain if type(plain) in (str, bool, type(None)) else None)
    if extra is not None:
        return extra(tag, value)
    raise WireError(f"{tag} is not taken here")


def pack(message: dict[str, Any]) -> bytes:
    """One frame: the length, then the JSON text (NaN and infinity kept: a student's value may be one)."""
    text = json.dumps(message, allow_nan=True, separators=(",", ":")).encode("utf-8")
    if len(text) > MAX_FRAME:
        raise WireError(f"a frame of {len(text):,} bytes is over the {MAX_FRAME:,} allowed")
    return _HEADER.pack(len(text)) + text


def unpack(text: bytes) -> dict[str, Any]:
    """A frame's JSON text as a message (a dict), or a WireError that says why not."""
    try:
        message = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise WireError(f"a frame is not JSON: {str(exc)[:200]}") from None
    if not isinstance(message, dict):
        raise WireError("a frame holds a JSON object")
    return message


def write_frame(stream: BinaryIO, message: dict[str, Any]) -> None:
    stream.write(pack(message))
    stream.flush()


def read_frame(stream: BinaryIO) -> dict[str, Any]:
    """The next frame of a blocking stream; EOFError at its end."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("the channel closed")
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        raise WireError(f"a frame of {size:,} bytes is over the {MAX_FRAME:,} allowed")
    text = stream.read(size)
    if len(text) < size:
        raise EOFError("the channel closed inside a frame")
    return unpack(text)
