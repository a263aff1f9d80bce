"""A user's weekly check-in schedule as a typed ``Reminder`` record, and when it is next due.

The record is the ``"reminder"`` block of the user's document: the weekly slot (weekday, local
time, IANA zone) and the bookkeeping of the exactly-once protocol (``bot.core.checkin_claims``):
the next regular instant, a snooze, a pause, a skipped week, the follow-up of a check-in left
unanswered, the claim being sent (of which kind: ``due_kinds.Kind``), and the weeks sent or
missed. ``Reminder.from_dict`` rejects a malformed block with KeyError, TypeError or
ValueError (``BAD_BLOCK``); keys it does not know (written by a newer version) are kept.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.core.schedule import WeeklySlot, local_week_key, next_occurrence

__all__ = [
    "ACTIVE",
    "BAD_BLOCK",
    "KEPT_WEEKS",
    "REMINDER",
    "HeartbeatClaim",
    "Reminder",
    "Sending",
    "active_reminder",
    "due_week",
    "pause_end",
    "slot_at_or_before",
    "upcoming",
]

REMINDER: Final = "reminder"  # the document key of the block
ACTIVE: Final = "active"  # false once the user blocked the bot
KEPT_WEEKS: Final = 12  # length of sent_weeks and missed_weeks
# What a malformed block raises (wrong types, unknown zone, an instant without offset).
BAD_BLOCK: Final = (KeyError, TypeError, ValueError)
# How far back the slot before an instant lies at most: a week plus a DST change, rounded up.
_WEEK_AND_MORE: Final = timedelta(days=8)


def _iso(instant: datetime) -> str:
    return (instant if instant.tzinfo is UTC else instant.astimezone(UTC)).isoformat()


def _instant(value: object) -> datetime:
    """Parse an ISO 8601 instant; naive or malformed values raise."""
    if type(value) is str:
        # The users due in one minute share their instants: each text is parsed once.
        return _parsed_instant(value)
    return _parse_instant(value)


def _parse_instant(value: object) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 instant, got {value!r}")
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant {value!r} has no UTC offset")
    return instant.astimezone(UTC)


_parsed_instant = lru_cache(maxsize=4096)(_parse_instant)


@lru_cache(maxsize=4096, typed=True)
def _slot(weekday: int, local_time: str, zone: str) -> WeeklySlot:
    """The weekly slot of a reminder's fields (validated as ``WeeklySlot`` validates them)."""
    return WeeklySlot(weekday, time.fromisoformat(local_time), zone)


def _optional_instant(value: object) -> datetime | None:
    return None if value is None else _instant(value)


def _optional_text(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{key} must be a text or null, got {value!r}")
    return value


def _weeks(raw: dict[str, Any], key: str) -> list[str]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(week, str) for week in value):
        raise TypeError(f"{key} must be a list of week keys, got {value!r}")
    return list(value)


def _capped(weeks: list[str], week: str) -> list[str]:
    """``weeks`` with ``week`` last (once), the oldest dropped beyond ``KEPT_WEEKS``."""
    return [*(item for item in weeks if item != week), week][-KEPT_WEEKS:]


