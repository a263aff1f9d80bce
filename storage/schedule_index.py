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

A shard that cannot be read for any reason (not JSON, no read permission, a directory or a FIFO
in its place) counts as damage: it is moved aside as ``<name>.damaged-<UTC time>`` and reads as
empty. The copy is only there for an operator to look at until the index is whole again; like
the index it is derivable, so a complete rebuild deletes every copy, and ``remove`` (a deleted
user) deletes the copies of the user's shard, so no id outlives its user here. If a shard cannot
even be moved aside (a read-only folder), that is logged, the damage is remembered in memory
(``is_complete`` stays false in this process) and the rest is read. Start-up never fails on this
folder: ``load_all`` and ``rebuild`` log what they cannot read or write and go on.

A write that fails while running (a full disk, a folder turned read-only) is logged once and
leaves the index incomplete: ``built.json`` is removed and, in case that fails too, the file
``<data_dir>/schedule-stale`` is written beside the folder; either makes the next start rebuild.

The folder lives inside the data folder that ``DataDirLock`` guards; it takes no lock of its own
across processes, only one lock per shard between threads.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from storage.atomic import (
    AtomicJSONStorage,
    fsync_directory,
    is_temp_file,
    read_regular_file,
)
from storage.errors import DamagedDocumentError
from storage.ids import check_user_id, is_user_id
from storage.tinydb_repo import shard_of

__all__ = ["BUILT_MARKER", "SCHEDULE_FOLDER", "STALE_MARKER", "ScheduleIndex"]

logger = logging.getLogger(__name__)

SCHEDULE_FOLDER: Final = "schedule"
BUILT_MARKER: Final = "built.json"
STALE_MARKER: Final = "schedule-stale"  # beside the folder: written when the index went stale
_ENTRIES: Final = "due"  # the one key of a shard file: {"due": {user_id: iso_instant}}
_SHARD_NAME = re.compile(r"[0-9a-f]{2}\.json")
_KEPT_ASIDE = ".damaged-"  # <shard>.json.damaged-<UTC time>: a damaged shard moved aside
_FORMAT: Final = 1


