"""Whole conversations through the dialogue engine, in German and English."""

from __future__ import annotations

from pathlib import Path

import pytest
from dialogue_driver import Chat

from bot.core.content import Content
from bot.core.engine import DialogueEngine
from bot.core.messages import ReplyKind
from storage import InMemoryUserRepository, TinyDBUserRepository


def onboard_de(chat: Chat, *, hours: str = "3") -> None:
    """Answer every onboarding question for a B2B consultant."""
    chat.send("/start")
    chat.press("continue")
    chat.press("linkedin", "xing", "tiktok")
    chat.press("done")
    chat.send(hours)
    if float(hours.replace(",", ".")) < 2:
        chat.press("continue")
    chat.press("b2b_dach", "done")
    chat.press("leads", "done")
    chat.press("alone")
    chat.press("tiktok")


def test_full_onboarding_in_german(chat_de: Chat, engine: DialogueEngine) -> None:
    chat_de.send("/start")
    assert "Fokus-Coach" in chat_de.text
    assert "Niemand kann alle" in chat_de.text
    onboard_de(chat_de)
    assert "Deine Antworten" in chat_de.question_text
    assert "Kanäle: LinkedIn, Xing, TikTok" in chat_de.question_text
    assert "Stunden pro Woche: 3 Std." in chat_de.question_text

    chat_de.press("show_plan")

    plan = chat_de.text
    assert "Dein Fokus-Plan" in plan
    assert "✅ LinkedIn" in plan
    assert "✖️ TikTok" in plan
    assert "📇 Xing" in plan  # findable, nothing posted: XING is becoming a job portal
    assert "Zu deinem gefühlten Muss: TikTok" in plan
    assert "/sources" in plan  # every source in full one command away
    stored = engine.repository.get("anna")
    assert stored is not None
    assert stored["plan"]["kept"][0]["channel"] == "linkedin"


def test_full_onboarding_in_english(chat_en: Chat) -> None:
    chat_en.send("/start")
    assert "Nobody can do every social network" in chat_en.text
    chat_en.press("continue")
    chat_en.press("instagram", "tiktok", "facebook", "done")
    chat_en.press("12")
    chat_en.press("consumers_u30", "done")
    chat_en.press("awareness", "ecommerce", "done")
    chat_en.press("team")
    chat_en.press("none")
    assert "Your answers" in chat_en.question_text
    chat_en.press("show_plan")
    assert "Your focus plan" in chat_en.text
    assert "Keep" in chat_en.text
    assert "felt must" not in chat_en.text


def test_each_answered_question_is_echoed_as_an_edit(chat_de: Chat) -> None:
    chat_de.send("/start")
    replies = chat_de.press("continue")
    assert [r.kind for r in replies] == [ReplyKind.QUESTION]
    chat_de.press("linkedin")
    toggle = chat_de.replies
    assert len(toggle) == 1 and toggle[0].edits_question
    assert "✅ LinkedIn" in [b.label for row in toggle[0].buttons for b in row]
    replies = chat_de.press("done")
    assert replies[0].kind is ReplyKind.ANSWERED and replies[0].edits_question
    assert "➜ LinkedIn" in chat_de.text
    assert replies[-1].kind is ReplyKind.QUESTION


def test_back_goes_one_step_and_keeps_the_answer(chat_de: Chat) -> None:
    chat_de.send("/start")
    chat_de.send("/back")
    assert "ganz am Anfang" in chat_de.text
    chat_de.press("continue")
    chat_de.press("linkedin", "done")
    assert "Deine echte Zeit" in chat_de.question_text
    chat_de.press("back")
    assert "Deine Kanäle heute" in chat_de.question_text
    assert "✅ LinkedIn" in [b.label for b in chat_de.buttons()]
    chat_de.press("done")
    chat_de.send("/back")
    assert "Deine Kanäle heute" in chat_de.question_text


