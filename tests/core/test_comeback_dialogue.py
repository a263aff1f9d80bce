"""Never miss twice in the dialogue: the softer check-in after one missed week, what got in the
way and what it changes, and the comeback offer's minimum week (engine, injected clock)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dialogue_driver import Chat
from test_engine import onboard_de

from bot.core.callbacks import decode
from bot.core.checkin_stats import judge_week
from bot.core.content import Content
from bot.core.due_kinds import Kind
from bot.core.engine import DialogueEngine
from bot.core.focus_plan import FocusPlan
from bot.core.light_week import smallest_weekly_hours
from storage import InMemoryUserRepository

BERLIN = ZoneInfo("Europe/Berlin")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def berlin(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=BERLIN).astimezone(UTC)


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
def chat(engine: DialogueEngine) -> Chat:
    """A German user with a two-channel plan and a check-in on Mondays at 09:00 (Berlin)."""
    chat = Chat(engine, "anna", language_hint="de")
    onboard_de(chat, hours="6")
    chat.press("show_plan")
    chat.press("setup_checkin")
    chat.press("mon")
    chat.send("9:00")
    chat.send("Berlin")
    return chat


def stored(repo: InMemoryUserRepository) -> dict[str, Any]:
    document = repo.get("anna")
    assert document is not None
    return document


def lapsed(repo: InMemoryUserRepository, *, sent: list[str], answered: list[str]) -> None:
    """Put the user after check-ins ``sent`` of which only ``answered`` were answered."""
    document = stored(repo)
    document["reminder"]["sent_weeks"] = sent
    document["checkins"] = [
        {"week": week, "hours": 2.0, "budget": 2.0, "intention": "Montags posten"}
        for week in answered
    ]
    repo.put("anna", document)


def kept_channels(repo: InMemoryUserRepository) -> list[str]:
    return [entry["channel"] for entry in stored(repo)["plan"]["kept"]]


def remind(chat: Chat, engine: DialogueEngine, week: str, kind: Kind = Kind.CHECKIN) -> None:
    replies = engine.checkin_reminder("anna", week=week, kind=kind)
    chat.replies, chat.question = replies, replies[-1]


def values(chat: Chat) -> list[str]:
    return [token.value for b in chat.buttons() if (token := decode(b.data)) is not None]


# ---- one missed week: softer, one question ---------------------------------------------------
def test_after_one_missed_week_the_check_in_is_softer_and_asks_what_got_in_the_way(
    chat: Chat, engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    lapsed(repo, sent=["2026-W47", "2026-W48", "2026-W49"], answered=["2026-W47"])
    clock.now = berlin(11, 30, 9)  # W48 can no longer be logged late: it is missed

    remind(chat, engine, "2026-W49")

    assert "Neue Woche, neues Kapitel (KW 49)" in chat.text
    assert "Letzte Woche ist ausgefallen – kein Problem" in chat.text
    assert stored(repo)["pending_checkin"]["lapsed"] == 1
    chat.press("start")
    # Last week's if-then cannot be judged after a missed week: this question replaces it.
    assert "Was kam dir dazwischen?" in chat.question_text
    assert "ein neues Kapitel" in chat.question_text
    assert values(chat)[:5] == ["too_much", "ill_away", "too_big", "forgot", "other"]


def test_too_much_on_makes_next_week_lighter_within_the_tap_budget(
    chat: Chat, engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    lapsed(repo, sent=["2026-W47", "2026-W48", "2026-W49"], answered=["2026-W47"])
    clock.now = berlin(11, 30, 9)
    remind(chat, engine, "2026-W49")
    chat.press("start")
    kept = kept_channels(repo)
    assert len(kept) == 2
    taps = 0

    def tap(*keys: str) -> None:
        nonlocal taps
        chat.press(*keys)
        taps += len(keys)

    tap("too_much")
    tap(*kept, "done")
    tap("2")
    tap("none")
    tap("e3")
    # What got in the way is the obstacle too: the plan for "no time" comes at once.
    assert "Die Zeit wird knapp" in chat.question_text
    tap("confirm")

    assert taps == 8  # what got in the way took the place of last week's if-then
    assert "Nächste Woche wird leichter (KW 50)" in chat.text
    assert "Weil zu viel los war" in chat.text
    plan = FocusPlan.from_dict(stored(repo)["plan"])
    light = stored(repo)["light_week"]
    expected = round(sum(smallest_weekly_hours(k, engine.content.catalogue) for k in plan.kept), 2)
    assert light == {"week": "2026-W50", "channels": kept, "budget": expected, "why": "too_much"}
    assert 0 < expected < plan.hours_planned
    assert stored(repo)["checkins"][-1]["in_the_way"] == "too_much"
    chat.send("/plan")
    assert "Eine leichtere Woche (KW 50): jeder Kanal im kleinsten Rhythmus" in chat.text

    # Next week's check-in is judged against the lighter budget.
    clock.now = berlin(12, 7, 9)
    remind(chat, engine, "2026-W50")
    assert "Diese Woche war deine leichtere Woche" in chat.text
    chat.press("start")
    chat.press("yes")  # W49's if-then is checked again: W49 was answered
    tap(*kept, "done")
    chat.send(str(expected).replace(".", ","))
    chat.press("none", "e4", "skip")
    record = stored(repo)["checkins"][-1]
    assert (record["week"], record["budget"], record["light"]) == (
        "2026-W50",
        expected,
        "too_much",
    )
    assert judge_week(record).on_plan
    assert "Das war deine leichtere Woche" in chat.text


def test_a_plan_too_big_makes_next_week_lighter_too_and_says_why(
    chat: Chat, engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    lapsed(repo, sent=["2026-W47", "2026-W48", "2026-W49"], answered=["2026-W47"])
    clock.now = berlin(11, 30, 9)
    remind(chat, engine, "2026-W49")
    chat.press("start", "too_big")
    chat.press(*kept_channels(repo), "done")
    chat.send("1")
    chat.press("none", "e2", "skip")

    assert "Weil der Plan zu groß war" in chat.text
    light = stored(repo)["light_week"]
    assert (light["week"], light["why"]) == ("2026-W50", "too_big")


def test_slipped_my_mind_offers_only_the_smallest_if_then(
    chat: Chat, engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    lapsed(repo, sent=["2026-W47", "2026-W48", "2026-W49"], answered=["2026-W47"])
    clock.now = berlin(11, 30, 9)
    remind(chat, engine, "2026-W49")
    chat.press("start", "forgot")
    chat.press(*kept_channels(repo), "done")
    chat.send("1")
    chat.press("none", "e3")

    # It slipped the mind: that is the obstacle, and its plan is the smallest step.
    assert "Es geht im Alltag unter" in chat.question_text
    assert "zehn Minuten auf Kommentare" in chat.question_text
    chat.press("confirm")
    assert "zehn Minuten auf Kommentare" in stored(repo)["checkins"][-1]["intention"]
    assert "Kleiner anfangen" in chat.text
    assert stored(repo).get("light_week") is None


def test_ill_or_away_changes_nothing_and_says_so(
    chat: Chat, engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    lapsed(repo, sent=["2026-W47", "2026-W48", "2026-W49"], answered=["2026-W47"])
    clock.now = berlin(11, 30, 9)
    remind(chat, engine, "2026-W49")
    chat.press("start", "ill_away")
    chat.press(*kept_channels(repo), "done")
    chat.send("1")
    chat.press("none", "e3", "no_time", "confirm")

    assert "An deinem Plan ändert sich nichts" in chat.text
    assert stored(repo).get("light_week") is None


def test_without_a_missed_week_the_check_in_is_as_usual(
    chat: Chat, engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    lapsed(repo, sent=["2026-W48", "2026-W49"], answered=["2026-W48"])
    clock.now = berlin(11, 30, 9)
    remind(chat, engine, "2026-W49")
    assert "Zeit für deinen Fokus-Check-in (KW 49)" in chat.text
    chat.press("start")
    assert "Hat das geklappt?" in chat.question_text  # last week's if-then, as always


# ---- two missed weeks: the comeback offer ----------------------------------------------------
def offered(
    chat: Chat, engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    lapsed(repo, sent=["2026-W47", "2026-W48", "2026-W49"], answered=["2026-W47"])
    clock.now = berlin(12, 7, 9)
    remind(chat, engine, "2026-W50", Kind.COMEBACK)


def test_the_comeback_offers_a_minimum_week_of_the_main_channel(
    chat: Chat, engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    offered(chat, engine, repo, clock)
    main = kept_channels(repo)[0]
    name = engine.content.catalogue.channel(main).label["de"]

    assert "Ein neues Kapitel" in chat.text
    assert "Die letzten 2 Wochen sind ohne Check-in geblieben" in chat.text
    assert "Dein Plan und alle deine Wochen bleiben" in chat.text
    assert f"Minimalwoche: nur {name}, 1 " in chat.text
    assert "Beim nächsten Check-in am 14. Dezember 2026 frage ich nur danach" in chat.text
    assert values(chat) == ["minimum", "normal", "pause"]

    chat.press("minimum")

    plan = FocusPlan.from_dict(stored(repo)["plan"])
    budget = smallest_weekly_hours(plan.kept[0], engine.content.catalogue)
    assert stored(repo)["light_week"] == {
        "week": "2026-W51",
        "channels": [main],
        "budget": budget,
        "why": "comeback",
    }
    assert "Deine Minimalwoche läuft" in chat.text
    assert stored(repo)["plan"] == plan.to_dict()  # never a reset: the plan stays
    chat.send("/plan")
    assert f"Deine Minimalwoche (KW 51): nur {name}" in chat.text

    # Its check-in asks about the main channel only and judges it against the minimum budget.
    clock.now = berlin(12, 14, 9)
    remind(chat, engine, "2026-W51")
    assert "Diese Woche war deine Minimalwoche" in chat.text
    chat.press("start")
    assert [v for v in values(chat) if v in kept_channels(repo)] == [main]
    chat.press(main, "done")
    chat.send("0,3")
    chat.press("none", "e4", "skip")
    record = stored(repo)["checkins"][-1]
    assert record["channels"] == {main: "on_plan"}
    assert (record["budget"], record["light"]) == (budget, "comeback")
    assert judge_week(record).on_plan
    assert "Das war deine Minimalwoche" in chat.text
    chat.send("/plan")
    assert "Minimalwoche" not in chat.text  # a past week is not shown any more


def test_back_to_the_normal_plan_stores_no_light_week(
    chat: Chat, engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    offered(chat, engine, repo, clock)
    chat.press("normal")
    assert "mit deinem normalen Plan weiter" in chat.text
    assert "14. Dezember 2026 um 09:00" in chat.text
    assert stored(repo).get("light_week") is None
    assert stored(repo)["dialogue"]["confirm"] is None


def test_pause_opens_the_pause_question_of_the_settings(
    chat: Chat, engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    offered(chat, engine, repo, clock)
    chat.press("pause")
    assert values(chat)[:4] == ["w1", "w2", "w3", "w4"]
    chat.press("w2")
    assert stored(repo)["reminder"]["paused_until"] == "2026-12-21"


def test_a_used_or_forged_comeback_button_is_out_of_date_and_changes_nothing(
    chat: Chat, engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    offered(chat, engine, repo, clock)
    minimum = chat.button("minimum").data
    forged = minimum.replace("minimum", "maximum")
    chat.press_data(forged)
    assert "veraltet" in chat.text or "nicht mehr" in chat.text
    assert stored(repo).get("light_week") is None
    chat.press("normal")
    chat.press_data(minimum)  # the offer was answered: its buttons are used up
    assert stored(repo).get("light_week") is None
