"""Tracked exits from dropped channels: dated steps, ticked off, then a heartbeat for the handle.

An exit turns a channel's sunset playbook into dated steps, counted in days from the local day
the user starts it. Two ways out (domain.md section 9, 5a):

- ``announce``: announce on the channel a month, two weeks and 48 hours before the last post
  and pin the announcement (University at Buffalo's schedule, UB-SOCIAL; BLR: "a pinned post"),
  ask for the data copy a week before the end, since it can take "up to one week" (UB-SOCIAL);
  on the last day the farewell post pointing to the kept channel, the bio link and the
  auto-reply (UCD, SALO).
- ``quiet``: no announcing; bio link, auto-reply and a copy of the data, all on the first day
  ("just leave", EKMARK; legitimate for small accounts).

Once every step is ticked the exit is done, and if the platform has a stated inactivity rule
(``prompts/rules/sunset.yaml``, ``inactivity``) a heartbeat starts: a window of that many days
from the last known login, with a reminder ``remind_before`` days before its end. The rule's
numbers are copied into the heartbeat when a window starts, so the dispatcher (which has no
content) can plan from the document alone; every "logged in" starts a new window with the rule
as it is then.

The document key ``exits`` maps a channel id to its exit. ``read_exits`` is tolerant: an older
document has no key, and an entry that does not parse is left out (the schema rejects wrong
types on load; this guards the dispatcher, which reads documents on its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo

__all__ = [
    "EXITS",
    "SCHEDULES",
    "STEP_IDS",
    "Exit",
    "Heartbeat",
    "Mode",
    "PlannedStep",
    "exits_to_document",
    "heartbeat_instant",
    "read_exits",
    "window_of",
]

EXITS: Final = "exits"  # the document key


class Mode(StrEnum):
    """How the user leaves."""

    ANNOUNCE = "announce"  # announced on a schedule over a month
    QUIET = "quiet"  # no announcement: the quiet exit


@dataclass(frozen=True)
class PlannedStep:
    """One step of an exit and its day, counted from the local day the exit starts."""

    id: str
    day: int


# The spacing of UB-SOCIAL: posts one month, two weeks and 48 hours before closing, which is
# day 30; the data copy is asked for a week ahead (it can take up to a week).
SCHEDULES: Final[Mapping[Mode, tuple[PlannedStep, ...]]] = {
    Mode.ANNOUNCE: (
        PlannedStep("announce_month", 0),
        PlannedStep("pin", 0),
        PlannedStep("announce_2weeks", 16),
        PlannedStep("export", 23),
        PlannedStep("announce_48h", 28),
        PlannedStep("farewell", 30),
        PlannedStep("bio_link", 30),
        PlannedStep("auto_reply", 30),
    ),
    Mode.QUIET: (
        PlannedStep("bio_link", 0),
        PlannedStep("auto_reply", 0),
        PlannedStep("export", 0),
    ),
}
# Every step id of every schedule (each has a label ``exit_step_<id>`` in every language).
STEP_IDS: Final = tuple(dict.fromkeys(s.id for steps in SCHEDULES.values() for s in steps))


def _instant(value: object) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 instant, got {value!r}")
    parsed = datetime.fromisoformat(value)
    if parsed.utcoffset() is None:
        raise ValueError(f"instant {value!r} has no UTC offset")
    return parsed.astimezone(UTC)


def _optional_instant(value: object) -> datetime | None:
    return None if value is None else _instant(value)


def _days(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TypeError(f"{name} must be a whole number of days, got {value!r}")
    return value


@dataclass
class Heartbeat:
    """The handle's keep-alive: a window of ``days`` from ``since`` (the last known login)."""

    since: datetime
    days: int  # the platform's inactivity window, copied from the rule when it started
    remind_before: int  # how many days before its end the reminder comes
    stopped: bool = False  # "I let it go": no more heartbeats
    asked: datetime | None = None  # the end of the window a reminder on screen is about

    def __post_init__(self) -> None:
        """A reminder must fall inside its window."""
        if not 0 < self.remind_before < self.days:
            raise ValueError("remind_before must be between 0 and the window's days")

    @property
    def period(self) -> timedelta:
        """The window's length."""
        return timedelta(days=self.days)

    @classmethod
    def from_document(cls, raw: object) -> Heartbeat:
        """Read a stored heartbeat; KeyError, TypeError or ValueError when malformed."""
        if not isinstance(raw, dict):
            raise TypeError(f"a heartbeat must be an object, got {raw!r}")
        return cls(
            since=_instant(raw["since"]),
            days=_days(raw["days"], "days"),
            remind_before=_days(raw["remind_before"], "remind_before"),
            stopped=raw.get("stopped", False) is True,
            asked=_optional_instant(raw.get("asked")),
        )

    def to_document(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "since": self.since.astimezone(UTC).isoformat(),
            "days": self.days,
            "remind_before": self.remind_before,
            "stopped": self.stopped,
            "asked": None if self.asked is None else self.asked.astimezone(UTC).isoformat(),
        }


