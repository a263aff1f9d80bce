"""The declared schema of a stored user document, per schema version.

A document that is valid JSON but not this shape (a number where the dialogue should be, an
instant without offset, a time zone that does not exist) is damage, exactly like a torn file:
the repository refuses it on load, keeps it aside byte-identical on the next save, and the user
starts afresh once, with everyone else untouched. ``USER_DOCUMENTS`` is the schema-aware
migrator the composition root gives the repository.

Keys the schema does not know are allowed (a newer focus-coach of the same schema version may
add some); values are checked strictly: no string for a number, no ``true`` for a count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Annotated, Any, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.core.due_kinds import Kind
from bot.core.exits import STEP_IDS, Mode
from bot.core.flow_ids import IN_THE_WAY, INTENTION_KEPT
from bot.core.focus_plan import DropReason, PlanChange, PressureStatus
from bot.core.light_week import WHY
from bot.core.schedule import is_zone
from bot.core.streak_contract import JokerHow
from storage.migrations import CURRENT_SCHEMA, MIGRATIONS, SchemaMigrator

__all__ = ["SCHEMAS", "USER_DOCUMENTS", "check_user_document"]

_WEEK_KEY = re.compile(r"\d{4}-W(0[1-9]|[1-4]\d|5[0-3])")
_ERRORS_SHOWN = 3


def _week_key(value: str) -> str:
    if not _WEEK_KEY.fullmatch(value):
        raise ValueError(f"{value!r} is not an ISO week such as 2026-W48")
    return value


def _instant(value: str) -> str:
    parsed = datetime.fromisoformat(value)
    if parsed.utcoffset() is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return value


def _local_time(value: str) -> str:
    parsed = time.fromisoformat(value)
    if parsed.second or parsed.microsecond or parsed.tzinfo is not None:
        raise ValueError(f"{value!r} is not a local time in whole minutes")
    return value


def _day(value: str) -> str:
    date.fromisoformat(value)
    return value


def _zone(value: str) -> str:
    if not is_zone(value):
        raise ValueError(f"{value!r} is not an IANA time zone")
    return value


def _one_of(allowed: frozenset[str]) -> AfterValidator:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"{value!r} is none of {sorted(allowed)}")
        return value

    return AfterValidator(check)


WeekKey = Annotated[str, AfterValidator(_week_key)]
Instant = Annotated[str, AfterValidator(_instant)]
Reason = Annotated[str, _one_of(frozenset(DropReason))]
Count = Annotated[int, Field(ge=0)]


class _Part(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class Dialogue(_Part):
    """Where the user is in a flow (``state.DialogueState``)."""

    flow: str
    step: str
    turn: Count = 0
    history: list[str] = []
    answers: dict[str, Any] = {}
    selection: list[str] | None = None
    return_to: str | None = None
    confirm: str | None = None


class Sending(_Part):
    """A claimed check-in (``checkin_schedule.Sending``)."""

    week: WeekKey
    claimed_at: Instant
    late: bool = False
    due: Instant | None = None
    snooze: bool = False
    kind: Annotated[str, _one_of(frozenset(Kind))] = Kind.CHECKIN.value


class HeartbeatClaim(_Part):
    """The heartbeat a pending claim is about (``checkin_schedule.HeartbeatClaim``)."""

    channel: str
    previous: Instant | None = None


class Reminder(_Part):
    """The weekly check-in (``checkin_schedule.Reminder``)."""

    weekday: Annotated[int, Field(ge=0, le=6)]
    time: Annotated[str, AfterValidator(_local_time)]
    zone: Annotated[str, AfterValidator(_zone)]
    next_due: Instant | None = None
    paused_until: Annotated[str, AfterValidator(_day)] | None = None
    snoozed_until: Instant | None = None
    snoozed_week: WeekKey | None = None
    skipped_week: WeekKey | None = None
    sending: Sending | None = None
    followup_due: Instant | None = None
    followup_week: WeekKey | None = None
    review_offered: Annotated[int, Field(ge=1)] | None = None
    comeback_offered: WeekKey | None = None
    heartbeat_offered: dict[str, Instant] = {}
    heartbeat_claim: HeartbeatClaim | None = None
    sent_weeks: list[WeekKey] = []
    missed_weeks: list[WeekKey] = []


class QuietHours(_Part):
    """When the bot starts nothing (``quiet_hours.QuietHours``); missing: the default."""

    start: Annotated[str, AfterValidator(_local_time)]
    end: Annotated[str, AfterValidator(_local_time)]
    on: bool = True

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if time.fromisoformat(self.start) == time.fromisoformat(self.end):
            raise ValueError("quiet hours must not start when they end")
        return self


class Rhythm(_Part):
    """A smaller rhythm of a kept channel."""

    units: Annotated[int, Field(ge=1)]
    per: Annotated[str, _one_of(frozenset({"week", "month"}))]
    reply_minutes: Count


class KeptChannel(_Part):
    """A channel the plan keeps (``focus_plan.KeptChannel``)."""

    channel: str
    hours: float
    reduced: bool
    audience_fit: Count
    goal_fit: Count
    sources: list[str]
    in_use: bool = True
    rhythm: Rhythm | None = None
    chosen: bool = False


class ProfileOnly(_Part):
    """A channel kept findable without posting."""

    channel: str
    reason: Reason
    minutes_per_month: float
    sources: list[str]


class DroppedChannel(_Part):
    """A channel the plan drops."""

    channel: str
    reason: Reason
    sources: list[str]
    replaced_by: str | None = None


class ParkedChannel(_Part):
    """A good fit parked for later, with when to look again."""

    channel: str
    reason: Reason
    sources: list[str] = []
    trigger_weeks: Count = 4
    trigger_hours: float = 1.0


class PressureNote(_Part):
    """What became of the channel the user felt they must be on."""

    channel: str
    status: Annotated[str, _one_of(frozenset(PressureStatus))]
    reason: Reason | None


class Plan(_Part):
    """The focus plan (``focus_plan.FocusPlan.to_dict``)."""

    capacity: float
    max_channels: Count
    text_only: bool
    reply_overhead: float
    kept: list[KeptChannel]
    profile_only: list[ProfileOnly] = []
    dropped: list[DroppedChannel]
    parked: list[ParkedChannel]
    pressure: PressureNote | None
    channels_in_use: Count = 0
    already_focused: bool = False


PlanReason = Annotated[str, _one_of(frozenset(PlanChange))]


class PlanInfo(_Part):
    """The current plan's version, when and why it was made (``plan_versions``)."""

    version: Annotated[int, Field(ge=1)]
    made_at: Instant | None = None
    reason: PlanReason
    detail: dict[str, str] = {}
    inputs: dict[str, Any] | None = None