def test_change_one_answer_from_the_summary_returns_to_it(chat_de: Chat) -> None:
    onboard_de(chat_de)
    chat_de.press("hours")
    assert "Stunden ändern" in chat_de.question_text
    chat_de.send("12")
    assert "Deine Antworten" in chat_de.question_text
    assert "Stunden pro Woche: 12 Std." in chat_de.question_text
    assert "Kanäle: LinkedIn, Xing, TikTok" in chat_de.question_text
    chat_de.press("goals")
    chat_de.press("back")
    assert "Deine Antworten" in chat_de.question_text


def test_plan_menu_shows_again_and_back_returns_to_summary(chat_de: Chat) -> None:
    onboard_de(chat_de)
    chat_de.press("show_plan")
    chat_de.press("show_plan_again")
    assert "Dein Fokus-Plan" in chat_de.text
    chat_de.send("/plan")
    assert "Dein Fokus-Plan" in chat_de.text
    chat_de.press("change_answers")
    assert "Deine Antworten" in chat_de.question_text


def test_plan_before_all_answers_says_what_is_missing(chat_de: Chat) -> None:
    chat_de.send("/start")
    chat_de.send("/plan")
    assert "fehlen mir noch" in chat_de.text
    assert "Hallo, ich bin dein Fokus-Coach" in chat_de.question_text


def test_restart_asks_first_and_then_discards_answers(
    chat_de: Chat, engine: DialogueEngine
) -> None:
    onboard_de(chat_de)
    chat_de.send("/restart")
    assert "Wirklich neu beginnen" in chat_de.text
    chat_de.press("restart_no")
    assert "Deine Antworten" in chat_de.question_text
    chat_de.send("/restart")
    chat_de.press("restart_yes")
    assert "Alles zurückgesetzt" in chat_de.text
    assert "Hallo, ich bin dein Fokus-Coach" in chat_de.question_text
    stored = engine.repository.get("anna")
    assert stored is not None and stored["dialogue"]["answers"] == {}


def test_language_can_be_changed(chat_de: Chat) -> None:
    chat_de.send("/start")
    chat_de.send("/language")
    chat_de.press("language_en")
    assert "from now on I will speak English" in chat_de.text
    assert "Hi, I am your focus coach" in chat_de.question_text
    chat_de.send("/language de")
    assert "spreche ich Deutsch" in chat_de.text


def test_quitting_mid_dialogue_resumes_at_the_same_question(
    content: Content, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    repo = TinyDBUserRepository(data)
    chat = Chat(DialogueEngine(content, repo), "console:anna")
    chat.send("/start")
    chat.press("continue")
    chat.press("linkedin", "done")
    chat.send("4,5")
    question = chat.question_text
    repo.close()

    repo = TinyDBUserRepository(data)
    chat = Chat(DialogueEngine(content, repo), "console:anna")
    chat.send("/start")
    assert "Willkommen zurück" in chat.text
    assert chat.question_text == question
    chat.send("/back")
    assert "Schritt 2 von 6" in chat.question_text
    chat.send("/back")
    assert "✅ LinkedIn" in [b.label for b in chat.buttons()]
    repo.close()


# ---- bad input -----------------------------------------------------------------------------


@pytest.fixture
def at_hours(chat_de: Chat) -> Chat:
    chat_de.send("/start")
    chat_de.press("continue")
    chat_de.press("done")
    assert "Deine echte Zeit" in chat_de.question_text
    return chat_de


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("100", "zwischen 0,5 und 60"),
        ("0", "zwischen 0,5 und 60"),
        ("viel", "brauche hier eine Zahl"),
        ("", "Da kam nichts an"),
        ("   \t ", "Da kam nichts an"),
        ("\x00\x07\x1b", "Da kam nichts an"),
        ("x" * 10_000, "höchstens 4.096 Zeichen"),
    ],
)
def test_bad_numbers_get_a_hint_and_the_same_question(
    at_hours: Chat, typed: str, hint: str
) -> None:
    at_hours.send(typed)
    assert hint in at_hours.text
    assert "Deine echte Zeit" in at_hours.question_text


