"""The claim's shortcuts give what the long way gives.

A claim works out the hint its confirm will set (``sent_records.due_after_sent``) from the
document in hand, without writing the reminder out and reading it back; an outlook works out
the answered weeks once for the several kinds and lapses that ask. Both are checked against
the long way over generated users in many states (hypothesis), and so is the lapse, found
without sorting every answered week. Slots, firing instants, week keys and parsed instants
are kept per process: what is kept is what would be worked out.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from datetime import UTC, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.datagen import DocumentFactory
from bot.core.checkin_schedule import REMINDER, Reminder, Sending, _instant
from bot.core.content import Content
from bot.core.due_kinds import Kind, Outlook, effective_due
from bot.core.focus_plan import FocusPlan, hours_planned_of
from bot.core.lapses import closes_at, lapse
from bot.core.quiet_hours import DEFAULT_QUIET, QuietHours
from bot.core.schedule import (
    WeeklySlot,
    _local_week_key,
    _next_occurrence,
    local_week_key,
    next_occurrence,
)
from bot.core.sent_records import SentRecord, apply_sent, due_after_sent

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
_USERS = 40


@pytest.fixture(scope="module")
def documents(content: Content) -> list[dict[str, Any]]:
    factory = DocumentFactory(content)
    return [factory.document(str(800_000_000 + n), NOW) for n in range(_USERS)]


def _outcome(function: Any, *args: Any) -> tuple[str, Any]:
    """The result, or the failure (the same failure is the same outcome)."""
    try:
        return "result", function(*args)
    except Exception as error:
        return type(error).__name__, str(error)


def _long_way(document: dict[str, Any], record: SentRecord, now: datetime) -> Any:
    after = apply_sent(document, record)
    return (False, None) if after is None else (True, effective_due(after, now))


_STATES = st.fixed_dictionaries(
    {
        "user": st.integers(0, _USERS - 1),
        "kind": st.sampled_from(list(Kind)),
        "answered_dropped": st.integers(0, 5),  # the last weeks left unanswered: lapses
        "claimed_hours": st.integers(-200, 200),
        "now_hours": st.integers(-30, 400),
        "snooze": st.booleans(),
        "record_matches": st.sampled_from(["yes", "yes", "yes", "week", "instant", "kind"]),
        "active": st.sampled_from([True, True, True, False, None]),
        "quiet": st.sampled_from(["default", "off", "day", "broken"]),
        "paused_days": st.sampled_from([None, None, 3, 20]),
        "plan": st.sampled_from(["kept", "kept", "none", "bad_info"]),
        "comeback_offered": st.booleans(),
        "mentioned": st.booleans(),
    }
)


def _document(documents: list[dict[str, Any]], state: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(documents[state["user"]])
    if state["answered_dropped"]:
        document["checkins"] = document["checkins"][: -state["answered_dropped"]]
    if state["active"] is False:
        document["active"] = False
    elif state["active"] is None:
        document.pop("active", None)
    quiet = {
        "default": None,
        "off": {"start": "21:00", "end": "08:00", "on": False},
        "day": {"start": "09:00", "end": "17:00", "on": True},
        "broken": {"start": 9},
    }[state["quiet"]]
    if quiet is not None:
        document["quiet_hours"] = quiet
    if state["plan"] == "none":
        document["plan"] = None
    elif state["plan"] == "bad_info":
        document["plan_info"] = {"made_at": "2026-01-01T00:00:00", "version": 1}  # naive
    block = document[REMINDER]
    if state["paused_days"] is not None:
        block["paused_until"] = (NOW + timedelta(days=state["paused_days"])).date().isoformat()
    if state["comeback_offered"]:
        block["comeback_offered"] = block["sent_weeks"][-2]
    if state["mentioned"]:
        block["missed_weeks"] = ["2026-W40"]
    return document


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(state=_STATES)
def test_the_hint_after_sent_is_the_one_the_long_way_gives(
    documents: list[dict[str, Any]], state: dict[str, Any]
) -> None:
    document = _document(documents, state)
    block = document[REMINDER]
    claimed = NOW + timedelta(hours=state["claimed_hours"])
    week = block["sent_weeks"][-1]
    kind = state["kind"]
    block["sending"] = Sending(
        week, claimed, False, claimed - timedelta(minutes=5), state["snooze"], kind.value
    ).to_dict()
    if kind is Kind.FOLLOWUP:
        block["followup_due"], block["followup_week"] = block["sending"]["claimed_at"], week
    matches = state["record_matches"]
    record = SentRecord(
        "u",
        week if matches != "week" else "2026-W01",
        kind if matches != "kind" else (Kind.REVIEW if kind is Kind.CHECKIN else Kind.CHECKIN),
        claimed if matches != "instant" else claimed + timedelta(seconds=1),
        ("2026-W40",) if state["mentioned"] else (),
    )
    now = NOW + timedelta(hours=state["now_hours"])
    before = copy.deepcopy(document)
    long_way = _outcome(_long_way, document, record, now)
    assert _outcome(due_after_sent, document, record, now) == long_way
    # With the answered weeks of the claim's outlook: of the same records in another list (as
    # in a composed document), or of other records (one fewer), which must not be taken over.
    records = document.get("checkins") or []
    for others in (list(records), records[:-1]):
        like = Outlook(Reminder(weekday=4, time="09:00", zone="UTC"), DEFAULT_QUIET, others)
        assert like.answered_weeks is not None
        assert _outcome(partial(due_after_sent, like=like), document, record, now) == long_way
    assert document == before  # neither changes the document


def test_the_hint_after_sent_of_a_claim_is_a_week_later(
    documents: list[dict[str, Any]],
) -> None:
    document = copy.deepcopy(documents[0])
    block = document[REMINDER]
    slot = datetime.fromisoformat(block["next_due"])
    week = "2026-W50"
    block["sending"] = Sending(week, slot, False, slot).to_dict()
    block["next_due"] = (slot + timedelta(weeks=1)).isoformat()
    record = SentRecord("u", week, Kind.CHECKIN, slot)
    applies, hint = due_after_sent(document, record, slot)
    assert applies
    assert hint is not None and slot < hint <= slot + timedelta(weeks=1)
    assert (applies, hint) == _long_way(document, record, slot)
    assert due_after_sent(document, SentRecord("u", "2026-W49", Kind.CHECKIN, slot), slot) == (
        False,
        None,
    )


def test_the_answered_weeks_follow_the_records(documents: list[dict[str, Any]]) -> None:
    document = copy.deepcopy(documents[1])
    outlook = Outlook.of(document)
    assert outlook is not None
    weeks = {record["week"] for record in document["checkins"]}
    assert outlook.answered_weeks == weeks
    assert outlook.answered_weeks is outlook.answered_weeks  # worked out once
    document["checkins"].append({"week": "2027-W01"})
    assert outlook.answered_weeks == {*weeks, "2027-W01"}
    outlook.checkins = [{"week": "2027-W02"}, "not a record", {"no": "week"}]
    assert outlook.answered_weeks == {"2027-W02"}


def _lapse_the_long_way(
    reminder: Reminder, answered: Collection[str], now: datetime | None, before: str | None
) -> tuple[str, ...]:
    """``lapses.lapse`` as first written: every week sorted, walked back from the newest."""
    at = datetime.max.replace(tzinfo=UTC) - timedelta(days=14) if now is None else now
    skipped = reminder.skipped_week
    weeks = sorted(set(reminder.sent_weeks) | set(answered) | ({skipped} if skipped else set()))
    run: list[str] = []
    for week in reversed(weeks):
        if before is not None and week >= before:
            continue
        if week in answered or week == skipped:
            break
        if closes_at(reminder.slot, week) <= at:
            run.append(week)
    return tuple(reversed(run))


_WEEKS = st.sampled_from([f"2026-W{number:02d}" for number in range(30, 53)])


@settings(max_examples=500, deadline=None)
@given(
    sent=st.lists(_WEEKS, max_size=12),
    answered=st.lists(_WEEKS, max_size=20),
    skipped=st.one_of(st.none(), st.just(""), _WEEKS),
    before=st.one_of(st.none(), _WEEKS),
    now_days=st.one_of(st.none(), st.integers(-120, 30)),
    as_list=st.booleans(),
)
def test_the_lapse_is_the_one_the_long_way_gives(
    sent: list[str],
    answered: list[str],
    skipped: str | None,
    before: str | None,
    now_days: int | None,
    as_list: bool,
) -> None:
    reminder = Reminder(
        weekday=3, time="18:30", zone="Europe/Berlin", sent_weeks=sent, skipped_week=skipped
    )
    weeks: Collection[str] = answered if as_list else frozenset(answered)
    now = None if now_days is None else NOW + timedelta(days=now_days)
    long_way = _lapse_the_long_way(reminder, weeks, now, before)
    assert lapse(reminder, weeks, now, before=before).weeks == long_way
    # With the answered weeks at hand sorted, as an outlook keeps them.
    in_order = tuple(sorted(set(answered)))
    assert lapse(reminder, weeks, now, before=before, answered_in_order=in_order).weeks == (
        long_way
    )


_ZONES = ("Europe/Berlin", "America/Havana", "Australia/Lord_Howe", "Asia/Kolkata", "UTC")


@settings(max_examples=400, deadline=None)
@given(
    minutes=st.integers(-600_000, 600_000),
    weekday=st.integers(0, 6),
    wall=st.sampled_from(["00:00", "00:30", "02:30", "09:00", "23:59"]),
    zone=st.sampled_from(_ZONES),
    local=st.booleans(),
    fold=st.integers(0, 1),
)
def test_kept_instants_and_weeks_are_the_ones_worked_out(
    minutes: int, weekday: int, wall: str, zone: str, local: bool, fold: int
) -> None:
    # Twice each: the second answer comes from what the process kept.
    instant = NOW + timedelta(minutes=minutes)
    if local:  # a local time, either pass of a repeated hour: never taken from the kept ones
        instant = instant.astimezone(ZoneInfo(zone)).replace(fold=fold)
    slot = Reminder(weekday=weekday, time=wall, zone=zone).slot
    assert slot == WeeklySlot(weekday, time.fromisoformat(wall), zone)
    for _ in range(2):
        assert next_occurrence(slot, instant) == _next_occurrence(slot, instant)
        assert local_week_key(instant, zone) == _local_week_key(instant, zone)
        text = instant.isoformat()
        assert _instant(text) == datetime.fromisoformat(text).astimezone(UTC)
        assert _instant(text).tzinfo is UTC
        week = _local_week_key(instant, zone)
        assert closes_at(slot, week) == closes_at.__wrapped__(slot, week)


# ---- the plan's hours, read from its stored form ---------------------------------------------
HOURS = st.floats(0, 80, allow_nan=False) | st.integers(0, 80)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(number=st.integers(0, 299), kept=st.lists(HOURS, max_size=6), minutes=st.lists(HOURS))
def test_a_plans_hours_read_from_its_document_are_those_of_the_plan_built(
    content: Content, number: int, kept: list[float], minutes: list[float]
) -> None:
    """``hours_planned_of`` (the reminder's budget) against ``FocusPlan.from_dict``: the same
    float, for the generated users' plans and for any hours in them."""
    plan = DocumentFactory(content).document(str(700_000_000 + number), NOW)["plan"]
    assert hours_planned_of(plan) == FocusPlan.from_dict(plan).hours_planned
    for entry, hours in zip(plan["kept"], kept, strict=False):
        entry["hours"] = hours
    profiles = plan.get("profile_only", [])
    for entry, value in zip(profiles, minutes, strict=False):
        entry["minutes_per_month"] = value
    if not profiles and minutes:
        plan["profile_only"] = [
            {"channel": "xing", "reason": "budget", "minutes_per_month": value, "sources": []}
            for value in minutes
        ]
    assert hours_planned_of(plan) == FocusPlan.from_dict(plan).hours_planned


# ---- whether a week was answered -------------------------------------------------------------
WEEK_VALUES = st.sampled_from(["2026-W48", "2026-W49", "None", "3", "True"]) | st.sampled_from(
    [None, 3, True, 2026.0]
)
RECORDS = st.lists(
    st.fixed_dictionaries({"week": WEEK_VALUES})
    | st.fixed_dictionaries({"hours": st.integers(0, 3)})
    | st.sampled_from(["2026-W49", None, 7]),
    max_size=8,
)


@settings(max_examples=500, deadline=None)
@given(records=RECORDS, asked=st.lists(WEEK_VALUES, min_size=1, max_size=4))
def test_answered_is_the_scan_of_the_records_it_was(records: list[Any], asked: list[Any]) -> None:
    """``Outlook.answered`` by a look-up in the answered weeks, against comparing each record
    as stored (weeks of other types than text included), before and after the list grew."""
    reminder = Reminder(weekday=4, time="09:00", zone="Europe/Berlin")
    outlook = Outlook(reminder, QuietHours.from_document({}), records)
    for week in asked:
        scanned = any(isinstance(r, dict) and r.get("week") == week for r in reversed(records))
        assert outlook.answered(week) == scanned
    records.append({"week": "2026-W50"})
    assert outlook.answered("2026-W50")
    assert "2026-W50" in outlook.answered_weeks


def test_answered_weeks_are_taken_over_only_from_the_very_same_records() -> None:
    reminder = Reminder(weekday=4, time="09:00", zone="UTC")
    records = [{"week": "2026-W48"}, {"week": "2026-W49"}]
    like = Outlook(reminder, DEFAULT_QUIET, records)
    weeks = like.answered_weeks
    same = Outlook(reminder, DEFAULT_QUIET, list(records))  # a composed document's new list
    same.answers_as(like)
    assert same.answered_weeks is weeks
    copied = Outlook(reminder, DEFAULT_QUIET, [dict(record) for record in records])
    copied.answers_as(like)
    assert copied.answered_weeks is not weeks
    assert copied.answered_weeks == weeks
    fewer = Outlook(reminder, DEFAULT_QUIET, records[:1])
    fewer.answers_as(like)
    assert fewer.answered_weeks == {"2026-W48"}
    kept = list(records)
    grown = Outlook(reminder, DEFAULT_QUIET, kept)
    grown.answers_as(like)
    kept.append({"week": "2026-W50"})
    assert grown.answered_weeks == {"2026-W48", "2026-W49", "2026-W50"}
