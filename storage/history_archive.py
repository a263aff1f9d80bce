"""The older check-ins of a user, kept in a side file beside the document they belong to.

A user a year into the plan has about fifty answered check-ins, four fifths of their document,
and every weekly check-in the bot sends reads and writes the document without ever changing one
of them (bench/README.md, "history: the older check-ins in a side file"). So the user's file
keeps only the newest records (between ``WINDOW`` and ``2 * WINDOW``: records move out only
when more than twice the window would stay, so the older part is rewritten once every few
months, not every week); the older ones live in ``<id>.archive.json`` in the same shard folder.

The side file is ``{"first": b, "checkins": [...]}``: its records are numbered from ``b`` on,
and a number, once written, always names the same record. The user's document records which
of them are its own older check-ins under ``ARCHIVE_KEY``: ``{"first": k, "count": n}``, the
records numbered ``k`` to ``k + n - 1``, oldest first, before the document's own ``checkins``.
A write of the side file always keeps the records the stored document names at their numbers,
and the side file is written (and fsynced) before the document: a crash between the two leaves
the old document, which names only records the new side file still holds, and still holds the
records the new one would have moved out. No answered check-in is ever lost or doubled.

A document read whole (``TinyDBUserRepository.get``) has all its check-ins and no
``ARCHIVE_KEY``; one read without the side file (``get_recent``) keeps the key, which tells a
later put to leave the side file as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeAlias

from storage import json_codec
from storage.errors import DamagedDocumentError

__all__ = [
    "ARCHIVE_KEY",
    "ARCHIVE_SUFFIX",
    "HISTORY_KEY",
    "WINDOW",
    "Archive",
    "Digest",
    "archive_of",
    "compared",
    "digest_of",
    "encoded",
    "older_records",
    "side_payload",
    "side_records",
    "split_document",
]

HISTORY_KEY: Final = "checkins"
"""The document's list of answered check-ins, oldest first."""
ARCHIVE_KEY: Final = "archived_checkins"
"""In a stored document (and one read without its side file): which side records are older."""
ARCHIVE_SUFFIX: Final = ".archive.json"
"""``<id>.archive.json``: a dot, so ``user_ids`` never takes it for a user id."""
WINDOW: Final = 16
"""Check-ins the user's own file keeps when older ones move out (it then holds up to twice as
many before the next move). The fan-out reads the newest few: the lapse, this quarter's jokers,
the late window; sixteen is more than any of them looks back (``tests/core`` compares every
reminder composed from a window and from the whole history)."""

Digest: TypeAlias = tuple[int, int]
"""The length and ``hash`` of encoded records: what a put compares to tell them unchanged."""


_FIRST: Final = "first"
_COUNT: Final = "count"


@dataclass(frozen=True, slots=True)
class Archive:
    """What a stored document says of its older check-ins: side records ``first`` on, ``count``."""

    first: int
    count: int

    def to_json(self) -> dict[str, int]:
        """The value of ``ARCHIVE_KEY``."""
        return {_FIRST: self.first, _COUNT: self.count}


def _count(value: object, *, least: int) -> int | None:
    if type(value) is int and value >= least:
        return value
    return None


def archive_of(document: Mapping[str, Any], path: Path | str) -> Archive | None:
    """The document's ``ARCHIVE_KEY`` (None without one).

    Raises:
        DamagedDocumentError: it is there but not ``{"first": k >= 0, "count": n >= 1}``.
    """
    marker = document.get(ARCHIVE_KEY)
    if marker is None:
        return None
    if isinstance(marker, dict):
        first = _count(marker.get(_FIRST), least=0)
        count = _count(marker.get(_COUNT), least=1)
        if first is not None and count is not None:
            return Archive(first, count)
    raise DamagedDocumentError(path, f"{ARCHIVE_KEY!r} is {marker!r}, not first and count")


