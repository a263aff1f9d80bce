"""Fixed cases the fuzzers found or must never find: forged entry points and template syntax."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dialogue_driver import Chat, plain

from bot.core.callbacks import Action, encode
from bot.core.content import Content
from bot.core.engine import DialogueEngine
from bot.core.flow_ids import sunset_target
from bot.core.messages import Command
from storage import TinyDBUserRepository

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def planned(engine: DialogueEngine, user_id: str = "anna") -> Chat:
    """A German user looking at the plan menu."""
    chat = Chat(engine, user_id, language_hint="de")
    chat.send("/start")
    chat.press("continue")
    chat.press("linkedin", "xing", "done")
    chat.send("3")
    chat.press("b2b_dach", "done")
    chat.press("leads", "done")
    chat.press("alone")
    chat.press("xing")
    chat.press("show_plan")
    return chat


@pytest.fixture
def engine(content: Content, file_repo: TinyDBUserRepository) -> DialogueEngine:
    return DialogueEngine(content, file_repo, clock=lambda: NOW)


def all_flow_targets(content: Content) -> list[str]:
    return [
        f"{flow.id}:{step}" if step else flow.id
        for flow in content.flows.values()
        for step in ["", *flow.steps]
    ]


@pytest.mark.parametrize("with_reminder", [False, True])
def test_a_forged_plan_menu_button_enters_no_flow_but_the_offered_one(
    with_reminder: bool, engine: DialogueEngine, content: Content
) -> None:
    # Found by test_fuzz_engine: "<turn>.f.settings:scheduled" ran save_schedule without any
    # answers (KeyError), "settings:paused" likewise; "checkin:feedback" recorded an empty week.
    chat = planned(engine)
    if with_reminder:
        chat.press("setup_checkin")
        chat.press("fri", "8.5", "Europe/Berlin")
    offered = "settings" if with_reminder else "settings:weekday"
    stored = engine.repository.get("anna")
    assert stored is not None
    # "Leave gracefully" is offered too when the plan drops a channel or keeps one as a
    # profile only (its own tests say how).
    plan = stored["plan"]
    leave = sunset_target([item["channel"] for item in (*plan["dropped"], *plan["profile_only"])])
    outdated = content.texts.render("de", "common/button_outdated")
    for target in all_flow_targets(content):
        if target in (offered, leave):
            continue
        before = engine.repository.get("anna")
        assert before is not None
        turn = before["dialogue"]["turn"]

        replies = chat.press_data(encode(turn, Action.FLOW, target))

        after = engine.repository.get("anna")
        assert after is not None
        assert replies[0].text == outdated, target
        assert (after["dialogue"]["flow"], after["dialogue"]["step"]) == ("onboarding", "plan")
        for key in ("reminder", "checkins", "lang", "plan", "pending_checkin"):
            assert after[key] == before[key], (target, key)
    flow_buttons = [b.data.split(".", 2)[2] for b in chat.buttons() if ".f." in b.data]
    assert flow_buttons == [offered] + ([leave] if leave else [])
    (button,) = [b for b in chat.buttons() if b.data.endswith(f".f.{offered}")]
    chat.press_data(button.data)
    assert (engine.repository.get("anna") or {})["dialogue"]["flow"] == "settings"


@pytest.mark.parametrize("typed", ["{{ 7*7 }}", "{% if true %}49{% endif %}", "{{ lang }}"])
def test_template_syntax_typed_by_a_user_is_shown_not_run(
    typed: str, engine: DialogueEngine, content: Content
) -> None:
    chat = planned(engine)
    chat.send("/checkin")
    chat.press("linkedin", "done")
    chat.send("2")
    chat.press("none")
    chat.press("e4")
    chat.press("win_first")

    replies = chat.send(typed)  # the optional one-line win

    # Run as a template it would read "49", "de" or "" instead of itself.
    assert typed in plain(replies[0].text)
    assert (engine.repository.get("anna") or {})["dialogue"]["answers"]["win"] == typed
    unknown = engine.handle("anna", Command(typed), language_hint="de")
    assert typed in plain(unknown[0].text)
