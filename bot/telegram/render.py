"""The engine's replies -> Telegram messages: send, edit in place, split, attach files and photos.

Presentation only: which message a reply edits and what is sent follows from ``Reply`` itself.
The renderer knows the message that carries each chat's current question (its live buttons), so
that a typed answer can rewrite it, a superseded question loses its (now outdated) buttons, and
a question repeated after a hint is left out while the original is still in view. That message
id is kept with the user (``LiveMessages``), so a restarted bot still finds the old buttons.

Every call that sends or edits takes from Telegram's 30 messages a second, so none should
change nothing: the renderer remembers (in memory, per chat) the latest messages it took the
buttons off and does not try again on them (a second tap on an answered question), and a short
note about a tap on the live question that leaves it valid ("Bitte wähle mindestens 1 aus.")
quotes that question instead of sending it again. After a restart nothing is remembered and
every removal is made.

A question that offers "share my location" keeps its suggestions as inline buttons; the
location button can only be a reply-keyboard button, and one message carries either kind of
keyboard, never both, so a short extra message under the question brings it. The next message
without inline buttons takes the reply keyboard away again (``ReplyKeyboardRemove``).

Inline keyboards go to the Bot API as the JSON Telegram documents, passed in ``api_kwargs``
(``_keyboard_kwargs``), not as PTB's ``InlineKeyboardMarkup``: PTB would build an object per
button and turn it back into that same JSON for every message, about a sixth of the CPU of
sending a check-in (bench/README.md, "The send path"). The bot sets no
``arbitrary_callback_data``, the one ExtBot feature that rewrites ``reply_markup`` and would
not see these keyboards.

Of what Telegram answers, the renderer reads only a sent message's id. For broadcasts (the
check-ins) it says so to the rate limiter (``MESSAGE_ID_ONLY`` in ``rate_limit_args``), which
hands PTB the id, date and chat alone to build the ``Message`` from: parsing the echoed text,
entities and keyboard was about a fifth of a check-in send's CPU (bench/README.md, "The send
path's CPU"). Replies pass no ``rate_limit_args``, so a bot without a rate limiter can show them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from telegram import (
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from telegram.error import BadRequest
from telegram.ext import ExtBot

from bot.core.messages import Button, LocationRequest, Reply, ReplyKind
from bot.telegram.ratelimit import MESSAGE_ID_ONLY
from bot.telegram.splitting import (
    MAX_CAPTION_LENGTH,
    MAX_MESSAGE_LENGTH,
    split_html,
    visible_length,
)

__all__ = ["KnownLive", "LiveMessages", "ReplyRenderer"]

log = logging.getLogger(__name__)

_NOT_MODIFIED = "message is not modified"
# Chats whose question message is remembered; the oldest are forgotten first. Forgetting only
# means a typed answer is not echoed on its question (the user's own message shows it).
_REMEMBERED_CHATS = 50_000
# A question at most this many message ids above the user's newest message is still in view on a
# phone (the question, the user's stray text and one hint between): a repeat of it is left out.
IN_VIEW = 3
# A note at most this long (visible characters) after a tap on the live question leaves that
# question in view on a phone (about four lines), so the question is not sent again below it.
SHORT_NOTE = 200
# Per chat, how many of the latest messages stripped of their buttons are remembered.
_REMEMBERED_BARE = 4


class LiveMessages(Protocol):
    """Where the id of a user's live-button message is kept (``DialogueEngine``); blocking."""

    def live_message(self, user_id: str) -> int | None:
        """The stored id, if any."""

    def note_live_message(self, user_id: str, message_id: int | None) -> None:
        """Store a new id (None: no message has live buttons)."""


@dataclass
class KnownLive:
    """The chat's live-button message as the caller read it (``before``); ``show`` sets
    ``after`` when its replies move the live buttons to another message (or to none)."""

    before: int | None
    after: int | None = field(init=False)

    def __post_init__(self) -> None:
        self.after = self.before


