"""The exactly-once claim / confirm / release protocol of bot-initiated messages, and who is due.

The messages are of the kinds in ``bot.core.due_kinds`` (the weekly check-in and its follow-up);
this module runs the same protocol for all of them. The user document is the truth (its
``"reminder"`` block, a ``checkin_schedule.Reminder``, its ``"active"`` flag, its quiet hours and
answered weeks); ``storage.ScheduleIndex`` is a persistent hint of when each user must next be
looked at, and this service keeps that hint in memory as a heap, so a tick where nobody is
due costs a comparison. The hint may be too early (``claim`` reads the document and corrects it)
but never later than the document's due instant, so every change that moves the instant writes
the index as ``min(old, new)`` first, then the document, then the index as ``new``.

A claim is written into the document ("sending", with its kind) before the message goes out, in
one write with what asking the message does to the dialogue (``compose_with``: the engine's
composer, a pure function of the document), and stays there until ``confirm``; its index entry
stays due meanwhile, so a crash before ``confirm`` is found and re-sent (once) by the first tick
after the restart, or at the end of quiet hours if it restarts inside them. With a journal
(``SentRecords``) the confirm is a record appended in a batch (one fsync), applied to the
document by its next write (``bot.core.sent_records``); without one it rewrites the document.
Weeks are local ISO weeks of the slot instant.

While the dispatcher holds the hints (``hold_hints``, for the length of a tick), a hint that
moves *later* is written to the index in batches instead of one index write per confirm; a hint
that moves earlier is still written before the document. A crash can lose only such later
hints, and a too-early hint costs one look at the document after the restart.

Synchronous and thread-safe: the dispatcher runs ``claim``/``confirm`` in worker threads while
``due_users`` runs on the event loop; operations on one user are serialised by ``user_lock``.
"""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from bot.core.checkin_schedule import ACTIVE, BAD_BLOCK, REMINDER, Reminder, Sending
from bot.core.due_kinds import (
    KINDS,
    LATE_AFTER,
    Due,
    Kind,
    Outlook,
    due_of,
    effective_due,
    next_send,
)
from bot.core.keyed_locks import ThreadKeyedLocks
from bot.core.messages import Reply
from bot.core.quiet_hours import QuietHours
from bot.core.sent_records import SentRecord, SentRecords, due_after_sent
from storage.errors import DamagedDocumentError
from storage.repository import UserRepository, recent_reader
from storage.schedule_index import ScheduleIndex

__all__ = [
    "COMPACT_AFTER",
    "DEFAULT_GRACE",
    "FLUSH_AT",
    "LATE_AFTER",
    "Claim",
    "Delivered",
    "ReminderComposer",
    "ReminderService",
]

logger = logging.getLogger(__name__)

DEFAULT_GRACE: Final = timedelta(hours=12)
# Deferred (later) hints that are written at once rather than at the end of the tick, so a long
# fan-out never keeps many users' index entries behind their documents.
FLUSH_AT: Final = 4096
# Sent records are written into their documents after this long, if no step or claim took them
# along before: most users answer their check-in within the hour, and that write is needed anyway.
COMPACT_AFTER: Final = timedelta(hours=1)

_UNSET: Final = object()  # "no deferred hint" (None means "remove the entry")


@dataclass(frozen=True)
class Claim:
    """A message the sender must send now; ``resend`` if a dead process claimed it before."""

    user_id: str
    week: str
    late: bool
    resend: bool
    missed_weeks: tuple[str, ...]
    snooze: bool = False  # the user snoozed this week's reminder; it comes again on purpose
    kind: Kind = Kind.CHECKIN
    # Not part of what a claim is (compared), but what its sender and confirm need: the
    # claim's instant as stored (None: not known), what to show, composed in the claim's own
    # write (None: the sender asks the engine), and the message whose buttons were live then.
    claimed_at: datetime | None = field(default=None, compare=False)
    replies: tuple[Reply, ...] | None = field(default=None, compare=False)
    live_message: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Delivered:
    """A sent claim and the message whose buttons are live after it (``live_after``)."""

    claim: Claim
    live_after: int | None


class ReminderComposer(Protocol):
    """Puts a claimed message in front of the user: the engine's ``compose_reminder``."""

    def __call__(
        self,
        document: dict[str, Any],
        *,
        week: str,
        late: bool,
        missed_weeks: Sequence[str],
        snooze: bool,
        kind: Kind,
    ) -> tuple[dict[str, Any], list[Reply]]:
        """The document with the message asked, and the replies; [] if there is nothing to ask."""


