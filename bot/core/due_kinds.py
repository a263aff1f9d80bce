"""What the bot sends a user on its own next, of which kind, and when quiet hours let it.

Every message the bot starts is a ``Due`` of a ``Kind``: the weekly check-in (with its snooze and
its catch-up after downtime), the one follow-up of a check-in left unanswered (one per lapse), the
review offer, the one comeback offer after two missed weeks (``bot.core.lapses``; the weekly
check-in waits for it, "no nag"), and the handle heartbeat of a channel left (``bot.core.exits``).
Each kind keeps its state in the user's ``"reminder"`` block and says, through the ``DueKind``
methods, when it is next planned, whether a planned one is still wanted, and what claiming,
confirming, releasing and expiring it change. ``bot.core.checkin_claims.ReminderService`` runs the
one exactly-once protocol (claim written before sending, confirm after) over all kinds alike, and
the schedule index holds one instant per user: the earliest send instant of all kinds
(``effective_due``).

Quiet hours (``bot.core.quiet_hours``) hold back everything except a check-in at the user's own
chosen time: a snooze, a follow-up or a catch-up that would land in them goes out at their end.
A check-in claimed more than ``LATE_AFTER`` after its slot is a catch-up. The grace window of a
late message does not count the quiet hours it waited through, so holding a message back never
turns it from "late" into "missed".

A new kind is a member of ``Kind``, a class with the ``DueKind`` methods, an entry in ``KINDS``,
and a prompt for its message (``bot.core.confirmations``, a template in de/ and en/) that the
engine builds for claims of that kind; the dispatcher, the sender and the index stay as they are.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from types import MappingProxyType
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

from bot.core.checkin_schedule import (
    HeartbeatClaim,
    Reminder,
    Sending,
    active_reminder,
    pause_end,
    slot_at_or_before,
    upcoming,
)
from bot.core.exits import EXITS, Exit, heartbeat_instant, read_exits, window_of
from bot.core.lapses import (
    COMEBACK_AFTER,
    Lapse,
    closes_at,
    comeback_offered_for,
    fresh_start,
    lapse,
)
from bot.core.quiet_hours import QuietHours
from bot.core.review import REVIEW_WEEKS
from bot.core.schedule import local_week_key, next_occurrence

__all__ = [
    "KINDS",
    "LATE_AFTER",
    "REVIEW_AFTER",
    "Due",
    "DueKind",
    "Kind",
    "Outlook",
    "due_of",
    "effective_due",
    "followup_instant",
    "next_send",
]

LATE_AFTER: Final = timedelta(minutes=10)  # a check-in sent later than this says sorry
# A quarter after a plan version the coach offers to review it (``bot.core.review``).
REVIEW_AFTER: Final = timedelta(weeks=REVIEW_WEEKS)


class Kind(enum.StrEnum):
    """The kinds of message the bot sends on its own (stored in a claim as ``kind``)."""

    CHECKIN = "checkin"
    FOLLOWUP = "followup"
    REVIEW = "review"  # the offer of a review, twelve weeks after a plan version
    COMEBACK = "comeback"  # one offer of a minimum week after two or more missed weeks
    HEARTBEAT = "heartbeat"  # log in to a left channel before its inactivity rule strikes


@dataclass(frozen=True)
class Due:
    """One planned message: its kind, its planned instant (UTC), the local week it is about."""

    kind: Kind
    at: datetime
    week: str
    snooze: bool = False

    @property
    def chosen_time(self) -> bool:
        """The user's own check-in time: sent on time even in quiet hours."""
        return self.kind is Kind.CHECKIN and not self.snooze


def due_of(sending: Sending) -> Due:
    """The due message a stored claim is of (an unknown kind is taken as a check-in)."""
    try:
        kind = Kind(sending.kind)
    except ValueError:
        kind = Kind.CHECKIN
    return Due(kind, sending.due_at, sending.week, sending.snooze)


# What an outlook keeps of its check-in records (``Outlook._answered``).
_Answers = tuple[Sequence[Any], int, frozenset[str], bool, tuple[str, ...]]