def older_records(
    raw: bytes, archive: Archive, path: Path | str
) -> tuple[list[dict[str, Any]], Digest]:
    """The records ``archive`` names, from the side file's bytes ``raw``, and their digest.

    The digest is ``digest_of`` their encoding: taken from ``raw`` itself when the file holds
    just them, as ``side_payload`` wrote it (the usual case), else by encoding them.

    Raises:
        DamagedDocumentError: ``raw`` is not a side file, or lacks some of those records. The
            record's own fields are checked with the whole document (the schema's check-in).
    """
    base, records = side_records(raw, path)
    start = archive.first - base
    if start < 0 or start + archive.count > len(records):
        raise DamagedDocumentError(
            path,
            f"holds check-ins {base} to {base + len(records) - 1}, not "
            f"{archive.first} to {archive.first + archive.count - 1}",
        )
    older = records[start : start + archive.count]
    for number, record in enumerate(older, archive.first):
        if not isinstance(record, dict):
            raise DamagedDocumentError(path, f"check-in {number} is not a JSON object")
    head = side_payload(base, b"")[:-1]
    if start == 0 and archive.count == len(records) and raw.startswith(head):
        # Written by ``side_payload``: the records' encoding is the rest but the final brace.
        # Were it spelt otherwise (by hand), the digest differs and the next put rewrites it.
        return older, digest_of(raw[len(head) : -1])
    return older, digest_of(encoded(older))


def side_records(raw: bytes, path: Path | str) -> tuple[int, list[Any]]:
    """The number of the first record in the side file ``raw``, and its records.

    Raises:
        DamagedDocumentError: ``raw`` is not ``{"first": b, "checkins": [...]}``.
    """
    try:
        data = json_codec.decode(raw)
    except ValueError as exc:
        raise DamagedDocumentError(path, f"not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise DamagedDocumentError(path, f"expected a JSON object, found {type(data).__name__}")
    base, records = _count(data.get(_FIRST), least=0), data.get(HISTORY_KEY)
    if base is None or not isinstance(records, list):
        raise DamagedDocumentError(path, f"needs {_FIRST!r} (a number) and {HISTORY_KEY!r}")
    return base, records


def side_payload(first: int, encoded_records: bytes) -> bytes:
    """The side file holding the records (``json_codec.encode``\\ d) numbered from ``first``."""
    return b'{"%s":%d,"%s":%s}' % (
        _FIRST.encode(),
        first,
        HISTORY_KEY.encode(),
        encoded_records,
    )


def digest_of(encoded_records: bytes) -> Digest:
    """A fingerprint of encoded records, kept in memory only (never stored).

    Python's own ``hash`` of the bytes: SipHash, keyed per process, about five times cheaper
    than ``hashlib.blake2b`` on a year's records (a put compares one at every dialogue step).
    Two different encodings of the same length share it with a chance of 2**-64.
    """
    return len(encoded_records), hash(encoded_records)


def encoded(records: Sequence[Any]) -> bytes:
    """Records as the side file holds them (``json_codec.encode``: raises for NaN, sets ...)."""
    return json_codec.encode(list(records))


def compared(records: Sequence[Any]) -> bytes:
    """``encoded`` without the check for NaN: for the digest a put compares, never written.

    Every dialogue step's put compares a year of older check-ins with what the side file
    holds; the walk for non-finite floats was a third of that. Bytes equal to the stored ones
    leave the side file as it is (a NaN there would come out as the ``null`` stored); bytes
    that differ are written through ``encoded``, which refuses a NaN.
    """
    return json_codec.encode_unchecked(list(records))


def split_document(document: dict[str, Any]) -> tuple[dict[str, Any], bytes | None]:
    """What the user's file and the side file hold after the first put of ``document``.

    The record for the user's file, and the side file's bytes (None: all its check-ins stay
    in the user's file). For writers of data folders outside the repository (the benchmark's
    generated users), so their files look as the repository's own.
    """
    records = document.get(HISTORY_KEY)
    if type(records) is not list or len(records) <= 2 * WINDOW:
        return document, None
    moving = len(records) - WINDOW
    archive = Archive(0, moving)
    kept = {**document, HISTORY_KEY: records[moving:], ARCHIVE_KEY: archive.to_json()}
    return kept, side_payload(0, encoded(records[:moving]))