@dataclass(frozen=True)
class Sending:
    """A claimed message, written before it is sent and cleared when it is confirmed."""

    week: str
    claimed_at: datetime
    late: bool = False
    due: datetime | None = None  # older claims lack it: they count from claimed_at
    snooze: bool = False
    kind: str = "checkin"  # a ``due_kinds.Kind``; older claims lack it: they are check-ins

    @property
    def due_at(self) -> datetime:
        """The instant the claimed check-in was due."""
        return self.due or self.claimed_at

    @classmethod
    def from_dict(cls, raw: object) -> Sending:
        """Read a stored claim."""
        if not isinstance(raw, dict):
            raise TypeError(f"sending must be an object or null, got {raw!r}")
        week = raw["week"]
        if not isinstance(week, str):
            raise TypeError(f"sending.week must be a week key, got {week!r}")
        kind = raw.get("kind", "checkin")
        if not isinstance(kind, str):
            raise TypeError(f"sending.kind must be a text, got {kind!r}")
        return cls(
            week=week,
            claimed_at=_instant(raw.get("claimed_at")),
            late=bool(raw.get("late", False)),
            due=_optional_instant(raw.get("due")),
            snooze=bool(raw.get("snooze", False)),
            kind=kind,
        )

    def to_dict(self) -> dict[str, Any]:
        """The stored form."""
        stored: dict[str, Any] = {
            "week": self.week,
            "claimed_at": _iso(self.claimed_at),
            "late": self.late,
            "snooze": self.snooze,
            "kind": self.kind,
        }
        if self.due is not None:
            stored["due"] = _iso(self.due)
        return stored


@dataclass(frozen=True)
class HeartbeatClaim:
    """The heartbeat a claim is about: its channel, and the offered window it replaced."""

    channel: str
    previous: datetime | None

    @classmethod
    def from_dict(cls, raw: object) -> HeartbeatClaim | None:
        """Read the stored form (None stays None)."""
        if raw is None:
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("channel"), str):
            raise TypeError(f"heartbeat_claim must be an object with a channel, got {raw!r}")
        return cls(raw["channel"], _optional_instant(raw.get("previous")))

    def to_dict(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "channel": self.channel,
            "previous": None if self.previous is None else _iso(self.previous),
        }


