"""The channel's format: plain data round-trips, and nothing that is not plain data gets through as such."""

from __future__ import annotations

import io
import json
import math
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch.instructor.sandboxed.wire import (
    DTYPES,
    MAX_DEPTH,
    MAX_FRAME,
    Foreign,
    ForeignFloat,
    ForeignInt,
    WireError,
    decode,
    encode,
    pack,
    read_frame,
    unpack,
)

plain = st.recursive(
    st.none() | st.booleans() | st.integers(-10**18, 10**18) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30)


def through_the_wire(value):
    return decode(unpack(pack({"v": encode(value)})[4:])["v"])


@given(plain)
def test_plain_json_values_come_back_equal(value):
    assert through_the_wire(value) == value


@given(hnp.arrays(dtype=st.sampled_from(sorted(DTYPES)), shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=5)))
def test_arrays_come_back_with_their_dtype_shape_and_bytes(array):
    back = through_the_wire(array)
    assert isinstance(back, np.ndarray) and back.dtype == array.dtype and back.shape == array.shape
    assert back.tobytes() == array.tobytes()


@given(st.dictionaries(st.text(min_size=1, max_size=6).map(lambda k: "$" + k), st.integers(), min_size=1, max_size=3))
def test_a_students_dict_with_dollar_keys_cannot_pass_for_a_tag(value):
    assert through_the_wire(value) == value


def test_values_json_would_refuse_say_their_type_and_keep_their_number():
    back = through_the_wire([np.float32(1.5), np.int64(7), np.float64(2.0), object(), (1, 2), {1: "a"}])
    assert isinstance(back[0], ForeignFloat) and back[0] == 1.5 and back[0].type_name == "numpy.float32"
    assert isinstance(back[1], ForeignInt) and back[1] == 7 and back[1].type_name == "numpy.int64"
    assert type(back[2]) is float, "numpy.float64 is a float to json.dumps, so it is a plain float"
    assert isinstance(back[3], Foreign) and back[3].type_name == "object"
    assert back[4] == [1, 2] and back[5] == {1: "a"}


def test_nan_and_infinity_travel_as_numbers_so_a_check_can_refuse_them():
    back = through_the_wire([float("nan"), float("inf")])
    assert math.isnan(back[0]) and back[1] == math.inf


def test_object_arrays_are_not_sent_so_nothing_is_ever_unpickled():
    back = through_the_wire(np.array([object()], dtype=object))
    assert isinstance(back, Foreign) and "object" in back.type_name


def test_a_value_nested_beyond_the_limit_is_cut_when_sent_and_refused_when_received():
    deep: list = []
    for _ in range(MAX_DEPTH + 10):
        deep = [deep]
    sent = encode(deep)
    probe = sent
    while isinstance(probe, list):
        probe = probe[0]
    assert probe == {"$foreign": "too deep", "value": None}
    raw = "[" * (MAX_DEPTH + 10) + "]" * (MAX_DEPTH + 10)
    with pytest.raises(WireError, match="nested"):
        decode(json.loads(raw))


@pytest.mark.parametrize("forged, why", [
    ({"$array": {"dtype": "object", "shape": [1], "data": ""}}, "dtype"),
    ({"$array": {"dtype": "float32", "shape": [4], "data": "AAAA"}}, "needs 16 bytes"),
    ({"$array": {"dtype": "float32", "shape": [-1], "data": ""}}, "shape"),
    ({"$array": {"dtype": "int8", "shape": [1], "data": "not base64!"}}, "base64"),
    ({"$pickle": "gASV"}, "unknown tag"),
    ({"$probe": 1}, "not taken"),
    ({"$dict": "no pairs"}, "pairs"),
])
def test_forged_tags_are_refused_with_what_is_wrong(forged, why):
    with pytest.raises(WireError, match=why):
        decode(forged)


def test_frames_that_break_the_format_are_refused_not_trusted():
    with pytest.raises(WireError, match="over"):
        read_frame(io.BytesIO(struct.pack(">I", MAX_FRAME + 1)))
    with pytest.raises(WireError, match="not JSON"):
        read_frame(io.BytesIO(struct.pack(">I", 5) + b"{nope"))
    with pytest.raises(WireError, match="JSON object"):
        read_frame(io.BytesIO(struct.pack(">I", 2) + b"[]"))
    with pytest.raises(WireError, match="not JSON"):
        unpack(b"[" * 100_000)
    with pytest.raises(EOFError):
        read_frame(io.BytesIO(struct.pack(">I", 10) + b"{}"))


@given(st.binary(max_size=200))
def test_any_bytes_are_a_message_or_a_wire_error(data):
    try:
        message = unpack(data)
    except WireError:
        return
    try:
        decode(message)
    except WireError:
        pass
