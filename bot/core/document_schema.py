"""The declared schema of a stored user document, per schema version.

A document that is valid JSON but not this shape (a number where the dialogue should be, an
instant without offset, a time zone that does not exist) is damage, exactly like a torn file:
the repository refuses it on load, keeps it aside byte-identical on the next save, and the user
starts afresh once, with everyone else untouched. ``USER_DOCUMENTS`` is the schema-aware
migrator the composition root gives the repository.

Keys the schema does not know are allowed (a newer focus-coach of the same schema version may
add some); values are checked strictly: no string for a number, no ``true`` for a count.

Every read of a document runs this check (each dialogue step, each claim of a check-in), so the
parts are ``TypedDict``s rather than models: pydantic only checks the dicts and builds no object
per part (a model per weekly check-in of the year was most of the check's cost). Week keys and
fixed choices are checked by pydantic's own patterns and literals; a check that needs Python
(an instant, a zone, a day) stays an ``AfterValidator``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Annotated, Any, Final, Required

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    GetPydanticSchema,
    TypeAdapter,
    ValidationError,
    with_config,
)
from pydantic_core import CoreSchema, core_schema

# pydantic reads TypedDicts from typing_extensions only before Python 3.12.
from typing_extensions import TypedDict

from bot.core.due_kinds import Kind
from bot.core.exits import STEP_IDS, Mode
from bot.core.flow_ids import IN_THE_WAY, INTENTION_KEPT
from bot.core.focus_plan import DropReason, PlanChange, PressureStatus
from bot.core.light_week import WHY
from bot.core.schedule import is_zone
from bot.core.streak_contract import JokerHow
from storage.migrations import CURRENT_SCHEMA, MIGRATIONS, SchemaMigrator

__all__ = ["SCHEMAS", "USER_DOCUMENTS", "check_user_document"]

_ERRORS_SHOWN = 3
# Unknown keys are let through unchecked; every part is checked strictly.
_part = with_config(ConfigDict(strict=True, extra="ignore"))


def _native(schema: CoreSchema) -> GetPydanticSchema:
    """A field checked by pydantic's own ``schema`` (no Python call per value)."""
    return GetPydanticSchema(lambda _source, _handler: schema)


def _one_of(allowed: Iterable[str]) -> GetPydanticSchema:
    """One of ``allowed`` (the values of a choice such as ``DropReason``)."""
    return _native(core_schema.literal_schema(sorted(str(value) for value in allowed)))


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


WeekKey = Annotated[
    str,
    _native(
        core_schema.custom_error_schema(
            core_schema.str_schema(pattern=r"^[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$", strict=True),
            custom_error_type="iso_week",
            custom_error_message="not an ISO week such as 2026-W48",
        )
    ),
]
# An instant as ``datetime.isoformat`` writes it, on a day every month has and in years
# 1000-2999: pydantic's pattern accepts it without a Python call. Anything else it does not
# accept (the 29th to 31st, other spellings) is parsed by ``_instant``, so exactly what
# ``datetime.fromisoformat`` reads with an offset passes, as before.
_USUAL_INSTANT: Final = (
    r"^[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{6})?"
    r"[+-]([01][0-9]|2[0-3]):[0-5][0-9]$"
)
Instant = Annotated[
    str,
    _native(
        core_schema.custom_error_schema(
            core_schema.union_schema(
                [
                    core_schema.str_schema(pattern=_USUAL_INSTANT, strict=True),
                    core_schema.no_info_after_validator_function(
                        _instant, core_schema.str_schema(strict=True)
                    ),
                ],
                mode="left_to_right",
            ),
            custom_error_type="instant",
            custom_error_message=(
                "not an instant with its UTC offset, such as 2026-11-27T09:00:00+01:00"
            ),
        )
    ),
]
LocalTime = Annotated[str, AfterValidator(_local_time)]
Day = Annotated[str, AfterValidator(_day)]
Reason = Annotated[str, _one_of(DropReason)]
PlanReason = Annotated[str, _one_of(PlanChange)]
Count = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]


@_part
class Dialogue(TypedDict, total=False):
    """Where the user is in a flow (``state.DialogueState``)."""

    flow: Required[str]
    step: Required[str]
    turn: Count
    history: list[str]
    answers: dict[str, Any]
    selection: list[str] | None
    return_to: str | None
    confirm: str | None


@_part
class Sending(TypedDict, total=False):
    """A claimed check-in (``checkin_schedule.Sending``)."""

    week: Required[WeekKey]
    claimed_at: Required[Instant]
    late: bool
    due: Instant | None
    snooze: bool
    kind: Annotated[str, _one_of(Kind)]


