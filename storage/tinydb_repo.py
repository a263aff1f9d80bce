"""A UserRepository with one small TinyDB file per user, sharded into 256 sub-folders.

Layout: ``<data_dir>/users/<first 2 hex digits of sha256(id)>/<id>.json``. One put or get touches
one small file, so its cost does not grow with the number of users (design.md, section 5: one big
file cost 6.6 s per update at 100,000 users). The user's document is the single record of the
TinyDB table ``"user"``; other per-user tables (say ``"checkins"``) can live in the same file and
are kept when the document is replaced. The repository reads and writes the files through
``AtomicJSONStorage`` directly, in TinyDB's layout: a put parses the file once and writes it once,
where TinyDB's ``Table.update`` parses it twice.

A check-in reads and writes its user's file, so a get and a put keep their Python small: a
user's paths are worked out once (as ``str``: ``pathlib`` costs microseconds a call) and a shard
folder is made once per process, not at every put.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from re import Pattern
from types import TracebackType
from typing import Any, Final, Self

from storage.atomic import (
    Signature,
    Tables,
    file_signature,
    fsync_directory,
    is_temp_file,
    read_json_tables,
    read_regular_file,
    write_json_tables,
)
from storage.errors import DamagedDocumentError, StorageError
from storage.ids import check_user_id, is_user_id
from storage.lock import DataDirLock
from storage.migrations import DEFAULT_MIGRATOR, SchemaMigrator

__all__ = ["USERS_FOLDER", "USER_TABLE", "TinyDBUserRepository", "shard_of"]

logger = logging.getLogger(__name__)

USERS_FOLDER: Final = "users"
USER_TABLE: Final = "user"
_USER_RECORD_ID: Final = 1
_USER_RECORD_KEY: Final = str(_USER_RECORD_ID)
_SUFFIX: Final = ".json"
_SHARD_DIGITS: Final = 2
_SEEN_LIMIT: Final = 8192  # files whose last known state is remembered (a few MB at most)
_PLACES_LIMIT: Final = 2048  # users whose paths are kept (800 bytes each; then start over)


def shard_of(user_id: str) -> str:
    """Return the shard folder name of a user: stable across runs, unlike ``hash()``."""
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest()[:_SHARD_DIGITS]


@dataclass(frozen=True, slots=True)
class _UserPlace:
    """Where one user's file lives, worked out once."""

    shard: str
    """The shard folder's name, two hex digits."""
    folder: str
    file: str
    path: Path
    """``file`` as a Path: for errors and log lines, which name it as before."""


