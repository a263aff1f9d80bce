"""A stored state that no longer fits the content is repaired, never a lock-out."""

from __future__ import annotations

from typing import Any

import pytest
from dialogue_driver import Chat

from bot.core.content import Content
from bot.core.engine import DialogueEngine
from bot.core.state import UserState
from bot.core.state_repair import fit_to_content


@pytest.fixture
def planned(engine: DialogueEngine) -> Chat:
    chat = Chat(engine, "anna", language_hint="de")
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


def stored(engine: DialogueEngine) -> dict[str, Any]:
    document = engine.repository.get("anna")
    assert document is not None
    return document


def store(engine: DialogueEngine, document: dict[str, Any]) -> None:
    engine.repository.put("anna", document)


def test_a_step_the_coach_renamed_brings_the_user_to_their_plan(
    planned: Chat, engine: DialogueEngine
) -> None:
    document = stored(engine)
    document["dialogue"]["step"] = "menu_old"
    document["dialogue"]["history"].append("gone")
    store(engine, document)

    planned.send("/start")

    assert "Dein Plan – wie geht es weiter?" in planned.question_text
    assert stored(engine)["dialogue"]["step"] == "plan"
    assert "gone" not in stored(engine)["dialogue"]["history"]


def test_a_side_flow_that_cannot_go_on_gives_way_to_the_onboarding(
    planned: Chat, engine: DialogueEngine
) -> None:
    planned.send("/checkin")
    document = stored(engine)
    document["dialogue"]["step"] = "removed_question"
    store(engine, document)

    planned.send("hallo")

    document = stored(engine)
    assert (document["dialogue"]["flow"], document["suspended"]) == ("onboarding", None)
    assert "Dein Plan – wie geht es weiter?" in planned.question_text


def test_an_answer_that_does_not_fit_is_asked_again_before_the_plan(
    planned: Chat, engine: DialogueEngine
) -> None:
    document = stored(engine)
    document["dialogue"]["answers"]["hours"] = "drei"  # valid JSON, not an answer to hours
    store(engine, document)

    planned.press("show_plan_again")

    assert "Stunden ändern" in planned.question_text  # asked again first
    planned.send("4")
    assert "Dein Fokus-Plan" in planned.text
    assert "Das ist dein Plan" in planned.question_text
    assert stored(engine)["plan"]["capacity"] == 4.0


def test_a_plan_naming_a_channel_the_catalogue_lost_is_made_again(
    planned: Chat, engine: DialogueEngine, content: Content
) -> None:
    document = stored(engine)
    document["plan"]["kept"][0]["channel"] = "myspace"
    document["lang"] = "fr"
    user = UserState.from_document(document)

    changes = fit_to_content(user, content, language_hint="en-GB", now=engine.clock())

    assert user.lang == "en"
    assert user.plan is not None and user.plan["kept"][0]["channel"] == "linkedin"
    assert len(changes) == 2
    # The broken plan is kept as version 1; the repaired one is version 2, reason "repair".
    assert user.plan_info is not None and user.plan_info["version"] == 2
    assert user.plan_info["reason"] == "repair"
    assert [p["version"] for p in user.previous_plans] == [1]
