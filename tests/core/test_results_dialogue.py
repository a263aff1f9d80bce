"""The user's own results through the engine: the 🎯 in the check-in grid, the record, and what
the review and /history make of them (minutes per result, what decides, hours reclaimed)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from dialogue_driver import Chat
from test_checkin_dialogue import Clock
from test_engine import onboard_de

from bot.core.callbacks import Action, decode, encode
from bot.core.content import Content
from bot.core.engine import DialogueEngine
from bot.core.locale_format import format_number
from bot.core.own_results import MIN_WEEKS
from bot.core.schedule import local_week_key
from storage import InMemoryUserRepository

ONBOARDED = Clock().now  # the plan's first version is made at this instant


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def repo() -> InMemoryUserRepository:
    return InMemoryUserRepository()


@pytest.fixture
def engine(content: Content, repo: InMemoryUserRepository, clock: Clock) -> DialogueEngine:
    return DialogueEngine(content, repo, clock=clock)


def planned_chat(engine: DialogueEngine, lang: str) -> Chat:
    """LinkedIn and the newsletter kept, TikTok dropped, Xing a profile only."""
    chat = Chat(engine, f"user_{lang}", language_hint=lang)
    onboard_de(chat, hours="6")
    chat.press("show_plan")
    return chat


@pytest.fixture
def planned(engine: DialogueEngine, repo: InMemoryUserRepository) -> Chat:
    chat = planned_chat(engine, "de")
    kept = [k["channel"] for k in repo.get(chat.user_id)["plan"]["kept"]]  # type: ignore[index]
    assert kept == ["linkedin", "newsletter"]
    return chat


def finish_checkin(chat: Chat) -> None:
    chat.send("3")
    chat.press("none")
    chat.press("e4")
    chat.press("skip")


def records(user: Chat, repo: InMemoryUserRepository) -> list[dict[str, Any]]:
    return repo.get(user.user_id)["checkins"]  # type: ignore[index,no-any-return]


def seed_weeks(
    repo: InMemoryUserRepository, chat: Chat, clock: Clock, results: list[Any], **extra: Any
) -> None:
    """Stored check-ins for the weeks before ``clock.now``, one per item of ``results``."""
    document = repo.get(chat.user_id)
    assert document is not None
    count = len(results)
    document["checkins"] = [
        {
            "week": local_week_key(clock.now - timedelta(weeks=count - n), "Europe/Berlin"),
            "channels": {"linkedin": "on_plan", "newsletter": "on_plan"},
            "hours": 3.0,
            "budget": 3.0,
            "energy": 4,
            "results": marked,
            **extra,
        }
        for n, marked in enumerate(results)
    ]
    repo.put(chat.user_id, document)


def test_the_mark_is_one_tap_beside_each_channel_and_saved_with_the_week(
    planned: Chat, repo: InMemoryUserRepository
) -> None:
    planned.send("/checkin")
    assert "Dann tippe auf sein 🎯" in planned.question_text
    labels = [[b.label for b in row] for row in planned.question.buttons]  # type: ignore[union-attr]
    assert labels[:2] == [["❔ LinkedIn", "☐ 🎯 Ergebnis"], ["❔ Newsletter", "☐ 🎯 Ergebnis"]]
    planned.press("linkedin", "newsletter")
    planned.press("+newsletter")
    assert "Newsletter: ✅ nach Plan · 🎯 hat etwas gebracht" in planned.question_text
    assert planned.button("+newsletter").label == "☑ 🎯 Ergebnis"
    planned.press("+newsletter")  # a second tap takes it back
    assert "🎯 hat etwas gebracht" not in planned.question_text
    planned.press("+newsletter")
    planned.press("done")
    assert "Newsletter: ✅ nach Plan 🎯" in planned.text  # the echo of the answer
    finish_checkin(planned)
    assert records(planned, repo)[-1]["results"] == ["newsletter"]
    assert records(planned, repo)[-1]["channels"] == {
        "linkedin": "on_plan",
        "newsletter": "on_plan",
    }
    # /export's table has the results too, in the user's words.
    table = next(
        r.document
        for r in planned.send("/export")
        if r.document and r.document.filename.endswith(".csv")
    )
    rows = list(csv.reader(io.StringIO(table.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][rows[0].index("Ergebnisse (🎯)")] == "Newsletter"


def test_a_week_without_results_costs_no_tap_and_records_none(
    planned: Chat, repo: InMemoryUserRepository
) -> None:
    planned.send("/checkin")
    planned.press("linkedin", "newsletter", "done")
    finish_checkin(planned)
    assert records(planned, repo)[-1]["results"] == []


def test_going_back_to_the_grid_keeps_the_marks(planned: Chat) -> None:
    planned.send("/checkin")
    planned.press("+linkedin", "linkedin", "newsletter", "done")
    planned.press("back")
    assert planned.button("+linkedin").label == "☑ 🎯 Ergebnis"
    assert planned.button("+newsletter").label == "☐ 🎯 Ergebnis"


def test_stale_and_forged_marks_change_nothing(
    planned: Chat, repo: InMemoryUserRepository
) -> None:
    planned.send("/checkin")
    old = planned.button("+linkedin").data
    planned.press("linkedin")  # the same message: its buttons stay valid
    planned.press_data(old)
    assert planned.button("+linkedin").label == "☑ 🎯 Ergebnis"
    turn = decode(old).turn  # type: ignore[union-attr]
    for forged in ("+tiktok", "+", "++linkedin"):
        planned.press_data(encode(turn, Action.TOGGLE, forged))
        assert "nicht mehr aktuell" in planned.text
    planned.press("newsletter", "done")
    planned.press("back")  # a new turn: the grid's old buttons are out of date
    planned.press_data(old)
    assert "nicht mehr aktuell" in planned.text
    planned.press("done")
    finish_checkin(planned)
    assert records(planned, repo)[-1]["results"] == ["linkedin"]


def test_the_review_after_eight_weeks_says_own_numbers_decide_and_differ(
    engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    texts = {}
    for lang in ("de", "en"):
        chat = planned_chat(engine, lang)
        # The newsletter brings something every week, LinkedIn once in nine.
        seed_weeks(repo, chat, clock, [["newsletter", "linkedin"]] + [["newsletter"]] * 8)
        chat.send("/review")
        texts[lang] = chat.question_text
    plan = repo.get("user_de")["plan"]  # type: ignore[index]
    hours = {k["channel"]: k["hours"] for k in plan["kept"]}
    share = hours["newsletter"] / (hours["linkedin"] + hours["newsletter"])
    per_result = format_number(3 * 60 * share, "de", digits=0)
    de, en = texts["de"], texts["en"]
    assert "Deine eigenen Ergebnisse" in de
    assert "aus 9 Wochen mit markierten Ergebnissen. Geschätzt:" in de
    assert f"• Newsletter: {per_result} Min. pro Ergebnis (9 Ergebnisse in 9 Wochen" in de
    assert "• LinkedIn: " in de and "(1 Ergebnis in 9 Wochen" in de
    assert "entscheiden jetzt deine eigenen Zahlen" in de
    assert "nach deinen Zahlen Newsletter → LinkedIn, nach dem Katalog LinkedIn → Newsletter" in de
    assert de.index("Newsletter:") < de.index("LinkedIn:")  # listed in the decided order
    assert "Your own results" in en
    assert "over 9 weeks with results marked. An estimate:" in en
    assert f"• Newsletter: {per_result} min per result (9 results in 9 weeks" in en
    assert "decided by your own numbers" in en
    assert "by your numbers Newsletter → LinkedIn, by the catalogue LinkedIn → Newsletter" in en
    assert "How many hours a week" in en  # the review's question follows


def test_before_eight_weeks_the_catalogue_decides_and_says_why(
    engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    for lang, expected in (
        ("de", "entscheiden noch die Daten des Katalogs"),
        ("en", "still comes from the catalogue's data"),
    ):
        chat = planned_chat(engine, lang)
        seed_weeks(repo, chat, clock, [["newsletter"]] * 3)
        chat.send("/review")
        assert expected in chat.question_text
        assert "Min. pro Ergebnis" not in chat.question_text
        assert "min per result" not in chat.question_text
    de = Chat(engine, "user_de", language_hint="de")
    de.send("/cancel")
    de.send("/review")
    assert f"erst in 3 von {MIN_WEEKS} Wochen Ergebnisse festgehalten" in de.question_text


def test_a_review_before_any_result_says_none_was_marked_yet(planned: Chat) -> None:
    planned.send("/review")
    assert "Du hast noch keine Ergebnisse festgehalten" in planned.question_text
    assert "entscheiden noch die Daten des Katalogs" in planned.question_text


def test_enough_weeks_with_too_few_results_leave_the_order_to_the_catalogue(
    engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    chat = planned_chat(engine, "de")
    seed_weeks(repo, chat, clock, [["linkedin"]] + [[]] * (MIN_WEEKS - 1))
    chat.send("/review")
    text = chat.question_text
    assert "In 8 Wochen hast du erst 1 Ergebnis festgehalten – zu wenige" in text
    assert "Min. pro Ergebnis" in text  # the numbers are shown all the same
    assert "noch kein Ergebnis in 8 Wochen" in text


def test_history_shows_results_and_the_hours_won_back(
    planned: Chat, repo: InMemoryUserRepository, clock: Clock, content: Content
) -> None:
    clock.now = ONBOARDED + timedelta(weeks=10, days=1)
    seed_weeks(repo, planned, clock, [["newsletter"]] * 9)
    document = repo.get(planned.user_id)
    assert document is not None
    document["checkins"][3]["creep"] = "tiktok"  # one week TikTok crept back
    repo.put(planned.user_id, document)
    planned.send("/history")
    text = planned.text
    assert "Deine eigenen Ergebnisse" in text
    assert "entscheiden jetzt deine eigenen Zahlen" in text
    tiktok = round(content.catalogue.channel("tiktok").hours_per_week, 1)
    weekly = format_number(tiktok, "de")
    total = format_number(9 * tiktok, "de")
    assert "Zurückgewonnene Zeit" in text
    assert f"• TikTok, weggelassen seit 27. November 2026: 9 Wochen × {weekly} Std. = {total}" in (
        text
    )
    assert "(Wochen, in denen er zurückkam, zählen nicht: 1 Woche)" in text
    assert "kleinsten sinnvollen Rhythmus laut Katalog" in text
    assert "Xing" not in text.split("Zurückgewonnene Zeit")[1]  # a profile only: not dropped


def test_history_in_english_before_a_whole_week_says_nothing_of_either(
    engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    chat = planned_chat(engine, "en")
    chat.send("/checkin")
    chat.press("linkedin", "newsletter", "+linkedin", "done")
    finish_checkin(chat)
    chat.send("/history")
    assert "Your own results" in chat.text
    assert f"marked results in 1 of the {MIN_WEEKS} weeks needed" in chat.text
    assert "Time won back" not in chat.text  # dropped today: nothing won yet


@pytest.mark.parametrize("stored", ["linkedin", {"linkedin": 1}, [1, 2], 7, True])
def test_results_of_a_wrong_type_neither_count_nor_break_history_or_review(
    engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock, stored: Any
) -> None:
    chat = planned_chat(engine, "de")
    seed_weeks(repo, chat, clock, [stored] * 3 + [["linkedin"]] * 2)
    chat.send("/history")
    assert "Deine Wochen" in chat.text
    assert "erst in 2 von 8 Wochen" in chat.text  # the damaged weeks do not count
    chat.send("/review")
    assert "erst in 2 von 8 Wochen" in chat.question_text