class PreviousPlan(_Part):
    """A plan the current one replaced, with its version, date and reason."""

    version: Annotated[int, Field(ge=1)]
    made_at: Instant | None = None
    reason: PlanReason
    detail: dict[str, str] = {}
    plan: Plan


class PendingChange(_Part):
    """An easing plan change waiting out its seven-day cool-off (``cool_off.PendingChange``)."""

    channel: str
    instead: str | None = None
    others: list[str] = []
    plan: Plan
    reason: PlanReason
    detail: dict[str, str] = {}
    inputs: dict[str, Any] | None = None
    base_version: Count
    requested_at: Instant
    effective_at: Instant


class CheckinRecord(_Part):
    """One answered weekly check-in (``actions.record_checkin``)."""

    week: WeekKey
    answered_at: Instant | None = None
    channels: dict[str, str] = {}
    hours: float = 0.0
    creep: str = "none"
    audit: str | None = None
    win: str | None = None
    energy: Annotated[int, Field(ge=1, le=5)] = 3
    budget: float = 0.0
    intention: str | None = None
    # What the user expected to get in the way of that plan, in words (domain.md 4.1).
    obstacle: str | None = None
    intention_kept: Annotated[str, _one_of(frozenset(INTENTION_KEPT))] | None = None
    in_the_way: Annotated[str, _one_of(frozenset(IN_THE_WAY))] | None = None
    light: Annotated[str, _one_of(WHY)] | None = None
    # The channels that brought a result that week (the grid's 🎯); absent before it existed.
    results: list[str] | None = None


class ContractJoker(_Part):
    """A joker week (``streak_contract.Joker``)."""

    week: WeekKey
    how: Annotated[str, _one_of(frozenset(JokerHow))]


class ContractRepair(_Part):
    """A missed week made up in the week ``by`` (``streak_contract.Repair``)."""

    week: WeekKey
    by: WeekKey
    action: Annotated[str, Field(min_length=1)]
    done: bool | None = None


