"""The check-in sender on the wire: what the fake Bot API receives, and how refusals end.

The bot is the composition root's (``build_application``: its defaults, its rate limiter, its
aiohttp transport) against the fake Bot API over HTTP; the claims carry their composed reply,
as the dispatcher's do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fakebotapi import FakeTelegram, FakeUser
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import ExtBot

from bot.config import TelegramSettings
from bot.core.checkin_claims import Claim
from bot.core.engine import DialogueEngine
from bot.core.keyed_locks import AsyncKeyedLocks
from bot.core.messages import Button, Reply, ReplyKind
from bot.dispatcher import SendResult, Sent
from bot.telegram.app import build_application
from bot.telegram.checkin_sender import CheckinSender
from bot.telegram.render import ReplyRenderer

CHAT = 5151
# A weekly reminder as the engine composes it (tests/core/test_checkin_dialogue.py).
REMINDER = Reply(
    text=(
        "<b>⏰ Zeit für deinen Fokus-Check-in (KW 48)</b>\n\nWie war deine Woche auf deinen "
        "Kanälen? Zwei Minuten reichen.\n<i>„Diese Woche auslassen“ setzt einen deiner Joker "
        "ein (noch 2 Joker in diesem Quartal); deine Serie bleibt.</i>"
    ),
    kind=ReplyKind.QUESTION,
    buttons=(
        (Button("▶️ Check-in starten", "15.k.start"),),
        (Button("⏰ In 1 Stunde", "15.k.snooze_1h"), Button("📅 Morgen", "15.k.snooze_tomorrow")),
        (Button("⏭ Diese Woche auslassen", "15.k.skip"),),
    ),
)


def claim(week: str = "2026-W48", live_message: int | None = None) -> Claim:
    return Claim(
        str(CHAT),
        week,
        late=False,
        resend=False,
        missed_weeks=(),
        replies=(REMINDER,),
        live_message=live_message,
    )


def ptb_keyboard(rows: tuple[tuple[Button, ...], ...]) -> dict[str, Any]:
    """The reply_markup PTB sends for these buttons as InlineKeyboardMarkup (before the JSON)."""
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows]
    )
    return markup.to_dict()


@pytest.fixture
def user(tg: FakeTelegram) -> FakeUser:
    user = tg.user(CHAT, "Anna", "de")
    user.had_started_the_bot()
    return user


@pytest.fixture
async def bot(tg: FakeTelegram, coach_engine: DialogueEngine) -> AsyncIterator[ExtBot[Any]]:
    settings = TelegramSettings(token=tg.token, base_url=tg.base_url)
    async with build_application(settings, coach_engine) as application:
        yield application.bot


@pytest.fixture
def sender(bot: ExtBot[Any], coach_engine: DialogueEngine) -> CheckinSender:
    return CheckinSender(coach_engine, ReplyRenderer(), AsyncKeyedLocks(), bot)


async def test_a_checkin_reaches_telegram_as_html_with_its_buttons_and_no_link_preview(
    tg: FakeTelegram, user: FakeUser, bot: ExtBot[Any], sender: CheckinSender
) -> None:
    last_week = await bot.send_message(
        CHAT,
        "Letzte Woche",
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("▶️ Check-in starten", callback_data="9.k.start")]]
        ),
    )

    result = await sender(claim(live_message=last_week.message_id))

    request = tg.requests("sendMessage")[-1]
    assert request.params == {
        "chat_id": CHAT,
        "text": REMINDER.text,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
        "reply_markup": ptb_keyboard(REMINDER.buttons),
    }
    shown = user.last_message()
    assert shown.text.startswith("⏰ Zeit für deinen Fokus-Check-in (KW 48)\n\nWie war")
    assert shown.buttons == [[(b.label, b.data) for b in row] for row in REMINDER.buttons]
    assert result == Sent(shown.message_id)  # recorded with the sent check-in
    # Last week's reminder lost its buttons: only the new one can be answered.
    assert [m.message_id for m in user.messages() if m.buttons] == [shown.message_id]


async def test_checkins_to_one_chat_are_spaced_as_broadcasts(
    tg: FakeTelegram, user: FakeUser, sender: CheckinSender
) -> None:
    first = await sender(claim("2026-W48"))
    assert isinstance(first, Sent)
    await sender(claim("2026-W49", live_message=first.live_message))

    # Only a broadcast waits for the chat's gap (1 s); a reply to the user would go at once.
    sent = tg.requests("sendMessage")
    assert len(sent) == 2
    assert sent[1].monotonic - sent[0].monotonic >= 0.9


async def test_a_user_who_blocked_the_bot_counts_as_blocked(
    tg: FakeTelegram, user: FakeUser, sender: CheckinSender
) -> None:
    user.block_bot()

    assert await sender(claim()) is SendResult.BLOCKED
    assert [r.status for r in tg.requests("sendMessage")] == [403]
    assert user.messages() == []


async def test_a_lasting_refusal_is_a_failure_not_a_block(
    tg: FakeTelegram, user: FakeUser, sender: CheckinSender
) -> None:
    tg.inject_error("sendMessage", 400, "Bad Request: chat not found")

    assert await sender(claim()) is SendResult.FAILED
    assert user.messages() == []


async def test_a_429_is_waited_out_by_the_rate_limiter(
    tg: FakeTelegram, user: FakeUser, sender: CheckinSender
) -> None:
    tg.inject_error("sendMessage", 429, retry_after=1)

    result = await sender(claim())

    assert [r.status for r in tg.requests("sendMessage")] == [429, 200]
    assert result == Sent(user.last_message().message_id)