def test_control_characters_around_a_number_are_ignored(at_hours: Chat) -> None:
    at_hours.send("\x00 2,5 Std.\x07")
    assert "Schritt 3 von 6" in at_hours.question_text


def test_text_where_a_button_is_expected_gets_a_hint(chat_de: Chat) -> None:
    chat_de.send("/start")
    chat_de.press("continue")
    chat_de.send("LinkedIn bitte")
    assert "mit den Knöpfen" in chat_de.text
    assert "Deine Kanäle heute" in chat_de.question_text


def test_stale_button_says_out_of_date_and_asks_the_current_question(chat_de: Chat) -> None:
    chat_de.send("/start")
    old = chat_de.button("continue").data
    chat_de.press("continue")
    chat_de.press_data(old)
    assert "nicht mehr aktuell" in chat_de.text
    assert "Deine Kanäle heute" in chat_de.question_text


@pytest.mark.parametrize(
    "data", ["", "x", "9999.o.linkedin", "1.z.q", "1.o.", "-1.o.x", "١.o.x", "a" * 300]
)
def test_forged_buttons_change_nothing(chat_de: Chat, engine: DialogueEngine, data: str) -> None:
    chat_de.send("/start")
    before = engine.repository.get("anna")
    chat_de.press_data(data)
    assert "nicht mehr aktuell" in chat_de.text
    after = engine.repository.get("anna")
    assert after is not None and before is not None
    assert after["dialogue"]["answers"] == before["dialogue"]["answers"]
    assert after["dialogue"]["step"] == before["dialogue"]["step"]


def test_a_current_turn_with_an_unknown_option_is_refused(chat_de: Chat) -> None:
    chat_de.send("/start")
    chat_de.press("continue")
    turn = chat_de.button("linkedin").data.split(".")[0]
    chat_de.press_data(f"{turn}.t.myspace")
    assert "nicht mehr aktuell" in chat_de.text
    chat_de.press_data(f"{turn}.o.linkedin")  # a single-choice action on a multi choice
    assert "nicht mehr aktuell" in chat_de.text


def test_at_most_two_audiences(chat_de: Chat) -> None:
    onboard_de(chat_de)
    chat_de.press("audiences")
    chat_de.press("local")
    chat_de.press("trainees")
    assert "Höchstens 2" in chat_de.text
    ticked = [b.label for b in chat_de.buttons() if b.label.startswith("✅")]
    assert len(ticked) == 2


def test_at_least_one_goal(chat_de: Chat) -> None:
    onboard_de(chat_de)
    chat_de.press("goals")
    chat_de.press("leads")  # untick the only goal
    chat_de.press("done")
    assert "mindestens 1" in chat_de.text
    assert "Ziele ändern" in chat_de.question_text


def test_unknown_command_is_escaped(chat_de: Chat) -> None:
    chat_de.send("/start")
    replies = chat_de.send("/<b>x</b>")
    assert "&lt;b&gt;" in replies[0].text
    assert "<b>x</b>" not in replies[0].text


def test_cancel_pauses_and_start_resumes(chat_de: Chat) -> None:
    chat_de.send("/start")
    chat_de.press("continue")
    chat_de.send("/cancel")
    assert "Pause" in chat_de.text
    chat_de.send("/start")
    assert "Deine Kanäle heute" in chat_de.question_text


def test_low_capacity_and_customer_service_notes_follow_the_conditions(chat_en: Chat) -> None:
    chat_en.send("/start")
    chat_en.press("continue")
    chat_en.press("instagram", "done")
    chat_en.send("1.5")
    assert "Under 2 hours a week" in chat_en.question_text
    chat_en.press("continue")
    chat_en.press("local", "done")
    chat_en.press("customer_service", "done")
    assert "customer service" in chat_en.question_text
    chat_en.press("continue")
    chat_en.press("alone")
    chat_en.press("instagram")
    chat_en.press("show_plan")
    assert "without video" in chat_en.text
    assert "customer-service replies" in chat_en.text


