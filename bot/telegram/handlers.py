"""Thin Telegram handlers: update -> engine -> renderer, one user's updates at a time.

No dialogue logic lives here. The engine is synchronous and touches the disk, so it runs in a
worker thread; the per-user lock keeps one user's updates in arrival order while other users
are served at the same time (the repository is safe for different users in different threads).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import (
    Bot,
    Chat,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
    User,
)
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes, ExtBot

from bot.core.checkin_claims import ReminderService
from bot.core.engine import DialogueEngine
from bot.core.keyed_locks import AsyncKeyedLocks
from bot.core.messages import Command, Inbound
from bot.core.operator_status import (
    STATUS_COMMAND,
    STATUS_TEMPLATE,
    OperatorAccess,
    status_context,
)
from bot.telegram.inbound import button_inbound, message_inbound
from bot.telegram.render import ReplyRenderer

__all__ = ["CoachHandlers"]

log = logging.getLogger(__name__)

GROUP_NOTE = "telegram/group_only"
TEXT_ONLY = "telegram/text_only"
FAILED = "telegram/failed"
OPEN_PRIVATE_LABEL = "telegram_open_private"

_PRESENT = frozenset({ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER})


class CoachHandlers:
    """The callbacks the application registers; they share the engine, locks and renderer."""

    def __init__(
        self,
        engine: DialogueEngine,
        *,
        renderer: ReplyRenderer | None = None,
        reminders: ReminderService | None = None,
        operator: OperatorAccess | None = None,
    ) -> None:
        """Serve ``engine``'s dialogue; ``reminders`` hears of users who blocked the bot.

        With ``operator``, its admins' /status shows the operator's view; for anyone else
        /status goes to the engine like any command it does not know.
        """
        self.engine = engine
        self.reminders = reminders
        self.operator = operator
        self.texts = engine.content.texts
        self.renderer = renderer or ReplyRenderer(live=engine)
        self.locks = AsyncKeyedLocks()

    # ---- private chat --------------------------------------------------------------------
    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Pass a private text message or command to the engine and show its replies."""
        message, user = update.message, update.effective_user
        if message is None or user is None:
            return
        inbound = message_inbound(message, bot_username=context.bot.username)
        if inbound is None:
            return  # a command for another bot
        if self._asks_status(user, inbound):
            await self._send_status(context.bot, user, message.chat_id)
            return
        await self._converse(
            context.bot,
            user,
            message.chat_id,
            inbound,
            pressed=None,
            delivery=update.update_id,
            newest=message.message_id,
        )

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer the tap at once, then pass the press to the engine (private chats only)."""
        query, user, inbound = update.callback_query, update.effective_user, button_inbound(update)
        if query is None or user is None or inbound is None:
            return
        # Answered concurrently (the spinner stops) while earlier updates of this user finish;
        # creating the task does not yield, so this update keeps its place in the lock queue.
        answering = asyncio.create_task(self._answer_query(update))
        try:
            message = query.message
            # Only the user's own private chat with the bot: a press anywhere else (a group,
            # someone else's chat) would otherwise be answered into that chat.
            if (
                message is not None
                and message.chat.type == Chat.PRIVATE
                and message.chat.id == user.id
            ):
                await self._converse(
                    context.bot,
                    user,
                    message.chat.id,
                    inbound,
                    pressed=message.message_id,
                    delivery=update.update_id,
                )
            else:
                log.info(
                    "button press %s of user %s not applied: its message is not in their "
                    "private chat (chat %s)",
                    query.id,
                    user.id,
                    None if message is None else message.chat.id,
                )
        finally:
            await answering

    async def on_other_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Tell a user who sent a photo, sticker, voice ... that only text and buttons work."""
        message, user = update.message, update.effective_user
        if message is None or user is None:
            return
        async with self.locks.hold(str(user.id)):
            lang = await self._language(user)
            await context.bot.send_message(message.chat_id, self.texts.render(lang, TEXT_ONLY))

    async def _converse(
        self,
        bot: ExtBot[Any],
        user: User,
        chat_id: int,
        inbound: Inbound,
        *,
        pressed: int | None,
        delivery: int,
        newest: int | None = None,
    ) -> None:
        user_id = str(user.id)
        async with self.locks.hold(user_id):
            # The update id lets the engine recognise an update Telegram sends again because
            # the bot was killed before its next poll confirmed it.
            replies = await asyncio.to_thread(
                self.engine.handle,
                user_id,
                inbound,
                language_hint=user.language_code,
                delivery=delivery,
            )
            await self.renderer.show(bot, chat_id, replies, pressed=pressed, newest=newest)

    def _asks_status(self, user: User, inbound: Inbound) -> bool:
        return (
            self.operator is not None
            and isinstance(inbound, Command)
            and inbound.name == STATUS_COMMAND
            and self.operator.allows(user.id)
        )

    async def _send_status(self, bot: ExtBot[Any], user: User, chat_id: int) -> None:
        """The operator's view, in the admin's language (gathered in a worker thread)."""
        assert self.operator is not None  # for mypy: checked by _asks_status
        async with self.locks.hold(str(user.id)):
            lang = await self._language(user)
            figures = await asyncio.to_thread(self.operator.view.figures)
            text = self.texts.render(lang, STATUS_TEMPLATE, **status_context(figures))
            await bot.send_message(chat_id, text)

    async def _answer_query(self, update: Update) -> None:
        query = update.callback_query
        if query is None:
            return
        try:
            await query.answer()
        except TelegramError as error:
            # Too old (Telegram allows ~15 s), already answered or a network hiccup: only the
            # spinner is affected, the reply itself still comes.
            log.info("cannot answer button press %s (%s)", query.id, error)

    async def _language(self, user: User) -> str:
        return await asyncio.to_thread(
            self.engine.language, str(user.id), language_hint=user.language_code
        )

    # ---- groups and membership -----------------------------------------------------------
    async def on_group_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a command in a group: the coach works in a private chat."""
        message, user = update.message, update.effective_user
        if message is None or user is None:
            return
        if message_inbound(message, bot_username=context.bot.username) is None:
            return  # meant for another bot in the group
        await self._send_group_note(context.bot, message.chat_id, user)

    async def on_membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Note a user blocking the bot; introduce the coach when added to a group."""
        change = update.my_chat_member
        if change is None:
            return
        old, new = change.old_chat_member.status, change.new_chat_member.status
        if change.chat.type == Chat.PRIVATE:
            if new == ChatMember.BANNED:
                # No more reminders until they send /start again.
                log.info("user %s blocked the bot", change.chat.id)
                if self.reminders is not None:
                    user_id = str(change.chat.id)
                    async with self.locks.hold(user_id):
                        await asyncio.to_thread(self.reminders.mark_inactive, user_id)
            elif old == ChatMember.BANNED:
                log.info("user %s unblocked the bot", change.chat.id)
            return
        if new in _PRESENT and old not in _PRESENT:
            await self._send_group_note(context.bot, change.chat.id, change.from_user)

    async def _send_group_note(self, bot: Bot, chat_id: int, user: User) -> None:
        async with self.locks.hold(str(user.id)):
            lang = await self._language(user)
        markup = None
        if bot.username:
            button = InlineKeyboardButton(
                self.texts.label(lang, OPEN_PRIVATE_LABEL), url=f"https://t.me/{bot.username}"
            )
            markup = InlineKeyboardMarkup([[button]])
        await bot.send_message(chat_id, self.texts.render(lang, GROUP_NOTE), reply_markup=markup)

    # ---- errors --------------------------------------------------------------------------
    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log a failed update; tell the user in a private chat when the fault is ours."""
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        if isinstance(error, Forbidden):
            log.warning("update %s: reply not delivered: %s", update_id, error)
            return
        log.error("update %s failed", update_id, exc_info=error)
        if isinstance(error, TelegramError) or not isinstance(update, Update):
            return  # a Telegram or network problem: another message would likely fail too
        chat, user = update.effective_chat, update.effective_user
        if chat is None or chat.type != Chat.PRIVATE:
            return
        # No storage read here: storage may be what failed.
        lang = self.engine.content.pick_language(user.language_code if user else None)
        try:
            await context.bot.send_message(chat.id, self.texts.render(lang, FAILED))
        except TelegramError as send_error:
            log.warning(
                "update %s: could not tell the user about the failure: %s", update_id, send_error
            )