@dataclass
class Outlook:
    """What the kinds look at: the reminder record (changed in place), quiet hours, answers."""

    reminder: Reminder
    quiet: QuietHours
    checkins: Sequence[Any] = ()  # the document's answered check-ins, oldest first
    plan_version: int | None = None  # the current plan's version and when it was made
    plan_made_at: datetime | None = None
    has_plan: bool = False  # a comeback offers a week of the plan: none without one
    exits: Mapping[str, Exit] = field(default_factory=dict)  # the tracked exits (``exits``)
    left_out: frozenset[str] = frozenset()  # the channels the plan drops or keeps as profile
    # ``answered_weeks`` as last worked out, with the record list and its length it is of,
    # whether every record's week is a text (then ``answered`` is a look-up in it), and the
    # weeks sorted (for the lapses).
    _answered: _Answers | None = field(default=None, init=False, repr=False, compare=False)

    def answered(self, week: str) -> bool:
        """Whether ``week`` has an answered check-in.

        A look-up in ``answered_weeks`` (which the follow-up asks for next anyway) when every
        stored week is a text, as the schema has them; else each record compared as stored.
        """
        _, _, weeks, texts, _ = self._answers()
        if texts and type(week) is str:
            return week in weeks
        return any(isinstance(r, dict) and r.get("week") == week for r in reversed(self.checkins))

    @property
    def answered_weeks(self) -> frozenset[str]:
        """The weeks with an answered check-in.

        Worked out once per outlook (a claim asks for it four times: each kind's plan and the
        lapse), again if ``checkins`` is another list or grew; an outlook lives for one claim or
        confirm, in which no record is changed in place.
        """
        return self._answers()[2]

    def _answers(self) -> _Answers:
        """``_answered`` for the records as they are now (worked out if not known)."""
        checkins, known = self.checkins, self._answered
        if known is not None and known[0] is checkins and known[1] == len(checkins):
            return known
        stored = [r["week"] for r in checkins if isinstance(r, dict) and "week" in r]
        texts = all(type(week) is str for week in stored)
        weeks = frozenset(map(str, stored))
        known = self._answered = (checkins, len(checkins), weeks, texts, tuple(sorted(weeks)))
        return known

    def lapse(self, now: datetime | None, *, before: str | None = None) -> Lapse:
        """The weeks missed in a row up to ``now`` (``bot.core.lapses``)."""
        _, _, weeks, _, in_order = self._answers()
        return lapse(self.reminder, weeks, now, before=before, answered_in_order=in_order)

    def answers_as(self, other: Outlook) -> None:
        """Take ``other``'s answered weeks, if worked out, when its records are these very
        records in the same order (a document composed from another keeps its check-in records:
        the same objects in a new list), instead of working them out again."""
        known, mine = other._answered, self.checkins
        if (
            known is not None
            and known[1] == len(known[0]) == len(mine)
            and all(map(operator.is_, mine, known[0]))
        ):
            self._answered = (mine, len(mine), *known[2:])

    @classmethod
    def of(cls, document: dict[str, Any] | None) -> Outlook | None:
        """The outlook of an active user with a weekly check-in, else None.

        Raises KeyError, TypeError or ValueError (``checkin_schedule.BAD_BLOCK``) for a
        malformed reminder or quiet-hours block.
        """
        reminder = active_reminder(document)
        if document is None or reminder is None:
            return None
        return cls.around(document, reminder, QuietHours.from_document(document))

    @classmethod
    def around(cls, document: dict[str, Any], reminder: Reminder, quiet: QuietHours) -> Outlook:
        """The outlook of ``document`` with its reminder and quiet hours read already.

        What ``of`` gives when ``document``'s reminder block is ``reminder`` (read, then changed
        in memory, as a sent record changes it) and the user is active; raises what ``of``
        raises for a malformed plan_info.
        """
        version, made_at = _plan_version(document)
        return cls(
            reminder,
            quiet,
            document.get("checkins") or (),
            version,
            made_at,
            document.get("plan") is not None,
            read_exits(document.get(EXITS)),
            _left_out(document.get("plan")),
        )

    @property
    def zone(self) -> str:
        """The user's time zone (the check-in's)."""
        return self.reminder.zone

    def nominal(self, due: Due) -> datetime:
        """When ``due`` goes out if nothing is down: quiet hours hold all but the chosen time."""
        return due.at if due.chosen_time else self.quiet.release(due.at, self.zone)

    def send_at(self, due: Due, now: datetime | None) -> datetime:
        """When ``due`` may go out, seen at ``now`` (at or before ``now``: at once).

        Something overdue (a catch-up; a check-in more than ``LATE_AFTER`` after its slot) is
        held back while ``now`` is in quiet hours. Without ``now``: the nominal instant.
        """
        at = self.nominal(due)
        if now is None or now <= at:
            return at
        if due.chosen_time and now - at <= LATE_AFTER:
            return at
        released = self.quiet.release(now, self.zone)
        return at if released == now else released

    def late(self, due: Due, now: datetime) -> bool:
        """Whether ``due`` sent at ``now`` is late (the message says sorry)."""
        return now - self.nominal(due) > LATE_AFTER

    def too_old(self, due: Due, now: datetime, grace: timedelta) -> bool:
        """Later than ``grace`` after its planned instant, not counting quiet hours waited."""
        overdue = now - due.at
        if overdue <= grace:
            return False
        return overdue - self.quiet.quiet_between(due.at, now, self.zone) > grace