@dataclass
class Exit:
    """The tracked exit from one channel."""

    channel: str
    mode: Mode
    started: date  # the local day it started: the steps' day 0
    done: list[str] = field(default_factory=list)  # the step ids ticked, in the order ticked
    finished_at: datetime | None = None  # when the last step was ticked
    heartbeat: Heartbeat | None = None

    @property
    def steps(self) -> tuple[PlannedStep, ...]:
        """The steps of its mode, in order."""
        return SCHEDULES[self.mode]

    def date_of(self, step: PlannedStep) -> date:
        """The local day ``step`` is due."""
        return self.started + timedelta(days=step.day)

    def due_steps(self, today: date) -> list[str]:
        """The ids of the steps due by ``today`` (a local day) and not ticked, in order."""
        return [s.id for s in self.steps if s.id not in self.done and self.date_of(s) <= today]

    @property
    def finished(self) -> bool:
        """Every step is ticked."""
        return self.finished_at is not None

    def tick(self, step_ids: list[str], now: datetime, rule: tuple[int, int] | None) -> list[str]:
        """Tick the steps ``step_ids`` (others are ignored); return those newly ticked.

        When the last one is ticked the exit is done and, if the platform has an inactivity
        ``rule`` (days, remind before), the heartbeat's first window starts now: whoever just
        changed the profile has just logged in.
        """
        own = {s.id for s in self.steps}
        ticked = [sid for sid in dict.fromkeys(step_ids) if sid in own and sid not in self.done]
        self.done = [*self.done, *ticked]
        if not self.finished and own <= set(self.done):
            self.finished_at = now
            if rule is not None:
                self.heartbeat = Heartbeat(now, rule[0], rule[1])
        return ticked

    @classmethod
    def from_document(cls, channel: str, raw: object) -> Exit:
        """Read one stored exit; KeyError, TypeError or ValueError when malformed."""
        if not isinstance(raw, dict):
            raise TypeError(f"an exit must be an object, got {raw!r}")
        done = raw.get("done", [])
        if not isinstance(done, list) or not all(isinstance(s, str) for s in done):
            raise TypeError(f"done must be a list of step ids, got {done!r}")
        started = raw["started"]
        if not isinstance(started, str):
            raise TypeError(f"started must be a day, got {started!r}")
        heartbeat = raw.get("heartbeat")
        return cls(
            channel=channel,
            mode=Mode(raw["mode"]),
            started=date.fromisoformat(started),
            done=list(done),
            finished_at=_optional_instant(raw.get("finished_at")),
            heartbeat=None if heartbeat is None else Heartbeat.from_document(heartbeat),
        )

    def to_document(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "mode": self.mode.value,
            "started": self.started.isoformat(),
            "done": list(self.done),
            "finished_at": None
            if self.finished_at is None
            else self.finished_at.astimezone(UTC).isoformat(),
            "heartbeat": None if self.heartbeat is None else self.heartbeat.to_document(),
        }


def read_exits(raw: object) -> dict[str, Exit]:
    """The exits of a stored document's ``exits`` value; what does not parse is left out."""
    if not isinstance(raw, dict):
        return {}
    found: dict[str, Exit] = {}
    for channel, entry in raw.items():
        try:
            found[str(channel)] = Exit.from_document(str(channel), entry)
        except (KeyError, TypeError, ValueError):
            continue
    return found


def exits_to_document(exits: Mapping[str, Exit]) -> dict[str, Any]:
    """The stored ``exits`` value."""
    return {channel: entry.to_document() for channel, entry in exits.items()}


def window_of(heartbeat: Heartbeat, offered: datetime | None) -> tuple[datetime, datetime]:
    """The start and end of the window whose reminder is next, given the last one ``offered``.

    ``offered`` is the start of the window whose reminder was last claimed. The first window
    starts at ``since``; once its reminder went out, the next one starts where it ends (an
    unanswered reminder assumes nothing, so the next comes one window later). A "logged in"
    moves ``since`` past ``offered``, which starts afresh from it.
    """
    start = heartbeat.since
    if offered is not None and offered >= start:
        start = offered + heartbeat.period
    return start, start + heartbeat.period


def heartbeat_instant(end: datetime, remind_before: int, zone: str, wall: time) -> datetime:
    """When the reminder of a window ending at ``end`` is due (UTC).

    ``remind_before`` local days before the end's local day, at the user's check-in time of
    day ``wall`` in ``zone``: a familiar hour, right across a DST change.
    """
    tz = ZoneInfo(zone)
    day = end.astimezone(tz).date() - timedelta(days=remind_before)
    return datetime.combine(day, wall, tzinfo=tz).replace(fold=0).astimezone(UTC)
