"""The document codec against the stdlib ``json`` it replaced: the same data, the same refusals."""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.json_codec import decode, encode

_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_documents = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=40,
)


def _stdlib(data: Any) -> bytes:
    """What the store wrote before the codec."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


@settings(max_examples=300, deadline=None, database=None)
@given(_documents)
def test_what_one_writes_the_other_reads_as_the_same_data(data: Any) -> None:
    written = encode(data)
    assert json.loads(written) == data
    assert decode(written) == data
    assert decode(_stdlib(data)) == data  # files written before the codec read the same


def test_a_document_is_written_as_the_stdlib_wrote_it() -> None:
    class Rating(StrEnum):
        ON_PLAN = "on_plan"

    document = {
        "user": {"1": {"ä": 'Grüße ✓\n\t"', "n": [1, 2.5, None, True], "r": Rating.ON_PLAN}}
    }
    assert encode(document) == _stdlib(document)
    keys: dict[Any, str] = {1: "x", False: "y", None: "z"}
    assert encode(keys) == _stdlib(keys) == b'{"1":"x","false":"y","null":"z"}'
    assert encode(OrderedDict(b=1, a=2)) == b'{"b":1,"a":2}'


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(
    "where",
    [
        lambda value: value,
        lambda value: {"hours": value},
        lambda value: {"checkins": [{"week": "2026-W49", "budget": value}]},
        lambda value: [[[{"deep": (1, value)}]]],
        lambda value: OrderedDict(hours=value),
    ],
)
def test_a_non_finite_float_anywhere_is_refused_as_the_stdlib_refused_it(
    bad: float, where: Any
) -> None:
    data = where(bad)
    with pytest.raises(ValueError, match="JSON"):
        _stdlib(data)
    with pytest.raises(ValueError, match="JSON"):
        encode(data)


@dataclass
class _Point:
    x: int


@pytest.mark.parametrize(
    "value",
    [{1, 2}, datetime(2026, 12, 5, tzinfo=UTC), _Point(1), object(), b"bytes"],
    ids=["set", "datetime", "dataclass", "object", "bytes"],
)
def test_what_is_not_json_data_is_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        _stdlib({"a": value})
    with pytest.raises(TypeError):
        encode({"a": value})


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b'{"a": NaN}', b'{"a": Infinity}', b"\xff\xfe{}", b'{"a": 1} x'],
    ids=["empty", "cut off", "NaN", "Infinity", "not UTF-8", "trailing"],
)
def test_what_is_not_json_is_refused_on_reading(raw: bytes) -> None:
    with pytest.raises(ValueError):  # orjson's and json's messages differ
        decode(raw)


class _Hours(float):
    """A float subclass: the check looks at it like at a float."""


_containers = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=5).map(tuple)
        | st.dictionaries(st.text(), inner, max_size=5)
        | st.dictionaries(st.text(), inner, max_size=5).map(OrderedDict)
    ),
    max_leaves=60,
)


def _with_one_value_replaced(data: Any, index: int, bad: float) -> tuple[Any, bool]:
    """``data`` with its ``index``-th value (depth first, any depth) replaced by ``bad``."""
    count = -1

    def rebuild(node: Any) -> Any:
        nonlocal count
        count += 1
        if count == index:
            return bad
        if isinstance(node, dict):
            return type(node)((key, rebuild(value)) for key, value in node.items())
        if isinstance(node, list | tuple):
            return type(node)(rebuild(value) for value in node)
        return node

    rebuilt = rebuild(data)
    return rebuilt, count >= index


@settings(max_examples=400, deadline=None, database=None)
@given(
    _containers,
    st.integers(min_value=0, max_value=200),
    st.sampled_from([math.nan, math.inf, -math.inf, _Hours("nan"), _Hours("-inf")]),
)
def test_a_non_finite_float_at_any_depth_of_any_container_is_refused(
    data: Any, index: int, bad: float
) -> None:
    tuples_as_lists = json.loads(json.dumps(data))
    assert decode(encode(data)) == tuples_as_lists  # finite as generated: written
    changed, replaced = _with_one_value_replaced(data, index, bad)
    if replaced:
        with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
            encode(changed)
    else:
        assert decode(encode(changed)) == tuples_as_lists
