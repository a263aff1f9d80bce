"""An append-only journal of small JSON records in segment files, one fsync per appended batch.

Layout: ``<data_dir>/journal/<sequence>.jsonl``, one JSON object per line. Appending many records
costs one write and one fsync, where rewriting each record's own document would cost a temp file,
an fsync and a rename per record. A crash can leave the newest line torn (it was never reported
as written); ``load`` skips such a line and any other that does not parse, and says so. Segments
are started (``rotate``) and removed (``remove``) by the owner, who knows when every record of a
segment has reached its real home.

Thread-safe; only the process holding the data folder's lock may use it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from storage.atomic import fsync_directory, replace_atomically

__all__ = ["JOURNAL_FOLDER", "AppendJournal", "Segment"]

logger = logging.getLogger(__name__)

JOURNAL_FOLDER: Final = "journal"
_NAME = re.compile(r"^(\d{8})\.jsonl$")
_COMPACT: Final = (",", ":")


@dataclass(frozen=True)
class Segment:
    """One segment file as read back: its name and the records that parsed, in order."""

    name: str
    records: tuple[dict[str, Any], ...]


class AppendJournal:
    """Segments of JSON lines under ``<data_dir>/journal``; appends go to the newest one."""

    def __init__(self, data_dir: Path) -> None:
        """Use (and create) the journal folder of ``data_dir``; nothing is read yet."""
        self.folder = data_dir / JOURNAL_FOLDER
        self._lock = threading.Lock()
        self._current: str | None = None  # the segment appends go to; None: start a new one
        self._next = 1

    def load(self) -> list[Segment]:
        """Read every segment, oldest first; later appends go to a new segment."""
        with self._lock:
            self._current = None
            names = self._names()
            self._next = 1 + max((int(name.split(".")[0]) for name in names), default=0)
            return [Segment(name, self._read(self.folder / name)) for name in names]

    def append(self, records: Sequence[dict[str, Any]]) -> str:
        """Write ``records`` to the current segment, durable when this returns; its name."""
        payload = _lines(records)
        with self._lock:
            created = self._current is None
            if created:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._current = f"{self._next:08d}.jsonl"
                self._next += 1
            name = self._current
            assert name is not None  # for mypy: set just above
            fd = os.open(self.folder / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                # os.write may write only a part (a full disk): the rest follows, or it raises.
                rest = memoryview(payload)
                while rest:
                    rest = rest[os.write(fd, rest) :]
                os.fsync(fd)
            except BaseException:
                # The segment may end in a cut-off line now: the next append must not glue
                # its first record onto it, so it starts a new segment.
                self._current = None
                raise
            finally:
                os.close(fd)
            if created:
                fsync_directory(self.folder)  # the new file's name is durable, too
            return name

    def rotate(self) -> str | None:
        """End the current segment (the next append starts one); the name of the one ended."""
        with self._lock:
            ended, self._current = self._current, None
            return ended

    @property
    def current(self) -> str | None:
        """The segment appends go to now, if one is open."""
        return self._current

    def remove(self, name: str) -> None:
        """Delete a segment whose records are all kept elsewhere now."""
        if _NAME.match(name) is None:
            raise ValueError(f"not a journal segment: {name!r}")
        with self._lock:
            if name == self._current:
                self._current = None
            (self.folder / name).unlink(missing_ok=True)
            fsync_directory(self.folder)

    def remove_records(self, unwanted: Callable[[dict[str, Any]], bool]) -> int:
        """Rewrite every segment without the records ``unwanted`` picks; how many went.

        For a user who deletes their data: no line naming them may stay on disk. Each changed
        segment is replaced atomically (a crash leaves the old one or the new one); lines that
        do not parse go too. Appends wait meanwhile.
        """
        removed = 0
        with self._lock:
            for name in self._names():
                path = self.folder / name
                records = self._read(path)
                kept = [record for record in records if not unwanted(record)]
                if len(kept) == len(records) and not self._has_unreadable_lines(path, records):
                    continue
                removed += len(records) - len(kept)
                if kept or name == self._current:
                    replace_atomically(path, _lines(kept), mode=0o600)
                else:
                    path.unlink(missing_ok=True)
                    fsync_directory(self.folder)
        return removed

    @staticmethod
    def _has_unreadable_lines(path: Path, records: tuple[dict[str, Any], ...]) -> bool:
        """Whether the file holds more than its readable records (a torn or garbled line)."""
        try:
            return path.stat().st_size != len(_lines(records))
        except FileNotFoundError:
            return False

    def _names(self) -> list[str]:
        try:
            return sorted(entry.name for entry in self.folder.iterdir() if _NAME.match(entry.name))
        except FileNotFoundError:
            return []

    @staticmethod
    def _read(path: Path) -> tuple[dict[str, Any], ...]:
        records: list[dict[str, Any]] = []
        try:
            raw = path.read_bytes()
        except OSError as error:
            logger.error("cannot read the journal segment %s: %s", path, error.strerror)  # noqa: TRY400
            return ()
        lines = raw.split(b"\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                torn = number == len(lines)  # no newline after it: cut off by a crash
                logger.warning(
                    "%s line %d %s; skipped",
                    path,
                    number,
                    "was cut off mid-write" if torn else "is not a JSON record",
                )
                continue
            if isinstance(record, dict):
                records.append(record)
            else:
                logger.warning("%s line %d is not a JSON object; skipped", path, number)
        return tuple(records)


def _lines(records: Sequence[dict[str, Any]]) -> bytes:
    """The records as the journal stores them: one compact JSON object per line."""
    text = "".join(f"{json.dumps(r, ensure_ascii=False, separators=_COMPACT)}\n" for r in records)
    return text.encode("utf-8")