def _plan_version(document: Mapping[str, Any]) -> tuple[int | None, datetime | None]:
    """The current plan's version and instant (None, None without a dated plan)."""
    info = document.get("plan_info") if document.get("plan") is not None else None
    if not isinstance(info, dict) or not isinstance(info.get("made_at"), str):
        return None, None
    made_at = datetime.fromisoformat(info["made_at"])
    version = info.get("version")
    if made_at.tzinfo is None or isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"malformed plan_info {info!r}")
    return version, made_at


def _left_out(plan: object) -> frozenset[str]:
    """The channels a stored plan no longer posts on (read tolerantly: a hint for heartbeats)."""
    if not isinstance(plan, dict):
        return frozenset()
    found: set[str] = set()
    for section in ("dropped", "profile_only"):
        entries = plan.get(section)
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and isinstance(entry.get("channel"), str):
                found.add(entry["channel"])
    return frozenset(found)


class DueKind(Protocol):
    """What the protocol needs to know about one kind of message."""

    def planned(self, outlook: Outlook) -> Due | None:
        """The next planned message of this kind, or None."""

    def wanted(self, outlook: Outlook, due: Due) -> bool:
        """Whether ``due`` should still go out (also asked before a claim is re-sent)."""

    def passes(self, outlook: Outlook, due: Due, *, too_old: bool) -> bool:
        """Move past a due message that must not be sent (True), changing the bookkeeping."""

    def take(self, outlook: Outlook, due: Due, now: datetime) -> None:
        """``due`` is being claimed: move the bookkeeping past it (the claim holds it now)."""

    def sent(self, outlook: Outlook, sending: Sending, *, mentioned: tuple[str, ...]) -> None:
        """The claimed message went out (about when it was claimed): clear the claim, record it."""

    def released(self, reminder: Reminder, sending: Sending) -> None:
        """The send failed for good: plan the message again (the claim is cleared after)."""

    def expired(self, reminder: Reminder, sending: Sending) -> None:
        """A claim left by a dead process is too old to re-send (cleared after)."""


class _Checkin:
    """The weekly check-in at the chosen slot, and its snooze."""

    def planned(self, outlook: Outlook) -> Due | None:
        found = upcoming(outlook.reminder)
        if found is None:
            return None
        at, snoozed = found
        slot = outlook.reminder.slot
        week = local_week_key(slot_at_or_before(slot, at) if snoozed else at, slot.zone)
        return Due(Kind.CHECKIN, at, week, snoozed)

    def wanted(self, outlook: Outlook, due: Due) -> bool:
        return True  # what is not is passed in ``passes``, with its bookkeeping

    def passes(self, outlook: Outlook, due: Due, *, too_old: bool) -> bool:
        reminder = outlook.reminder
        if due.snooze:
            # A snooze re-sends a week already sent, so sent_weeks does not stop it; once past
            # the grace window it is dropped, not missed (the user had the check-in).
            if too_old or due.week == reminder.skipped_week:
                reminder.snoozed_until = None
                return True
            return False
        if due.week in reminder.sent_weeks or due.week == reminder.skipped_week:
            reminder.next_due = next_occurrence(reminder.slot, due.at)
            return True
        if _comeback_pending(outlook, due.at):
            # Two or more weeks missed in a row: no weekly nag until the one comeback offer
            # went out (never miss twice). The week is neither sent nor missed: it is not asked.
            reminder.next_due = next_occurrence(reminder.slot, due.at)
            return True
        if too_old:
            # Down longer than the grace window: mention it once in the next check-in.
            reminder.mark_missed(due.week)
            reminder.next_due = next_occurrence(reminder.slot, due.at)
            return True
        return False

    def take(self, outlook: Outlook, due: Due, now: datetime) -> None:
        reminder = outlook.reminder
        if not due.snooze:
            reminder.next_due = next_occurrence(reminder.slot, max(due.at, now))
        reminder.snoozed_until = None

    def sent(self, outlook: Outlook, sending: Sending, *, mentioned: tuple[str, ...]) -> None:
        reminder = outlook.reminder
        reminder.mark_sent(sending.week, mentioned=mentioned)
        if not sending.snooze:
            reminder.followup_due = followup_instant(outlook, sending.claimed_at)
            reminder.followup_week = sending.week

    def released(self, reminder: Reminder, sending: Sending) -> None:
        due = sending.due_at
        if sending.snooze:
            reminder.snoozed_until = due
        else:
            regular = reminder.next_due
            reminder.next_due = due if regular is None else min(due, regular)

    def expired(self, reminder: Reminder, sending: Sending) -> None:
        if sending.week not in reminder.sent_weeks:
            reminder.mark_missed(sending.week)


