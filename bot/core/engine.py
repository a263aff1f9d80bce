"""The dialogue engine: one inbound message in, replies out, state saved in between.

``DialogueEngine.handle`` is plain synchronous Python shared by every transport. It loads the
user's state, applies the message, saves the state (before any reply can reach the user, so an
acknowledged answer is never lost) and returns what to show. ``checkin_reminder`` builds the
weekly reminder for the reminder dispatcher in the same way; ``due_checkin`` tells a chat
without a dispatcher (the terminal chat) which week to remind of when it opens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol

from bot.core import confirmations
from bot.core.callbacks import Action, ButtonToken, decode
from bot.core.checkin_reminder import (
    answer_comeback,
    answer_heartbeat_prompt,
    answer_reminder,
    answer_review_offer,
    due_offer,
    remind,
    restart_after_block,
)
from bot.core.commands import MENU_HELP, ListedCommand, run_command
from bot.core.content import Content
from bot.core.conversation import Conversation
from bot.core.cool_off import cancel, settle
from bot.core.cool_off_view import note_reply
from bot.core.deep_links import apply_start_payload
from bot.core.due_kinds import KINDS, Due, Kind, Outlook
from bot.core.exits import EXITS
from bot.core.messages import ButtonPress, Command, Inbound, Reply, SharedLocation, TextMessage
from bot.core.quiet_hours import DEFAULT_QUIET, QUIET_HOURS
from bot.core.state import UserState
from bot.core.state_repair import fit_to_content
from bot.core.templating import Condition
from bot.core.text_input import MAX_INBOUND_CHARS, clean_text
from storage.errors import DamagedDocumentError, SchemaVersionError
from storage.repository import UserRepository

__all__ = [
    "DATA_DAMAGED",
    "DATA_NEWER",
    "DialogueEngine",
    "NoReminders",
    "ReminderHooks",
]

log = logging.getLogger(__name__)

# Said when the user's stored document cannot be read (see ``DialogueEngine.handle``).
DATA_DAMAGED = "common/data_damaged"
DATA_NEWER = "common/data_newer"


class ReminderHooks(Protocol):
    """The reminder side (``bot.core.checkin_claims.ReminderService``) as the engine sees it."""

    def user_lock(self, user_id: str) -> AbstractContextManager[None]:
        """Serialise the engine's and the dispatcher's read-modify-write of one document."""

    def before_update(self, user_id: str, document: dict[str, Any]) -> None:
        """Called before a document with a changed reminder is saved (no due instant missed)."""

    def reschedule(self, user_id: str) -> None:
        """Called after the changed document is saved."""

    def forget(self, user_id: str) -> None:
        """Called after the user's data was deleted (or a damaged file of theirs set aside)."""


