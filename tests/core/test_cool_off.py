"""The cool-off: a change that eases the focus waits seven days of 24 hours; narrowing does not.

The instant is checked as a property over years of request instants in zones with and without
daylight saving time; the rest runs through the engine with an injected clock: request, cancel
(also with stale and forged buttons), replace, apply on the next load (a message or a reminder),
and withdraw when the plan changed meanwhile.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dialogue_driver import Chat, plain
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_checkin_dialogue import Clock, checkin_with_creep
from test_engine import onboard_de

from bot.core.callbacks import Action, encode
from bot.core.coaching import PlanInput, build_plan
from bot.core.content import Content
from bot.core.cool_off import (
    COOL_OFF,
    Outcome,
    PendingChange,
    effective_instant,
    request,
    settle,
)
from bot.core.document_schema import check_user_document
from bot.core.engine import DialogueEngine
from bot.core.focus_plan import PlanChange
from bot.core.messages import ButtonPress
from bot.core.plan_changes import apply_creep_choice
from bot.core.plan_versions import adopt
from bot.core.state import UserState
from storage import InMemoryUserRepository

B2B = PlanInput(("linkedin", "xing", "tiktok"), 3.0, ("b2b_dach",), ("leads",), False, "tiktok")
# Three zones with daylight saving time (north and south) and one without.
ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata")
WEEK = timedelta(days=7)


# ---- the instant, as a property -----------------------------------------------------------


def requested_user(content: Content, now: datetime, zone: str) -> UserState:
    """A user whose check-in kept TikTok (LinkedIn making room) at ``now``."""
    user = UserState(user_id="p", lang="en")
    plan = build_plan(B2B, content.catalogue)
    adopt(user, plan, reason=PlanChange.FIRST, now=now, inputs=B2B)
    swapped = apply_creep_choice(plan, B2B, content.catalogue, "tiktok", "linkedin")
    assert swapped is not None
    settled = request(
        user,
        swapped,
        before=plan,
        reason=PlanChange.CHECKIN,
        detail={},
        inputs=B2B,
        instead="linkedin",
        now=now,
        zone=zone,
    )
    assert settled.outcome is Outcome.REQUESTED
    return user


class Shipped:
    """The shipped content with a short repr (Hypothesis prints the arguments of a failure)."""

    def __init__(self, content: Content) -> None:
        self.content = content

    def __repr__(self) -> str:
        return "Shipped(content)"


@pytest.fixture(scope="module")
def shipped(content: Content) -> Shipped:
    return Shipped(content)


@settings(max_examples=300, deadline=None)
@given(
    requested=st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2031, 12, 31),
        timezones=st.just(UTC),
    ),
    zone=st.sampled_from(ZONES),
)
# The week before the clocks change: Berlin springs forward (29 March 2026, 02:00 -> 03:00)
# and falls back (25 October 2026); New York; Sydney springs forward in October.
@example(requested=datetime(2026, 3, 22, 1, 30, 59, 1, tzinfo=UTC), zone="Europe/Berlin")
@example(requested=datetime(2026, 10, 18, 0, 30, tzinfo=UTC), zone="Europe/Berlin")
@example(requested=datetime(2026, 3, 1, 7, 30, tzinfo=UTC), zone="America/New_York")
@example(requested=datetime(2026, 9, 27, 15, 30, tzinfo=UTC), zone="Australia/Sydney")
def test_an_easing_change_never_applies_before_seven_times_24_hours(
    requested: datetime, zone: str, shipped: Shipped
) -> None:
    content = shipped.content
    effective = effective_instant(requested, zone)
    # Never earlier than the full cool-off, a whole minute (the minute shown is never early),
    # and no later than the wall-clock week plus the rounding needs.
    assert effective >= requested + COOL_OFF
    assert (effective.second, effective.microsecond) == (0, 0)
    assert effective - requested <= COOL_OFF + timedelta(hours=1, minutes=1)
    local_request = requested.astimezone(ZoneInfo(zone))
    local_effective = effective.astimezone(ZoneInfo(zone))
    offset_change = local_effective.utcoffset() - local_request.utcoffset()  # type: ignore[operator]
    if offset_change <= timedelta(0):
        # A week later at the same wall-clock minute (rounded up) where the clocks did not
        # spring forward in between.
        assert local_effective.date() == local_request.date() + WEEK or (
            local_effective.time() == datetime.min.time()
        )

    user = requested_user(content, requested, zone)
    known = [channel.id for channel in content.catalogue.channels]
    waiting = PendingChange.from_dict(user.pending_change or {})
    assert waiting.due_at() == effective
    # Loaded a second before: nothing yet; at the instant (the first load at or after it): on.
    assert settle(user, effective - timedelta(seconds=1), known) is None
    assert user.plan_info is not None and user.plan_info["version"] == 1
    settled = settle(user, effective, known)
    assert settled is not None and settled.outcome is Outcome.APPLIED
    assert user.plan_info["version"] == 2 and user.pending_change is None
    assert {k["channel"] for k in (user.plan or {})["kept"]} == {"tiktok"}


def test_a_stored_instant_earlier_than_the_cool_off_is_not_trusted(content: Content) -> None:
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    user = requested_user(content, now, "Europe/Berlin")
    assert user.pending_change is not None
    user.pending_change["effective_at"] = "2026-11-28T09:00:00+00:00"  # edited: one day
    known = [channel.id for channel in content.catalogue.channels]
    assert settle(user, now + timedelta(days=6, hours=23), known) is None
    settled = settle(user, now + WEEK, known)
    assert settled is not None and settled.outcome is Outcome.APPLIED


# ---- through the engine, with an injected clock ----------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock()  # Friday 2026-11-27 09:00 UTC, 10:00 in Berlin


@pytest.fixture
def repo() -> InMemoryUserRepository:
    return InMemoryUserRepository()


@pytest.fixture
def engine(content: Content, repo: InMemoryUserRepository, clock: Clock) -> DialogueEngine:
    return DialogueEngine(content, repo, clock=clock)


@pytest.fixture
def planned(engine: DialogueEngine) -> Chat:
    """LinkedIn kept, Xing a profile only, TikTok dropped."""
    chat = Chat(engine, "anna", language_hint="de")
    onboard_de(chat)
    chat.press("show_plan")
    return chat


def stored(repo: InMemoryUserRepository) -> dict[str, Any]:
    document = repo.get("anna")
    assert document is not None
    return document


def cancel_data(chat: Chat) -> str:
    """The data of the "↩ cancel" button among the last replies."""
    return next(
        button.data
        for reply in chat.replies
        for row in reply.buttons
        for button in row
        if button.label == "↩ Zurücknehmen"
    )


def test_cancel_on_the_confirmation_keeps_the_plan_and_a_second_tap_is_answered_kindly(
    planned: Chat, repo: InMemoryUserRepository, clock: Clock
) -> None:
    plan_before = stored(repo)["plan"]
    checkin_with_creep(planned, "tiktok", "linkedin")
    cancel = cancel_data(planned)
    assert stored(repo)["pending_change"] is not None
    planned.send("/settings")  # the button works from an older message, whatever came since
    question = planned.question
    replies = planned.press_data(cancel)
    assert "Zurückgenommen: TikTok bleibt draußen und LinkedIn bleibt in deinem Plan" in plain(
        replies[0].text
    )
    assert replies[-1].repeat and replies[-1].text == question.text  # type: ignore[union-attr]
    assert stored(repo)["pending_change"] is None
    clock.now += WEEK * 2
    planned.send("/plan")
    assert stored(repo)["plan"] == plan_before and stored(repo)["plan_info"]["version"] == 1
    assert "wieder in deinem Plan" not in planned.text
    # The same button again, and a forged one: a friendly answer, nothing changes.
    for data in (cancel, encode(0, Action.UNDO, "1-999"), "7.u.", "0.u." + "9" * 50):
        replies = planned.press_data(data)
        assert "Dieser Button gilt nicht mehr" in plain(replies[0].text)
        assert stored(repo)["plan_info"]["version"] == 1


def test_plan_shows_the_waiting_change_with_its_cancel_button(
    planned: Chat, repo: InMemoryUserRepository
) -> None:
    checkin_with_creep(planned, "tiktok", "linkedin")
    replies = planned.send("/plan")
    shown = plain(replies[0].text)
    assert shown.startswith("🎯 Dein Fokus-Plan")
    assert "⏳ TikTok kommt am Freitag, 4. Dezember 2026 um 10:00 zurück (statt LinkedIn)" in shown
    assert [b.label for row in replies[0].buttons for b in row] == ["↩ Zurücknehmen"]
    planned.press_data(cancel_data(planned))
    assert stored(repo)["pending_change"] is None
    replies = planned.send("/plan")
    assert "⏳" not in replies[0].text and replies[0].buttons == ()


def test_a_second_easing_request_replaces_the_first_and_its_week_starts_again(
    planned: Chat, repo: InMemoryUserRepository, clock: Clock
) -> None:
    checkin_with_creep(planned, "tiktok", "linkedin")
    clock.now += timedelta(days=3)
    checkin_with_creep(planned, "xing", "linkedin")
    assert "Das ersetzt deinen früheren Wunsch (TikTok statt LinkedIn)" in planned.text
    assert "Xing kommt am Montag, 7. Dezember 2026 um 10:00 zurück (statt LinkedIn)" in (
        planned.text
    )
    assert "Du hast Xing weggelassen (nur das Profil), weil" in planned.text
    waiting = stored(repo)["pending_change"]
    assert (waiting["channel"], waiting["effective_at"]) == ("xing", "2026-12-07T09:00:00+00:00")
    # The very same request again keeps its date.
    clock.now += timedelta(hours=2)
    checkin_with_creep(planned, "xing", "linkedin")
    assert "Genau das hast du schon gewünscht: Das Datum bleibt." in planned.text
    assert stored(repo)["pending_change"] == waiting
    # TikTok's old date passes without effect; Xing's brings Xing back.
    clock.now = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    planned.send("/plan")
    assert stored(repo)["plan_info"]["version"] == 1
    clock.now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    planned.send("/plan")
    assert {k["channel"] for k in stored(repo)["plan"]["kept"]} == {"xing"}


def test_narrowing_applies_at_once_and_a_review_withdraws_what_waits(
    planned: Chat, repo: InMemoryUserRepository
) -> None:
    checkin_with_creep(planned, "tiktok", "linkedin")
    waiting = stored(repo)["pending_change"]
    # Letting a channel go again changes nothing, and leaves the waiting change alone.
    checkin_with_creep(planned, "tiktok", "drop_again")
    assert stored(repo)["pending_change"] == waiting
    assert stored(repo)["plan_info"]["version"] == 1
    # A review with fewer hours narrows the plan: a new version at once, and the change that
    # was worked out on the old one no longer applies (said in the review's answer).
    planned.send("/review")
    planned.send("2")
    planned.press("done")
    while "Geparkt" in planned.question_text:
        planned.press("done")
    assert "Rückblick gespeichert: dein Plan ist jetzt Version 2." in planned.text
    assert "Dein Wunsch, TikTok zurückzuholen, gilt nicht mehr" in planned.text
    document = stored(repo)
    assert document["pending_change"] is None and document["plan"]["capacity"] == 2.0


def test_the_reminder_applies_a_due_change_and_says_so_first(
    planned: Chat, engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    planned.press("setup_checkin")
    planned.press("fri")
    planned.send("8:30")
    planned.send("Berlin")
    checkin_with_creep(planned, "tiktok", "linkedin")
    clock.now = datetime(2026, 12, 11, 7, 30, tzinfo=UTC)  # the next check-in but one
    replies = engine.checkin_reminder("anna", week="2026-W50")
    assert "TikTok ist wieder in deinem Plan" in plain(replies[0].text)
    assert "seit Freitag, 4. Dezember 2026, 10:00" in plain(replies[0].text)
    assert stored(repo)["plan_info"]["version"] == 2
    planned.send("/plan")
    assert "wieder in deinem Plan" not in planned.text  # told once


def test_starting_over_withdraws_the_waiting_change_once(
    planned: Chat, repo: InMemoryUserRepository, clock: Clock
) -> None:
    checkin_with_creep(planned, "tiktok", "linkedin")
    planned.send("/restart")
    planned.press("restart_yes")
    replies = planned.send("/start")
    assert "Dein Wunsch, TikTok zurückzuholen, gilt nicht mehr" in plain(replies[0].text)
    assert stored(repo)["pending_change"] is None
    planned.send("/start")
    assert "zurückzuholen" not in planned.text


def test_a_waiting_change_naming_a_channel_the_catalogue_lost_is_withdrawn(
    planned: Chat, repo: InMemoryUserRepository
) -> None:
    checkin_with_creep(planned, "tiktok", "linkedin")
    document = stored(repo)
    document["pending_change"]["channel"] = "myspace"
    document["pending_change"]["plan"]["kept"][0]["channel"] = "myspace"
    repo.put("anna", document)
    replies = planned.send("/plan")
    assert "myspace zurückzuholen, gilt nicht mehr" in plain(replies[0].text)
    assert stored(repo)["pending_change"] is None
    assert stored(repo)["plan_info"]["version"] == 1


def test_english_confirmation_names_reason_source_date_and_cancel(engine: DialogueEngine) -> None:
    chat = Chat(engine, "ben", language_hint="en")
    onboard_de(chat)  # the same answers; the texts follow the language
    chat.press("show_plan")
    checkin_with_creep(chat, "tiktok", "linkedin")
    text = chat.text
    assert "You left TikTok out because your audience is hardly there – " in text
    # No check-in set up: the zone is the language's (London for English), 09:00 there.
    assert "TikTok comes back on Friday, 4 December 2026, 09:00 (instead of LinkedIn)" in text
    assert "“↩ Cancel” takes it back" in text


# ---- the stored key -------------------------------------------------------------------------


def test_the_stored_change_is_checked_by_the_document_schema(
    planned: Chat, repo: InMemoryUserRepository
) -> None:
    checkin_with_creep(planned, "tiktok", "linkedin")
    document = stored(repo)
    check_user_document(document)  # as written: fine
    check_user_document({**document, "pending_change": None})
    check_user_document({k: v for k, v in document.items() if k != "pending_change"})  # older
    wrong: list[tuple[str, Any]] = [
        ("effective_at", "2026-12-04T09:00:00"),  # no offset
        ("requested_at", 17),
        ("base_version", -1),
        ("reason", "whim"),
        ("plan", {"kept": "tiktok"}),
        ("detail", {"hours": 2}),
    ]
    for key, value in wrong:
        broken = {**document, "pending_change": {**document["pending_change"], key: value}}
        with pytest.raises(ValueError, match="pending_change"):
            check_user_document(broken)
    with pytest.raises(ValueError, match="pending_change"):
        check_user_document({**document, "pending_change": ["tiktok"]})


def test_a_tap_on_cancel_with_nothing_stored_at_all(engine: DialogueEngine) -> None:
    chat = Chat(engine, "new", language_hint="de")
    chat.send("/start")
    replies = engine.handle("new", ButtonPress(encode(0, Action.UNDO, "1-1")))
    assert "Dieser Button gilt nicht mehr" in plain(replies[0].text)


def test_a_review_that_keeps_a_changed_reason_out_applies_at_once(
    planned: Chat, repo: InMemoryUserRepository
) -> None:
    planned.send("/review")
    planned.send("3")
    planned.press("tiktok", "done")  # TikTok's reason has changed ...
    planned.press("drop_again")  # ... and still it stays out
    while "Geparkt" in planned.question_text:
        planned.press("done")
    assert "Rückblick gespeichert: dein Plan ist jetzt Version 2." in planned.text
    assert stored(repo)["pending_change"] is None


def test_new_hours_that_alone_bring_a_channel_back_wait_as_a_whole(
    engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    chat = Chat(engine, "cem", language_hint="de")
    chat.send("/start")
    chat.press("continue")
    chat.press("linkedin", "newsletter", "instagram", "done")
    chat.send("2")
    chat.press("b2b_dach", "done")
    chat.press("leads", "done")
    chat.press("alone")
    chat.press("none")
    chat.press("show_plan")
    document = repo.get("cem")
    assert document is not None and "linkedin" not in {
        k["channel"] for k in document["plan"]["kept"]
    }
    chat.send("/review")
    chat.send("6")
    while "Rückblick gespeichert" not in chat.text:
        chat.press("done")
    assert "Dein Plan bleibt vorerst Version 1: LinkedIn kommt nach einer Abkühlwoche zurück" in (
        chat.text
    )
    document = repo.get("cem")
    assert document is not None
    assert document["plan_info"]["version"] == 1 and document["plan"]["capacity"] == 2.0
    # The hours answer waits with the plan (the review has ended: the onboarding is current).
    assert document["dialogue"]["answers"]["hours"] == 2.0
    clock.now += WEEK
    chat.send("/plan")
    assert "LinkedIn ist wieder in deinem Plan" in chat.text
    document = repo.get("cem")
    assert document is not None
    assert (document["plan_info"]["version"], document["plan"]["capacity"]) == (2, 6.0)
    assert document["dialogue"]["answers"]["hours"] == 6.0
    chat.send("/plan")
    assert repo.get("cem")["plan_info"]["version"] == 2  # type: ignore[index]
