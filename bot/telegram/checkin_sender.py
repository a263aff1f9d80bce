"""Sends a claimed message (check-in reminder, follow-up) through Telegram, rate-limited."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram.error import Forbidden, TelegramError
from telegram.ext import ExtBot

from bot.core.checkin_claims import Claim
from bot.core.engine import DialogueEngine
from bot.core.keyed_locks import AsyncKeyedLocks
from bot.dispatcher import SendResult, Sent
from bot.telegram.render import KnownLive, ReplyRenderer

__all__ = ["CheckinSender"]

log = logging.getLogger(__name__)


class CheckinSender:
    """The dispatcher's ``send``: build the reminder with the engine, deliver it, report back."""

    def __init__(
        self,
        engine: DialogueEngine,
        renderer: ReplyRenderer,
        locks: AsyncKeyedLocks,
        bot: ExtBot[Any],
    ) -> None:
        """Share the handlers' renderer and per-user locks, so a reminder never interleaves."""
        self.engine = engine
        self.renderer = renderer
        self.locks = locks
        self.bot = bot

    async def __call__(self, claim: Claim) -> SendResult | Sent:
        """Send one reminder; BLOCKED on 403, FAILED when Telegram keeps refusing.

        A claim made with the engine's composer carries its replies and the live-button message
        it read; the message that holds the live buttons afterwards goes back with ``Sent``, to
        be recorded with the sent check-in (no write of its own).
        """
        if not claim.user_id.isdigit():
            # A terminal-chat user in the same data folder: Telegram cannot reach them.
            log.info("check-in for %s not sent: not a Telegram user", claim.user_id)
            return SendResult.BLOCKED
        chat_id = int(claim.user_id)
        async with self.locks.hold(claim.user_id):
            known: KnownLive | None = None
            if claim.replies is not None:
                replies = list(claim.replies)
                known = KnownLive(claim.live_message)
            else:
                replies = await asyncio.to_thread(
                    self.engine.checkin_reminder,
                    claim.user_id,
                    week=claim.week,
                    late=claim.late,
                    missed_weeks=claim.missed_weeks,
                    snooze=claim.snooze,
                    kind=claim.kind,
                )
            if not replies:
                return SendResult.SENT  # nothing to remind of (no plan any more): done
            try:
                await self.renderer.show(
                    self.bot, chat_id, replies, broadcast=True, known_live=known
                )
            except Forbidden:
                return SendResult.BLOCKED
            except TelegramError as error:
                # The rate limiter already waited out 429s; this is a lasting failure.
                log.warning("check-in for %s not delivered: %s", claim.user_id, error)
                return SendResult.FAILED
        return SendResult.SENT if known is None else Sent(known.after)
