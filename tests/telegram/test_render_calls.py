"""The renderer spends no Bot API call that changes nothing the user sees (fake Bot API, HTTP).

Each call that sends or edits takes from Telegram's 30 messages a second, shared by everyone
chatting; these tests count the calls the renderer makes for one chat and look at the chat as
the user sees it on the fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from fakebotapi import FakeTelegram, FakeUser
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import ExtBot

from bot.core.messages import Button, Reply, ReplyKind
from bot.telegram.render import SHORT_NOTE, ReplyRenderer

CHAT = 4242
NOT_MODIFIED = "message is not modified"
SENDING = ("sendMessage", "editMessageText", "editMessageReplyMarkup")


def question(text: str, turn: int, *keys: str, ticked: tuple[str, ...] = ()) -> Reply:
    """A multi-choice question at ``turn``: one button per key (ticked ones marked), and Done."""
    toggles = tuple(
        Button(f"✅ {key}" if key in ticked else key, f"{turn}.t.{key}") for key in keys
    )
    return Reply(
        text=text, kind=ReplyKind.QUESTION, buttons=(toggles, (Button("Fertig", f"{turn}.d."),))
    )


AUDIENCES = question("<b>Schritt 3 von 6</b>: Wen willst du erreichen?", 5, "b2b", "b2c")
GOALS = question("<b>Schritt 4 von 6</b>: Was sollen soziale Medien bringen?", 6, "leads")
ECHO = Reply(
    text="<b>Schritt 3 von 6</b>: Wen willst du erreichen?\n→ <i>B2B</i>",
    kind=ReplyKind.ANSWERED,
    edits_question=True,
)
TOO_FEW = Reply(text="Bitte wähle mindestens 1 aus.")
OUTDATED = Reply(text="Dieser Knopf ist nicht mehr aktuell. Hier ist die aktuelle Frage:")


def repeated(reply: Reply) -> Reply:
    """``reply`` asked again unchanged, its buttons still valid (``Conversation.hint``)."""
    return replace(reply, repeat=True)


def redrawn(reply: Reply) -> Reply:
    """``reply`` drawn on the tapped message (a tick)."""
    return replace(reply, edits_question=True)


class StoredLive:
    """The engine's side of ``LiveMessages``: the live message id as stored with the user."""

    def __init__(self) -> None:
        self.ids: dict[str, int | None] = {}

    def live_message(self, user_id: str) -> int | None:
        return self.ids.get(user_id)

    def note_live_message(self, user_id: str, message_id: int | None) -> None:
        self.ids[user_id] = message_id


@pytest.fixture
def user(tg: FakeTelegram) -> FakeUser:
    user = tg.user(CHAT, "Anna", "de")
    user.send_text("Hallo")  # the fake answers 403 to a chat that never wrote to the bot
    return user


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[ExtBot[Any]]:
    async with ExtBot(tg.token, base_url=tg.base_url) as bot:
        yield bot


def calls(tg: FakeTelegram, since: int = 0) -> list[tuple[str, Any]]:
    """(method, message_id or text) of the sending calls to the chat, from index ``since``."""
    made = [r for r in tg.requests() if r.method in SENDING][since:]
    return [(r.method, r.params.get("message_id") or r.params.get("text")) for r in made]


def not_modified_answers(tg: FakeTelegram) -> int:
    """Calls the fake refused because they would change nothing."""
    return sum(1 for r in tg.requests() if NOT_MODIFIED in (r.error or ""))


def keyboards(user: FakeUser) -> list[int]:
    """Ids of the bot's messages in the chat that carry buttons now."""
    return [m.message_id for m in user.messages() if m.buttons]


async def shown(renderer: ReplyRenderer, bot: ExtBot[Any], reply: Reply) -> int:
    """Show ``reply`` as a new question; its message id."""
    await renderer.show(bot, CHAT, [reply])
    message_id = renderer.question_message(CHAT)
    assert message_id is not None
    return message_id


async def test_a_second_tap_on_an_answered_question_does_not_strip_it_again(
    tg: FakeTelegram, user: FakeUser, bot: ExtBot[Any]
) -> None:
    renderer = ReplyRenderer()
    audiences = await shown(renderer, bot, AUDIENCES)
    await renderer.show(bot, CHAT, [ECHO, GOALS], pressed=audiences)  # answered: echo + next
    goals = renderer.question_message(CHAT)
    before = len(calls(tg))

    # A second tap on the answered question (a double tap, or a second device): the engine
    # says so and asks the current question anew, at a new turn.
    goals_anew = question(GOALS.text, 7, "leads")
    await renderer.show(bot, CHAT, [OUTDATED, goals_anew], pressed=audiences)

    again = renderer.question_message(CHAT)
    assert calls(tg, before) == [
        ("sendMessage", OUTDATED.text),
        ("sendMessage", GOALS.text),
        ("editMessageReplyMarkup", goals),  # the copy above loses its buttons; not the echo
    ]
    assert keyboards(user) == [again]
    assert not_modified_answers(tg) == 0