class _Followup:
    """One gentle follow-up, the next day, of a check-in that was sent and not answered."""

    def planned(self, outlook: Outlook) -> Due | None:
        reminder = outlook.reminder
        at, week = reminder.followup_due, reminder.followup_week
        if at is None or week is None:
            return None
        due = Due(Kind.FOLLOWUP, at, week)
        return due if self.wanted(outlook, due) else None

    def wanted(self, outlook: Outlook, due: Due) -> bool:
        reminder = outlook.reminder
        paused_to = pause_end(reminder)
        return (
            not outlook.answered(due.week)
            and due.week not in (reminder.skipped_week, reminder.snoozed_week)
            and (paused_to is None or due.at >= paused_to)
            # One follow-up per lapse: none when the week before was missed already.
            and outlook.lapse(due.at, before=due.week).missed == 0
        )

    def passes(self, outlook: Outlook, due: Due, *, too_old: bool) -> bool:
        if too_old or not self.wanted(outlook, due):
            outlook.reminder.drop_followup()
            return True
        return False

    def take(self, outlook: Outlook, due: Due, now: datetime) -> None:
        outlook.reminder.drop_followup()  # never a second one: the claim holds it now

    def sent(self, outlook: Outlook, sending: Sending, *, mentioned: tuple[str, ...]) -> None:
        outlook.reminder.sending = None

    def released(self, reminder: Reminder, sending: Sending) -> None:
        reminder.followup_due, reminder.followup_week = sending.due_at, sending.week

    def expired(self, reminder: Reminder, sending: Sending) -> None:
        """Nothing to record: a follow-up that came too late is simply not sent."""


class _Review:
    """The offer of a review, ``REVIEW_AFTER`` after the current plan version was made.

    Once per plan version: a review (or a check-in decision) makes a new version, whose offer
    comes twelve weeks after it. Not bound to a week like a check-in: downtime only delays it
    (to the end of quiet hours, like every catch-up), and a claim a dead process left too long
    is offered again rather than lost.
    """

    def planned(self, outlook: Outlook) -> Due | None:
        version, made_at = outlook.plan_version, outlook.plan_made_at
        if version is None or made_at is None or outlook.reminder.review_offered == version:
            return None
        at = made_at.astimezone(UTC) + REVIEW_AFTER
        paused_to = pause_end(outlook.reminder)
        if paused_to is not None and at < paused_to:
            at = paused_to  # on holiday: the offer waits for the first day back
        return Due(Kind.REVIEW, at, local_week_key(at, outlook.zone))

    def wanted(self, outlook: Outlook, due: Due) -> bool:
        # Asked of a claim too, after ``take`` marked the version offered: only a plan counts.
        return outlook.plan_version is not None

    def passes(self, outlook: Outlook, due: Due, *, too_old: bool) -> bool:
        return not self.wanted(outlook, due)  # late is fine: a review has no deadline

    def take(self, outlook: Outlook, due: Due, now: datetime) -> None:
        outlook.reminder.review_offered = outlook.plan_version  # the claim holds it now

    def sent(self, outlook: Outlook, sending: Sending, *, mentioned: tuple[str, ...]) -> None:
        outlook.reminder.sending = None

    def released(self, reminder: Reminder, sending: Sending) -> None:
        reminder.review_offered = None

    def expired(self, reminder: Reminder, sending: Sending) -> None:
        reminder.review_offered = None  # unknown whether it arrived: offer it again


def _comeback_pending(outlook: Outlook, now: datetime) -> bool:
    """Whether at ``now`` two or more weeks were missed in a row, with no comeback offered yet."""
    found = outlook.lapse(now)
    return (
        outlook.has_plan
        and found.missed >= COMEBACK_AFTER
        and not comeback_offered_for(outlook.reminder, found)
    )