def _keyboard_kwargs(rows: Sequence[Sequence[Button]]) -> dict[str, Any] | None:
    """``api_kwargs`` carrying the inline keyboard of ``rows`` as Bot API JSON; None without rows.

    The JSON PTB sends for an ``InlineKeyboardMarkup`` of these buttons (its ``to_dict()``;
    tests/telegram/test_render_calls.py and test_checkin_sender.py compare the requests), built
    without PTB's objects. A new dict each call: ExtBot adds its ``rate_limit_args`` to it.
    """
    if not rows:
        return None
    return {
        "reply_markup": {
            "inline_keyboard": [
                [{"text": button.label, "callback_data": button.data} for button in row]
                for row in rows
            ]
        }
    }


def _note_on_the_tapped_question(question: int, replies: Sequence[Reply]) -> int | None:
    """``question`` if the replies to a tap on it are one short note and that question repeated.

    The tapped question is on the user's screen and its buttons stay valid (``repeat``), e.g.
    "Done" with too few ticked: the note alone, quoting it, says everything. A longer text (the
    plan shown from its menu) would push the question out of view: then it comes again below.
    """
    if len(replies) != 2:
        return None
    note, again = replies
    if not again.repeat or again.kind is not ReplyKind.QUESTION:
        return None
    if note.kind is not ReplyKind.INFO or note.edits_question or note.buttons:
        return None
    if note.document is not None or note.photo is not None or note.location is not None:
        return None
    return question if visible_length(note.text) <= SHORT_NOTE else None