def _store(document: dict[str, Any], reminder: Reminder) -> dict[str, Any]:
    """Put the (changed) reminder back into its document."""
    document[REMINDER] = reminder.to_dict()
    return document


class ReminderService:
    """Finds due users and moves each user's weekly check-in through claim -> confirm/release."""

    def __init__(
        self,
        repository: UserRepository,
        index: ScheduleIndex,
        *,
        grace: timedelta = DEFAULT_GRACE,
        clock: Callable[[], datetime],
        sent: SentRecords | None = None,
    ) -> None:
        """Use ``repository`` for the documents and ``index`` for the persistent hints.

        With ``sent`` (the ``SentRecords`` that ``repository`` reads through) a confirm is a
        journal record instead of a rewrite of the document; without it (the tests of the
        protocol, a store without a journal) the confirm rewrites the document.
        """
        if grace < timedelta(0):
            raise ValueError(f"grace must not be negative, got {grace}")
        self._repository = repository
        # The service never changes an answered check-in: it reads documents without the
        # older ones where the store keeps them aside (a third of a year-old user's read).
        self._get = recent_reader(repository)
        self._index = index
        self._grace = grace
        self._clock = clock
        self._sent = sent
        self._compose: ReminderComposer | None = None
        # The hint after each pending claim is confirmed, worked out in the claim's write; gone
        # as soon as anything else changes the user's schedule (then the confirm reads it).
        self._after_sent: dict[str, datetime | None] = {}
        # Journal segments and when this process first saw them (for ``compact_sent``).
        self._segments_seen: dict[str, datetime] = {}
        self._user_locks = ThreadKeyedLocks()
        # In memory: the hint per user (equal to the index on disk), a heap of (hint, user)
        # whose stale entries are skipped when popped, and the users whose claim is in flight.
        self._mutex = threading.Lock()
        self._due: dict[str, datetime] = {}
        self._heap: list[tuple[datetime, str]] = []
        self._in_flight: set[str] = set()
        # Hints that moved later and are not on disk yet (None: remove), while held.
        self._holders = 0
        self._deferred: dict[str, datetime | None] = {}
        self._flush_lock = threading.Lock()

    def compose_with(self, compose: ReminderComposer) -> None:
        """Compose each claimed message in the claim's own write (the engine's composer)."""
        self._compose = compose

    # ---- start-up and the tick ----------------------------------------------------------
    def load(self) -> None:
        """Build the in-memory hints from the index; rebuild the index first if it is incomplete.

        Call once at start-up, before any other method. The journal of sent check-ins is read
        first: the documents are read through it.
        """
        if self._sent is not None:
            self._sent.load()
        entries = self._index.load_all()
        if not self._index.is_complete():
            if self._index.was_ever_written() or self._has_users():
                logger.warning(
                    "the schedule index in %s is missing or damaged: rebuilding it from the "
                    "user documents",
                    self._index.folder,
                )
            else:  # a fresh data folder: nothing is missing, the index starts empty
                logger.info("starting a new schedule index in %s", self._index.folder)
            entries = self._scan_documents()
            self._index.rebuild(entries)
        with self._mutex:
            self._due = dict(entries)
            self._heap = [(due, user_id) for user_id, due in entries.items()]
            heapq.heapify(self._heap)
            self._in_flight.clear()
        logger.info("loaded %d check-in schedules", len(entries))

    def due_users(self, now: datetime, limit: int | None = None) -> list[str]:
        """Users whose hint is at or before ``now`` and not in flight; marks them in flight."""
        found: list[str] = []
        with self._mutex:
            heap = self._heap
            while heap and heap[0][0] <= now and (limit is None or len(found) < limit):
                due, user_id = heapq.heappop(heap)
                # Stale entries (hint changed since) and users in flight are dropped here; a
                # user leaving the in-flight set is pushed again with its current hint.
                if user_id in self._in_flight or self._due.get(user_id) != due:
                    continue
                self._in_flight.add(user_id)
                found.append(user_id)
            if len(heap) > 2 * len(self._due) + 1024:
                self._compact()
        return found

    def due_before(self, until: datetime) -> int:
        """Users whose hint is at or before ``until``: due by then, overdue ones included.

        From the hints in memory (one pass, no document read), so an upper bound: a hint may
        be earlier than its document's due instant, never later.
        """
        with self._mutex:
            hints = list(self._due.values())
        return sum(1 for due in hints if due <= until)

    def abandon(self, user_id: str) -> None:
        """Give back a user returned by ``due_users`` that will not be claimed (shutdown)."""
        self._leave_flight(user_id)

    def hold_hints(self) -> None:
        """Until ``release_hints``, write hints that move later in batches (nestable).

        The dispatcher holds them for a tick: a confirmed check-in moves the user's hint a week
        later, and writing each one at once rewrites and fsyncs an index shard per user (a
        shard holds about 400 users at 100,000). Hints that move earlier are never deferred.
        """
        with self._mutex:
            self._holders += 1

    def release_hints(self) -> None:
        """End one ``hold_hints``; the last one writes every deferred hint (disk I/O)."""
        with self._mutex:
            if self._holders == 0:
                raise RuntimeError("release_hints without hold_hints")
            self._holders -= 1
            last = self._holders == 0
        if last:
            self.flush_hints()
            if self._sent is not None:
                # The tick's sent records form one segment, removed once written through; its
                # hour (``compact_sent``) counts from now. One left by a run before counts from
                # the first look after the start.
                ended = self._sent.rotate()
                if ended is not None:
                    self._segments_seen.setdefault(ended, self._clock())

    def flush_hints(self, *, wait: bool = True) -> None:
        """Write the deferred hints to the index now (``wait=False``: not if one is running)."""
        if not self._flush_lock.acquire(blocking=wait):
            return
        try:
            with self._mutex:
                batch = dict(self._deferred)
            if not batch:
                return

            def still_deferred(user_id: str) -> bool:
                # Asked under the index shard's lock: a hint written at once since the batch
                # was taken (an earlier one) must not be overwritten by the batch's older value.
                with self._mutex:
                    return self._deferred.get(user_id, _UNSET) == batch[user_id]

            self._index.set_many(batch, only_if=still_deferred)
            with self._mutex:
                for user_id, due in batch.items():
                    if self._deferred.get(user_id, _UNSET) == due:
                        del self._deferred[user_id]
        finally:
            self._flush_lock.release()

    # ---- the protocol ---------------------------------------------------------------------
    def claim(self, user_id: str, now: datetime) -> Claim | None:
        """Claim the user's due check-in durably, or return None (and fix the hint)."""
        with self._user_locks.hold(user_id):
            with self._mutex:
                self._in_flight.add(user_id)
            try:
                claim = self._claim(user_id, now)
            except DamagedDocumentError:
                # Reading it again every minute will not help: forget it until the next start.
                logger.exception("cannot read the document of %s; no check-in", user_id)
                self._forget_in_memory(user_id)
                return None
            except BAD_BLOCK:
                logger.exception("malformed reminder block of %s; no check-in", user_id)
                self._forget_in_memory(user_id)
                return None
            except BaseException:
                self._leave_flight(user_id)  # tried again at the next tick
                raise
            if claim is None:
                self._leave_flight(user_id)
            return claim

    def claim_many(self, user_ids: Sequence[str], now: datetime) -> list[Claim | None]:
        """``claim`` for each user (one worker-thread call for a batch); None where none.

        A user whose claim fails (disk error) gets None and is tried again at the next tick.
        """
        claims: list[Claim | None] = []
        for user_id in user_ids:
            try:
                claims.append(self.claim(user_id, now))
            except Exception:
                logger.exception("the check-in of %s could not be claimed", user_id)
                claims.append(None)
        return claims

    def confirm_many(self, delivered: Sequence[Delivered]) -> None:
        """Several claims went out: one journal append (one fsync) records them all.

        Without a journal each is confirmed by rewriting its document. If this raises (disk
        failure), the users stay in flight, so this process never sends them again; the next
        start re-sends each once.
        """
        sent = self._sent
        records: list[SentRecord] = []
        for item in delivered:
            claim = item.claim
            if sent is None or claim.claimed_at is None:
                self._confirm_in_document(claim)
                continue
            moved = item.live_after != claim.live_message
            live = (claim.live_message, item.live_after) if moved else None
            records.append(
                SentRecord(
                    claim.user_id,
                    claim.week,
                    claim.kind,
                    claim.claimed_at,
                    claim.missed_weeks,
                    live,
                )
            )
        if sent is None or not records:
            return
        sent.record(records)
        for record in records:
            user_id = record.user_id
            with self._user_locks.hold(user_id):
                hint = self._after_sent.pop(user_id, _UNSET)
                if hint is _UNSET:  # the schedule changed since the claim: read it
                    hint = self._due_or_none(user_id, self._get(user_id))
                assert hint is None or isinstance(hint, datetime)  # for mypy: not _UNSET
                self._set_hint(user_id, hint)
                self._leave_flight(user_id)

    def confirm(self, claim: Claim) -> None:
        """The check-in went out: record its week as sent and move on to the next slot.

        If this raises (disk failure), the user stays in flight, so this process never sends it
        again; the next start re-sends it once.
        """
        self.confirm_many([Delivered(claim, claim.live_message)])

    def sent_waiting(self) -> bool:
        """Whether sent records wait in the journal for their documents (cheap: in memory)."""
        return self._sent is not None and bool(self._sent.segments())

    def compact_sent(
        self, now: datetime, *, older_than: timedelta = COMPACT_AFTER, limit: int = 256
    ) -> int:
        """Write sent records older than ``older_than`` into their documents (up to ``limit``).

        Returns how many users are still waiting for such a write after this call.
        """
        if self._sent is None:
            return 0
        waiting = self._sent.segments()
        due = [
            name
            for name in waiting
            if now - self._segments_seen.setdefault(name, now) >= older_than
        ]
        for name in set(self._segments_seen) - set(waiting):
            del self._segments_seen[name]
        if not due:
            return 0
        users = self._sent.pending_users(segments=due)
        self._sent.compact(self.user_lock, users=users[:limit])
        return max(0, len(users) - limit)

    def _confirm_in_document(self, claim: Claim) -> None:
        """``confirm`` without a journal: the document is rewritten."""
        user_id = claim.user_id
        with self._user_locks.hold(user_id):
            document, outlook = self._pending(claim)
            if document is None or outlook is None or outlook.reminder.sending is None:
                self._set_hint(user_id, self._due_or_none(user_id, document))
            else:
                sending = outlook.reminder.sending
                KINDS[claim.kind].sent(outlook, sending, mentioned=claim.missed_weeks)
                _store(document, outlook.reminder)
                self._write(user_id, document, effective_due(document, self._clock()))
            self._leave_flight(user_id)

    def release(self, claim: Claim, *, retry_at: datetime | None = None) -> None:
        """The send failed for good: undo the claim so the check-in is due again.

        It is tried again at ``retry_at`` (default: the next tick); the grace window still
        counts from the slot, so a check-in that keeps failing ends up in missed_weeks.
        """
        user_id = claim.user_id
        with self._user_locks.hold(user_id):
            self._after_sent.pop(user_id, None)
            document, outlook = self._pending(claim)
            if document is None or outlook is None or outlook.reminder.sending is None:
                self._set_hint(user_id, self._due_or_none(user_id, document))
            else:
                reminder = outlook.reminder
                assert reminder.sending is not None  # for mypy: checked above
                KINDS[claim.kind].released(reminder, reminder.sending)
                reminder.sending = None
                hint = effective_due(_store(document, reminder), self._clock())
                if hint is not None:
                    # Deliberately later than the document says: a back-off, not a loss.
                    hint = max(hint, retry_at or self._clock())
                self._write(user_id, document, hint)
            self._leave_flight(user_id)

    def mark_inactive(self, user_id: str) -> None:
        """The user blocked the bot (403): no more check-ins until /start sets active again."""
        with self._user_locks.hold(user_id):
            self._after_sent.pop(user_id, None)
            document = self._get(user_id)
            if document is not None:
                document[ACTIVE] = False
                block = document.get(REMINDER)
                if isinstance(block, dict):
                    # Left as it is otherwise: even a malformed block must not stop this.
                    block["sending"] = None
                self._write(user_id, document, None)
            else:
                self._set_hint(user_id, None)
            self._leave_flight(user_id)

    # ---- changes made by the dialogue ---------------------------------------------------
    @contextmanager
    def user_lock(self, user_id: str) -> Iterator[None]:
        """Hold the (re-entrant) lock this service takes for ``user_id``.

        Whoever else reads and writes the same document (the dialogue engine) must hold it
        around its get/put, or a claim written in between is overwritten.
        """
        with self._user_locks.hold(user_id):
            yield

    def before_update(self, user_id: str, document: dict[str, Any]) -> None:
        """Call before storing ``document``: lowers the hint if the new due instant is earlier.

        With ``reschedule`` after the put this is the full ``min(old, new)`` -> doc -> ``new``
        ordering; without it a crash between the put and ``reschedule`` can delay a check-in
        moved earlier (a snooze) until the old hint.
        """
        with self._user_locks.hold(user_id):
            self._after_sent.pop(user_id, None)
            new = effective_due(document, self._clock())
            old = self._hint(user_id)
            if new is not None and (old is None or new < old):
                self._set_hint(user_id, new)

    def reschedule(self, user_id: str) -> None:
        """Recompute the user's hint from their stored document (after the engine changed it)."""
        with self._user_locks.hold(user_id):
            self._after_sent.pop(user_id, None)
            self._set_hint(user_id, effective_due(self._get(user_id), self._clock()))

    def forget(self, user_id: str) -> None:
        """Drop a deleted user from memory and from the index."""
        with self._user_locks.hold(user_id):
            self._after_sent.pop(user_id, None)
            with self._mutex:
                self._deferred.pop(user_id, None)  # before the write: see flush_hints
            self._index.remove(user_id)
            self._forget_in_memory(user_id)

    # ---- claim ----------------------------------------------------------------------------
    def _claim(self, user_id: str, now: datetime) -> Claim | None:
        self._after_sent.pop(user_id, None)
        document = self._get(user_id)
        outlook = Outlook.of(document)
        if document is None or outlook is None:
            self._set_hint(user_id, None)
            return None
        reminder = outlook.reminder
        changed = False
        if reminder.sending is not None:
            sending = reminder.sending
            due = due_of(sending)
            kind = KINDS[due.kind]
            if not outlook.too_old(due, now, self._grace) and kind.wanted(outlook, due):
                at = outlook.send_at(due, now)
                if at > now:
                    # Re-sent only when quiet hours end; the claim stays pending meanwhile.
                    self._set_hint(user_id, at)
                    return None
                return self._claimed(user_id, document, outlook, due, now, resend=True)
            # Left by a process that died, and now too old (or no longer wanted) to send.
            reminder.sending = None
            kind.expired(reminder, sending)
            changed = True
        while (found := next_send(outlook, now)) is not None and found[1] <= now:
            due = found[0]
            kind = KINDS[due.kind]
            if kind.passes(outlook, due, too_old=outlook.too_old(due, now, self._grace)):
                changed = True
                continue
            late = outlook.late(due, now)
            kind.take(outlook, due, now)
            reminder.sending = Sending(due.week, now, late, due.at, due.snooze, due.kind.value)
            # The index must say "due" while the claim is pending; it normally already does.
            hint = self._hint(user_id)
            if hint is None or hint > now:
                self._set_hint(user_id, now)
            return self._claimed(user_id, document, outlook, due, now, resend=False)
        if changed:
            self._write(user_id, _store(document, reminder), effective_due(document, now))
        else:
            self._set_hint(user_id, effective_due(document, now))
        return None

    def _claimed(
        self,
        user_id: str,
        document: dict[str, Any],
        outlook: Outlook,
        due: Due,
        now: datetime,
        *,
        resend: bool,
    ) -> Claim | None:
        """Write the claim (with the message composed into it) and hand it to the sender.

        One write: the claim, and what asking the message does to the dialogue. A message with
        nothing to ask (no plan any more) is settled in that same write, as if it had been
        sent, and no claim is returned. Only a check-in mentions the missed weeks.
        """
        reminder = outlook.reminder
        sending = reminder.sending
        assert sending is not None  # for mypy: set by the caller
        missed = tuple(reminder.missed_weeks) if due.kind is Kind.CHECKIN else ()
        late = outlook.late(due, now)
        _store(document, reminder)
        live = document.get("live_message")
        replies: tuple[Reply, ...] | None = None
        if self._compose is not None:
            asked, composed = self._compose(
                document,
                week=due.week,
                late=late,
                missed_weeks=missed,
                snooze=due.snooze,
                kind=due.kind,
            )
            if not composed:
                KINDS[due.kind].sent(outlook, sending, mentioned=missed)
                reminder.sending = None
                self._write(user_id, _store(document, reminder), effective_due(document, now))
                return None
            document, replies = asked, tuple(composed)
            self._repository.put(user_id, document)
        elif not resend:
            self._repository.put(user_id, document)
        # Worked out now, while the document is at hand: the confirm then needs no read.
        record = SentRecord(user_id, due.week, due.kind, sending.claimed_at, missed)
        applies, after = due_after_sent(document, record, now, like=outlook)
        if applies:
            self._after_sent[user_id] = after
        return Claim(
            user_id,
            due.week,
            late,
            resend,
            missed,
            due.snooze,
            due.kind,
            claimed_at=sending.claimed_at,
            replies=replies,
            live_message=live if isinstance(live, int) and not isinstance(live, bool) else None,
        )

    def _pending(self, claim: Claim) -> tuple[dict[str, Any] | None, Outlook | None]:
        """The document and its outlook, the latter only if it holds this very claim."""
        document = self._get(claim.user_id)
        block = None if document is None else document.get(REMINDER)
        if document is None or block is None:
            return document, None
        try:
            reminder = Reminder.from_dict(block)
            quiet = QuietHours.from_document(document)
        except BAD_BLOCK:
            logger.exception("malformed reminder block of %s", claim.user_id)
            return document, None
        sending = reminder.sending
        if sending is None or sending.week != claim.week or due_of(sending).kind is not claim.kind:
            logger.warning(
                "no pending %s for %s in week %s", claim.kind.value, claim.user_id, claim.week
            )
            return document, None
        return document, Outlook(reminder, quiet, document.get("checkins") or ())

    def _due_or_none(self, user_id: str, document: dict[str, Any] | None) -> datetime | None:
        """``effective_due``, or None (no more check-ins) for a block that does not parse."""
        try:
            return effective_due(document, self._clock())
        except BAD_BLOCK:
            logger.exception("malformed reminder block of %s; no check-ins", user_id)
            return None

    def _has_users(self) -> bool:
        """Whether any user document is stored (stops at the first one found)."""
        return next(iter(self._repository.user_ids()), None) is not None

    def _scan_documents(self) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        for user_id in self._repository.user_ids():
            try:
                due = effective_due(self._get(user_id), self._clock())
            except DamagedDocumentError:
                logger.exception("cannot read the document of %s; no check-ins", user_id)
                continue
            except BAD_BLOCK:
                logger.exception("malformed reminder block of %s; no check-ins", user_id)
                continue
            if due is not None:
                found[user_id] = due
        return found

    # ---- hints: index on disk and memory --------------------------------------------------
    def _write(self, user_id: str, document: dict[str, Any], new: datetime | None) -> None:
        """Store the document, moving the hint to ``new`` in the order that never says later."""
        old = self._hint(user_id)
        if new is not None and (old is None or new < old):
            self._set_hint(user_id, new)
        self._repository.put(user_id, document)
        self._set_hint(user_id, new)

    def _hint(self, user_id: str) -> datetime | None:
        with self._mutex:
            return self._due.get(user_id)

    def _set_hint(self, user_id: str, due: datetime | None) -> None:
        """Write the hint to the index (if it changed), then to memory.

        While the hints are held, a hint that moves later (or goes away) is only remembered
        for the next batch write: until then the index says earlier, which is harmless.
        """
        old = self._hint(user_id)
        if due == old:
            return
        later = old is not None and (due is None or due > old)
        with self._mutex:
            deferred = later and self._holders > 0
            if deferred:
                self._deferred[user_id] = due
                self._remember(user_id, due)
                backlog = len(self._deferred)
            else:
                # Dropped before the write, so a running batch cannot overwrite this hint.
                self._deferred.pop(user_id, None)
        if deferred:
            if backlog >= FLUSH_AT:
                self.flush_hints(wait=False)
            return
        self._index.set(user_id, due)
        with self._mutex:
            self._remember(user_id, due)

    def _remember(self, user_id: str, due: datetime | None) -> None:
        """Set the in-memory hint (caller holds the mutex)."""
        if due is None:
            self._due.pop(user_id, None)
        else:
            self._due[user_id] = due
            if user_id not in self._in_flight:
                heapq.heappush(self._heap, (due, user_id))

    def _leave_flight(self, user_id: str) -> None:
        with self._mutex:
            if user_id in self._in_flight:
                self._in_flight.discard(user_id)
                due = self._due.get(user_id)
                if due is not None:
                    heapq.heappush(self._heap, (due, user_id))

    def _forget_in_memory(self, user_id: str) -> None:
        with self._mutex:
            self._due.pop(user_id, None)
            self._in_flight.discard(user_id)

    def _compact(self) -> None:
        """Drop stale heap entries (caller holds the mutex)."""
        self._heap = [
            (due, user_id) for user_id, due in self._due.items() if user_id not in self._in_flight
        ]
        heapq.heapify(self._heap)