class TinyDBUserRepository:
    """Per-user TinyDB files under a data folder that this process holds locked."""

    def __init__(self, data_dir: Path, *, migrator: SchemaMigrator = DEFAULT_MIGRATOR) -> None:
        """Create the folder, lock it and clean up temp files left by a crash.

        Raises:
            StoreLockedError: another process (or repository) holds the folder.
        """
        self.data_dir = data_dir
        self._users_dir = data_dir / USERS_FOLDER
        self._users_root = os.fspath(self._users_dir)
        # user id -> where its file lives (valid ids only); bounded, cleared when full.
        self._places: dict[str, _UserPlace] = {}
        # Shard folders this process has made sure of: a put into one of them makes no mkdir.
        # A delete that removes a shard folder takes it out; one removed by hand is made again
        # when a write finds it missing.
        self._folders_made: set[str] = set()
        self._migrator = migrator
        data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = DataDirLock(data_dir)
        self._lock.acquire()
        # Puts and deletes in one shard share a lock so that a delete removing an empty shard
        # folder never races a put that has just created it.
        self._shard_locks = {f"{n:02x}": threading.Lock() for n in range(16**_SHARD_DIGITS)}
        # user id -> signature of the file as this process last read or wrote it, and its
        # tables other than the user's (usually none), so a put need not read the file again.
        self._seen: dict[str, tuple[Signature, dict[str, dict[str, Any]]]] = {}
        self._seen_lock = threading.Lock()
        try:
            self._remove_temp_files()
        except BaseException:
            self._lock.release()  # nobody gets this object to close it
            raise

    def get(self, user_id: str) -> dict[str, Any] | None:
        """Return the user's document migrated to the current schema, or None.

        Raises:
            DamagedDocumentError: the file cannot be read; nothing is changed on disk.
        """
        place = self._place_of(user_id)
        tables, signature = read_json_tables(place.file)
        record = self._user_record(tables, place.path)
        if record is None or tables is None or signature is None:
            return None
        # Checked before it is remembered: a put then finds a bad file and keeps it aside.
        document = self._migrator.upgrade(record, source=place.path)
        self._remember(user_id, signature, tables)
        return document

    def put(self, user_id: str, document: dict[str, Any]) -> None:
        """Store the document stamped with the current schema; fsynced when this returns.

        A damaged file is first moved aside to ``<name>.damaged-<UTC time>``, never overwritten.
        """
        place = self._place_of(user_id)
        stamped = self._migrator.stamp(document)
        with self._shard_locks[place.shard]:
            # The file's other tables must be kept and damage found; a file unchanged since
            # this process last read or wrote it is not read again (a tenth of a step). TinyDB's
            # Table.update would even parse it twice.
            tables = self._known_tables(user_id, place.file)
            if tables is None:
                try:
                    tables = read_json_tables(place.file)[0] or {}
                    record = self._user_record(tables, place.path)
                    if record is not None:
                        self._migrator.validate(record, source=place.path)
                except DamagedDocumentError as exc:
                    self._forget(user_id)
                    _move_aside(place.path, exc)
                    tables = {}
            tables[USER_TABLE] = {_USER_RECORD_KEY: stamped}
            self._remember(user_id, self._write(place, tables), tables)

    def _write(self, place: _UserPlace, tables: Tables) -> Signature:
        """Write the user's file (caller holds its shard's lock); make its folder if need be."""
        if place.folder not in self._folders_made:
            Path(place.folder).mkdir(parents=True, exist_ok=True)
            self._folders_made.add(place.folder)
        try:
            return write_json_tables(place.file, tables)
        except FileNotFoundError:
            folder = Path(place.folder)
            if folder.is_dir():
                raise  # not a missing folder: say what it is
            # The shard folder was removed underneath this process (by hand): make it again.
            # Nothing was written (the temp file could not even be made), so write once more.
            folder.mkdir(parents=True, exist_ok=True)
            return write_json_tables(place.file, tables)

    def delete(self, user_id: str) -> bool:
        """Remove the user's file, damaged copies and temp files, then the shard if empty."""
        place = self._place_of(user_id)
        path, shard = place.path, place.path.parent
        self._forget(user_id)
        with self._shard_locks[place.shard]:
            try:
                names = [entry.name for entry in shard.iterdir()]
            except FileNotFoundError:
                return False
            doomed = [
                name
                for name in names
                if name == path.name
                or name.startswith(f"{path.name}.damaged-")
                or (is_temp_file(name) and name.startswith(f".{path.name}."))
            ]
            for name in doomed:
                (shard / name).unlink(missing_ok=True)
            if doomed:
                fsync_directory(shard)
            with contextlib.suppress(OSError):  # not empty: other users live in this shard
                shard.rmdir()
                self._folders_made.discard(place.folder)
                fsync_directory(self._users_dir)
        return bool(doomed)

    def user_ids(self) -> Iterator[str]:
        """Yield every stored user id by walking the shard folders."""
        self._check_open()
        return self._walk_user_ids()

    def documents_matching(
        self, pattern: Pattern[bytes], *, stop: threading.Event | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield ``(user id, document)`` of every user whose stored file matches ``pattern``.

        For counting rare states across all users (an operator's figures) without parsing
        every file: a file is read, and parsed and migrated only when its raw bytes match.
        Nothing is remembered for later puts (a scan must not evict the users being served),
        and a file that cannot be read or parsed is skipped: the figure is a count, not a
        repair (``get`` reports the damage when the user writes next).
        """
        for user_id in self.user_ids():
            if stop is not None and stop.is_set():
                return  # the caller is stopping
            path = self._users_dir / shard_of(user_id) / f"{user_id}{_SUFFIX}"
            try:
                raw = read_regular_file(path)[0]
                if not pattern.search(raw):
                    continue
                tables = json.loads(raw.decode("utf-8"))
                record = self._user_record(tables, path) if isinstance(tables, dict) else None
                if record is None:
                    continue
                yield user_id, self._migrator.upgrade(record, source=path)
            except (OSError, ValueError, AttributeError, DamagedDocumentError) as error:
                logger.debug("%s skipped in a scan: %s", path, error)

    def close(self) -> None:
        """Release the data folder lock; later calls raise StorageError."""
        self._lock.release()

    def __enter__(self) -> Self:
        """Use as a context manager that closes on exit."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the repository."""
        self.close()

    def _walk_user_ids(self) -> Iterator[str]:
        for shard in self._shards():
            try:
                names = [entry.name for entry in shard.iterdir()]
            except FileNotFoundError:  # removed by a concurrent delete
                continue
            except OSError as error:
                # Listing is for rebuilding hints: go on with the readable shards.
                logger.error(  # noqa: TRY400 - an operator line; the traceback adds nothing
                    "cannot list %s (%s); its users are skipped", shard, error.strerror
                )
                continue
            for name in names:
                if name.endswith(_SUFFIX) and is_user_id(name[: -len(_SUFFIX)]):
                    yield name[: -len(_SUFFIX)]

    def _shards(self) -> list[Path]:
        try:
            entries = sorted(self._users_dir.iterdir())
        except FileNotFoundError:
            return []
        return [entry for entry in entries if entry.name in self._shard_locks and entry.is_dir()]

    def _remove_temp_files(self) -> None:
        for shard in self._shards():
            for entry in shard.iterdir():
                if is_temp_file(entry.name):
                    logger.info("removing temp file left by an interrupted write: %s", entry)
                    entry.unlink(missing_ok=True)

    def _remember(self, user_id: str, signature: Signature, tables: dict[str, Any]) -> None:
        others = {name: table for name, table in tables.items() if name != USER_TABLE}
        with self._seen_lock:
            self._seen.pop(user_id, None)
            self._seen[user_id] = (signature, others)
            if len(self._seen) > _SEEN_LIMIT:
                del self._seen[next(iter(self._seen))]  # the least recently used

    def _forget(self, user_id: str) -> None:
        with self._seen_lock:
            self._seen.pop(user_id, None)

    def _known_tables(self, user_id: str, path: str) -> dict[str, Any] | None:
        """The file's other tables if it is unchanged since we last read or wrote it."""
        with self._seen_lock:
            seen = self._seen.get(user_id)
        if seen is None or file_signature(path) != seen[0]:
            return None
        return dict(seen[1])

    def _place_of(self, user_id: str) -> _UserPlace:
        """Where the user's file lives; checks the id (only valid ids are kept)."""
        self._check_open()
        place = self._places.get(user_id) if type(user_id) is str else None
        if place is None:
            check_user_id(user_id)
            shard = shard_of(user_id)
            folder = f"{self._users_root}/{shard}"
            file = f"{folder}/{user_id}{_SUFFIX}"
            place = _UserPlace(shard, folder, file, Path(file))
            if len(self._places) >= _PLACES_LIMIT:
                self._places.clear()
            self._places[user_id] = place
        return place

    def _check_open(self) -> None:
        if not self._lock.held:
            raise StorageError(f"the repository on {self.data_dir} is closed")

    def _user_record(
        self, tables: dict[str, dict[str, Any]] | None, path: Path
    ) -> dict[str, Any] | None:
        """Return the single record of the user table, neither checked nor migrated.

        ``tables`` is the file as ``AtomicJSONStorage.read`` returns it (layout already checked).
        """
        records = (tables or {}).get(USER_TABLE) or {}
        if not records:
            return None
        if len(records) == 1 and _USER_RECORD_KEY in records:  # as every put writes it
            return dict(records[_USER_RECORD_KEY])
        ids = sorted(int(doc_id) for doc_id in records)
        if ids != [_USER_RECORD_ID]:
            raise DamagedDocumentError(path, f"table {USER_TABLE!r} has records {ids}, not [1]")
        return dict(next(iter(records.values())))


def _move_aside(path: Path, problem: DamagedDocumentError) -> None:
    """Keep a damaged file as ``<name>.damaged-<UTC time>`` before a put replaces it."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    kept = path.with_name(f"{path.name}.damaged-{stamp}")
    path.replace(kept)
    logger.warning("%s; kept it as %s and wrote a new document", problem, kept)