async def test_a_short_note_on_a_tap_quotes_the_question_instead_of_repeating_it(
    tg: FakeTelegram, user: FakeUser, bot: ExtBot[Any]
) -> None:
    renderer = ReplyRenderer()
    audiences = await shown(renderer, bot, AUDIENCES)
    before = len(calls(tg))

    # "Done" with nothing ticked: the note, and the question on screen still valid.
    await renderer.show(bot, CHAT, [TOO_FEW, repeated(AUDIENCES)], pressed=audiences)

    assert calls(tg, before) == [("sendMessage", TOO_FEW.text)]  # one message, not three
    note = tg.requests("sendMessage")[-1]
    assert note.params["reply_parameters"]["message_id"] == audiences
    assert keyboards(user) == [audiences]  # the question keeps its buttons
    assert renderer.question_message(CHAT) == audiences
    # The next tap on it is answered there as before.
    await renderer.show(bot, CHAT, [ECHO, GOALS], pressed=audiences)
    assert [m for m, _ in calls(tg, before + 1)] == ["editMessageText", "sendMessage"]


@pytest.mark.parametrize(
    ("replies", "on_old_message"),
    [
        # a long text (the plan shown from its menu) would push the question out of view
        ([Reply(text="Plan " + "x" * SHORT_NOTE), repeated(AUDIENCES)], False),
        # asked anew (a new turn): the buttons on screen are out of date
        ([TOO_FEW, question(AUDIENCES.text, 6, "b2b", "b2c")], False),
        # a tap on an older message: the user may be looking far up the chat
        ([TOO_FEW, repeated(AUDIENCES)], True),
    ],
    ids=["long-text", "asked-anew", "tap-elsewhere"],
)
async def test_the_question_comes_again_when_the_one_on_screen_would_not_do(
    tg: FakeTelegram,
    user: FakeUser,
    bot: ExtBot[Any],
    replies: list[Reply],
    on_old_message: bool,
) -> None:
    renderer = ReplyRenderer()
    older = await shown(renderer, bot, GOALS)
    audiences = await shown(renderer, bot, AUDIENCES)
    before = len(calls(tg))

    pressed = older if on_old_message else audiences
    await renderer.show(bot, CHAT, replies, pressed=pressed)

    again = renderer.question_message(CHAT)
    assert calls(tg, before)[:2] == [
        ("sendMessage", replies[0].text),
        ("sendMessage", replies[1].text),
    ]
    assert ("editMessageReplyMarkup", audiences) in calls(tg, before)
    assert "reply_parameters" not in tg.requests("sendMessage")[-2].params
    assert keyboards(user) == [again]


async def test_after_a_restart_a_removal_is_made_again_rather_than_assumed(
    tg: FakeTelegram, user: FakeUser, bot: ExtBot[Any]
) -> None:
    live = StoredLive()
    first = ReplyRenderer(live=live)
    audiences = await shown(first, bot, AUDIENCES)
    await first.show(bot, CHAT, [ECHO, GOALS], pressed=audiences)
    goals = first.question_message(CHAT)
    restarted = ReplyRenderer(live=live)  # knows the live message, not what lost its buttons
    before = len(calls(tg))

    await restarted.show(bot, CHAT, [OUTDATED, question(GOALS.text, 7)], pressed=audiences)

    again = restarted.question_message(CHAT)
    assert calls(tg, before)[2:] == [
        ("editMessageReplyMarkup", audiences),  # refused by Telegram as "not modified": safe
        ("editMessageReplyMarkup", goals),
    ]
    assert keyboards(user) == [again]
    assert live.ids[str(CHAT)] == again


async def test_a_message_that_got_buttons_back_loses_them_when_superseded(
    tg: FakeTelegram, user: FakeUser, bot: ExtBot[Any]
) -> None:
    renderer = ReplyRenderer()
    audiences = await shown(renderer, bot, AUDIENCES)
    await renderer.show(bot, CHAT, [ECHO], pressed=audiences)  # buttons gone
    # An edit draws the question with its buttons on that message again.
    await renderer.show(bot, CHAT, [redrawn(AUDIENCES)], pressed=audiences)
    assert keyboards(user) == [audiences]

    await renderer.show(bot, CHAT, [OUTDATED, GOALS], pressed=audiences)

    assert keyboards(user) == [renderer.question_message(CHAT)]
    assert ("editMessageReplyMarkup", audiences) in calls(tg)


async def test_a_question_drawn_again_by_an_edit_sends_its_buttons_as_ptb_would(
    tg: FakeTelegram, user: FakeUser, bot: ExtBot[Any]
) -> None:
    renderer = ReplyRenderer()
    audiences = await shown(renderer, bot, AUDIENCES)
    ticked = question(AUDIENCES.text, 5, "b2b", "b2c", ticked=("b2b",))

    await renderer.show(bot, CHAT, [redrawn(ticked)], pressed=audiences)

    sent, edit = tg.requests("sendMessage")[-1], tg.requests("editMessageText")[-1]
    for request, reply in ((sent, AUDIENCES), (edit, ticked)):
        ptb = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(b.label, callback_data=b.data) for b in r]
                for r in reply.buttons
            ]
        )
        assert request.params["reply_markup"] == ptb.to_dict()
    assert edit.params["message_id"] == audiences
    assert user.messages()[-1].buttons == [
        [("✅ b2b", "5.t.b2b"), ("b2c", "5.t.b2c")],
        [("Fertig", "5.d.")],
    ]
