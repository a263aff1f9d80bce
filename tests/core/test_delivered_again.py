"""A message the transport delivers a second time (Telegram after a crash) is applied once.

The end-to-end proof with a killed bot is tests/e2e/test_e2e_resent_update.py; here the engine's
side of it, one message at a time.
"""

from __future__ import annotations

from button_keys import find_button
from dialogue_driver import Chat, plain

from bot.core.engine import DialogueEngine
from bot.core.messages import ButtonPress, Command, Inbound, ReplyKind, TextMessage
from bot.core.state import HANDLED_KEPT


class Delivering:
    """A user whose messages carry ids, as Telegram's updates do."""

    def __init__(self, engine: DialogueEngine, user_id: str = "anna") -> None:
        self.engine = engine
        self.user_id = user_id
        self.chat = Chat(engine, user_id)
        self.next_id = 500

    def deliver(self, inbound: Inbound, delivery: int | None = None) -> list[str]:
        """Deliver ``inbound`` with a new id (or ``delivery``); the replies as plain text."""
        if delivery is None:
            self.next_id += 1
            delivery = self.next_id
        replies = self.engine.handle(self.user_id, inbound, language_hint="de", delivery=delivery)
        self.chat._deliver(replies)
        return [plain(reply.text) for reply in replies]

    def press(self, key: str) -> tuple[ButtonPress, int]:
        """Press the current question's button ``key``; the press and its id, to send again."""
        press = ButtonPress(find_button(self.chat.buttons(), key).data)
        self.deliver(press)
        return press, self.next_id

    def document(self) -> dict[str, object]:
        stored = self.engine.repository.get(self.user_id)
        assert stored is not None
        return stored


def at_channels(engine: DialogueEngine) -> Delivering:
    user = Delivering(engine)
    user.deliver(Command("start"))
    user.press("continue")
    return user


def test_a_tick_delivered_again_is_not_toggled_back(engine: DialogueEngine) -> None:
    user = at_channels(engine)
    tick, delivery = user.press("linkedin")

    again = user.deliver(tick, delivery)

    dialogue = user.document()["dialogue"]
    assert isinstance(dialogue, dict)
    assert dialogue["selection"] == ["linkedin"]
    # The user may not have seen the tick before the crash: the question comes again with it.
    assert user.chat.question is not None
    assert user.chat.question.kind is ReplyKind.QUESTION
    assert "Deine Kanäle heute" in again[-1]
    assert "✅ LinkedIn" in [button.label for button in user.chat.buttons()]


def test_a_typed_answer_delivered_again_does_not_answer_the_next_question(
    engine: DialogueEngine,
) -> None:
    user = at_channels(engine)
    user.press("linkedin")
    user.press("done")
    user.deliver(TextMessage("3"))
    answered = user.next_id
    after_first = user.document()["dialogue"]

    user.deliver(TextMessage("3"), answered)

    dialogue = user.document()["dialogue"]
    assert isinstance(dialogue, dict) and isinstance(after_first, dict)
    assert dialogue["answers"] == after_first["answers"]
    assert dialogue["step"] == after_first["step"]


def test_a_new_message_with_the_same_text_is_applied(engine: DialogueEngine) -> None:
    user = at_channels(engine)
    user.press("linkedin")
    user.press("linkedin")  # a second, real tap: a new id, so it unticks

    dialogue = user.document()["dialogue"]
    assert isinstance(dialogue, dict)
    assert dialogue["selection"] == []


def test_only_the_last_ids_are_kept(engine: DialogueEngine) -> None:
    user = at_channels(engine)
    for _ in range(HANDLED_KEPT + 5):
        user.press("linkedin")
    handled = user.document()["handled"]
    assert handled == list(range(user.next_id - HANDLED_KEPT + 1, user.next_id + 1))


def test_a_document_without_handled_ids_is_read(engine: DialogueEngine) -> None:
    """Documents stored before the ids were kept have no "handled" list."""
    user = at_channels(engine)
    document = user.document()
    del document["handled"]
    engine.repository.put("anna", document)  # read back through the schema check

    user.press("linkedin")

    assert user.document()["handled"] == [user.next_id]
