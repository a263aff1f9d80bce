"""Check-ins that went out, journalled instead of rewriting each user's document at once.

A claimed message is written into the user's document before it is sent (``checkin_claims``).
That it went out is recorded here: many records per append to ``storage.AppendJournal`` (one
fsync), kept in memory per user and applied to the document whenever it is read or written
through ``SentRecords`` (the repository everybody uses): the user's next step writes it with
their answer, the next claim with its own write, and ``compact`` writes the rest in the
background. A crash before a record is in the journal leaves the claim pending in the document:
the first tick after the restart sends it once more, as when a crash came before the confirm.

A record names its claim by week, kind and claim instant, so applying it is idempotent and never
touches a later claim of the same week (a snoozed check-in is claimed again).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from re import Pattern
from typing import Any, Final, Protocol, Self, runtime_checkable

from bot.core.checkin_schedule import ACTIVE, BAD_BLOCK, REMINDER, Reminder
from bot.core.due_kinds import KINDS, Kind, Outlook, due_of, next_send
from bot.core.quiet_hours import QuietHours
from storage.journal import AppendJournal
from storage.repository import UserRepository, recent_reader
from storage.tinydb_repo import TinyDBUserRepository

__all__ = [
    "LIVE_MESSAGE",
    "SentRecord",
    "SentRecords",
    "apply_sent",
    "as_recorded",
    "due_after_sent",
    "journaled",
]

logger = logging.getLogger(__name__)

LIVE_MESSAGE: Final = "live_message"


@dataclass(frozen=True)
class SentRecord:
    """The claim of ``week``/``kind`` made at ``claimed_at`` went out.

    ``live`` is (before, after): the message whose buttons were live before it, and the one
    since. It is applied only while the document still names ``before``, so a step that came
    in between keeps its own newer message. None: the message did not move them.
    """

    user_id: str
    week: str
    kind: Kind
    claimed_at: datetime
    mentioned: tuple[str, ...] = ()
    live: tuple[int | None, int | None] | None = None

    def to_json(self) -> dict[str, Any]:
        """The journal line."""
        line: dict[str, Any] = {
            "user": self.user_id,
            "week": self.week,
            "kind": self.kind.value,
            "claimed_at": self.claimed_at.isoformat(),
        }
        if self.mentioned:
            line["mentioned"] = list(self.mentioned)
        if self.live is not None:
            line["live"] = list(self.live)
        return line

    @classmethod
    def from_json(cls, line: dict[str, Any]) -> SentRecord:
        """Read a journal line; KeyError, TypeError or ValueError if it is not one."""
        user_id, week, claimed = line["user"], line["week"], line["claimed_at"]
        if not (isinstance(user_id, str) and isinstance(week, str) and isinstance(claimed, str)):
            raise TypeError(f"not a sent record: {line!r}")
        claimed_at = datetime.fromisoformat(claimed)
        if claimed_at.tzinfo is None:
            raise ValueError(f"claimed_at without a zone: {claimed!r}")
        mentioned = line.get("mentioned", [])
        if not isinstance(mentioned, list) or not all(isinstance(w, str) for w in mentioned):
            raise TypeError(f"mentioned must be a list of weeks: {mentioned!r}")
        live = line.get("live")
        if live is not None and not (
            isinstance(live, list) and len(live) == 2 and all(map(_is_message_id, live))
        ):
            raise TypeError(f"live must be [before, after]: {live!r}")
        return cls(
            user_id,
            week,
            Kind(line["kind"]),
            claimed_at,
            tuple(mentioned),
            None if live is None else (live[0], live[1]),
        )


def _is_message_id(value: object) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _sent_reminder(
    document: dict[str, Any] | None, record: SentRecord
) -> tuple[Reminder, QuietHours] | None:
    """The document's reminder with ``record`` applied, and its quiet hours; None if it holds
    no such pending claim (or its blocks do not read)."""
    block = None if document is None else document.get(REMINDER)
    if document is None or not isinstance(block, dict):
        return None
    try:
        reminder = Reminder.from_dict(block)
        quiet = QuietHours.from_document(document)
    except BAD_BLOCK:
        return None
    sending = reminder.sending
    if (
        sending is None
        or sending.week != record.week
        or sending.claimed_at != record.claimed_at
        or due_of(sending).kind is not record.kind
    ):
        return None
    outlook = Outlook(reminder, quiet, document.get("checkins") or ())
    KINDS[record.kind].sent(outlook, sending, mentioned=record.mentioned)
    outlook.reminder.sending = None
    return outlook.reminder, quiet


def apply_sent(document: dict[str, Any] | None, record: SentRecord) -> dict[str, Any] | None:
    """The document with ``record`` applied, or None if it holds no such pending claim.

    Pure: ``document`` is not changed (the result is a shallow copy with a new reminder block).
    """
    sent = _sent_reminder(document, record)
    if document is None or sent is None:
        return None
    applied = {**document, REMINDER: sent[0].to_dict()}
    if record.live is not None and document.get(LIVE_MESSAGE) == record.live[0]:
        applied[LIVE_MESSAGE] = record.live[1]
    return applied


def due_after_sent(
    document: dict[str, Any], record: SentRecord, now: datetime, *, like: Outlook | None = None
) -> tuple[bool, datetime | None]:
    """Whether ``apply_sent`` applies ``record`` to ``document``, and if so the
    ``effective_due`` of the document it gives, at ``now``.

    The same as ``effective_due(apply_sent(document, record), now)``, without writing the
    reminder block out and reading it back: it reads back as it was (its instants are UTC, as
    read), and the rest of the document is the same. Raises what ``effective_due`` raises.
    ``like``: the outlook of a document with the same check-in records (the claim's, before
    the reminder was composed into it), whose answered weeks are taken over if it has them.
    """
    sent = _sent_reminder(document, record)
    if sent is None:
        return False, None
    if document.get(ACTIVE, True) is False:
        return True, None  # what ``effective_due`` says of an inactive user
    outlook = Outlook.around(document, *sent)
    if like is not None:
        outlook.answers_as(like)
    found = next_send(outlook, now)
    return True, None if found is None else found[1]


@runtime_checkable
class _Scannable(Protocol):
    def documents_matching(
        self, pattern: Pattern[bytes], *, stop: threading.Event | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]: ...


Hold = Callable[[str], AbstractContextManager[None]]


class SentRecords:
    """A ``UserRepository`` over ``inner`` that applies the journalled sent records.

    ``get`` returns documents with the user's pending records applied; ``put`` applies them to
    what it stores (a no-op for a document read through ``get``) and then forgets them, as the
    document holds them now. Segments of the journal are removed once none of their records is
    pending any more.
    """

    def __init__(self, inner: UserRepository, journal: AppendJournal) -> None:
        """Wrap ``inner``; call ``load`` before the first ``get``."""
        self.inner = inner
        self.journal = journal
        self._inner_recent = recent_reader(inner)
        self._lock = threading.Lock()
        # user -> (segment, record) not yet in their document; segment -> users pending in it
        self._pending: dict[str, list[tuple[str, SentRecord]]] = {}
        self._segments: dict[str, set[str]] = {}
        # Held from an append until its records are registered, and while removing segments:
        # a segment must never be removed between the two.
        self._append_lock = threading.Lock()

    # ---- the journal --------------------------------------------------------------------
    def load(self) -> int:
        """Read the journal left by the last run; the number of records pending."""
        loaded = 0
        for segment in self.journal.load():
            users = self._segments.setdefault(segment.name, set())
            for line in segment.records:
                try:
                    record = SentRecord.from_json(line)
                except (KeyError, TypeError, ValueError) as error:
                    # Unreadable: its claim stays pending and is sent once more (the safe side).
                    logger.warning("a sent record in %s cannot be read (%s)", segment.name, error)
                    continue
                with self._lock:
                    self._pending.setdefault(record.user_id, []).append((segment.name, record))
                users.add(record.user_id)
                loaded += 1
        if loaded:
            logger.info("%d sent check-ins from the journal are not in documents yet", loaded)
        self.remove_settled_segments()
        return loaded

    def record(self, records: Sequence[SentRecord]) -> None:
        """Make ``records`` durable (one fsync) and apply them from now on."""
        if not records:
            return
        lines = [record.to_json() for record in records]
        with self._append_lock:
            segment = self.journal.append(lines)
            with self._lock:
                users = self._segments.setdefault(segment, set())
                for record in records:
                    self._pending.setdefault(record.user_id, []).append((segment, record))
                    users.add(record.user_id)

    def pending_users(self, *, segments: Sequence[str] | None = None) -> list[str]:
        """Users with records not yet in their documents (only from ``segments`` if given)."""
        with self._lock:
            if segments is None:
                return list(self._pending)
            return sorted({user for name in segments for user in self._segments.get(name, ())})

    def segments(self) -> list[str]:
        """Segments with pending records, oldest first (the current one included)."""
        with self._lock:
            return sorted(name for name, users in self._segments.items() if users)

    def rotate(self) -> str | None:
        """End the current segment (removed once written through); its name, if one was open."""
        ended = self.journal.rotate()
        self.remove_settled_segments()
        return ended

    def compact(self, hold: Hold, *, users: Sequence[str] | None = None) -> int:
        """Write the pending records of ``users`` (default: all) into their documents.

        ``hold`` is the lock every writer of a document takes (``ReminderService.user_lock``).
        Returns the number of documents written; segments written through are removed.
        """
        written = 0
        for user_id in self.pending_users() if users is None else users:
            with hold(user_id):
                try:
                    document = self.get_recent(user_id)
                except Exception:
                    # Damaged or newer: the claim stays pending (sent once more after a start).
                    logger.exception("cannot write the sent check-in of %s", user_id)
                    self._drop(user_id)
                    continue
                if document is None:
                    self._drop(user_id)
                    continue
                with self._lock:
                    still = user_id in self._pending
                if still:
                    self.put(user_id, document)
                    written += 1
        self.remove_settled_segments()
        return written

    def remove_settled_segments(self) -> None:
        """Delete the segments (but the one being appended to) whose records are all applied."""
        with self._append_lock:
            with self._lock:
                current = self.journal.current
                settled = [n for n, users in self._segments.items() if not users and n != current]
                for name in settled:
                    del self._segments[name]
            for name in settled:
                self.journal.remove(name)

    # ---- the repository -----------------------------------------------------------------
    def get(self, user_id: str) -> dict[str, Any] | None:
        """The stored document with the user's pending sent records applied."""
        return self._with_pending(user_id, self.inner.get(user_id))

    def get_recent(self, user_id: str) -> dict[str, Any] | None:
        """``get`` without the older check-ins if ``inner`` can leave them (``get_recent``)."""
        return self._with_pending(user_id, self._inner_recent(user_id))

    def _with_pending(
        self, user_id: str, document: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        with self._lock:
            pending = list(self._pending.get(user_id, ()))
        if not pending:
            return document
        return self._applied(user_id, document, pending)

    def put(self, user_id: str, document: dict[str, Any]) -> None:
        """Store the document with the pending records applied; they are in it from now on."""
        with self._lock:
            pending = list(self._pending.get(user_id, ()))
        if pending:
            document = self._applied(user_id, document, pending) or document
        self.inner.put(user_id, document)
        if pending:
            self._drop(user_id, {id(entry[1]) for entry in pending})

    def delete(self, user_id: str) -> bool:
        """Delete the user, their records, and every journal line that names them."""
        deleted = self.inner.delete(user_id)
        self._drop(user_id)
        with self._append_lock:
            self.journal.remove_records(lambda line: line.get("user") == user_id)
        self.remove_settled_segments()
        return deleted

    def user_ids(self) -> Iterator[str]:
        """The inner repository's ``user_ids``."""
        return self.inner.user_ids()

    def documents_matching(
        self, pattern: Pattern[bytes], *, stop: threading.Event | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """The inner repository's raw scan (sent records change no standing it looks for)."""
        if not isinstance(self.inner, _Scannable):
            raise TypeError(f"{type(self.inner).__name__} cannot scan its files")
        return self.inner.documents_matching(pattern, stop=stop)

    def close(self) -> None:
        """Close the inner repository (the journal keeps what is pending for the next start)."""
        self.inner.close()

    def __enter__(self) -> Self:
        """Use as a context manager that closes on exit."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the repository."""
        self.close()

    # ---- inside -----------------------------------------------------------------------
    def _applied(
        self,
        user_id: str,
        document: dict[str, Any] | None,
        pending: list[tuple[str, SentRecord]],
    ) -> dict[str, Any] | None:
        """``document`` with every record that still applies; the others are forgotten."""
        result = document
        obsolete: set[int] = set()
        for _, record in pending:
            applied = apply_sent(result, record)
            if applied is None:
                obsolete.add(id(record))
            else:
                result = applied
        if obsolete and result is document:
            # Nothing applied: the document moved on without them (a put took them along).
            self._drop(user_id, obsolete)
        return result

    def _drop(self, user_id: str, which: set[int] | None = None) -> None:
        """Forget the user's records (only those whose ``id`` is in ``which``, if given)."""
        with self._lock:
            entries = self._pending.get(user_id)
            if entries is None:
                return
            kept = [] if which is None else [e for e in entries if id(e[1]) not in which]
            gone = {name for name, record in entries if which is None or id(record) in which}
            if kept:
                self._pending[user_id] = kept
            else:
                del self._pending[user_id]
            still = {name for name, _ in kept}
            for name in gone - still:
                users = self._segments.get(name)
                if users is not None:
                    users.discard(user_id)


def journaled(stored: TinyDBUserRepository) -> SentRecords:
    """The file store read through the journal of sent check-ins kept in its data folder."""
    return SentRecords(stored, AppendJournal(stored.data_dir))


def as_recorded(
    data_dir: Path, user_id: str, document: dict[str, Any] | None
) -> dict[str, Any] | None:
    """``document`` (as read from the user's file) with the sent records journalled for them.

    For readers outside the bot, which holds the folder locked (tests, tools): the file alone
    may still show a claim pending that the journal already records as sent.
    """
    result = document
    for segment in AppendJournal(data_dir).load():
        for line in segment.records:
            if line.get("user") != user_id:
                continue
            try:
                record = SentRecord.from_json(line)
            except (KeyError, TypeError, ValueError):
                continue
            result = apply_sent(result, record) or result
    return result
