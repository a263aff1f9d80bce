"""Every week of a user's check-ins with its outcome, and the streak and score over them.

The ledger runs over ISO weeks on the user's check-in clock, from the week of their first
check-in (or first reminder sent) up to the current week. Each week gets one outcome:

- ``on_plan`` / ``partly`` / ``off``: checked in, judged by ``checkin_stats.judge_week``;
- ``joker``: a joker week (domain.md 4.4, Sharif & Shu 2017: an explicit emergency reserve).
  A declared joker covers a week that was not on plan; a week checked in on plan stays on plan
  and gives its joker back;
- ``repaired``: missed, then made up: the make-up week on plan and its extra action done
  (4.4, Silverman & Barasch 2023: a repairable streak hurts less when broken);
- ``repairing``: missed, its make-up week still to come;
- ``paused``: inside a holiday pause (neutral);
- ``open``: its check-in is due and not answered, and the next week's is not due yet: it can
  still be logged late;
- ``missed``: no check-in, and the next week's check-in is due (or the week was skipped
  without a joker left).

A week whose check-in is not due yet is not in the ledger. The streak counts weeks on plan in a
row, newest first: joker and repaired weeks keep it without adding, paused, open and repairing
weeks are passed over, and a partly, off or missed week ends it. The score is the weeks on plan
out of the last ``SCORE_WEEKS`` settled weeks (pauses not counted, fewer for a newer user).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.core.checkin_schedule import Reminder, pause_end
from bot.core.checkin_stats import WeekStatus, judge_week
from bot.core.flow_ids import PAUSE_WEEKS
from bot.core.schedule import WeeklySlot, local_week_key, next_occurrence
from bot.core.streak_contract import Contract, Joker, JokerHow, Repair

__all__ = [
    "JOKERS_PER_QUARTER",
    "REPAIR_WINDOW",
    "SCORE_WEEKS",
    "Ledger",
    "LedgerWeek",
    "Outcome",
    "build_ledger",
    "jokers_left_at",
    "monday_of",
    "next_week",
    "open_last_week",
    "quarter_of",
    "week_after",
]

JOKERS_PER_QUARTER: Final = 2
SCORE_WEEKS: Final = 12
# A missed week can be covered (joker or repair) while it is one of the last two weeks: the
# make-up week is the next one the user can still check in.
REPAIR_WINDOW: Final = 2


class Outcome(StrEnum):
    """How a week went, as the contract sees it."""

    ON_PLAN = "on_plan"
    PARTLY = "partly"
    OFF = "off"
    JOKER = "joker"
    REPAIRED = "repaired"
    REPAIRING = "repairing"
    PAUSED = "paused"
    OPEN = "open"
    MISSED = "missed"


# Weeks that neither add to the streak nor end it.
_KEEPS: Final = frozenset({Outcome.JOKER, Outcome.REPAIRED})
_PASSED_OVER: Final = frozenset({Outcome.PAUSED, Outcome.OPEN, Outcome.REPAIRING})
_ENDS: Final = frozenset({Outcome.PARTLY, Outcome.OFF, Outcome.MISSED})


# Week arithmetic is asked for the same few weeks by every user's ledger (a reminder builds one
# over up to two years of weeks): cached, it is a dictionary lookup. The results are immutable.
_WEEKS_CACHED: Final = 8192


@lru_cache(maxsize=_WEEKS_CACHED)
def monday_of(week: str) -> date:
    """The Monday of an ISO week key such as ``2026-W48``."""
    year, _, number = week.partition("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def _key(day: date) -> str:
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


@lru_cache(maxsize=_WEEKS_CACHED)
def week_after(week: str, weeks: int = 1) -> str:
    """The week key ``weeks`` after ``week``."""
    return _key(monday_of(week) + timedelta(weeks=weeks))


def next_week(now: datetime, zone: str) -> str:
    """The week after the current one on the wall clock of ``zone``."""
    return week_after(local_week_key(now, zone))


def quarter_of(week: str) -> str:
    """The calendar quarter a week belongs to (by its Thursday, as ISO weeks go): ``2026-Q4``."""
    thursday = monday_of(week) + timedelta(days=3)
    return f"{thursday.year}-Q{(thursday.month - 1) // 3 + 1}"


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


@dataclass(frozen=True)
class LedgerWeek:
    """One week of the ledger."""

    week: str
    outcome: Outcome
    due: datetime  # when its check-in was due
    closes: datetime  # from then on an unanswered week is missed (the next week's due)
    joker: Joker | None = None
    repair: Repair | None = None

    @property
    def number(self) -> int:
        """The week's number, as the texts say it ("KW 48")."""
        return int(self.week.partition("-W")[2])

    def as_context(self) -> dict[str, Any]:
        """The week as a template reads it."""
        return {
            "week": self.week,
            "week_number": self.number,
            "outcome": str(self.outcome),
            "closes": self.closes,
            "repair_action": None if self.repair is None else self.repair.action,
            "repair_by": None if self.repair is None else int(self.repair.by.partition("-W")[2]),
        }


