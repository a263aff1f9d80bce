"""User documents to and from JSON bytes, with orjson: a quarter of the stdlib's CPU.

Every dialogue step and every weekly check-in reads and writes the user's whole file (12 KB
after a year of check-ins); with the stdlib ``json`` module that was about 0.3 ms of CPU per
check-in, the largest single item of the fan-out after the Bot API call (bench/README.md,
"Session 22"). orjson does the same in a quarter of the time.

What ``encode`` writes is what ``json.dumps(data, ensure_ascii=False, separators=(",", ":"),
allow_nan=False)`` wrote, read back alike: compact UTF-8, keys in insertion order, non-string
keys of the basic types as strings. Where the two would differ, ``encode`` keeps to the stdlib's
rules: a non-finite float raises ``ValueError`` (orjson would write ``null``, and a number of
hours would come back as nothing), and a datetime or a dataclass raises ``TypeError`` (orjson
would quietly write a string or an object that reads back as something else). Floats may be
spelled differently (``1e16`` for ``1e+16``), never valued differently.

``decode`` reads what ``json.loads`` read, except ``NaN`` and ``Infinity``, which are not JSON
and which no document written here holds: they are refused like any other damage.
"""

from __future__ import annotations

import math
from typing import Any, Final

import orjson

__all__ = ["decode", "encode", "encode_unchecked"]

_OPTIONS: Final = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)
_PLAIN: Final = frozenset({str, int, bool, type(None)})
"""Types that hold no float: a value of exactly one of them needs no further look."""


def encode(data: Any) -> bytes:
    """``data`` as compact UTF-8 JSON.

    Raises:
        ValueError: a float in it is NaN or infinite.
        TypeError: something in it is not JSON data (a set, a datetime, an object).
    """
    if _holds_non_finite(data):
        raise ValueError("Out of range float values are not JSON compliant")
    return encode_unchecked(data)


def encode_unchecked(data: Any) -> bytes:
    """``encode``'s bytes without its walk for non-finite floats: to compare, never to write.

    A NaN or an infinity comes out as ``null`` here, so bytes equal to stored ones can hide one
    where the store holds a null: what is stored stays valid either way. Anything written goes
    through ``encode``.

    Raises:
        TypeError: something in it is not JSON data.
    """
    try:
        return orjson.dumps(data, option=_OPTIONS)
    except orjson.JSONEncodeError as error:  # a TypeError; say what, not in which library
        raise TypeError(str(error)) from None


def decode(raw: bytes) -> Any:
    """The data of the JSON in ``raw``.

    Raises:
        ValueError: ``raw`` is not UTF-8 JSON.
    """
    return orjson.loads(raw)


def _holds_non_finite(data: Any) -> bool:
    """Whether a float anywhere in ``data`` is NaN or infinite (an iterative walk, no recursion).

    This runs on every write, and the walk was more of it than orjson's encoding: every value
    goes into one list that the loop is still walking (a list iterator also yields the items
    appended while it runs), so a container costs one ``extend`` and not a loop of its own.
    Exact types are tested first, the commonest (strings, numbers, None) in one set lookup.
    """
    isfinite = math.isfinite
    pending: list[Any] = [data]
    for value in pending:
        kind = type(value)
        if kind in _PLAIN:
            continue
        if kind is dict:
            pending += value.values()
        elif kind is list:
            pending += value
        elif isinstance(value, float):  # float and its subclasses
            if not isfinite(value):
                return True
        elif isinstance(value, dict):  # OrderedDict and other subclasses
            pending += value.values()
        elif isinstance(value, list | tuple):
            pending += value
    return False