class _Comeback:
    """One comeback offer after ``COMEBACK_AFTER`` missed weeks in a row, on a fresh start.

    Due at the first fresh start (``lapses.fresh_start``) after the second missed week closed;
    once per lapse (``Reminder.comeback_offered`` holds the week it went out in); after a pause,
    at the first fresh start back. Like the review it is not bound to a week: downtime only
    delays it, and a claim a dead process left too long is offered again.
    """

    def planned(self, outlook: Outlook) -> Due | None:
        reminder = outlook.reminder
        if not outlook.has_plan:
            return None
        found = outlook.lapse(None)  # as if every week sent had closed: when it will be due
        if found.missed < COMEBACK_AFTER or comeback_offered_for(reminder, found):
            return None
        second_closed = closes_at(reminder.slot, found.weeks[COMEBACK_AFTER - 1])
        paused_to = pause_end(reminder)
        start = second_closed if paused_to is None else max(second_closed, paused_to)
        at = _on_its_day(outlook, fresh_start(reminder.slot, start), start)
        return Due(Kind.COMEBACK, at, local_week_key(at, outlook.zone))

    def wanted(self, outlook: Outlook, due: Due) -> bool:
        # Asked of a claim too, after ``take`` marked it offered: the lapse must still stand.
        return outlook.has_plan and outlook.lapse(None).missed >= COMEBACK_AFTER

    def passes(self, outlook: Outlook, due: Due, *, too_old: bool) -> bool:
        return not self.wanted(outlook, due)  # late is fine: a fresh start waits for the user

    def take(self, outlook: Outlook, due: Due, now: datetime) -> None:
        outlook.reminder.comeback_offered = due.week  # the claim holds it now

    def sent(self, outlook: Outlook, sending: Sending, *, mentioned: tuple[str, ...]) -> None:
        outlook.reminder.sending = None

    def released(self, reminder: Reminder, sending: Sending) -> None:
        reminder.comeback_offered = None

    def expired(self, reminder: Reminder, sending: Sending) -> None:
        reminder.comeback_offered = None  # unknown whether it arrived: offer it again


def _on_its_day(outlook: Outlook, at: datetime, earliest: datetime) -> datetime:
    """``at``, or, when quiet hours would push it past its local day (a check-in time late in
    the evening), that day's first moment outside them, if that is not before ``earliest``: a
    Monday's fresh start stays on the Monday."""
    zone = ZoneInfo(outlook.zone)
    day = at.astimezone(zone).date()
    if outlook.quiet.release(at, outlook.zone).astimezone(zone).date() == day:
        return at
    morning = outlook.quiet.first_outside(day, outlook.zone)
    return morning if earliest <= morning < at else at