def _offered(value: object) -> dict[str, datetime]:
    """The heartbeat windows offered per channel (missing in older blocks: none)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"heartbeat_offered must be an object, got {value!r}")
    return {str(channel): _instant(at) for channel, at in value.items()}


@dataclass
class Reminder:
    """The weekly check-in of one user: the slot and the protocol's bookkeeping."""

    weekday: int  # 0 = Monday
    time: str  # local wall-clock time, "HH:MM"
    zone: str  # IANA zone
    next_due: datetime | None = None  # the next regular slot instant, UTC
    paused_until: date | None = None  # no check-in before this local day
    snoozed_until: datetime | None = None
    snoozed_week: str | None = None
    skipped_week: str | None = None
    sending: Sending | None = None
    # The one follow-up of a check-in sent and not answered: when (UTC) and of which week.
    followup_due: datetime | None = None
    followup_week: str | None = None
    # The plan version whose twelve-week review was offered (``due_kinds``): once per version.
    review_offered: int | None = None
    # The local week a comeback after a lapse was offered in (``bot.core.lapses``): once a lapse.
    comeback_offered: str | None = None
    # The handle heartbeat (``due_kinds``, ``bot.core.exits``): per channel, the start of the
    # window whose reminder was last claimed; and the claim in flight, with the value it
    # replaced (restored if the send fails for good).
    heartbeat_offered: dict[str, datetime] = field(default_factory=dict)
    heartbeat_claim: HeartbeatClaim | None = None
    sent_weeks: list[str] = field(default_factory=list)
    missed_weeks: list[str] = field(default_factory=list)
    unknown: dict[str, Any] = field(default_factory=dict)  # keys of a newer version, kept

    def __post_init__(self) -> None:
        """Reject a slot that could never fire (the same errors a stored block raises)."""
        if not isinstance(self.weekday, int) or isinstance(self.weekday, bool):
            raise TypeError(f"weekday must be an integer, got {self.weekday!r}")
        if not isinstance(self.time, str) or not isinstance(self.zone, str):
            raise TypeError("time and zone must be texts")
        self.slot  # noqa: B018 - validates weekday, time and zone

    @property
    def slot(self) -> WeeklySlot:
        """The weekly wall-clock slot (one object per slot and process: a claim asks often)."""
        weekday, local_time, zone = self.weekday, self.time, self.zone
        if type(weekday) is int and type(local_time) is str and type(zone) is str:
            return _slot(weekday, local_time, zone)
        return WeeklySlot(weekday, time.fromisoformat(local_time), zone)

    def with_slot(self, weekday: int, local_time: str, zone: str) -> Reminder:
        """The same bookkeeping on a new slot; any snooze or follow-up is dropped."""
        return replace(
            self,
            weekday=weekday,
            time=local_time,
            zone=zone,
            snoozed_until=None,
            snoozed_week=None,
            followup_due=None,
            followup_week=None,
        )

    def drop_followup(self) -> None:
        """No follow-up (the user answered, skipped or snoozed the week, or came back)."""
        self.followup_due = self.followup_week = None

    def mark_missed(self, week: str) -> None:
        """Remember ``week`` as missed, to mention once in the next check-in."""
        self.missed_weeks = _capped(self.missed_weeks, week)

    def mark_sent(self, week: str, *, mentioned: tuple[str, ...] = ()) -> None:
        """``week`` went out; the missed weeks it ``mentioned`` need no more mention."""
        self.sending = None
        self.sent_weeks = _capped(self.sent_weeks, week)
        self.missed_weeks = [w for w in self.missed_weeks if w not in mentioned]

    @classmethod
    def from_dict(cls, raw: object) -> Reminder:
        """Read a stored block; KeyError, TypeError or ValueError if it is malformed."""
        if not isinstance(raw, dict):
            raise TypeError(f"the reminder must be an object, got {raw!r}")
        paused = _optional_text(raw, "paused_until")
        sending = raw.get("sending")
        return cls(
            weekday=raw["weekday"],
            time=raw["time"],
            zone=raw["zone"],
            next_due=_optional_instant(raw.get("next_due")),
            paused_until=None if paused is None else date.fromisoformat(paused),
            snoozed_until=_optional_instant(raw.get("snoozed_until")),
            snoozed_week=_optional_text(raw, "snoozed_week"),
            skipped_week=_optional_text(raw, "skipped_week"),
            sending=None if sending is None else Sending.from_dict(sending),
            followup_due=_optional_instant(raw.get("followup_due")),
            followup_week=_optional_text(raw, "followup_week"),
            review_offered=_optional_version(raw.get("review_offered")),
            comeback_offered=_optional_text(raw, "comeback_offered"),
            heartbeat_offered=_offered(raw.get("heartbeat_offered")),
            heartbeat_claim=HeartbeatClaim.from_dict(raw.get("heartbeat_claim")),
            sent_weeks=_weeks(raw, "sent_weeks"),
            missed_weeks=_weeks(raw, "missed_weeks"),
            unknown={k: v for k, v in raw.items() if k not in _FIELDS},
        )

    def to_dict(self) -> dict[str, Any]:
        """The stored form (JSON-compatible)."""
        return {
            **self.unknown,
            "weekday": self.weekday,
            "time": self.time,
            "zone": self.zone,
            "next_due": None if self.next_due is None else _iso(self.next_due),
            "paused_until": None if self.paused_until is None else self.paused_until.isoformat(),
            "snoozed_until": None if self.snoozed_until is None else _iso(self.snoozed_until),
            "snoozed_week": self.snoozed_week,
            "skipped_week": self.skipped_week,
            "sending": None if self.sending is None else self.sending.to_dict(),
            "followup_due": None if self.followup_due is None else _iso(self.followup_due),
            "followup_week": self.followup_week,
            "review_offered": self.review_offered,
            "comeback_offered": self.comeback_offered,
            "heartbeat_offered": {ch: _iso(at) for ch, at in self.heartbeat_offered.items()},
            "heartbeat_claim": None
            if self.heartbeat_claim is None
            else self.heartbeat_claim.to_dict(),
            "sent_weeks": list(self.sent_weeks),
            "missed_weeks": list(self.missed_weeks),
        }