class NoReminders:
    """Reminder hooks for transports without reminders (the terminal chat)."""

    def user_lock(self, user_id: str) -> AbstractContextManager[None]:
        """No dispatcher writes documents here: nothing to serialise with."""
        return nullcontext()

    def before_update(self, user_id: str, document: dict[str, Any]) -> None:
        """Do nothing."""

    def reschedule(self, user_id: str) -> None:
        """Do nothing."""

    def forget(self, user_id: str) -> None:
        """Do nothing."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _log_damaged(user_id: str, error: DamagedDocumentError, consequence: str = "") -> None:
    """Tell the operator which file cannot be read and why (no traceback: it is not a bug)."""
    log.error(
        "stored data of user %s cannot be read: %s: %s%s",
        user_id,
        error.path,
        error.problem,
        f"; {consequence}" if consequence else "",
    )


class DialogueEngine:
    """Runs the flows in ``content`` for any number of users stored in ``repository``."""

    def __init__(
        self,
        content: Content,
        repository: UserRepository,
        *,
        clock: Callable[[], datetime] = _utc_now,
        reminders: ReminderHooks | None = None,
    ) -> None:
        self.content = content
        self.repository = repository
        self.clock = clock
        self.reminders: ReminderHooks = reminders or NoReminders()
        self._condition: Callable[[str], Condition] = lru_cache(maxsize=256)(
            self.content.texts.condition
        )
        self._channels = frozenset(channel.id for channel in content.catalogue.channels)

    # ---- entry points --------------------------------------------------------------------
    def handle(
        self,
        user_id: str,
        inbound: Inbound,
        *,
        language_hint: str | None = None,
        help_commands: Sequence[ListedCommand] = MENU_HELP,
        delivery: int | None = None,
    ) -> list[Reply]:
        """Apply one inbound message for ``user_id`` and return the replies to show.

        ``help_commands`` are the commands the transport has, as /help lists them (default:
        Telegram's menu). ``delivery`` is the transport's id of the message, if it may deliver
        one again (Telegram after a crash): a message already applied is not applied twice, the
        user is shown where they are instead. A damaged stored document is reported and the
        user starts afresh (the file is kept); one written by a newer focus-coach is left alone
        and the user is told to try later.
        """
        with self.reminders.user_lock(user_id):
            try:
                user, before, notes = self._load(user_id, language_hint)
            except SchemaVersionError as error:
                return self._newer_data(user_id, error, language_hint)
            except DamagedDocumentError as error:
                return self._start_afresh(user_id, inbound, error, language_hint)
            if delivery is not None and delivery in user.handled:
                replies = self._delivered_again(user, delivery)
            else:
                if isinstance(inbound, Command) and inbound.name == "start" and not user.active:
                    self._reactivate(user)
                replies = self._dispatch(user, inbound, help_commands)
            self._save(user, before, delivery=delivery)
            return [*notes, *replies]

    def checkin_reminder(
        self,
        user_id: str,
        *,
        week: str,
        late: bool = False,
        missed_weeks: Sequence[str] = (),
        snooze: bool = False,
        kind: Kind = Kind.CHECKIN,
    ) -> list[Reply]:
        """Build (and record) a message the bot starts: the check-in reminder or its follow-up.

        [] when there is nothing to send (no plan any more, or the follow-up's week has been
        answered, skipped or snoozed since it was claimed). The dispatcher's claims compose the
        message in their own write instead (``compose_reminder``); this is for a chat without
        one (the terminal chat) and for claims made without a composer.
        """
        with self.reminders.user_lock(user_id):
            stored = self.repository.get(user_id)
            outlook = Outlook.of(stored)
            if stored is None:
                return []
            if outlook is not None and not KINDS[kind].wanted(
                outlook, Due(kind, self.clock(), week, snooze)
            ):
                return []
            user = UserState.from_document(stored)
            before = user.to_document()
            replies = self._remind(
                user, week=week, late=late, missed_weeks=missed_weeks, snooze=snooze, kind=kind
            )
            if replies:
                self._save(user, before)
            return replies

    def compose_reminder(
        self,
        document: dict[str, Any],
        *,
        week: str,
        late: bool,
        missed_weeks: Sequence[str],
        snooze: bool,
        kind: Kind,
    ) -> tuple[dict[str, Any], list[Reply]]:
        """``document`` with the message asked, and the replies that ask it; [] if none.

        Pure (reads and writes nothing): the claim of ``ReminderService`` stores the result in
        the same write as the claim itself. With nothing to ask, ``document`` comes back as
        it is.
        """
        user = UserState.from_document(document)
        replies = self._remind(
            user, week=week, late=late, missed_weeks=missed_weeks, snooze=snooze, kind=kind
        )
        if not replies:
            return document, []
        user.updated_at = UserState.now_iso(self.clock())
        return user.to_document(), replies

    def _remind(
        self,
        user: UserState,
        *,
        week: str,
        late: bool,
        missed_weeks: Sequence[str],
        snooze: bool,
        kind: Kind,
    ) -> list[Reply]:
        """Put the reminder in front of ``user`` (changed in place); [] if there is none.

        A state the engine last saved after fitting it to this very content needs no fit (a
        weekly claim of a user who answered last week's check-in); one fitted to other content
        (a deploy changed the flows or the code) or to none known is fitted first.
        """
        if self.content.identity is None or user.fitted_to != self.content.identity:
            self._fit(user, language_hint=None)
        if not user.active or user.plan is None or user.dialogue is None:
            return []
        notes = self._settle(user)
        replies = remind(
            self._conversation(user),
            week=week,
            late=late,
            missed_weeks=missed_weeks,
            snooze=snooze,
            kind=kind,
        )
        return [*notes, *replies]

    def due_checkin(self, user_id: str) -> str | None:
        """The week whose check-in is due now for a transport without a scheduler, or None.

        Only reads: ``checkin_reminder`` then puts the reminder in front of the user, and the
        claim bookkeeping (sending, sent weeks) stays the dispatcher's alone.
        """
        with self.reminders.user_lock(user_id):
            try:
                stored = self.repository.get(user_id)
            except DamagedDocumentError:
                # A newer version's file, too: handling /start has just said so, once is enough.
                return None
        if stored is None:
            return None
        return due_offer(UserState.from_document(stored), self.clock())

    def live_message(self, user_id: str) -> int | None:
        """The transport's id of the message whose buttons are live for the user, if known."""
        with self.reminders.user_lock(user_id):
            try:
                stored = self.repository.get(user_id)
            except DamagedDocumentError:
                return None  # handling the message says so; the id is only a hint
        return None if stored is None else UserState.from_document(stored).live_message

    def note_live_message(self, user_id: str, message_id: int | None) -> None:
        """Record that the user's live buttons are now on ``message_id`` (None: on no message).

        Written after the replies were shown, apart from the answer's own save: if the bot dies
        in between, the stored id is one question old, and taking its buttons off later merely
        fails or tidies a message that is already outdated.
        """
        with self.reminders.user_lock(user_id):
            try:
                stored = self.repository.get(user_id)
            except DamagedDocumentError:
                return
            if stored is None or stored.get("live_message") == message_id:
                return  # a deleted user stays deleted
            self.repository.put(user_id, {**stored, "live_message": message_id})

    def language(self, user_id: str, *, language_hint: str | None = None) -> str:
        """The language the user's replies are in (their choice, else the hint)."""
        try:
            stored = self.repository.get(user_id)
        except DamagedDocumentError as error:
            _log_damaged(user_id, error)
            stored = None
        lang = None if stored is None else UserState.from_document(stored).lang
        return (
            lang if lang in self.content.languages else self.content.pick_language(language_hint)
        )

    # ---- loading and saving --------------------------------------------------------------
    def _load(
        self, user_id: str, language_hint: str | None
    ) -> tuple[UserState, dict[str, Any], list[Reply]]:
        """The user's state, the document it was read from, and notes on what loading did."""
        stored = self.repository.get(user_id)
        if stored is None:
            return self._new_user(user_id, language_hint), {}, []
        user = UserState.from_document(stored)
        before = user.to_document()
        # After ``before``: what had to be repaired is saved with this message.
        self._fit(user, language_hint=language_hint)
        return user, before, self._settle(user)

    def _fit(self, user: UserState, *, language_hint: str | None) -> None:
        """Fit ``user`` to the content (``state_repair``) and stamp it as fitted to it."""
        fit_to_content(user, self.content, language_hint=language_hint, now=self.clock())
        user.fitted_to = self.content.identity

    def _settle(self, user: UserState) -> list[Reply]:
        """A plan change whose cool-off is over becomes the plan (or, if the plan changed
        meanwhile, is withdrawn); the note saying so goes first in the next reply, once."""
        settled = settle(user, self.clock(), self._channels)
        note = None if settled is None else note_reply(self.content, user, settled)
        return [] if note is None else [note]

    def _new_user(self, user_id: str, language_hint: str | None) -> UserState:
        now = UserState.now_iso(self.clock())
        return UserState(
            user_id=user_id,
            lang=self.content.pick_language(language_hint),
            created_at=now,
            updated_at=now,
        )

    def _save(
        self, user: UserState, before: dict[str, Any], *, delivery: int | None = None
    ) -> None:
        if user.deleted:
            self.repository.delete(user.user_id)
            self.reminders.forget(user.user_id)
            return
        after = user.to_document()
        if after == before:
            # Nothing changed, so applying the message again would change nothing either:
            # its id need not cost a write.
            return
        if delivery is not None and delivery not in user.handled:
            user.note_handled(delivery)
        reminder_changed = (
            before.get("reminder") != after["reminder"]
            or before.get(EXITS, {}) != after[EXITS]  # a heartbeat answered or started
            or before.get("active", True) != after["active"]
            or before.get(QUIET_HOURS, DEFAULT_QUIET.to_dict()) != after[QUIET_HOURS]
        )
        user.updated_at = UserState.now_iso(self.clock())
        document = user.to_document()
        if reminder_changed:
            self.reminders.before_update(user.user_id, document)
        self.repository.put(user.user_id, document)
        if reminder_changed:
            self.reminders.reschedule(user.user_id)

    def _start_afresh(
        self,
        user_id: str,
        inbound: Inbound,
        error: DamagedDocumentError,
        language_hint: str | None,
    ) -> list[Reply]:
        """The stored file is torn or garbled: say so and begin anew as with a new user.

        Saving the new document moves the damaged file aside (``UserRepository.put``), so an
        operator can still look into it; every other user is unaffected.
        """
        _log_damaged(user_id, error, consequence="a copy is kept and the user starts afresh")
        user = self._new_user(user_id, language_hint)
        # A new user is welcomed whatever they sent: no command runs, so no help list is needed.
        replies = self._dispatch(user, inbound, MENU_HELP)
        notice = Reply(text=self.content.texts.render(user.lang, DATA_DAMAGED))
        self._save(user, {})
        # A new user has no check-in: the damaged file's schedule goes with it.
        self.reminders.forget(user_id)
        return [notice, *replies]

    def _newer_data(
        self, user_id: str, error: SchemaVersionError, language_hint: str | None
    ) -> list[Reply]:
        """A newer focus-coach wrote this file: leave it untouched until that version runs.

        Starting afresh here would overwrite (a copy of) real data after a downgrade.
        """
        _log_damaged(user_id, error, consequence="the file is left as it is")
        lang = self.content.pick_language(language_hint)
        return [Reply(text=self.content.texts.render(lang, DATA_NEWER))]

    def _delivered_again(self, user: UserState, delivery: int) -> list[Reply]:
        """The message was applied before a crash, its reply may not have reached the user.

        Applying it again would undo a tick or answer the next question; showing the current
        question (fresh buttons, the ticks as stored) lets the user see where they are.
        """
        log.info("user %s: message %s was applied already, not again", user.user_id, delivery)
        if user.dialogue is None:
            return []
        return self._conversation(user).ask()

    def _reactivate(self, user: UserState) -> None:
        """They came back after blocking the bot: reminders resume from the next slot on."""
        user.active = True
        if user.reminder is not None:
            restart_after_block(user.reminder, self.clock())

    # ---- dispatch ------------------------------------------------------------------------
    def _conversation(self, user: UserState) -> Conversation:
        return Conversation(self.content, user, clock=self.clock, condition=self._condition)

    def _dispatch(
        self, user: UserState, inbound: Inbound, help_commands: Sequence[ListedCommand]
    ) -> list[Reply]:
        conversation = self._conversation(user)
        if isinstance(inbound, Command) and inbound.name == confirmations.LANGUAGE:
            # Honour "/language en" even as the very first message.
            code = inbound.args.strip().lower()
            if code in self.content.languages:
                user.lang = code
        if isinstance(inbound, Command) and inbound.name == "start" and inbound.args:
            # A deep link (t.me/<bot>?start=en), honoured even as the very first message.
            apply_start_payload(user, inbound.args, self.content.languages)
        if user.dialogue is None:
            return conversation.begin()
        if isinstance(inbound, Command):
            return run_command(conversation, inbound, listed=help_commands)
        if isinstance(inbound, ButtonPress):
            return self._button(conversation, inbound.data)
        if isinstance(inbound, SharedLocation):
            return self._location(conversation, inbound)
        return self._text(conversation, inbound)

    def _location(self, conversation: Conversation, location: SharedLocation) -> list[Reply]:
        """A shared location answers the question that offers it; it is never stored."""
        if conversation.dialogue.confirm is not None:
            return conversation.ask_again("common/use_buttons")
        current = conversation.asked()
        return current.kind.on_location(current, location, conversation)

    def _text(self, conversation: Conversation, message: TextMessage) -> list[Reply]:
        if len(message.text) > MAX_INBOUND_CHARS:
            return conversation.hint("common/too_long", limit=MAX_INBOUND_CHARS)
        text = clean_text(message.text)
        if not text:
            return conversation.hint("common/empty_input")
        if conversation.dialogue.confirm is not None:
            return conversation.hint("common/use_buttons")
        current = conversation.asked()
        return current.kind.on_text(current, text, conversation)

    def _button(self, conversation: Conversation, data: str) -> list[Reply]:
        """Apply a current button; anything else is "out of date" (old, forged or garbled)."""
        token = decode(data)
        if token is not None and token.action is Action.UNDO:
            return self._undo(conversation, token.value)
        dialogue = conversation.dialogue
        replies: list[Reply] | None = None
        if token is not None and token.turn == dialogue.turn:
            if dialogue.confirm is not None:
                replies = self._answer_prompt(conversation, token)
            elif token.action is Action.BACK:
                replies = conversation.back()
            else:
                current = conversation.asked()
                replies = current.kind.on_button(current, token, conversation)
        if replies is None:
            return conversation.ask_again("common/button_outdated")
        return replies

    def _undo(self, conversation: Conversation, change_id: str) -> list[Reply]:
        """Take back a plan change waiting out its cool-off; a stale or forged button is told
        so kindly. Valid from any message while its change waits, so the turn is not checked.
        """
        user = conversation.user
        note = note_reply(self.content, user, cancel(user, change_id))
        if note is None:  # cannot happen: a cancel always has something to say
            return conversation.ask_again("common/button_outdated")
        return conversation.with_question(note)

    def _answer_prompt(self, conversation: Conversation, token: ButtonToken) -> list[Reply] | None:
        """Answer the pending prompt (restart, delete, language, check-in reminder)."""
        if token.action is Action.BACK:
            return conversation.back()
        prompt = conversation.dialogue.confirm
        expected, answer = _PROMPT_ANSWERS.get(prompt or "", (None, None))
        if answer is None or token.action is not expected:
            return None
        return answer(conversation, token.value)


def _answer_yes_no(conversation: Conversation, value: str) -> list[Reply] | None:
    """Restart or delete on "yes"; on "no" carry on where the user was."""
    prompt = conversation.dialogue.confirm
    if value == confirmations.NO:
        conversation.dialogue.confirm = None
        if prompt == confirmations.DELETE:
            return conversation.ask_again("common/delete_cancelled")
        return conversation.ask()
    if value != confirmations.YES:
        return None
    if prompt == confirmations.DELETE:
        conversation.user.deleted = True
        return [conversation.say("common/deleted")]
    return [conversation.say("common/restarted"), *conversation.begin()]


def _answer_language(conversation: Conversation, value: str) -> list[Reply] | None:
    """Speak the chosen language from now on."""
    if value not in conversation.content.languages:
        return None
    conversation.user.lang = value
    conversation.dialogue.confirm = None
    return conversation.ask_again("common/language_changed")


def _answer_resume(conversation: Conversation, value: str) -> list[Reply] | None:
    """Continue the open side flow at its question, or start it over (its answers go)."""
    if value == confirmations.CONTINUE:
        conversation.dialogue.confirm = None
        return conversation.ask()
    if value == confirmations.START_OVER:
        return conversation.start_flow(conversation.dialogue.flow)
    return None


PromptAnswer = Callable[[Conversation, str], list[Reply] | None]
# Each prompt: the button action that answers it, and what the answer does.
_PROMPT_ANSWERS: dict[str, tuple[Action, PromptAnswer]] = {
    confirmations.RESTART: (Action.CONFIRM, _answer_yes_no),
    confirmations.DELETE: (Action.CONFIRM, _answer_yes_no),
    confirmations.LANGUAGE: (Action.LANGUAGE, _answer_language),
    confirmations.RESUME: (Action.CONFIRM, _answer_resume),
    confirmations.CHECKIN: (Action.CHECKIN, answer_reminder),
    confirmations.FOLLOWUP: (Action.CHECKIN, answer_reminder),
    confirmations.REVIEW: (Action.CONFIRM, answer_review_offer),
    confirmations.COMEBACK: (Action.CONFIRM, answer_comeback),
    confirmations.HEARTBEAT: (Action.CONFIRM, answer_heartbeat_prompt),
}