class _Heartbeat:
    """A reminder to log in to a left channel before the platform's inactivity rule strikes.

    Per channel whose exit is done and whose platform states such a rule (``bot.core.exits``):
    once per window, ``remind_before`` days before the window ends, at the check-in's time of
    day. Quiet hours hold it back like any message that is not the check-in; a pause holds it
    until the first day back. The claim records which channel and window it is about
    (``Reminder.heartbeat_claim``), so a failed send or a claim too old to re-send offers that
    window again, and a re-send after a crash is of the same window.
    """

    @staticmethod
    def _active(outlook: Outlook, channel: str) -> Exit | None:
        """The channel's exit while it has a running heartbeat and the plan still leaves it."""
        found = outlook.exits.get(channel)
        if channel not in outlook.left_out or found is None:
            return None
        beat = found.heartbeat
        return found if beat is not None and not beat.stopped else None

    def _next(self, outlook: Outlook) -> tuple[str, datetime, datetime] | None:
        """The channel reminded first, the start of its window and the reminder's instant."""
        reminder = outlook.reminder
        paused_to = pause_end(reminder)
        best: tuple[str, datetime, datetime] | None = None
        for channel in sorted(outlook.exits):
            found = self._active(outlook, channel)
            if found is None or found.heartbeat is None:
                continue
            beat = found.heartbeat
            start, end = window_of(beat, reminder.heartbeat_offered.get(channel))
            at = heartbeat_instant(end, beat.remind_before, reminder.zone, reminder.slot.time)
            if paused_to is not None and at < paused_to:
                at = paused_to  # on holiday: the reminder waits for the first day back
            if best is None or at < best[2]:
                best = (channel, start, at)
        return best

    def planned(self, outlook: Outlook) -> Due | None:
        found = self._next(outlook)
        if found is None:
            return None
        at = found[2]
        return Due(Kind.HEARTBEAT, at, local_week_key(at, outlook.zone))

    def wanted(self, outlook: Outlook, due: Due) -> bool:
        # Asked of a claim too (after ``take``): its channel must still have a heartbeat.
        claim = outlook.reminder.heartbeat_claim
        if claim is not None and outlook.reminder.sending is not None:
            return self._active(outlook, claim.channel) is not None
        return self._next(outlook) is not None

    def passes(self, outlook: Outlook, due: Due, *, too_old: bool) -> bool:
        return not self.wanted(outlook, due)  # late is still worth it: the window is long

    def take(self, outlook: Outlook, due: Due, now: datetime) -> None:
        found = self._next(outlook)
        if found is None:
            return
        channel, start, _ = found
        reminder = outlook.reminder
        previous = reminder.heartbeat_offered.get(channel)
        reminder.heartbeat_claim = HeartbeatClaim(channel, previous)
        reminder.heartbeat_offered = {**reminder.heartbeat_offered, channel: start}

    def sent(self, outlook: Outlook, sending: Sending, *, mentioned: tuple[str, ...]) -> None:
        outlook.reminder.sending = None
        outlook.reminder.heartbeat_claim = None

    def released(self, reminder: Reminder, sending: Sending) -> None:
        _offer_again(reminder)

    def expired(self, reminder: Reminder, sending: Sending) -> None:
        _offer_again(reminder)  # unknown whether it arrived: offer that window again


def _offer_again(reminder: Reminder) -> None:
    """Undo a heartbeat claim: its window counts as not offered."""
    claim = reminder.heartbeat_claim
    if claim is None:
        return
    offered = dict(reminder.heartbeat_offered)
    if claim.previous is None:
        offered.pop(claim.channel, None)
    else:
        offered[claim.channel] = claim.previous
    reminder.heartbeat_offered = offered
    reminder.heartbeat_claim = None


# In this order when two are due at the same instant.
KINDS: Final[Mapping[Kind, DueKind]] = MappingProxyType(
    {
        Kind.CHECKIN: _Checkin(),
        Kind.FOLLOWUP: _Followup(),
        Kind.REVIEW: _Review(),
        Kind.COMEBACK: _Comeback(),
        Kind.HEARTBEAT: _Heartbeat(),
    }
)


def followup_instant(outlook: Outlook, sent: datetime) -> datetime:
    """When the follow-up of a check-in sent at ``sent`` is due: the next local day.

    At the check-in's time of day; if that lies in quiet hours, at their end, or, if their end
    falls on the day after, at the first moment of the next day outside them (the morning).
    """
    zone = ZoneInfo(outlook.zone)
    next_day = sent.astimezone(zone).date() + timedelta(days=1)
    wall = time.fromisoformat(outlook.reminder.time)
    target = datetime.combine(next_day, wall, tzinfo=zone).replace(fold=0).astimezone(UTC)
    released = outlook.quiet.release(target, outlook.zone)
    if released.astimezone(zone).date() == next_day:
        return released
    return outlook.quiet.first_outside(next_day, outlook.zone)


def next_send(outlook: Outlook, now: datetime | None) -> tuple[Due, datetime] | None:
    """The message that may go out first, and when (``Outlook.send_at``), or None."""
    best: tuple[Due, datetime] | None = None
    for kind in KINDS.values():
        due = kind.planned(outlook)
        if due is None:
            continue
        at = outlook.send_at(due, now)
        if best is None or at < best[1]:
            best = (due, at)
    return best


def effective_due(document: dict[str, Any] | None, now: datetime | None = None) -> datetime | None:
    """When the claim must next look at this user (UTC), or None for never.

    A pending claim is due at once (unless quiet hours hold its re-send back); otherwise the
    earliest send instant of all kinds. ``now`` lets quiet hours hold back what is overdue;
    without it the instant can only be earlier, which costs one look at the document.
    Inactive users and users without a weekly check-in: None.
    """
    outlook = Outlook.of(document)
    if outlook is None:
        return None
    sending = outlook.reminder.sending
    if sending is not None:
        return sending.claimed_at if now is None else outlook.send_at(due_of(sending), now)
    found = next_send(outlook, now)
    return None if found is None else found[1]
