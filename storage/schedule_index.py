"""A persistent hint of each user's next due check-in: ``<data_dir>/schedule/<2-hex>.json``.

The user documents are the truth; this index only lets the dispatcher start without reading
100,000 documents. Each shard maps user id -> ISO 8601 UTC instant and uses the same sha256
prefix as the user files, so one ``set`` rewrites one file of about 1/256 of the users (about
400 entries at 100,000 users) and its cost does not grow with the number of users.

Plain JSON, not TinyDB: a shard is one flat map that is rewritten whole on every change, so
TinyDB's tables, record ids and queries would add parsing and nothing else. The write itself is
the same atomic one as the user files (``AtomicJSONStorage``: temp file, fsync, ``os.replace``).

The file ``built.json`` says the shards are complete. It is removed before a rebuild and written
after it, and removed when a damaged shard is found, so a crash in between or a lost shard makes
``is_complete`` false and the caller rebuilds the index from the user documents.

The folder lives inside the data folder that ``DataDirLock`` guards; it takes no lock of its own
across processes, only one lock per shard between threads.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from storage.atomic import AtomicJSONStorage, fsync_directory, is_temp_file
from storage.errors import DamagedDocumentError
from storage.ids import check_user_id, is_user_id
from storage.tinydb_repo import shard_of

__all__ = ["BUILT_MARKER", "SCHEDULE_FOLDER", "ScheduleIndex"]

logger = logging.getLogger(__name__)

SCHEDULE_FOLDER: Final = "schedule"
BUILT_MARKER: Final = "built.json"
_ENTRIES: Final = "due"  # the one key of a shard file: {"due": {user_id: iso_instant}}
_SHARD_NAME = re.compile(r"[0-9a-f]{2}\.json")
_FORMAT: Final = 1


class ScheduleIndex:
    """User id -> next due instant (UTC), in 256 small JSON files that are replaced atomically."""

    def __init__(self, data_dir: Path) -> None:
        """Use ``<data_dir>/schedule``; nothing is created until the first write."""
        self.folder = data_dir / SCHEDULE_FOLDER
        self._shard_locks = {f"{n:02x}": threading.Lock() for n in range(256)}

    def is_complete(self) -> bool:
        """Whether the shards hold every user: False before the first rebuild or after damage."""
        return (self.folder / BUILT_MARKER).is_file()

    def load_all(self) -> dict[str, datetime]:
        """Read every shard; a damaged one is moved aside, logged and treated as empty.

        After damage ``is_complete`` is False: the caller rebuilds from the user documents.
        """
        found: dict[str, datetime] = {}
        try:
            names = sorted(entry.name for entry in self.folder.iterdir())
        except FileNotFoundError:
            return found
        # Many users share a due instant (the same weekly slot), so share the datetime objects.
        instants: dict[str, datetime] = {}
        for name in names:
            if is_temp_file(name):
                logger.info("removing temp file left by an interrupted write: %s", name)
                (self.folder / name).unlink(missing_ok=True)
            elif _SHARD_NAME.fullmatch(name):
                with self._shard_locks[name[:2]]:
                    entries = self._read_or_move_aside(self.folder / name, instants)
                for user_id, text in entries.items():
                    found[user_id] = instants[text]
        return found

    def get(self, user_id: str) -> datetime | None:
        """The stored instant of one user, or None."""
        path = self._shard_path(user_id)
        with self._shard_locks[path.name[:2]]:
            text = self._read_or_move_aside(path).get(user_id)
        return None if text is None else _parse_instant(text)

    def set(self, user_id: str, due: datetime | None) -> None:
        """Store the user's due instant (None removes it); durable when this returns."""
        self.set_many({user_id: due})

    def remove(self, user_id: str) -> None:
        """Forget the user (no-op if absent)."""
        self.set_many({user_id: None})

    def set_many(
        self,
        changes: Mapping[str, datetime | None],
        *,
        only_if: Callable[[str], bool] | None = None,
    ) -> None:
        """Apply several changes with one write per touched shard (None removes).

        ``only_if(user_id)``, if given, is asked under the shard's lock just before a user's
        change is applied; a change it refuses is skipped. A caller that writes some changes
        late (in batches) uses it to skip those overtaken by a newer change meanwhile.
        """
        by_shard: dict[str, dict[str, str | None]] = {}
        for user_id, due in changes.items():
            check_user_id(user_id)
            by_shard.setdefault(shard_of(user_id), {})[user_id] = (
                None if due is None else _format_instant(due)
            )
        for shard, shard_changes in by_shard.items():
            path = self.folder / f"{shard}.json"
            with self._shard_locks[shard]:
                entries = self._read_or_move_aside(path)
                before = dict(entries)
                for user_id, text in shard_changes.items():
                    if only_if is not None and not only_if(user_id):
                        continue
                    if text is None:
                        entries.pop(user_id, None)
                    else:
                        entries[user_id] = text
                if entries != before:
                    self._write_shard(path, entries)

    def rebuild(self, entries: Mapping[str, datetime]) -> None:
        """Replace the whole index with ``entries`` and mark it complete."""
        self.folder.mkdir(parents=True, exist_ok=True)
        marker = self.folder / BUILT_MARKER
        marker.unlink(missing_ok=True)
        fsync_directory(self.folder)
        by_shard: dict[str, dict[str, str]] = {f"{n:02x}": {} for n in range(256)}
        for user_id, due in entries.items():
            check_user_id(user_id)
            by_shard[shard_of(user_id)][user_id] = _format_instant(due)
        for shard, shard_entries in by_shard.items():
            with self._shard_locks[shard]:
                self._write_shard(self.folder / f"{shard}.json", shard_entries)
        AtomicJSONStorage(marker).write(
            {"index": {"format": _FORMAT, "built_at": _format_instant(datetime.now(UTC))}}
        )
        logger.info("rebuilt the schedule index in %s: %d entries", self.folder, len(entries))

    def _shard_path(self, user_id: str) -> Path:
        return self.folder / f"{shard_of(check_user_id(user_id))}.json"

    def _read_or_move_aside(
        self, path: Path, instants: dict[str, datetime] | None = None
    ) -> dict[str, str]:
        """Read one shard (caller holds its lock); damage is moved aside and reads as empty."""
        try:
            return _read_shard(path, {} if instants is None else instants)
        except DamagedDocumentError as exc:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
            kept = path.with_name(f"{path.name}.damaged-{stamp}")
            path.replace(kept)
            # Its users are now missing from the index: the next start must rebuild it.
            (self.folder / BUILT_MARKER).unlink(missing_ok=True)
            fsync_directory(self.folder)
            logger.warning("%s; kept it as %s; the index is rebuilt at the next start", exc, kept)
            return {}

    def _write_shard(self, path: Path, entries: dict[str, str]) -> None:
        """Replace one shard atomically, or remove it when empty (caller holds its lock)."""
        if entries:
            path.parent.mkdir(parents=True, exist_ok=True)
            AtomicJSONStorage(path).write({_ENTRIES: entries})
        elif path.exists():
            path.unlink()
            fsync_directory(path.parent)