def _pause(raw: dict[str, Any]) -> dict[str, Any]:
    start, until = raw.get("from"), raw.get("until")
    if not isinstance(start, str) or not isinstance(until, str):
        # A ValueError: pydantic turns it into a validation error (a TypeError would escape).
        raise ValueError("a pause needs 'from' and 'until' as days")  # noqa: TRY004
    if date.fromisoformat(start) >= date.fromisoformat(until):
        raise ValueError("a pause must end after it starts")
    return raw


# A holiday pause: local days "from" and "until" (exclusive), as ``streak_contract.Pause``.
ContractPause = Annotated[dict[str, Any], AfterValidator(_pause)]


class StreakContract(_Part):
    """The forgiving streak contract (``streak_contract.Contract``)."""

    jokers: list[ContractJoker] = []
    repairs: list[ContractRepair] = []
    pauses: list[ContractPause] = []
    rules_shown: bool = False


class PendingCheckin(_Part):
    """The reminder the user has not acted on yet."""

    week: WeekKey
    late: bool = False
    catch_up: bool = False  # last week's check-in, logged late (``week_ledger``: open)
    missed: list[WeekKey] = []
    snooze: bool = False
    abandoned: bool = False
    lapsed: Count = 0


class LightWeek(_Part):
    """A week at a smaller rhythm after a lapse (``light_week.LightWeek``)."""

    week: WeekKey
    channels: Annotated[list[str], Field(min_length=1)]
    budget: Annotated[float, Field(ge=0)]
    why: Annotated[str, _one_of(WHY)]


class VarietyChoice(_Part):
    """A message bank's last wording for the user (``variety.choose``)."""

    key: str
    index: Count
    used: list[Count] = []


Days = Annotated[int, Field(ge=1)]


class Heartbeat(_Part):
    """The handle heartbeat of a finished exit (``exits.Heartbeat``)."""

    since: Instant
    days: Days
    remind_before: Days
    stopped: bool = False
    asked: Instant | None = None

    @model_validator(mode="after")
    def _inside(self) -> Heartbeat:
        if self.remind_before >= self.days:
            raise ValueError("the reminder must come before the window ends")
        return self


class ExitRecord(_Part):
    """A tracked exit from one channel (``exits.Exit``)."""

    mode: Annotated[str, _one_of(frozenset(Mode))]
    started: Annotated[str, AfterValidator(_day)]
    done: list[Annotated[str, _one_of(frozenset(STEP_IDS))]] = []
    finished_at: Instant | None = None
    heartbeat: Heartbeat | None = None


class UserDocumentV1(_Part):
    """Schema version 1 of a user document (``state.UserState.to_document``)."""

    user_id: str
    lang: str = "de"
    dialogue: Dialogue | None = None
    plan: Plan | None = None
    created_at: str = ""
    updated_at: str = ""
    suspended: Dialogue | None = None
    active: bool = True
    reminder: Reminder | None = None
    quiet_hours: QuietHours | None = None
    checkins: list[CheckinRecord] = []
    pending_checkin: PendingCheckin | None = None
    handled: list[int] = []
    plan_info: PlanInfo | None = None
    previous_plans: list[PreviousPlan] = []
    # A deep link's payload as Telegram allows it (``bot.core.deep_links``).
    came_from: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    live_message: int | None = None
    light_week: LightWeek | None = None
    variety: dict[str, VarietyChoice] = {}
    contract: StreakContract | None = None
    pending_change: PendingChange | None = None
    exits: dict[str, ExitRecord] = {}


def check_user_document(document: Mapping[str, Any]) -> None:
    """Raise ValueError naming the first problems if ``document`` is not a version 1 document."""
    try:
        UserDocumentV1.model_validate(document)
    except ValidationError as error:
        found = [
            f"{'.'.join(str(part) for part in problem['loc']) or 'document'}: {problem['msg']}"
            for problem in error.errors(include_url=False)[:_ERRORS_SHOWN]
        ]
        more = error.error_count() - len(found)
        raise ValueError("; ".join(found) + (f" (and {more} more)" if more > 0 else "")) from None


# Version -> the check of a document of that version; one per version, older ones kept.
SCHEMAS: Final = {1: check_user_document}

USER_DOCUMENTS: Final = SchemaMigrator(current=CURRENT_SCHEMA, steps=MIGRATIONS, schemas=SCHEMAS)
