"""The renderer's "share my location" keyboard: offered once under the question, then removed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram import ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.core.messages import Button, LocationRequest, Reply, ReplyKind
from bot.telegram.render import ReplyRenderer

CHAT = 7
OFFER = LocationRequest(prompt="Oder teile deinen Standort.", label="📍 Standort teilen")
ZONES = Reply(
    text="In welcher Zeitzone?",
    kind=ReplyKind.QUESTION,
    buttons=((Button("Wien", "t1:c:Europe/Vienna"),),),
    location=OFFER,
)


@dataclass
class _Sent:
    message_id: int


@dataclass
class _Bot:
    """Records send_message calls (text, keyboard); hands out message ids."""

    sent: list[tuple[str, Any]] = field(default_factory=list)

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> _Sent:
        # Inline keyboards travel as JSON in api_kwargs, reply keyboards as PTB objects.
        inline = (kwargs.get("api_kwargs") or {}).get("reply_markup")
        self.sent.append((text, kwargs.get("reply_markup") or inline))
        return _Sent(len(self.sent))

    async def edit_message_reply_markup(self, **kwargs: Any) -> None:
        return None

    async def edit_message_text(self, *args: Any, **kwargs: Any) -> None:
        return None


async def test_the_offer_comes_once_under_the_question_and_goes_with_a_plain_message() -> None:
    bot, renderer = _Bot(), ReplyRenderer()

    await renderer.show(bot, CHAT, [ZONES])  # type: ignore[arg-type]
    question, offer = bot.sent
    assert question[0] == ZONES.text
    assert offer[0] == OFFER.prompt
    markup = offer[1]
    assert isinstance(markup, ReplyKeyboardMarkup)
    assert markup.keyboard[0][0].request_location
    assert markup.keyboard[0][0].text == OFFER.label

    await renderer.show(bot, CHAT, [Reply(text="Unbekannt."), ZONES])  # type: ignore[arg-type]
    assert [text for text, _ in bot.sent[2:]] == ["Unbekannt.", ZONES.text]  # not offered again
    assert not isinstance(bot.sent[2][1], ReplyKeyboardRemove)  # still wanted

    menu = Reply(text="Menü", kind=ReplyKind.QUESTION, buttons=((Button("x", "t2:c:x"),),))
    await renderer.show(bot, CHAT, [menu])  # type: ignore[arg-type]
    assert bot.sent[-1][1] is not None  # inline buttons: the removal waits ...
    await renderer.show(bot, CHAT, [Reply(text="Eingerichtet."), menu])  # type: ignore[arg-type]
    assert isinstance(bot.sent[-2][1], ReplyKeyboardRemove)  # ... for a plain message
    await renderer.show(bot, CHAT, [Reply(text="Noch etwas.")])  # type: ignore[arg-type]
    assert bot.sent[-1][1] is None  # and happens once