def _read_shard(path: Path, instants: dict[str, datetime]) -> dict[str, str]:
    """Return a shard's entries, {} if it does not exist; ``instants`` caches the parsed times.

    Raises:
        DamagedDocumentError: not JSON, not the shard layout, a bad user id or a bad instant.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DamagedDocumentError(path, f"not valid JSON ({exc})") from exc
    entries = data.get(_ENTRIES) if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise DamagedDocumentError(path, f"expected {{{_ENTRIES!r}: {{user id: instant}}}}")
    shard = path.name[:2]
    for user_id, text in entries.items():
        if not is_user_id(user_id) or shard_of(user_id) != shard:
            raise DamagedDocumentError(path, f"user id {user_id!r} does not belong here")
        if isinstance(text, str) and text in instants:
            continue
        try:
            instants[text] = _parse_instant(text)
        except (TypeError, ValueError) as exc:
            raise DamagedDocumentError(path, f"{user_id}: bad instant {text!r}") from exc
    return entries


def _format_instant(instant: datetime) -> str:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("due instants must be timezone-aware")
    return instant.astimezone(UTC).isoformat()


def _parse_instant(text: object) -> datetime:
    if not isinstance(text, str):
        raise TypeError(f"expected an ISO 8601 text, got {type(text).__name__}")
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant {text!r} has no UTC offset")
    return instant.astimezone(UTC)
