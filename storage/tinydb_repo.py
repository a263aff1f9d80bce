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

The older check-ins of a user live in a side file beside theirs (``storage.history_archive``):
``get`` joins them to the document, ``put`` moves them out when the file would otherwise keep
more than twice ``WINDOW`` of them, and ``get_recent`` reads the user's file alone, for the
weekly check-in's claim, which never changes an answered check-in.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from re import Pattern
from types import TracebackType
from typing import Any, Final, Self, TypeAlias, TypeVar

from storage.atomic import (
    Signature,
    Tables,
    file_signature,
    fsync_directory,
    is_temp_file,
    read_json_tables,
    read_regular_file,
    replace_atomically,
    write_json_tables,
)
from storage.errors import DamagedDocumentError, StorageError
from storage.history_archive import (
    ARCHIVE_KEY,
    ARCHIVE_SUFFIX,
    HISTORY_KEY,
    WINDOW,
    Archive,
    Digest,
    archive_of,
    compared,
    digest_of,
    encoded,
    older_records,
    side_payload,
)
from storage.ids import check_user_id, is_user_id
from storage.lock import DataDirLock
from storage.migrations import DEFAULT_MIGRATOR, SchemaMigrator

__all__ = ["USERS_FOLDER", "USER_TABLE", "TinyDBUserRepository", "shard_of"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

USERS_FOLDER: Final = "users"
USER_TABLE: Final = "user"
_USER_RECORD_ID: Final = 1
_USER_RECORD_KEY: Final = str(_USER_RECORD_ID)
_SUFFIX: Final = ".json"
_SHARD_DIGITS: Final = 2
_SEEN_LIMIT: Final = 8192  # files whose last known state is remembered (a few MB at most)
_PLACES_LIMIT: Final = 2048  # users whose paths are kept (800 bytes each; then start over)

Kept: TypeAlias = tuple[Archive, Digest | None] | None
"""What a stored user file says of its older check-ins, and the digest of those records
(``history_archive.digest_of``; None: not known to this process); None: it keeps them all."""


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
    side: str
    """The side file of the user's older check-ins (``history_archive``)."""
    side_path: Path


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
        # user id -> signature of the file as this process last read or wrote it, its tables
        # other than the user's (usually none) and what it says of the side file, so a put
        # need not read either file again.
        self._seen: dict[str, tuple[Signature, dict[str, dict[str, Any]], Kept]] = {}
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
        stored = self._stored_record(user_id)
        if stored is None:
            return None
        place, tables, signature, record = stored
        archive = archive_of(record, place.path)
        if archive is None:
            # Checked before it is remembered: a put then finds a bad file and keeps it aside.
            document = self._migrator.upgrade(record, source=place.path)
            self._remember(user_id, signature, tables, None)
            return document
        try:
            older, digest = self._read_older(place, archive)
            _join_older(record, older, place.path)
            document = self._migrator.upgrade(record, source=place.path)
        except DamagedDocumentError:
            # What a ``get_recent`` remembered of the user's file says nothing of the side
            # file: a put must look at both again (and keep them aside).
            self._forget(user_id)
            raise
        self._remember(user_id, signature, tables, (archive, digest))
        return document

    def get_recent(self, user_id: str) -> dict[str, Any] | None:
        """Like ``get``, without reading the side file of the user's older check-ins.

        The document's ``checkins`` are the newest ones (at least ``WINDOW`` of them, or all
        the user has), and if older ones are kept aside it says so under ``ARCHIVE_KEY``: a
        ``put`` of it (or of a document made from it that keeps that key) leaves them as they
        are. For the weekly check-in's claim and confirm, which never change an answer.

        Raises:
            DamagedDocumentError: the user's file cannot be read; nothing is changed on disk.
        """
        stored = self._stored_record(user_id)
        if stored is None:
            return None
        place, tables, signature, record = stored
        archive = archive_of(record, place.path)
        document = self._migrator.upgrade(record, source=place.path)
        kept: Kept = None
        if archive is not None:
            # The digest of the older check-ins is still known if this process last read or
            # wrote this very file (its side records, once named, never change).
            before = self._seen_as(user_id, signature)
            known = None if before is None else before[1]
            kept = (archive, known[1] if known is not None and known[0] == archive else None)
        self._remember(user_id, signature, tables, kept)
        return document

    def _stored_record(
        self, user_id: str
    ) -> tuple[_UserPlace, Tables, Signature, dict[str, Any]] | None:
        """The user's place, file tables, signature and record as stored; None: no user."""
        place = self._place_of(user_id)
        tables, signature = read_json_tables(place.file)
        record = self._user_record(tables, place.path)
        if record is None or tables is None or signature is None:
            return None
        return place, tables, signature, record

    def put(self, user_id: str, document: dict[str, Any]) -> None:
        """Store the document stamped with the current schema; fsynced when this returns.

        A damaged file is first moved aside to ``<name>.damaged-<UTC time>``, never overwritten.
        A document read whole (``get``) has its older check-ins moved to the side file when
        the user's file would keep more than twice ``WINDOW`` of them (the side file written
        first); one read by ``get_recent`` (it carries ``ARCHIVE_KEY``) is written into the
        user's file alone.

        Raises:
            StorageError: a document from ``get_recent`` names older check-ins other than the
                stored ones (it was read before another put moved some: a lost update).
        """
        place = self._place_of(user_id)
        stamped = self._migrator.stamp(document)
        with self._shard_locks[place.shard]:
            # The file's other tables must be kept and damage found; a file unchanged since
            # this process last read or wrote it is not read again (a tenth of a step). TinyDB's
            # Table.update would even parse it twice.
            known = self._known_tables(user_id, place.file)
            tables, kept = self._stored_tables(user_id, place) if known is None else known
            had_older = kept is not None
            try:
                if ARCHIVE_KEY in stamped:
                    _check_same_older(place.path, stamped, kept)
                    record = stamped
                else:
                    record, kept = self._split(user_id, place, stamped, kept)
                tables[USER_TABLE] = {_USER_RECORD_KEY: record}
                signature = self._write(place, tables)
            except BaseException:
                self._forget(user_id)  # the side file may have changed: read it afresh
                raise
            self._remember(user_id, signature, tables, kept)
            if had_older and kept is None:
                self._drop_side(place)

    def _stored_tables(self, user_id: str, place: _UserPlace) -> tuple[Tables, Kept]:
        """The user's file as stored, for a put, and what it keeps aside.

        A damaged file is moved aside (then empty); so is a file whose side file is damaged,
        with that side file: what ``get`` refused stays on disk as it was, for the operator.
        """
        try:
            tables = read_json_tables(place.file)[0] or {}
            record = self._user_record(tables, place.path)
            if record is None:
                return tables, None
            self._migrator.validate(record, source=place.path)
            archive = archive_of(record, place.path)
        except DamagedDocumentError as exc:
            self._forget(user_id)
            _move_aside(place.path, exc)
            return {}, None
        if archive is None:
            return tables, None
        older, digest = self._stored_older(user_id, place, archive)
        if older is None:
            return {}, None
        return tables, (archive, digest)

    def _split(
        self, user_id: str, place: _UserPlace, stamped: dict[str, Any], kept: Kept
    ) -> tuple[dict[str, Any], Kept]:
        """The user's record for a whole document, and what it keeps aside (caller holds the
        shard's lock); writes the side file first if older check-ins move there.

        The side file is rewritten only when check-ins move out (every ``WINDOW`` weeks or
        so) or an older one changed; it always keeps the records the stored file names, so a
        crash before the user's file is written leaves that file valid.
        """
        records = stamped.get(HISTORY_KEY)
        if type(records) is not list:
            return stamped, None  # stored as it is; the schema's check finds it on reading
        total, first = len(records), 0
        moving = total - WINDOW if total > 2 * WINDOW else 0
        older: list[Any] | None = None
        if kept is not None:
            archive, digest = kept
            count, looked = archive.count, digest is None
            if looked:  # not known to this process: from the side file
                older, digest = self._stored_older(user_id, place, archive)
            # Compared unchecked; what is written is encoded (and so checked for NaN) below.
            head = compared(records[:count]) if total >= count else None
            if head is not None and digest == digest_of(head):
                return self._keep_stored(place, stamped, archive, head, dropped=0, digest=digest)
            if not looked:  # changed: how decides what is written
                older = self._stored_older(user_id, place, archive)[0]
            if older is not None:
                dropped = _dropped_front(older, records)
                if dropped is not None:
                    stored = encoded(older)
                    return self._keep_stored(place, stamped, archive, stored, dropped=dropped)
                first = archive.first + count  # new numbers after the ones the file names
        if not moving:
            return stamped, None
        moved = encoded(records[:moving])
        side = moved if older is None else _joined(encoded(older), moved)
        self._write_side(place, first - (0 if older is None else len(older)), side)
        archive = Archive(first, moving)
        return _with_recent(stamped, records[moving:], archive), (archive, digest_of(moved))

    def _keep_stored(
        self,
        place: _UserPlace,
        stamped: dict[str, Any],
        archive: Archive,
        stored: bytes,
        *,
        dropped: int,
        digest: Digest | None = None,
    ) -> tuple[dict[str, Any], Kept]:
        """The user's record when the document's oldest check-ins are the stored older ones
        (``stored``, encoded) but the first ``dropped`` (a history cut to ``MAX_CHECKINS``).

        The file then names fewer of the same side records and the side file stays as it is;
        or, if more than twice ``WINDOW`` would stay, the side file gains the records that
        move out now, after all it holds (``digest``: of the records kept aside, if known).
        """
        records: list[Any] = stamped[HISTORY_KEY]
        still = archive.count - dropped
        if len(records) - still <= 2 * WINDOW:
            now = Archive(archive.first + dropped, still)
            if digest is None:
                digest = digest_of(encoded(records[:still]))
            return _with_recent(stamped, records[still:], now), (now, digest)
        moving = len(records) - WINDOW
        tail = encoded(records[still:moving])
        self._write_side(place, archive.first, _joined(stored, tail))
        aside = _joined(stored if not dropped else encoded(records[:still]), tail)
        now = Archive(archive.first + dropped, moving)
        return _with_recent(stamped, records[moving:], now), (now, digest_of(aside))

    def _read_older(self, place: _UserPlace, archive: Archive) -> tuple[list[Any], Digest]:
        """The older check-ins ``archive`` names, and their digest.

        Raises:
            DamagedDocumentError: the side file is missing, unreadable or lacks them.
        """
        try:
            raw = read_regular_file(place.side)[0]
        except FileNotFoundError:
            problem = f"is missing; the user's file names {archive.count} check-ins in it"
            raise DamagedDocumentError(place.side_path, problem) from None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise DamagedDocumentError(place.side_path, f"cannot be read ({reason})") from exc
        return older_records(raw, archive, place.side_path)

    def _stored_older(
        self, user_id: str, place: _UserPlace, archive: Archive
    ) -> tuple[list[Any] | None, Digest | None]:
        """``_read_older`` for a put: (None, None) if the side file is damaged.

        Then it is moved aside, and the user's file with it: ``get`` refused the two, and both
        stay on disk as they were, for the operator, before the put writes a new document.
        """
        try:
            older, digest = self._read_older(place, archive)
            # Checked with the user's file, as ``get`` checks them: a check-in that is not
            # one is damage too.
            tables = read_json_tables(place.file)[0]
            record = self._user_record(tables, place.path)
            if record is not None:
                _join_older(record, older, place.path)
                self._migrator.validate(record, source=place.side_path)
        except DamagedDocumentError as exc:
            self._forget(user_id)
            if Path(place.side).exists():
                _move_aside(place.side_path, exc)
            _move_aside(place.path, exc)
            return None, None
        return older, digest

    def _write_side(self, place: _UserPlace, first: int, records: bytes) -> None:
        """Write the side file: ``records`` (encoded) numbered from ``first``."""
        payload = side_payload(first, records)
        self._in_folder(place, lambda: replace_atomically(place.side, payload))

    def _drop_side(self, place: _UserPlace) -> None:
        """Remove a side file no stored document names any more (a leftover: harmless)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(place.side)  # noqa: PTH108 - str paths, as for the user's file

    def _write(self, place: _UserPlace, tables: Tables) -> Signature:
        """Write the user's file (caller holds its shard's lock); make its folder if need be."""
        return self._in_folder(place, lambda: write_json_tables(place.file, tables))

    def _in_folder(self, place: _UserPlace, write: Callable[[], T]) -> T:
        """Run ``write`` (a file in the user's shard folder); make the folder if need be."""
        if place.folder not in self._folders_made:
            Path(place.folder).mkdir(parents=True, exist_ok=True)
            self._folders_made.add(place.folder)
        try:
            return write()
        except FileNotFoundError:
            folder = Path(place.folder)
            if folder.is_dir():
                raise  # not a missing folder: say what it is
            # The shard folder was removed underneath this process (by hand): make it again.
            # Nothing was written (the temp file could not even be made), so write once more.
            folder.mkdir(parents=True, exist_ok=True)
            return write()

    def delete(self, user_id: str) -> bool:
        """Remove the user's file and side file, damaged copies and temp files, then the shard
        if it is empty."""
        place = self._place_of(user_id)
        path, shard = place.path, place.path.parent
        self._forget(user_id)
        with self._shard_locks[place.shard]:
            try:
                names = [entry.name for entry in shard.iterdir()]
            except FileNotFoundError:
                return False
            own = (path.name, place.side_path.name)
            doomed = [
                name
                for name in names
                if name in own
                or name.startswith(tuple(f"{file}.damaged-" for file in own))
                or (is_temp_file(name) and name.startswith(tuple(f".{file}." for file in own)))
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
        repair (``get`` reports the damage when the user writes next). The documents are as
        ``get_recent`` reads them: the side files of older check-ins are not read.
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

    def _remember(
        self, user_id: str, signature: Signature, tables: dict[str, Any], kept: Kept
    ) -> None:
        others = {name: table for name, table in tables.items() if name != USER_TABLE}
        with self._seen_lock:
            self._seen.pop(user_id, None)
            self._seen[user_id] = (signature, others, kept)
            if len(self._seen) > _SEEN_LIMIT:
                del self._seen[next(iter(self._seen))]  # the least recently used

    def _forget(self, user_id: str) -> None:
        with self._seen_lock:
            self._seen.pop(user_id, None)

    def _known_tables(self, user_id: str, path: str) -> tuple[Tables, Kept] | None:
        """The file's other tables and side part if it is unchanged since we last read or
        wrote it."""
        signature = file_signature(path)
        return None if signature is None else self._seen_as(user_id, signature)

    def _seen_as(self, user_id: str, signature: Signature) -> tuple[Tables, Kept] | None:
        """What we remember of the user's file if it is the one of ``signature``."""
        with self._seen_lock:
            seen = self._seen.get(user_id)
        if seen is None or signature != seen[0]:
            return None
        return dict(seen[1]), seen[2]

    def _place_of(self, user_id: str) -> _UserPlace:
        """Where the user's file lives; checks the id (only valid ids are kept)."""
        self._check_open()
        place = self._places.get(user_id) if type(user_id) is str else None
        if place is None:
            check_user_id(user_id)
            shard = shard_of(user_id)
            folder = f"{self._users_root}/{shard}"
            file = f"{folder}/{user_id}{_SUFFIX}"
            side = f"{folder}/{user_id}{ARCHIVE_SUFFIX}"
            place = _UserPlace(shard, folder, file, Path(file), side, Path(side))
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


def _join_older(record: dict[str, Any], older: list[Any], path: Path) -> None:
    """Put the older check-ins back in front of the record's own, as the whole document."""
    recent = record.get(HISTORY_KEY)
    if not isinstance(recent, list):
        raise DamagedDocumentError(path, f"{HISTORY_KEY!r} is not a list")
    record[HISTORY_KEY] = older + recent
    del record[ARCHIVE_KEY]


def _check_same_older(path: Path, stamped: dict[str, Any], kept: Kept) -> None:
    """Refuse a document read without its older check-ins if others are stored by now."""
    stored = None if kept is None else kept[0]
    if archive_of(stamped, path) != stored:
        raise StorageError(
            f"{path}: the document names older check-ins {stamped[ARCHIVE_KEY]!r}, "
            f"the stored one {None if stored is None else stored.to_json()!r}"
        )


def _with_recent(stamped: dict[str, Any], recent: list[Any], archive: Archive) -> dict[str, Any]:
    """The user's record: the document with its newest check-ins, naming the older ones."""
    return {**stamped, HISTORY_KEY: recent, ARCHIVE_KEY: archive.to_json()}


def _dropped_front(older: list[Any], records: list[Any]) -> int | None:
    """How many of the oldest stored records ``records`` lacks, the rest unchanged at its start;
    None if it is not that (nor unchanged). At least one record must be left."""
    if not records:
        return None
    try:
        dropped = older.index(records[0])
    except ValueError:
        return None
    still = len(older) - dropped
    if dropped == 0 or len(records) < still or older[dropped:] != records[:still]:
        return None
    return dropped


def _joined(before: bytes, after: bytes) -> bytes:
    """Two encoded non-empty JSON lists as one."""
    return before[:-1] + b"," + after[1:]


def _move_aside(path: Path, problem: DamagedDocumentError) -> None:
    """Keep a damaged file as ``<name>.damaged-<UTC time>`` before a put replaces it."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    kept = path.with_name(f"{path.name}.damaged-{stamp}")
    path.replace(kept)
    logger.warning("%s; kept it as %s and wrote a new document", problem, kept)
