"""/review: the plan walked through with its stored reasons, ending in a new plan version."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dialogue_driver import Chat
from test_checkin_dialogue import Clock, checkin_with_creep, do_checkin
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
def planned(engine: DialogueEngine) -> Chat:
    """LinkedIn kept (3 h a week), Xing a profile only, TikTok dropped."""
    chat = Chat(engine, "anna", language_hint="de")
    onboard_de(chat)
    chat.press("show_plan")
    return chat


def test_review_needs_a_plan(engine: DialogueEngine) -> None:
    chat = Chat(engine, "new", language_hint="de")
    chat.send("/start")
    chat.send("/review")
    assert "Rückblick" not in chat.text


def test_review_walks_hours_and_stored_reasons_to_a_new_version(
    planned: Chat, repo: InMemoryUserRepository, clock: Clock
) -> None:
    for _ in range(3):
        planned.send("/checkin")
        do_checkin(planned, hours="2,5")
        clock.now += timedelta(weeks=1)
    planned.send("/review")
    text = planned.question_text
    assert "Rückblick auf deinen Plan" in text
    assert "Dein Plan rechnet mit 3 Std. pro Woche" in text
    assert "In deinen letzten 3 Check-ins hast du im Schnitt 2,5 Std. gebraucht" in text
    planned.send("6")
    # Each channel left out, with the reason stored when the plan was made; all "still true".
    text = planned.question_text
    assert "TikTok: deine Zielgruppe ist dort kaum zu finden – ✅ stimmt noch" in text
    assert "Xing:" in text
    planned.press("tiktok")  # TikTok: the reason has changed
    assert "TikTok: deine Zielgruppe ist dort kaum zu finden – 🔄 hat sich geändert" in (
        planned.question_text
    )
    planned.press("done")
    # One in, one out: TikTok comes back only if a kept channel makes room.
    room = planned.question_text
    assert "Du hast TikTok weggelassen, weil dein Publikum dort kaum ist" in room
    assert "Eins rein, eins raus" in room
    labels = [b.label for b in planned.buttons()]
    assert labels[:2] == ["TikTok bleibt draußen", "TikTok bleibt, LinkedIn geht"]
    planned.press("linkedin")
    while "Geparkt" in planned.question_text:
        planned.press("done")
    # The new hours apply at once (version 2); TikTok waits out a cool-off on top of them.
    assert "Rückblick gespeichert. Dein Plan bleibt vorerst Version 2" in planned.text
    assert "TikTok kommt am Freitag, 25. Dezember 2026 um 10:00 zurück (statt LinkedIn)" in (
        planned.text
    )
    document = repo.get("anna")
    assert document is not None
    assert document["plan_info"]["version"] == 2 and document["plan"]["capacity"] == 6.0
    assert "tiktok" not in {k["channel"] for k in document["plan"]["kept"]}
    planned.send("/plan")
    assert repo.get("anna")["plan_info"]["version"] == 2  # type: ignore[index]

    clock.now += timedelta(weeks=1)
    planned.send("/plan")
    assert "TikTok ist wieder in deinem Plan" in planned.text
    document = repo.get("anna")
    assert document is not None
    assert document["plan_info"]["reason"] == "review"
    assert document["plan_info"]["inputs"]["hours"] == 6.0
    assert document["plan"]["capacity"] == 6.0
    kept = {k["channel"] for k in document["plan"]["kept"]}
    assert "tiktok" in kept and "linkedin" not in kept
    assert document["plan"]["capacity"] >= sum(k["hours"] for k in document["plan"]["kept"])
    # Showing the plan again keeps the reviewed version (the answers were updated with it).
    planned.send("/plan")
    assert repo.get("anna")["plan_info"]["version"] == 3  # type: ignore[index]
    planned.send("/history")
    assert "Version 3 vom" in planned.text and "nach deinem Rückblick angepasst" in planned.text


def test_a_review_that_changes_nothing_still_dates_the_plan(
    planned: Chat, repo: InMemoryUserRepository
) -> None:
    before = repo.get("anna")
    assert before is not None
    planned.send("/review")
    planned.send("3")
    planned.press("done")
    while "Geparkt" in planned.question_text:
        planned.press("done")
    assert "Deine Gründe stimmen noch" in planned.text
    after = repo.get("anna")
    assert after is not None
    assert after["plan"] == before["plan"]
    assert after["plan_info"]["version"] == 2 and after["plan_info"]["reason"] == "review"


def test_a_review_after_a_swap_keeps_the_users_choice_with_new_hours(
    planned: Chat, repo: InMemoryUserRepository, clock: Clock
) -> None:
    checkin_with_creep(planned, "tiktok", "linkedin")  # TikTok stays, LinkedIn goes
    clock.now += timedelta(weeks=1)  # after its cool-off
    planned.send("/review")
    planned.send("4")
    assert "LinkedIn: du hast seine Zeit TikTok gegeben" in planned.question_text
    planned.press("done")
    while "Geparkt" in planned.question_text:
        planned.press("done")
    document = repo.get("anna")
    assert document is not None
    kept = {k["channel"] for k in document["plan"]["kept"]}
    assert "tiktok" in kept and "linkedin" not in kept


def test_the_offer_starts_the_review_or_leaves_the_user_where_they_were(
    planned: Chat, engine: DialogueEngine
) -> None:
    replies = engine.checkin_reminder("anna", week="2027-W08", kind=Kind.REVIEW)
    planned.replies = replies
    planned.question = replies[-1]
    assert "Zwölf Wochen mit deinem Plan" in planned.question_text
    planned.press("review_offer_no")
    assert "mit /review geht es jederzeit" in planned.text
    planned.button("show_plan_again")  # back at the plan menu, nothing dropped

    replies = engine.checkin_reminder("anna", week="2027-W08", kind=Kind.REVIEW)
    planned.replies = replies
    planned.question = replies[-1]
    planned.press("review_offer_yes")
    assert "Rückblick auf deinen Plan" in planned.question_text