class ScheduleIndex:
    """User id -> next due instant (UTC), in 256 small JSON files that are replaced atomically."""

    def __init__(self, data_dir: Path) -> None:
        """Use ``<data_dir>/schedule``; nothing is created until the first write."""
        self.folder = data_dir / SCHEDULE_FOLDER
        self._stale = data_dir / STALE_MARKER
        self._shard_locks = {f"{n:02x}": threading.Lock() for n in range(256)}
        # Damage seen by this process: the marker on disk may not say so (it cannot always be
        # removed), and a caller trusting it would miss the users of the unreadable shard.
        self._damaged = False

    def is_complete(self) -> bool:
        """Whether the shards hold every user: False before the first rebuild or after damage."""
        if self._damaged:
            return False
        try:
            return (self.folder / BUILT_MARKER).is_file() and not self._stale.exists()
        except OSError:  # is_file() raises on a folder without search permission
            return False

    def was_ever_written(self) -> bool:
        """Whether this data folder has held an index (a folder or the stale marker).

        False on a fresh data folder: then an index that is not complete is not damage.
        """
        try:
            return self.folder.exists() or self._stale.exists()
        except OSError:  # cannot even look: treat it as there, so the rebuild is reported
            return True

    def load_all(self) -> dict[str, datetime]:
        """Read every shard; one that cannot be read is moved aside, logged and taken as empty.

        After damage ``is_complete`` is False: the caller rebuilds from the user documents.
        Never raises for the disk: what cannot be read is logged and left out.
        """
        found: dict[str, datetime] = {}
        # Many users share a due instant (the same weekly slot), so share the datetime objects.
        instants: dict[str, datetime] = {}
        for name in self._names():
            if is_temp_file(name):
                logger.info("removing temp file left by an interrupted write: %s", name)
                self._discard_or_log(self.folder / name)
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
        """Forget the user (no-op if absent), kept-aside copies of their shard included."""
        self.set_many({user_id: None})
        shard = shard_of(user_id)
        with self._shard_locks[shard]:
            self._discard_kept_aside(f"{shard}.json")

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

        Never raises for the disk: a shard that cannot be written (a full disk, a folder made
        read-only) makes the index incomplete, and the next start rebuilds it from the user
        files; the caller's own memory of the hints stays right meanwhile.
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
                    try:
                        self._write_shard(path, entries)
                    except OSError as exc:
                        self._distrust(f"cannot write {path.name} ({_reason(exc)})")

    def rebuild(self, entries: Mapping[str, datetime]) -> None:
        """Replace the whole index with ``entries`` and mark it complete.

        Never raises for the disk (start-up goes on with ``entries`` in memory): what cannot be
        written is logged and the marker is left out, so the next start rebuilds again. Once
        every shard is written, the damaged shards kept aside are deleted.
        """
        by_shard: dict[str, dict[str, str]] = {f"{n:02x}": {} for n in range(256)}
        for user_id, due in entries.items():
            check_user_id(user_id)
            by_shard[shard_of(user_id)][user_id] = _format_instant(due)
        marker = self.folder / BUILT_MARKER
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _discard(marker)
            fsync_directory(self.folder)
        except OSError as exc:
            logger.warning(
                "cannot rebuild the schedule index in %s (%s): check-ins run from the user "
                "files read at start-up; the next start tries again",
                self.folder,
                _reason(exc),
            )
            return
        if not self._write_all_shards(by_shard):
            return
        try:
            AtomicJSONStorage(marker).write(
                {"index": {"format": _FORMAT, "built_at": _format_instant(datetime.now(UTC))}}
            )
        except OSError as exc:
            logger.warning(
                "cannot write %s (%s): the next start rebuilds the index again",
                marker,
                _reason(exc),
            )
            return
        self._damaged = False
        with contextlib.suppress(OSError):
            _discard(self._stale)
        self._discard_kept_aside()
        logger.info("rebuilt the schedule index in %s: %d entries", self.folder, len(entries))

    def _write_all_shards(self, by_shard: dict[str, dict[str, str]]) -> bool:
        """Write every shard of a rebuild; False (and one log line) if any could not be."""
        failed: list[str] = []
        for shard, shard_entries in by_shard.items():
            with self._shard_locks[shard]:
                try:
                    self._write_shard(self.folder / f"{shard}.json", shard_entries)
                except OSError as exc:
                    failed.append(f"{shard}.json ({_reason(exc)})")
        if failed:
            logger.warning(
                "cannot write %d schedule index shard(s) in %s, first %s: check-ins run from "
                "the user files read at start-up; the next start rebuilds again",
                len(failed),
                self.folder,
                failed[0],
            )
        return not failed

    def _distrust(self, problem: str) -> None:
        """A write failed: this index is incomplete from now on (said once, marker dropped)."""
        if not self._damaged:
            logger.error(
                "schedule index in %s: %s; check-ins go on from memory and the next start "
                "rebuilds the index from the user files",
                self.folder,
                problem,
            )
        self._damaged = True
        try:
            _discard(self.folder / BUILT_MARKER)
        except OSError:
            # The folder is read-only: say it beside the folder, where the user files are written.
            with contextlib.suppress(OSError):
                self._stale.write_bytes(b"")

    def _names(self) -> list[str]:
        """The names in the folder: none if it is missing, or (logged, as damage) unreadable."""
        try:
            return sorted(entry.name for entry in self.folder.iterdir())
        except FileNotFoundError:
            return []
        except OSError as exc:
            self._damaged = True
            logger.warning(
                "cannot read the schedule index folder %s (%s): it is rebuilt from the user files",
                self.folder,
                _reason(exc),
            )
            return []

    def _shard_path(self, user_id: str) -> Path:
        return self.folder / f"{shard_of(check_user_id(user_id))}.json"

    def _read_or_move_aside(
        self, path: Path, instants: dict[str, datetime] | None = None
    ) -> dict[str, str]:
        """Read one shard (caller holds its lock); damage is moved aside and reads as empty."""
        try:
            return _read_shard(path, {} if instants is None else instants)
        except DamagedDocumentError as exc:
            self._damaged = True
            self._move_aside(path, exc)
            return {}

    def _move_aside(self, path: Path, problem: DamagedDocumentError) -> None:
        """Keep a damaged shard as a copy and drop the marker; one log line either way."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        kept = path.with_name(f"{path.name}{_KEPT_ASIDE}{stamp}")
        try:
            path.replace(kept)
            # Its users are now missing from the index: the next start must rebuild it.
            _discard(self.folder / BUILT_MARKER)
            fsync_directory(self.folder)
        except OSError as exc:
            logger.warning(
                "%s; cannot move it aside either (%s): its check-ins come from the user files "
                "at each start until %s is writable again",
                problem,
                _reason(exc),
                self.folder,
            )
            return
        logger.warning("%s; kept it as %s until the index is rebuilt", problem, kept.name)

    def _discard_kept_aside(self, shard_name: str = "") -> None:
        """Delete the kept-aside copies of one shard (all shards for ""); failures are logged."""
        for name in self._names():
            shard, kept_aside, _ = name.partition(_KEPT_ASIDE)
            if kept_aside and _SHARD_NAME.fullmatch(shard) and shard_name in ("", shard):
                self._discard_or_log(self.folder / name)

    def _discard_or_log(self, path: Path) -> None:
        try:
            _discard(path)
        except OSError as exc:
            logger.warning("cannot remove %s (%s)", path, _reason(exc))

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
        DamagedDocumentError: unreadable, not a regular file, not JSON, not the shard layout,
            a bad user id or a bad instant.
    """
    try:
        raw = read_regular_file(path)[0]
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise DamagedDocumentError(path, f"cannot be read ({_reason(exc)})") from exc
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


def _discard(path: Path) -> None:
    """Remove a file, or a folder found in a file's place (everything here is derivable)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _reason(error: OSError) -> str:
    """An OSError in a few words, without the path the log line names anyway."""
    return error.strerror or str(error)


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
