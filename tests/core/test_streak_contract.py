"""The streak contract through the engine with an injected clock: one user over seven weeks.

December 2026 into January 2027 (Fridays 08:30, Berlin): the rules shown after the first
check-in, a joker declared in /rules, a missed week covered with a joker from the feedback's
offer, a third joker in the quarter refused (the skip counts as missed), a check-in logged late
for its own week, a missed week repaired by a make-up week, and /history showing it all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dialogue_driver import Chat, plain
from test_checkin_dialogue import Clock, schedule_friday_0830
from test_engine import onboard_de

from bot.core.content import Content
from bot.core.due_kinds import Kind
from bot.core.engine import DialogueEngine
from storage import InMemoryUserRepository


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def repo() -> InMemoryUserRepository:
    return InMemoryUserRepository()


@pytest.fixture
def engine(content: Content, repo: InMemoryUserRepository, clock: Clock) -> DialogueEngine:
    return DialogueEngine(content, repo, clock=clock)


@pytest.fixture
def anna(engine: DialogueEngine) -> Chat:
    """A German user with a plan (LinkedIn kept) and a check-in on Fridays at 08:30."""
    chat = Chat(engine, "anna", language_hint="de")
    onboard_de(chat)
    chat.press("show_plan")
    schedule_friday_0830(chat)
    return chat


def friday(day: int, month: int = 12, year: int = 2026) -> datetime:
    """09:00 Berlin on that Friday: half an hour after the check-in was due."""
    return datetime(year, month, day, 8, 0, tzinfo=UTC)


def remind(chat: Chat, engine: DialogueEngine, week: str) -> None:
    [chat.question] = engine.checkin_reminder("anna", week=week)


def rate_the_week(chat: Chat) -> None:
    """The rest of a check-in on plan, from the hours on (LinkedIn rated already)."""
    chat.send("2")
    chat.press("none")
    chat.press("e4")
    chat.press("skip")


def test_a_season_of_the_streak_contract(
    anna: Chat, engine: DialogueEngine, clock: Clock, repo: InMemoryUserRepository
) -> None:
    # Week 49: the first check-in, then the rules in short, once.
    clock.now = friday(4)
    remind(anna, engine, "2026-W49")
    anna.press("checkin_start")
    anna.press("linkedin", "done")
    rate_the_week(anna)
    assert "Die Spielregeln für deine Serie" in anna.text
    assert "Nach Plan: deine erste Woche · 🃏 noch 2 Joker in diesem Quartal" in anna.text

    # /rules: the contract and its sources; next week becomes a joker week.
    anna.send("/rules")
    assert "Deine Spielregeln für die Serie" in anna.question_text
    assert "Sharif & Shu 2017" in anna.question_text
    assert "nicht eigens getestet" in anna.question_text  # "never miss twice": a popular rule
    anna.press("joker_next")
    assert "KW 50 ist deine Joker-Woche" in anna.text
    assert "Noch 1 Joker in diesem Quartal" in anna.text

    # Week 50: skipped from the reminder, the joker declared for it holds.
    clock.now = friday(11)
    remind(anna, engine, "2026-W50")
    anna.press("checkin_skip")
    assert "KW 50 ist eine Joker-Woche" in anna.text

    # Week 51 passes without a word. Week 52's check-in: week 51 is missed, and the
    # feedback offers to cover it (not a step of the check-in).
    clock.now = friday(25)
    remind(anna, engine, "2026-W52")
    anna.press("checkin_start")
    anna.press("linkedin", "done")
    rate_the_week(anna)
    assert "KW 51 ist ohne Check-in geblieben" in anna.question_text
    anna.press("joker_missed")
    assert "KW 51 ist jetzt eine Joker-Woche" in anna.text
    assert "Deine Serie: 2 Wochen nach Plan" in anna.text
    assert "Noch 0 Joker in diesem Quartal" in anna.text

    # Week 53 (Thursday 31 December: still the fourth quarter): a third joker is refused,
    # so skipping the week makes it a missed one.
    clock.now = friday(1, 1, 2027)
    remind(anna, engine, "2026-W53")
    assert "Deine Joker für dieses Quartal sind aufgebraucht" in anna.question_text
    anna.press("checkin_skip")
    assert "KW 53 als ausgefallen" in anna.text

    # Week 1 of 2027: the reminder goes unanswered; the next Thursday /checkin logs it late.
    clock.now = friday(8, 1, 2027)
    remind(anna, engine, "2027-W01")
    clock.now = datetime(2027, 1, 14, 17, 0, tzinfo=UTC)  # before week 2's slot
    anna.send("/checkin")
    assert "Check-in für KW 1 nachtragen" in anna.question_text
    anna.press("linkedin", "done")
    rate_the_week(anna)
    assert "dein Check-in für KW 1 ist gespeichert" in anna.text
    assert "(nachgetragen)" in anna.text
    # Week 53 can still be made up (no joker left): the offer after the feedback.
    assert "KW 53 ist ohne Check-in geblieben" in anna.question_text
    assert [b.label for b in anna.buttons()][:2] == ["🔧 Nachholen", "Nicht jetzt"]
    anna.press("repair")
    assert "Ein zusätzlicher Beitrag auf LinkedIn" in anna.question_text
    anna.press("extra_post")
    assert "KW 2 ist deine Nachholwoche für KW 53" in anna.text

    # Week 2: the make-up week asks about its extra action once; done and on plan repairs.
    clock.now = friday(15, 1, 2027)
    remind(anna, engine, "2027-W02")
    anna.press("checkin_start")
    anna.press("linkedin", "done")
    assert "Nachholwoche für KW 53" in anna.question_text
    anna.press("yes")
    rate_the_week(anna)
    assert "🔥 4 Wochen in Folge nach Plan" in anna.text

    anna.send("/history")
    assert "Nach Plan: 4 der letzten 7 Wochen" in anna.text
    assert "KW 50: Joker-Woche" in anna.text
    assert "KW 53: nachgeholt" in anna.text
    stored = repo.get("anna")
    assert stored is not None
    assert stored["contract"]["jokers"] == [
        {"week": "2026-W50", "how": "declared"},
        {"week": "2026-W51", "how": "used"},
    ]
    assert stored["contract"]["repairs"] == [
        {
            "week": "2026-W53",
            "by": "2027-W02",
            "action": "Ein zusätzlicher Beitrag auf LinkedIn",
            "done": True,
        }
    ]
    assert stored["contract"]["rules_shown"] is True


def test_a_stale_cover_button_spends_no_joker(
    anna: Chat, engine: DialogueEngine, clock: Clock
) -> None:
    clock.now = friday(4)
    remind(anna, engine, "2026-W49")
    anna.press("checkin_start")
    anna.press("linkedin", "done")
    rate_the_week(anna)
    clock.now = friday(18)
    anna.send("/checkin")
    anna.press("linkedin", "done")
    rate_the_week(anna)
    offer = anna.question
    anna.press("joker_missed")
    assert "KW 50 ist jetzt eine Joker-Woche" in anna.text
    anna.question = offer  # the same button again, from the older message
    anna.press("joker_missed")
    assert "nicht mehr aktuell" in anna.text


def test_a_holiday_pause_is_recorded_and_ends_when_resumed(
    anna: Chat, clock: Clock, repo: InMemoryUserRepository
) -> None:
    anna.send("/settings")
    anna.press("pause")
    anna.press("w2")
    stored = repo.get("anna")
    assert stored is not None
    assert stored["contract"]["pauses"] == [{"from": "2026-11-27", "until": "2026-12-11"}]
    clock.now += timedelta(days=3)
    anna.send("/settings")
    anna.press("resume")
    stored = repo.get("anna")
    assert stored is not None
    assert stored["contract"]["pauses"] == [{"from": "2026-11-27", "until": "2026-11-30"}]


def test_last_weeks_check_in_can_be_logged_until_the_next_is_due(
    anna: Chat, engine: DialogueEngine, clock: Clock
) -> None:
    clock.now = friday(4)
    remind(anna, engine, "2026-W49")
    anna.press("checkin_start")
    anna.press("linkedin", "done")
    rate_the_week(anna)
    # Week 50's reminder goes unanswered; the follow-up says until when it can be logged.
    clock.now = friday(11)
    remind(anna, engine, "2026-W50")
    clock.now = friday(12)
    [followup] = engine.checkin_reminder("anna", week="2026-W50", kind=Kind.FOLLOWUP)
    assert "bis Freitag, 18. Dezember 2026, 08:30 Uhr nachtragen" in plain(followup.text)
    # The terminal chat, opened on Thursday, offers last week's check-in to log late.
    clock.now = datetime(2026, 12, 17, 17, 0, tzinfo=UTC)
    assert engine.due_checkin("anna") == "2026-W50"
    [offer] = engine.checkin_reminder("anna", week="2026-W50")
    assert "Check-in für KW 50 nachtragen" in plain(offer.text)
    # From week 51's slot on, week 51 is due and week 50 is missed: /rules says how to cover it.
    clock.now = friday(18)
    assert engine.due_checkin("anna") == "2026-W51"
    anna.send("/rules")
    assert "KW 50 ist ausgefallen" in anna.question_text
    assert "mit einem Joker decken oder nachholen: KW 51 nach Plan" in anna.question_text
