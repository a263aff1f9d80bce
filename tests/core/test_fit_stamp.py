"""A claim fits a stored state to the content only when the state was not fitted to it already.

The engine stamps every state it fitted with the content's identity (``Content.identity``: the
fingerprint of the content and the code that reads it), and the claim of a stamped state skips
``fit_to_content``. A state fitted to other content (a deploy changed the flows or the code),
or to none known, is fitted at its claim as before; the reminder and the stored document come
out the same either way.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from dialogue_driver import Chat
from test_lazy_context import REMINDERS

from bench.datagen import DocumentFactory
from bot.core.content import DEFAULT_PROMPTS_DIR, Content
from bot.core.content_seal import fingerprint
from bot.core.due_kinds import Kind
from bot.core.engine import DialogueEngine
from storage import InMemoryUserRepository

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
CHECKIN: dict[str, Any] = {
    "week": "2026-W49",
    "late": False,
    "missed_weeks": (),
    "snooze": False,
    "kind": Kind.CHECKIN,
}


@pytest.fixture
def planned(engine: DialogueEngine) -> Chat:
    """A user at their plan, whose every step the engine fitted and stamped."""
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
    chat.press("setup_checkin")
    chat.press("fri")
    chat.send("8:30")
    chat.send("Berlin")
    return chat


def _composed(content: Content, documents: list[dict[str, Any]]) -> list[bytes]:
    engine = DialogueEngine(content, InMemoryUserRepository(), clock=lambda: NOW)
    found = []
    for reminder in REMINDERS:
        for document in documents:
            composed, replies = engine.compose_reminder(
                orjson.loads(orjson.dumps(document)), **reminder
            )
            found.append(orjson.dumps(composed, option=orjson.OPT_SORT_KEYS))
            found.append(repr(replies).encode())
    return found


def test_the_loaded_content_has_the_identity_of_its_files_and_code(content: Content) -> None:
    assert content.identity is not None
    assert content.identity == fingerprint(DEFAULT_PROMPTS_DIR)


def test_a_changed_flow_is_other_content(tmp_path: Path) -> None:
    copy = tmp_path / "prompts"
    shutil.copytree(DEFAULT_PROMPTS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert fingerprint(copy) == fingerprint(DEFAULT_PROMPTS_DIR)
    flow = copy / "flows" / "checkin.yaml"
    flow.write_text(flow.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert fingerprint(copy) != fingerprint(DEFAULT_PROMPTS_DIR)


def test_reminders_of_many_generated_users_are_the_same_stamped_or_fitted_afresh(
    content: Content,
) -> None:
    factory = DocumentFactory(content)
    generated = [factory.document(str(700_000_000 + n), NOW) for n in range(150)]
    stamped = [{**document, "fitted_to": content.identity} for document in generated]
    unstamped = [
        {key: value for key, value in document.items() if key != "fitted_to"}
        for document in generated
    ]
    skipped = _composed(content, stamped)
    fitted = _composed(content, unstamped)
    assert len(skipped) == 2 * len(REMINDERS) * len(generated)
    assert skipped == fitted
    # Not a comparison of nothing: reminders in both languages, and every result stamped.
    texts = b"".join(skipped[1::2])
    assert b"Fokus-Check-in" in texts
    assert b"focus check-in" in texts
    for raw in skipped[0::2]:
        assert orjson.loads(raw)["fitted_to"] == content.identity


def _renamed_step(engine: DialogueEngine, chat: Chat) -> dict[str, Any]:
    """The user's document as if the coach had renamed the step they wait at since."""
    document = engine.repository.get(chat.user_id)
    assert document is not None
    document["dialogue"]["step"] = "menu_old"
    document["dialogue"]["history"].append("gone")
    return document


def test_a_state_fitted_to_the_content_before_a_deploy_is_repaired_at_its_claim(
    engine: DialogueEngine, planned: Chat
) -> None:
    document = _renamed_step(engine, planned)
    document["fitted_to"] = "the content before the deploy"

    composed, replies = engine.compose_reminder(document, **CHECKIN)

    assert replies
    onboarding = composed["dialogue"]
    assert (onboarding["flow"], onboarding["step"]) == ("onboarding", "plan")
    assert "gone" not in onboarding["history"]
    assert composed["fitted_to"] == engine.content.identity


def test_a_state_without_a_stamp_is_repaired_at_its_claim(
    engine: DialogueEngine, planned: Chat
) -> None:
    document = _renamed_step(engine, planned)
    del document["fitted_to"]

    composed, _ = engine.compose_reminder(document, **CHECKIN)

    assert composed["dialogue"]["step"] == "plan"
    assert composed["fitted_to"] == engine.content.identity


def test_content_of_unknown_identity_fits_every_time(
    content: Content, engine: DialogueEngine, planned: Chat
) -> None:
    unknown = DialogueEngine(
        replace(content, identity=None), engine.repository, clock=engine.clock
    )
    document = _renamed_step(engine, planned)
    document["fitted_to"] = None

    composed, _ = unknown.compose_reminder(document, **CHECKIN)

    assert composed["dialogue"]["step"] == "plan"
    assert composed["fitted_to"] is None


def test_a_claim_trusts_the_stamp_of_the_content_it_runs(
    engine: DialogueEngine, planned: Chat
) -> None:
    """What the stamp saves: a stamped state is not looked at again (its steps fitted it)."""
    document = _renamed_step(engine, planned)
    assert document["fitted_to"] == engine.content.identity

    composed, _ = engine.compose_reminder(document, **CHECKIN)

    assert composed["dialogue"]["step"] == "menu_old"


def test_every_dialogue_step_fits_and_stamps_the_state(
    engine: DialogueEngine, planned: Chat
) -> None:
    document = _renamed_step(engine, planned)
    document["fitted_to"] = engine.content.identity  # a stamp never stops a step's fit
    engine.repository.put(planned.user_id, document)

    planned.send("/start")

    stored = engine.repository.get(planned.user_id)
    assert stored is not None
    assert stored["dialogue"]["step"] == "plan"
    assert stored["fitted_to"] == engine.content.identity