@dataclass(frozen=True)
class Ledger:
    """A user's weeks, oldest first, and what the contract makes of them."""

    weeks: tuple[LedgerWeek, ...]
    current: str  # the current local week
    contract: Contract
    on_plan_weeks: frozenset[str]  # weeks checked in on plan (a declared joker gives way)

    @property
    def streak(self) -> int:
        """Weeks on plan in a row, newest first; jokers and repairs keep it, pauses pass."""
        streak = 0
        for week in reversed(self.weeks):
            if week.outcome in _ENDS:
                break
            if week.outcome is Outcome.ON_PLAN:
                streak += 1
        return streak

    @property
    def score(self) -> tuple[int, int]:
        """``(weeks on plan, weeks counted)`` over the last ``SCORE_WEEKS`` settled weeks."""
        settled = [w for w in self.weeks if w.outcome not in _PASSED_OVER][-SCORE_WEEKS:]
        return sum(1 for w in settled if w.outcome is Outcome.ON_PLAN), len(settled)

    def jokers_used(self, quarter: str) -> int:
        """Jokers that count in ``quarter``: a declared one for a week on plan is given back."""
        return sum(
            1
            for joker in self.contract.jokers
            if quarter_of(joker.week) == quarter and joker.week not in self.on_plan_weeks
        )

    def jokers_left(self, week: str | None = None) -> int:
        """Jokers left in the quarter of ``week`` (default: the current week's)."""
        quarter = quarter_of(week or self.current)
        return max(0, JOKERS_PER_QUARTER - self.jokers_used(quarter))

    def week(self, key: str) -> LedgerWeek | None:
        """The ledger's entry for ``key``, if the week is in it."""
        return next((w for w in self.weeks if w.week == key), None)

    @property
    def open_week(self) -> LedgerWeek | None:
        """The newest week that can still be logged late, if any."""
        return next((w for w in reversed(self.weeks) if w.outcome is Outcome.OPEN), None)

    @property
    def uncovered(self) -> LedgerWeek | None:
        """The newest missed week that a joker or a repair can still cover, if any."""
        oldest = week_after(self.current, -REPAIR_WINDOW)
        for week in reversed(self.weeks):
            if week.week < oldest:
                return None
            if week.outcome is Outcome.MISSED and week.repair is None:
                return week
        return None

    @property
    def repairing(self) -> LedgerWeek | None:
        """The missed week being made up now, if any."""
        return next((w for w in reversed(self.weeks) if w.outcome is Outcome.REPAIRING), None)

    def can_use_joker(self, key: str) -> bool:
        """Whether a joker may cover the missed week ``key`` now."""
        uncovered = self.uncovered
        return uncovered is not None and uncovered.week == key and self.jokers_left(key) > 0

    def can_declare(self, key: str) -> bool:
        """Whether ``key`` (this week or later) may be declared a joker week now."""
        return (
            key >= self.current
            and self.contract.joker(key) is None
            and key not in self.on_plan_weeks
            and self.jokers_left(key) > 0
        )

    def make_up_week(self) -> str:
        """The week that makes up a missed one started now: this week, unless checked in."""
        current = self.week(self.current)
        checked_in = current is not None and current.outcome in (
            Outcome.ON_PLAN,
            Outcome.PARTLY,
            Outcome.OFF,
        )
        return week_after(self.current) if checked_in else self.current