_FIELDS: Final = frozenset(
    {
        "weekday",
        "time",
        "zone",
        "next_due",
        "paused_until",
        "snoozed_until",
        "snoozed_week",
        "skipped_week",
        "sending",
        "followup_due",
        "followup_week",
        "review_offered",
        "comeback_offered",
        "heartbeat_offered",
        "heartbeat_claim",
        "sent_weeks",
        "missed_weeks",
    }
)


def _optional_version(value: object) -> int | None:
    """A plan version number, or None; TypeError for anything else."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"a plan version must be a whole number, got {value!r}")
    return value


def active_reminder(document: dict[str, Any] | None) -> Reminder | None:
    """The reminder of an active user, else None (a missing "active" means active).

    Raises what ``Reminder.from_dict`` raises (``BAD_BLOCK``) for a malformed block.
    """
    if document is None or document.get(ACTIVE, True) is False:
        return None
    block = document.get(REMINDER)
    return None if block is None else Reminder.from_dict(block)


def upcoming(reminder: Reminder) -> tuple[datetime, bool] | None:
    """The next send instant and whether it is a snooze, or None.

    No check-in before the local midnight that starts ``paused_until``: a regular slot inside
    the pause moves to the first slot on or after it, and a snooze inside it is dropped.
    """
    regular, snooze = reminder.next_due, reminder.snoozed_until
    paused_to = pause_end(reminder)
    if paused_to is not None:
        if regular is not None and regular < paused_to:
            regular = next_occurrence(reminder.slot, paused_to - timedelta(microseconds=1))
        if snooze is not None and snooze < paused_to:
            snooze = None
    if snooze is not None and (regular is None or snooze < regular):
        return snooze, True
    return None if regular is None else (regular, False)


def slot_at_or_before(slot: WeeklySlot, instant: datetime) -> datetime:
    """The latest firing instant of ``slot`` at or before ``instant`` (the week a snooze is of)."""
    found = next_occurrence(slot, instant - _WEEK_AND_MORE)
    while (following := next_occurrence(slot, found)) <= instant:
        found = following
    return found


def due_week(reminder: Reminder, answered: Collection[str], now: datetime) -> str | None:
    """The local week whose check-in is due at ``now`` without a scheduler, or None.

    For a chat that can only ask when it is opened (the terminal chat): this local week is due
    once its slot has passed, unless it has a check-in (``answered`` holds the weeks that do),
    was skipped, its slot lies in a pause, or it is snoozed past ``now``. A slot before
    ``next_due`` does not count: the check-in was set up, moved or resumed after it (as on
    Telegram, the first one comes at the next slot). A snooze that ran out this week brings
    back the week it snoozed (a Sunday check-in put off until Monday). Only reads the record:
    its claim bookkeeping belongs to the dispatcher.
    """
    slot = reminder.slot
    this_week = local_week_key(now, slot.zone)
    paused_to = pause_end(reminder)

    def open_week(week: str, instant: datetime) -> bool:
        in_pause = paused_to is not None and instant < paused_to
        return week not in answered and week != reminder.skipped_week and not in_pause

    latest = slot_at_or_before(slot, now)
    started = reminder.next_due is None or latest >= reminder.next_due
    if started and local_week_key(latest, slot.zone) == this_week and open_week(this_week, latest):
        until = reminder.snoozed_until if reminder.snoozed_week == this_week else None
        return this_week if until is None or until <= now else None
    until, week = reminder.snoozed_until, reminder.snoozed_week
    if until is None or week is None or until > now:
        return None
    ran_out_this_week = local_week_key(until, slot.zone) == this_week
    return week if ran_out_this_week and open_week(week, until) else None


def pause_end(reminder: Reminder) -> datetime | None:
    """The instant a pause ends: local midnight at the start of ``paused_until``."""
    if reminder.paused_until is None:
        return None
    zone = ZoneInfo(reminder.zone)
    return datetime.combine(reminder.paused_until, time(0), tzinfo=zone).astimezone(UTC)