@_part
class HeartbeatClaim(TypedDict, total=False):
    """The heartbeat a pending claim is about (``checkin_schedule.HeartbeatClaim``)."""

    channel: Required[str]
    previous: Instant | None


@_part
class Reminder(TypedDict, total=False):
    """The weekly check-in (``checkin_schedule.Reminder``)."""

    weekday: Required[Annotated[int, Field(ge=0, le=6)]]
    time: Required[LocalTime]
    zone: Required[Annotated[str, AfterValidator(_zone)]]
    next_due: Instant | None
    paused_until: Day | None
    snoozed_until: Instant | None
    snoozed_week: WeekKey | None
    skipped_week: WeekKey | None
    sending: Sending | None
    followup_due: Instant | None
    followup_week: WeekKey | None
    review_offered: Positive | None
    comeback_offered: WeekKey | None
    heartbeat_offered: dict[str, Instant]
    heartbeat_claim: HeartbeatClaim | None
    sent_weeks: list[WeekKey]
    missed_weeks: list[WeekKey]


@_part
class _QuietHours(TypedDict, total=False):
    start: Required[LocalTime]
    end: Required[LocalTime]
    on: bool


def _quiet_not_empty(hours: _QuietHours) -> _QuietHours:
    if time.fromisoformat(hours["start"]) == time.fromisoformat(hours["end"]):
        raise ValueError("quiet hours must not start when they end")
    return hours


# When the bot starts nothing (``quiet_hours.QuietHours``); missing: the default.
QuietHours = Annotated[_QuietHours, AfterValidator(_quiet_not_empty)]


@_part
class Rhythm(TypedDict):
    """A smaller rhythm of a kept channel."""

    units: Positive
    per: Annotated[str, _one_of(("week", "month"))]
    reply_minutes: Count


@_part
class KeptChannel(TypedDict, total=False):
    """A channel the plan keeps (``focus_plan.KeptChannel``)."""

    channel: Required[str]
    hours: Required[float]
    reduced: Required[bool]
    audience_fit: Required[Count]
    goal_fit: Required[Count]
    sources: Required[list[str]]
    in_use: bool
    rhythm: Rhythm | None
    chosen: bool


@_part
class ProfileOnly(TypedDict):
    """A channel kept findable without posting."""

    channel: str
    reason: Reason
    minutes_per_month: float
    sources: list[str]


@_part
class DroppedChannel(TypedDict, total=False):
    """A channel the plan drops."""

    channel: Required[str]
    reason: Required[Reason]
    sources: Required[list[str]]
    replaced_by: str | None


@_part
class ParkedChannel(TypedDict, total=False):
    """A good fit parked for later, with when to look again."""

    channel: Required[str]
    reason: Required[Reason]
    sources: list[str]
    trigger_weeks: Count
    trigger_hours: float


@_part
class PressureNote(TypedDict):
    """What became of the channel the user felt they must be on."""

    channel: str
    status: Annotated[str, _one_of(PressureStatus)]
    reason: Reason | None


@_part
class Plan(TypedDict, total=False):
    """The focus plan (``focus_plan.FocusPlan.to_dict``)."""

    capacity: Required[float]
    max_channels: Required[Count]
    text_only: Required[bool]
    reply_overhead: Required[float]
    kept: Required[list[KeptChannel]]
    profile_only: list[ProfileOnly]
    dropped: Required[list[DroppedChannel]]
    parked: Required[list[ParkedChannel]]
    pressure: Required[PressureNote | None]
    channels_in_use: Count
    already_focused: bool


@_part
class PlanInfo(TypedDict, total=False):
    """The current plan's version, when and why it was made (``plan_versions``)."""

    version: Required[Positive]
    made_at: Instant | None
    reason: Required[PlanReason]
    detail: dict[str, str]
    inputs: dict[str, Any] | None


@_part
class PreviousPlan(TypedDict, total=False):
    """A plan the current one replaced, with its version, date and reason."""

    version: Required[Positive]
    made_at: Instant | None
    reason: Required[PlanReason]
    detail: dict[str, str]
    plan: Required[Plan]


@_part
class PendingChange(TypedDict, total=False):
    """An easing plan change waiting out its seven-day cool-off (``cool_off.PendingChange``)."""

    channel: Required[str]
    instead: str | None
    others: list[str]
    plan: Required[Plan]
    reason: Required[PlanReason]
    detail: dict[str, str]
    inputs: dict[str, Any] | None
    base_version: Required[Count]
    requested_at: Required[Instant]
    effective_at: Required[Instant]