class _Slots:
    """When a week's check-in is due on the user's clock, and when it closes."""

    def __init__(self, reminder: Reminder | None, zone: str) -> None:
        self.reminder = reminder
        self.zone = ZoneInfo(reminder.zone if reminder else zone)
        self._slot = None if reminder is None else reminder.slot  # built (and checked) once
        self._due: dict[str, datetime] = {}  # each week's instant is asked for several times

    def due(self, week: str) -> datetime:
        """The week's slot; without a weekly check-in, the end of the week."""
        found = self._due.get(week)
        if found is None:
            found = self._due[week] = self._compute_due(week)
        return found

    def _compute_due(self, week: str) -> datetime:
        if self._slot is None:
            return _midnight(monday_of(week) + timedelta(weeks=1), self.zone)
        return _slot_in_week(self._slot, week)

    def closes(self, week: str) -> datetime:
        """The next week's due instant."""
        return self.due(week_after(week))

    def day(self, week: str) -> date:
        """The local day the week's check-in is due."""
        return self.due(week).astimezone(self.zone).date()


@lru_cache(maxsize=4 * _WEEKS_CACHED)
def _slot_in_week(slot: WeeklySlot, week: str) -> datetime:
    """The slot's instant in ``week`` (users with the same slot share it: one fan-out minute)."""
    monday = _midnight(monday_of(week), slot.tzinfo())
    return next_occurrence(slot, monday - timedelta(microseconds=1))


def _first_week(checkins: Sequence[Mapping[str, Any]], reminder: Reminder | None) -> str | None:
    weeks = [str(record["week"]) for record in checkins if record.get("week")]
    if reminder is not None:
        weeks += reminder.sent_weeks
    return min(weeks) if weeks else None


def build_ledger(
    checkins: Sequence[Mapping[str, Any]],
    contract: Contract,
    *,
    reminder: Reminder | None,
    zone: str,
    now: datetime,
    budget: float,
) -> Ledger:
    """The ledger of a user's weeks at ``now`` (``zone`` when there is no weekly check-in)."""
    builder = _Builder(checkins, contract, _Slots(reminder, zone), now, budget)
    current = local_week_key(now, str(builder.slots.zone))
    on_plan = builder.on_plan_weeks()
    first = _first_week(checkins, reminder)
    weeks: list[LedgerWeek] = []
    if first is not None and first <= current:
        week = first
        while week <= current:
            entry = builder.entry(week)
            if entry is not None:
                weeks.append(entry)
            week = week_after(week)
    return Ledger(tuple(weeks), current, contract, on_plan)


def open_last_week(
    checkins: Sequence[Mapping[str, Any]],
    contract: Contract,
    *,
    reminder: Reminder | None,
    zone: str,
    now: datetime,
    budget: float,
) -> str | None:
    """Last week's key if it is the ledger's open week (same arguments), else None.

    That is ``build_ledger(...).open_week`` when it is not the current week, worked out by
    judging two weeks: a week is open from its due instant until the next week's, so only the
    current week and the one before can be (every older week closed at the due instant of a
    week before this one). ``/checkin`` asks it on every start; the whole ledger judges every
    week the user has.
    """
    builder = _Builder(checkins, contract, _Slots(reminder, zone), now, budget)
    last = week_after(local_week_key(now, str(builder.slots.zone)), -1)
    first = _first_week(checkins, reminder)
    if first is None or last < first:
        return None
    # Were the current week open too, last week would have closed at its due instant.
    return last if builder.outcome(last) is Outcome.OPEN else None


def jokers_left_at(
    checkins: Sequence[Mapping[str, Any]],
    contract: Contract,
    *,
    reminder: Reminder | None,
    zone: str,
    now: datetime,
    budget: float,
) -> int:
    """``build_ledger(...).jokers_left()`` with the same arguments, judging only joker weeks.

    Every weekly reminder says how many jokers are left; the whole ledger judges every week the
    user has (up to two years of them), while only this quarter's joker weeks decide it.
    """
    current = local_week_key(now, reminder.zone if reminder else zone)
    quarter = quarter_of(current)
    in_quarter = [joker.week for joker in contract.jokers if quarter_of(joker.week) == quarter]
    if not in_quarter:
        return JOKERS_PER_QUARTER
    wanted = frozenset(in_quarter)
    # As in the ledger, the last record of a week is the one judged.
    records = {str(record["week"]): record for record in checkins if str(record["week"]) in wanted}
    given_back = {
        week
        for week, record in records.items()
        if judge_week(record, budget).status is WeekStatus.ON_PLAN
    }
    used = sum(1 for week in in_quarter if week not in given_back)
    return max(0, JOKERS_PER_QUARTER - used)