class ReplyRenderer:
    """Shows replies in a chat; calls for one chat must not overlap (the per-user lock)."""

    def __init__(
        self,
        *,
        live: LiveMessages | None = None,
        remembered_chats: int = _REMEMBERED_CHATS,
    ) -> None:
        """Start without any known question message; ``live`` keeps them across restarts."""
        # chat -> its live-button message (None: none); a chat not in here is asked of ``live``.
        self._questions: OrderedDict[int, int | None] = OrderedDict()
        self._live = live
        self._remembered_chats = remembered_chats
        # Chats that show the "share my location" reply keyboard (same bound as questions).
        self._location_keyboards: OrderedDict[int, None] = OrderedDict()
        # chat -> the latest messages this process took the buttons off (or found without any).
        self._bare: OrderedDict[int, tuple[int, ...]] = OrderedDict()

    def question_message(self, chat_id: int) -> int | None:
        """Id of the message showing the chat's current question, if known."""
        return self._questions.get(chat_id)

    def _remember(self, chat_id: int, message_id: int | None) -> None:
        self._questions[chat_id] = message_id
        self._questions.move_to_end(chat_id)
        while len(self._questions) > self._remembered_chats:
            self._questions.popitem(last=False)

    def _note_bare(self, chat_id: int, message_id: int) -> None:
        """``message_id`` carries no buttons any more."""
        known = tuple(m for m in self._bare.get(chat_id, ()) if m != message_id)
        self._bare[chat_id] = (*known, message_id)[-_REMEMBERED_BARE:]
        self._bare.move_to_end(chat_id)
        while len(self._bare) > self._remembered_chats:
            self._bare.popitem(last=False)

    def _forget_bare(self, chat_id: int, message_id: int) -> None:
        """``message_id`` carries buttons again (drawn on it by an edit)."""
        if self._is_bare(chat_id, message_id):
            self._bare[chat_id] = tuple(m for m in self._bare[chat_id] if m != message_id)

    def _is_bare(self, chat_id: int, message_id: int) -> bool:
        return message_id in self._bare.get(chat_id, ())

    async def _recall(self, chat_id: int, known: KnownLive | None) -> int | None:
        """The live-button message of the chat: remembered, else as stored with the user."""
        if chat_id in self._questions:
            return self._questions[chat_id]
        stored = None
        if known is not None:
            stored = known.before
        elif self._live is not None:
            stored = await asyncio.to_thread(self._live.live_message, str(chat_id))
        self._remember(chat_id, stored)
        return stored

    async def show(
        self,
        bot: ExtBot[Any],
        chat_id: int,
        replies: Sequence[Reply],
        *,
        pressed: int | None = None,
        newest: int | None = None,
        broadcast: bool = False,
        known_live: KnownLive | None = None,
    ) -> None:
        """Show ``replies``; ``pressed`` is the message whose button caused them, if any.

        ``newest`` is the id of the user's message that caused them: a question repeated after
        a hint is left out while its message is at most ``IN_VIEW`` ids above it, and the hint
        is sent as a reply to that message instead; the same after a tap on the live question
        itself when the hint is short (``SHORT_NOTE``). ``broadcast`` marks messages nobody is
        waiting for (weekly reminders): the rate limiter serves replies to people chatting
        first and spaces broadcasts per chat. ``known_live`` stands in for the renderer's store
        of live-button messages in this call: the check-in sender read the stored one with its
        claim and records the new one with the sent check-in, not by a write of its own.
        """
        # Nothing of a sent or edited message but its id is read here, so for a broadcast PTB
        # is handed only that to build (MESSAGE_ID_ONLY): a fan-out's CPU. (Replies pass no
        # rate_limit_args: PTB refuses them from a bot without a rate limiter, as in tests.)
        ids_only = {MESSAGE_ID_ONLY: True} if broadcast else None
        limits = {"broadcast": True, MESSAGE_ID_ONLY: True} if broadcast else None
        # While the question that offers a location is asked, its keyboard stays up.
        wants_location = any(reply.location is not None for reply in replies)
        before = await self._recall(chat_id, known_live)
        in_view = before is not None and newest is not None and newest - before <= IN_VIEW
        pointing = before if in_view and any(r.repeat for r in replies) else None
        if pointing is None and before is not None and before == pressed:
            pointing = _note_on_the_tapped_question(before, replies)
        superseded = {m for m in (pressed, before) if m is not None}
        settled: set[int] = set()  # edited, or found to be beyond editing
        asked = False
        for reply in replies:
            if reply.document is not None or reply.photo is not None:
                await self._send_file(bot, chat_id, reply)
                continue
            if reply.repeat and pointing is not None:
                continue  # the question is still in view, its buttons still valid
            if reply.edits_question and await self._rewrite(
                bot,
                chat_id,
                reply,
                pressed=pressed,
                settled=settled,
                limits=limits,
                ids_only=ids_only,
            ):
                continue
            message_id = await self._send(
                bot, chat_id, reply, limits, reply_to=pointing, remove_keyboard=not wants_location
            )
            if reply.kind is ReplyKind.QUESTION:
                self._remember(chat_id, message_id)
                asked = True
                await self._offer_location(bot, chat_id, reply.location, limits)
        if asked:
            # A new question message replaced the old one; its buttons would only be outdated.
            current = self._questions.get(chat_id)
            for message_id in sorted(superseded - settled):
                if message_id != current and not self._is_bare(chat_id, message_id):
                    await self._drop_keyboard(bot, chat_id, message_id, ids_only)
        after = self._questions.get(chat_id)
        if after != before:
            if known_live is not None:
                known_live.after = after
            elif self._live is not None:
                await asyncio.to_thread(self._live.note_live_message, str(chat_id), after)

    async def _rewrite(
        self,
        bot: ExtBot[Any],
        chat_id: int,
        reply: Reply,
        *,
        pressed: int | None,
        settled: set[int],
        limits: dict[str, Any] | None,
        ids_only: dict[str, Any] | None,
    ) -> bool:
        """Show the reply on the question's message; False if it must be sent anew instead.

        ``limits`` go with a message sent along (the location offer); the edit itself is never
        a broadcast (an edit in reply takes no permit), ``ids_only`` at most.
        """
        target = pressed if pressed is not None else self._questions.get(chat_id)
        if target is None:
            # Nothing known to rewrite; the user's own message shows an answer.
            return reply.kind is ReplyKind.ANSWERED
        settled.add(target)
        if not await self._edit(bot, chat_id, target, reply, ids_only):
            return False
        if reply.buttons:
            self._forget_bare(chat_id, target)
        else:
            self._note_bare(chat_id, target)
        if reply.kind is ReplyKind.QUESTION:
            self._remember(chat_id, target)
            await self._offer_location(bot, chat_id, reply.location, limits)
        elif self._questions.get(chat_id) == target:
            # The echo took its buttons: nothing left to tidy on it later.
            self._remember(chat_id, None)
        return True

    async def _send(
        self,
        bot: ExtBot[Any],
        chat_id: int,
        reply: Reply,
        limits: dict[str, Any] | None = None,
        *,
        reply_to: int | None = None,
        remove_keyboard: bool = False,
    ) -> int:
        """Send the reply's text (in parts if long; buttons on the last); return its id.

        ``reply_to`` quotes that message above the first part (a tap on the quote scrolls to
        it); the text still goes if the message is gone. With ``remove_keyboard``, a part
        without inline buttons also takes away the chat's location keyboard, if it shows one.
        """
        parts = split_html(reply.text, MAX_MESSAGE_LENGTH)
        message_id = 0
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            buttons = _keyboard_kwargs(reply.buttons) if last else None
            removes = buttons is None and remove_keyboard and chat_id in self._location_keyboards
            quoted = None
            if reply_to is not None and index == 0:
                quoted = ReplyParameters(reply_to, allow_sending_without_reply=True)
            message = await bot.send_message(
                chat_id,
                part,
                reply_markup=ReplyKeyboardRemove() if removes else None,
                reply_parameters=quoted,
                api_kwargs=buttons,
                rate_limit_args=limits,
            )
            if removes:
                del self._location_keyboards[chat_id]
            message_id = message.message_id
        return message_id

    async def _offer_location(
        self,
        bot: ExtBot[Any],
        chat_id: int,
        offer: LocationRequest | None,
        limits: dict[str, Any] | None,
    ) -> None:
        """Bring the "share my location" button in a short message, unless it is up already."""
        if offer is None or chat_id in self._location_keyboards:
            return
        button = KeyboardButton(offer.label, request_location=True)
        await bot.send_message(
            chat_id,
            offer.prompt,
            reply_markup=ReplyKeyboardMarkup(
                [[button]], resize_keyboard=True, one_time_keyboard=True
            ),
            rate_limit_args=limits,
        )
        self._location_keyboards[chat_id] = None
        while len(self._location_keyboards) > self._remembered_chats:
            self._location_keyboards.popitem(last=False)

    async def _edit(
        self,
        bot: ExtBot[Any],
        chat_id: int,
        message_id: int,
        reply: Reply,
        ids_only: dict[str, Any] | None,
    ) -> bool:
        """Rewrite a message with the reply; False if it cannot be (then send a new one)."""
        if len(split_html(reply.text, MAX_MESSAGE_LENGTH)) > 1:
            return False
        try:
            await bot.edit_message_text(
                reply.text,
                chat_id=chat_id,
                message_id=message_id,
                api_kwargs=_keyboard_kwargs(reply.buttons),
                rate_limit_args=ids_only,
            )
        except BadRequest as error:
            if _NOT_MODIFIED in error.message.lower():
                return True  # a repeated tap: the message already shows this
            # Deleted, too old to edit (48 h) or otherwise gone: the reply still gets through.
            log.info("cannot edit message %s in chat %s (%s)", message_id, chat_id, error)
            return False
        return True

    async def _drop_keyboard(
        self, bot: ExtBot[Any], chat_id: int, message_id: int, ids_only: dict[str, Any] | None
    ) -> None:
        try:
            await bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, rate_limit_args=ids_only
            )
        except BadRequest as error:
            # Already without buttons, deleted or too old: nothing left to tidy.
            log.debug("cannot remove buttons of message %s (%s)", message_id, error)
        self._note_bare(chat_id, message_id)

    async def _send_file(self, bot: ExtBot[Any], chat_id: int, reply: Reply) -> None:
        """Send the document or photo with the text as its caption, or after it if too long."""
        fits = bool(reply.text) and visible_length(reply.text) <= MAX_CAPTION_LENGTH
        caption = reply.text if fits else None
        if reply.photo is not None:
            photo = reply.photo
            await bot.send_photo(chat_id, photo.content, filename=photo.filename, caption=caption)
        elif reply.document is not None:
            document = reply.document
            await bot.send_document(
                chat_id, document.content, filename=document.filename, caption=caption
            )
        else:
            raise ValueError("reply has no document or photo")
        if reply.text and not fits:
            await self._send(bot, chat_id, Reply(text=reply.text))