@_part
class CheckinRecord(TypedDict, total=False):
    """One answered weekly check-in (``actions.record_checkin``)."""

    week: Required[WeekKey]
    answered_at: Instant | None
    channels: dict[str, str]
    hours: float
    creep: str
    audit: str | None
    win: str | None
    energy: Annotated[int, Field(ge=1, le=5)]
    budget: float
    intention: str | None
    # What the user expected to get in the way of that plan, in words (domain.md 4.1).
    obstacle: str | None
    intention_kept: Annotated[str, _one_of(INTENTION_KEPT)] | None
    in_the_way: Annotated[str, _one_of(IN_THE_WAY)] | None
    light: Annotated[str, _one_of(WHY)] | None
    # The channels that brought a result that week (the grid's 🎯); absent before it existed.
    results: list[str] | None


@_part
class ArchivedCheckins(TypedDict):
    """Older check-ins kept in the user's side file (``storage.history_archive``): its records
    numbered ``first`` to ``first + count - 1`` come before the document's own ``checkins``."""

    first: Count
    count: Positive


@_part
class ContractJoker(TypedDict):
    """A joker week (``streak_contract.Joker``)."""

    week: WeekKey
    how: Annotated[str, _one_of(JokerHow)]


@_part
class ContractRepair(TypedDict, total=False):
    """A missed week made up in the week ``by`` (``streak_contract.Repair``)."""

    week: Required[WeekKey]
    by: Required[WeekKey]
    action: Required[Annotated[str, Field(min_length=1)]]
    done: bool | None


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


@_part
class StreakContract(TypedDict, total=False):
    """The forgiving streak contract (``streak_contract.Contract``)."""

    jokers: list[ContractJoker]
    repairs: list[ContractRepair]
    pauses: list[ContractPause]
    rules_shown: bool


@_part
class PendingCheckin(TypedDict, total=False):
    """The reminder the user has not acted on yet."""

    week: Required[WeekKey]
    late: bool
    catch_up: bool  # last week's check-in, logged late (``week_ledger``: open)
    missed: list[WeekKey]
    snooze: bool
    abandoned: bool
    lapsed: Count


@_part
class LightWeek(TypedDict):
    """A week at a smaller rhythm after a lapse (``light_week.LightWeek``)."""

    week: WeekKey
    channels: Annotated[list[str], Field(min_length=1)]
    budget: Annotated[float, Field(ge=0)]
    why: Annotated[str, _one_of(WHY)]


@_part
class VarietyChoice(TypedDict, total=False):
    """A message bank's last wording for the user (``variety.choose``)."""

    key: Required[str]
    index: Required[Count]
    used: list[Count]


Days = Positive


@_part
class _Heartbeat(TypedDict, total=False):
    since: Required[Instant]
    days: Required[Days]
    remind_before: Required[Days]
    stopped: bool
    asked: Instant | None


def _heartbeat_inside(heartbeat: _Heartbeat) -> _Heartbeat:
    if heartbeat["remind_before"] >= heartbeat["days"]:
        raise ValueError("the reminder must come before the window ends")
    return heartbeat


# The handle heartbeat of a finished exit (``exits.Heartbeat``).
Heartbeat = Annotated[_Heartbeat, AfterValidator(_heartbeat_inside)]


@_part
class ExitRecord(TypedDict, total=False):
    """A tracked exit from one channel (``exits.Exit``)."""

    mode: Required[Annotated[str, _one_of(Mode)]]
    started: Required[Day]
    done: list[Annotated[str, _one_of(STEP_IDS)]]
    finished_at: Instant | None
    heartbeat: Heartbeat | None


@_part
class UserDocumentV1(TypedDict, total=False):
    """Schema version 1 of a user document (``state.UserState.to_document``)."""

    user_id: Required[str]
    lang: str
    dialogue: Dialogue | None
    plan: Plan | None
    created_at: str
    updated_at: str
    suspended: Dialogue | None
    active: bool
    reminder: Reminder | None
    quiet_hours: QuietHours | None
    checkins: list[CheckinRecord]
    # Only in the stored file and in a document read without the side file (``get_recent``).
    archived_checkins: ArchivedCheckins | None
    pending_checkin: PendingCheckin | None
    handled: list[int]
    plan_info: PlanInfo | None
    previous_plans: list[PreviousPlan]
    # A deep link's payload as Telegram allows it (``bot.core.deep_links``).
    came_from: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None
    live_message: int | None
    light_week: LightWeek | None
    variety: dict[str, VarietyChoice]
    contract: StreakContract | None
    pending_change: PendingChange | None
    exits: dict[str, ExitRecord]
    # The content the state was last fitted to (``Content.identity``, a fingerprint).
    fitted_to: str | None


_USER_DOCUMENT_V1: Final = TypeAdapter(UserDocumentV1)


def check_user_document(document: Mapping[str, Any]) -> None:
    """Raise ValueError naming the first problems if ``document`` is not a version 1 document."""
    try:
        _USER_DOCUMENT_V1.validate_python(document)
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