_LONGEST_PAUSE: Final = timedelta(weeks=max(PAUSE_WEEKS.values()))


class _Builder:
    """Judges one week after another for ``build_ledger``."""

    def __init__(
        self,
        checkins: Sequence[Mapping[str, Any]],
        contract: Contract,
        slots: _Slots,
        now: datetime,
        budget: float,
    ) -> None:
        self.by_week = {str(record["week"]): record for record in checkins}
        self._statuses: dict[str, WeekStatus] = {}  # judged when first asked for
        self.jokers = {joker.week: joker for joker in contract.jokers}
        self.repairs = {repair.week: repair for repair in contract.repairs}
        self.contract = contract
        self.slots = slots
        self.now = now
        self.budget = budget

    def status(self, week: str) -> WeekStatus | None:
        """How the week's check-in went, or None without one."""
        found = self._statuses.get(week)
        if found is None:
            record = self.by_week.get(week)
            if record is None:
                return None
            found = self._statuses[week] = judge_week(record, self.budget).status
        return found

    def on_plan_weeks(self) -> frozenset[str]:
        """Every week checked in on plan (judges them all)."""
        return frozenset(week for week in self.by_week if self.status(week) is WeekStatus.ON_PLAN)

    def entry(self, week: str) -> LedgerWeek | None:
        """The week's entry, or None while its check-in is not due."""
        outcome = self.outcome(week)
        if outcome is None:
            return None
        return LedgerWeek(
            week,
            outcome,
            self.slots.due(week),
            self.slots.closes(week),
            joker=self.jokers.get(week),
            repair=self.repairs.get(week),
        )

    def outcome(self, week: str) -> Outcome | None:
        """The week's outcome, or None while its check-in is not due."""
        joker = self.jokers.get(week)
        status = self.status(week)
        if status is not None:
            # A declared joker covers a week that did not go to plan; on plan, it is given back.
            covered = joker is not None and status is not WeekStatus.ON_PLAN
            return Outcome.JOKER if covered else Outcome(str(status))
        due = self.slots.due(week)
        if joker is not None and (joker.how is JokerHow.USED or due <= self.now):
            return Outcome.JOKER
        if self._paused(week):
            return Outcome.PAUSED
        if self.now < due:
            return None
        reminder = self.slots.reminder
        skipped = reminder is not None and reminder.skipped_week == week
        if self.now < self.slots.closes(week) and not skipped:
            return Outcome.OPEN
        repair = self.repairs.get(week)
        return Outcome.MISSED if repair is None else self._repair_outcome(repair)

    def _paused(self, week: str) -> bool:
        day = self.slots.day(week)
        if any(pause.start <= day < pause.until for pause in self.contract.pauses):
            return True
        # A pause set before the contract recorded pauses: only its end is known, so it
        # covers the weeks due in the longest pause the settings offer before that end.
        reminder = self.slots.reminder
        end = None if reminder is None else pause_end(reminder)
        if end is None or reminder is None:
            return False
        if any(pause.until == reminder.paused_until for pause in self.contract.pauses):
            return False
        return end - _LONGEST_PAUSE <= self.slots.due(week) < end

    def _repair_outcome(self, repair: Repair) -> Outcome:
        """A missed week being made up: repaired, still repairing, or missed after all."""
        make_up = self.by_week.get(repair.by)
        if make_up is None:
            # Until the make-up week can no longer be logged, it may still come.
            closes = self.slots.closes(repair.by)
            return Outcome.REPAIRING if self.now < closes else Outcome.MISSED
        if self.status(repair.by) is WeekStatus.ON_PLAN and repair.done:
            return Outcome.REPAIRED
        return Outcome.MISSED