def test_any_first_message_starts_the_dialogue(engine: DialogueEngine) -> None:
    chat = Chat(engine, "carla", language_hint="en")
    chat.send("hello?")
    assert "Hi, I am your focus coach" in chat.question_text


def test_state_is_saved_before_the_reply_is_returned(content: Content) -> None:
    repo = InMemoryUserRepository()
    chat = Chat(DialogueEngine(content, repo), "dora")
    chat.send("/start")
    chat.press("continue")
    chat.press("facebook", "done")
    stored = repo.get("dora")
    assert stored is not None
    assert stored["dialogue"]["answers"] == {"channels": ["facebook"]}
    assert stored["dialogue"]["step"] == "hours"


def test_export_holds_everything_stored(chat_de: Chat, engine: DialogueEngine) -> None:
    import json

    onboard_de(chat_de)
    chat_de.press("show_plan")
    replies = chat_de.send("/export")
    document = replies[0].document
    assert replies[0].kind is ReplyKind.DOCUMENT and document is not None
    exported = json.loads(document.content)
    stored = engine.repository.get("anna")
    assert stored is not None
    ignored = {"schema", "updated_at"}  # stamped by the store / after the reply was built
    # Everything stored, plus the plan versions listed readably.
    assert {k: v for k, v in stored.items() if k not in ignored} == {
        k: v for k, v in exported.items() if k not in ignored | {"plan_versions"}
    }
    assert [v["version"] for v in exported["plan_versions"]] == [1]
    assert exported["plan_versions"][0]["reason"] == "first"
    assert exported["plan_versions"][0]["kept"][0]["channel"] == "linkedin"
    assert "Behalten:" in chat_de.text and "LinkedIn" in chat_de.text


def test_delete_asks_then_removes_the_user(chat_de: Chat, engine: DialogueEngine) -> None:
    onboard_de(chat_de)
    chat_de.send("/delete")
    chat_de.press("delete_no")
    assert engine.repository.get("anna") is not None
    chat_de.send("/delete")
    chat_de.press("delete_yes")
    assert "gelöscht" in chat_de.text
    assert engine.repository.get("anna") is None
    chat_de.send("/start")
    assert "Hallo, ich bin dein Fokus-Coach" in chat_de.question_text


def test_the_live_message_is_kept_with_the_user_and_old_documents_have_none(
    chat_de: Chat, engine: DialogueEngine
) -> None:
    chat_de.send("/start")
    assert engine.live_message("anna") is None  # documents from before issue 13 lack the field

    engine.note_live_message("anna", 42)
    assert engine.live_message("anna") == 42
    chat_de.press("continue")  # the engine's own save keeps the transport's id
    assert engine.live_message("anna") == 42
    engine.note_live_message("anna", None)
    assert engine.live_message("anna") is None


def test_no_live_message_is_noted_for_an_unknown_user(engine: DialogueEngine) -> None:
    engine.note_live_message("nobody", 7)
    assert engine.repository.get("nobody") is None
    assert engine.live_message("nobody") is None


def test_hint_after_stray_text_repeats_the_question_without_a_new_turn(chat_de: Chat) -> None:
    chat_de.send("/start")
    chat_de.press("continue")
    on_screen = chat_de.button("linkedin").data
    hint, question = chat_de.send("Instagram bitte")
    assert hint.kind is ReplyKind.INFO and not hint.repeat
    assert question.kind is ReplyKind.QUESTION and question.repeat
    chat_de.press_data(on_screen)  # the buttons on screen are still current
    assert "✅ LinkedIn" in [button.label for button in chat_de.buttons()]
