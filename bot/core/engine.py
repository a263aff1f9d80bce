"""The dialogue engine: one inbound message in, replies out, state saved in between.

``DialogueEngine.handle`` is plain synchronous Python shared by every transport. It loads the
user's state, applies the message, saves the state (before any reply can reach the user, so an
acknowledged answer is never lost) and returns what to show. ``checkin_reminder`` builds the
weekly reminder for the reminder dispatcher in the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from markupsafe import Markup

from bot.core import confirmations as prompt
from bot.core.actions import ACTIONS, ActionContext
from bot.core.callbacks import Action, ButtonToken, decode
from bot.core.checkin_schedule import slot_of
from bot.core.checkin_stats import evaluate
from bot.core.coaching import FocusPlan, build_plan
from bot.core.content import ONBOARDING_FLOW, Content
from bot.core.flows import AskType, Step, Then
from bot.core.messages import (
    ButtonPress,
    Command,
    Document,
    Inbound,
    Reply,
    ReplyKind,
    TextMessage,
)
from bot.core.plan_answers import plan_input
from bot.core.schedule import local_week_key, next_occurrence, parse_time_of_day, parse_zone
from bot.core.state import DialogueState, UserState
from bot.core.templating import Condition
from bot.core.text_input import MAX_INBOUND_CHARS, clean_text, parse_number
from bot.core.views import (
    GRID_UNRATED,
    QuestionView,
    format_hour,
    grid_ratings,
    plan_flow_target,
)
from storage.errors import DamagedDocumentError, SchemaVersionError
from storage.repository import UserRepository

__all__ = [
    "CHECKIN_FLOW",
    "DATA_DAMAGED",
    "DATA_NEWER",
    "SETTINGS_FLOW",
    "DialogueEngine",
    "NoReminders",
    "ReminderHooks",
]

log = logging.getLogger(__name__)

CHECKIN_FLOW = "checkin"
SETTINGS_FLOW = "settings"
# "This evening" means 19:00 local time, unless that is less than half an hour away.
_EVENING = 19
_MIN_SNOOZE = timedelta(minutes=30)
# Said when the user's stored document cannot be read (see ``DialogueEngine.handle``).
DATA_DAMAGED = "common/data_damaged"
DATA_NEWER = "common/data_newer"


class ReminderHooks(Protocol):
    """The reminder side (``bot.core.checkin_schedule.ReminderService``) as the engine sees it."""

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
        self.view = QuestionView(content)
        self._condition: Callable[[str], Condition] = lru_cache(maxsize=256)(
            self.content.texts.condition
        )

    # ---- entry points --------------------------------------------------------------------
    def handle(
        self, user_id: str, inbound: Inbound, *, language_hint: str | None = None
    ) -> list[Reply]:
        """Apply one inbound message for ``user_id`` and return the replies to show.

        A damaged stored document is reported and the user starts afresh (the file is kept);
        one written by a newer focus-coach is left alone and the user is told to try later.
        """
        with self.reminders.user_lock(user_id):
            try:
                user, before = self._load(user_id, language_hint)
            except SchemaVersionError as error:
                return self._newer_data(user_id, error, language_hint)
            except DamagedDocumentError as error:
                return self._start_afresh(user_id, inbound, error, language_hint)
            if isinstance(inbound, Command) and inbound.name == "start" and not user.active:
                self._reactivate(user)
            replies = self._dispatch(user, inbound)
            self._save(user, before)
            return replies

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
        replies = self._dispatch(user, inbound)
        notice = self._say(user, DATA_DAMAGED)
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

    def _reactivate(self, user: UserState) -> None:
        """They came back after blocking the bot: reminders resume from the next slot on."""
        user.active = True
        if user.reminder is not None:
            # The weeks they were away are not "missed": start afresh at the next slot.
            due = next_occurrence(slot_of(user.reminder), self.clock())
            user.reminder.update(
                next_due=due.isoformat(), sending=None, snoozed_until=None, snoozed_week=None
            )

    def checkin_reminder(
        self,
        user_id: str,
        *,
        week: str,
        late: bool = False,
        missed_weeks: Sequence[str] = (),
        snooze: bool = False,
    ) -> list[Reply]:
        """Build (and record) the weekly check-in reminder; [] when there is nothing to send."""
        with self.reminders.user_lock(user_id):
            return self._checkin_reminder(
                user_id, week=week, late=late, missed_weeks=missed_weeks, snooze=snooze
            )

    def _checkin_reminder(
        self, user_id: str, *, week: str, late: bool, missed_weeks: Sequence[str], snooze: bool
    ) -> list[Reply]:
        stored = self.repository.get(user_id)
        if stored is None:
            return []
        user = UserState.from_document(stored)
        before = user.to_document()
        if not user.active or user.plan is None or user.dialogue is None:
            return []
        abandoned = False
        if user.suspended is not None:
            abandoned = user.dialogue.flow == CHECKIN_FLOW
            self._end_flow(user, resume=False)
        user.pending_checkin = {
            "week": week,
            "late": late,
            "missed": list(missed_weeks),
            "snooze": snooze,
            "abandoned": abandoned,
        }
        self._dialogue(user).confirm = prompt.CHECKIN
        replies = self._ask(user)
        self._save(user, before)
        return replies

    def language(self, user_id: str, *, language_hint: str | None = None) -> str:
        """The language the user's replies are in (their choice, else the hint)."""
        try:
            stored = self.repository.get(user_id)
        except DamagedDocumentError as error:
            _log_damaged(user_id, error)
            stored = None
        if stored is None:
            return self.content.pick_language(language_hint)
        return UserState.from_document(stored).lang

    # ---- loading and saving --------------------------------------------------------------
    def _load(self, user_id: str, language_hint: str | None) -> tuple[UserState, dict[str, Any]]:
        stored = self.repository.get(user_id)
        if stored is not None:
            user = UserState.from_document(stored)
            return user, user.to_document()
        return self._new_user(user_id, language_hint), {}

    def _new_user(self, user_id: str, language_hint: str | None) -> UserState:
        now = UserState.now_iso(self.clock())
        return UserState(
            user_id=user_id,
            lang=self.content.pick_language(language_hint),
            created_at=now,
            updated_at=now,
        )

    def _save(self, user: UserState, before: dict[str, Any]) -> None:
        if user.deleted:
            self.repository.delete(user.user_id)
            self.reminders.forget(user.user_id)
            return
        after = user.to_document()
        if after == before:
            return
        reminder_changed = (
            before.get("reminder") != after["reminder"]
            or before.get("active", True) != after["active"]
        )
        user.updated_at = UserState.now_iso(self.clock())
        document = user.to_document()
        if reminder_changed:
            self.reminders.before_update(user.user_id, document)
        self.repository.put(user.user_id, document)
        if reminder_changed:
            self.reminders.reschedule(user.user_id)

    # ---- dispatch ------------------------------------------------------------------------
    def _dispatch(self, user: UserState, inbound: Inbound) -> list[Reply]:
        if isinstance(inbound, Command) and inbound.name == prompt.LANGUAGE and inbound.args:
            # Honour "/language en" even as the very first message.
            code = inbound.args.strip().lower()
            if code in self.content.languages:
                user.lang = code
        if user.dialogue is None:
            return self._begin(user)
        if isinstance(inbound, Command):
            return self._command(user, user.dialogue, inbound)
        if isinstance(inbound, ButtonPress):
            return self._button(user, user.dialogue, inbound.data)
        return self._text(user, user.dialogue, inbound)

    # ---- navigation ----------------------------------------------------------------------
    def _begin(self, user: UserState) -> list[Reply]:
        flow = self.content.flows[ONBOARDING_FLOW]
        previous_turn = user.dialogue.turn if user.dialogue else 0
        user.dialogue = DialogueState(flow=flow.id, step=flow.start, turn=previous_turn)
        user.suspended = None
        user.plan = None
        return self._enter(user, flow.start, push=False)

    def _step(self, dialogue: DialogueState) -> Step:
        return self.content.flows[dialogue.flow].step(dialogue.step)

    @staticmethod
    def _dialogue(user: UserState) -> DialogueState:
        if user.dialogue is None:
            raise RuntimeError("no dialogue in progress")
        return user.dialogue

    def _enter(self, user: UserState, step_id: str, *, push: bool) -> list[Reply]:
        """Move to ``step_id`` and ask its question (a new turn)."""
        dialogue = self._dialogue(user)
        if push:
            dialogue.history.append(dialogue.step)
        dialogue.step = step_id
        dialogue.confirm = None
        step = self._step(dialogue)
        dialogue.selection = None
        if step.ask is AskType.MULTI_CHOICE:
            dialogue.selection = list(dialogue.answers.get(step.save or "", []))
        elif step.ask is AskType.CHANNEL_GRID:
            previous = dialogue.answers.get(step.save or "") or {}
            dialogue.selection = [f"{c}:{r}" for c, r in previous.items()]
        if step.ask is AskType.PLAN:
            plan = self._build_plan(user)
            if plan is None:
                # Cannot happen with a checked flow: a plan step needs every plan answer.
                raise RuntimeError(f"plan step '{step_id}' reached without all plan answers")
            return [self.view.plan_reply(plan, user.lang), *self._ask(user, plan=plan)]
        if step.ask is AskType.FINISH:
            return self._finish(user, dialogue, step)
        return self._ask(user)

    def _ask(self, user: UserState, *, plan: FocusPlan | None = None) -> list[Reply]:
        """Ask the current question anew; buttons of earlier copies become out of date."""
        dialogue = self._dialogue(user)
        dialogue.turn += 1
        if dialogue.confirm is not None:
            context = self.view.user_context(user)
            return [
                prompt.confirmation(
                    self.content, dialogue.confirm, user.lang, dialogue.turn, context
                )
            ]
        return [self.view.question(user, plan=plan)]

    def _say(self, user: UserState, template: str, **context: object) -> Reply:
        return Reply(text=self.content.texts.render(user.lang, template, **context))

    def _reask(self, user: UserState, template: str, **context: object) -> list[Reply]:
        """Say something (a hint, an error) and ask the current question again."""
        return [self._say(user, template, **context), *self._ask(user)]

    def _back(self, user: UserState, dialogue: DialogueState) -> list[Reply]:
        if dialogue.confirm is not None:
            dialogue.confirm = None
            return self._ask(user)
        if dialogue.return_to is not None:
            target, dialogue.return_to = dialogue.return_to, None
            return self._enter(user, target, push=False)
        if not dialogue.history:
            if user.suspended is not None:
                return self._end_flow(user, resume=True)  # back out of a side flow
            return self._reask(user, "common/at_first_step")
        return self._enter(user, dialogue.history.pop(), push=False)

    def _advance(self, user: UserState, dialogue: DialogueState, step: Step) -> list[Reply]:
        if dialogue.return_to is not None:
            # Changing one answer from the summary goes straight back to it.
            target, dialogue.return_to = dialogue.return_to, None
            return self._enter(user, target, push=False)
        return self._enter(user, self._next_step(user, dialogue, step), push=True)

    def _next_step(self, user: UserState, dialogue: DialogueState, step: Step) -> str:
        for rule in step.next:
            if rule.when is None:
                return rule.goto
            try:
                if self._condition(rule.when)({"answers": dialogue.answers, "plan": user.plan}):
                    return rule.goto
            except Exception:
                # Checked flows evaluate cleanly; a failing condition counts as false.
                log.exception("condition %r of step %r failed", rule.when, step.id)
        raise RuntimeError(f"step '{step.id}' has no default 'next'")

    def _answer(
        self, user: UserState, dialogue: DialogueState, step: Step, value: object
    ) -> list[Reply]:
        """Save an answer, echo it on the question, and go on."""
        question = self.view.question(user)
        dialogue.answers[step.save or ""] = value
        dialogue.selection = None
        echo = Reply(
            text=self.content.texts.render(
                user.lang,
                "common/answered",
                question=Markup(question.text),  # noqa: S704 - rendered by our own sandbox
                answer=self.view.show_answer(step, value, user),
            ),
            kind=ReplyKind.ANSWERED,
            edits_question=True,
        )
        return [echo, *self._advance(user, dialogue, step)]

    # ---- side flows ----------------------------------------------------------------------
    def _start_flow(
        self, user: UserState, flow_id: str, step_id: str | None = None
    ) -> list[Reply]:
        """Start a side flow; the onboarding dialogue waits (a running side flow is dropped)."""
        current = self._dialogue(user)
        current.confirm = None
        if user.suspended is None:
            user.suspended = current
        flow = self.content.flows[flow_id]
        user.dialogue = DialogueState(flow=flow.id, step=flow.start, turn=current.turn)
        return self._enter(user, step_id or flow.start, push=False)

    def _end_flow(self, user: UserState, *, resume: bool) -> list[Reply]:
        """Return from a side flow to the waiting onboarding dialogue."""
        side = self._dialogue(user)
        if user.suspended is None:
            return self._ask(user) if resume else []
        user.dialogue, user.suspended = user.suspended, None
        user.dialogue.turn = max(user.dialogue.turn, side.turn) + (0 if resume else 1)
        return self._ask(user) if resume else []

    def _finish(self, user: UserState, dialogue: DialogueState, step: Step) -> list[Reply]:
        extra: dict[str, Any] = {}
        if step.action is not None:
            context = ActionContext(
                user=user,
                answers=dialogue.answers,
                now=self.clock(),
                content=self.content,
                condition=self._condition,
            )
            extra = ACTIONS[step.action](context)
        if extra.get("advice"):
            extra["advice_text"] = Markup(  # noqa: S704 - rendered by our own sandbox
                self.content.texts.render(
                    user.lang, f"advice/{extra['advice']}", stats=extra["stats"]
                )
            )
        dialogue.turn += 1
        finish = self.view.question(user, extra=extra)
        replies = [Reply(text=finish.text, kind=ReplyKind.INFO)]
        return [*replies, *self._end_flow(user, resume=step.then is Then.RESUME)]

    # ---- plan ----------------------------------------------------------------------------
    def _build_plan(self, user: UserState) -> FocusPlan | None:
        onboarding = user.onboarding()
        inputs = plan_input(onboarding.answers) if onboarding else None
        if inputs is None:
            return None
        plan = build_plan(inputs, self.content.catalogue)
        user.plan = plan.to_dict()
        return plan

    # ---- inbound kinds -------------------------------------------------------------------
    def _command(self, user: UserState, dialogue: DialogueState, command: Command) -> list[Reply]:
        name = command.name
        if name == "start":
            if user.suspended is not None:
                self._end_flow(user, resume=False)
                dialogue = self._dialogue(user)
            dialogue.confirm = None
            if self._step(dialogue).ask is AskType.PLAN:
                return self._enter(user, dialogue.step, push=False)
            return self._reask(user, "common/resume")
        if name == "back":
            return self._back(user, dialogue)
        if name == "plan":
            plan = self._build_plan(user)
            if plan is None:
                return self._reask(user, "common/plan_not_ready")
            return [self.view.plan_reply(plan, user.lang), *self._ask(user)]
        if name == prompt.RESTART:
            dialogue.confirm = prompt.RESTART
            return self._ask(user)
        if name == "help":
            return self._reask(user, "common/help")
        if name == prompt.LANGUAGE:
            if command.args.strip().lower() in self.content.languages:
                return self._reask(user, "common/language_changed")
            dialogue.confirm = prompt.LANGUAGE
            return self._ask(user)
        if name == "cancel":
            if user.suspended is not None:
                return [
                    self._say(user, "common/side_cancelled"),
                    *self._end_flow(user, resume=True),
                ]
            return [self._say(user, "common/cancelled")]
        if name == "export":
            question = self._ask(user)  # first, so the export shows the state as saved
            return [*self._export(user), *question]
        if name == prompt.DELETE:
            dialogue.confirm = prompt.DELETE
            return self._ask(user)
        if name == CHECKIN_FLOW:
            if user.plan is None:
                return self._reask(user, "common/plan_not_ready")
            return self._start_flow(user, CHECKIN_FLOW)
        if name == SETTINGS_FLOW:
            return self._start_flow(user, SETTINGS_FLOW)
        if name == "history":
            return [self._history(user), *self._ask(user)]
        # Cleaned: a console can pass undecodable bytes as lone surrogates, not valid UTF-8.
        return self._reask(user, "common/unknown_command", command=clean_text(name)[:32])

    def _text(self, user: UserState, dialogue: DialogueState, message: TextMessage) -> list[Reply]:
        if len(message.text) > MAX_INBOUND_CHARS:
            return self._reask(user, "common/too_long", limit=MAX_INBOUND_CHARS)
        text = clean_text(message.text)
        if not text:
            return self._reask(user, "common/empty_input")
        step = self._step(dialogue)
        if dialogue.confirm is not None:
            return self._reask(user, "common/use_buttons")
        if step.ask is AskType.NUMBER:
            value = parse_number(text)
            if value is None:
                return self._reask(user, "common/not_a_number")
            return self._number(user, dialogue, step, value)
        if step.ask is AskType.TIME_OF_DAY:
            moment = parse_time_of_day(text)
            if moment is None:
                return self._reask(user, "common/not_a_time")
            return self._answer(user, dialogue, step, moment.strftime("%H:%M"))
        if step.ask is AskType.TIMEZONE:
            zone = parse_zone(text)
            if zone is None:
                return self._reask(user, "common/unknown_zone")
            return self._answer(user, dialogue, step, zone)
        if step.ask is AskType.TEXT:
            limit = step.max_length or MAX_INBOUND_CHARS
            if len(text) > limit:
                return self._reask(user, "common/too_long", limit=limit)
            return self._answer(user, dialogue, step, text)
        return self._reask(user, "common/use_buttons")

    def _number(
        self, user: UserState, dialogue: DialogueState, step: Step, value: float
    ) -> list[Reply]:
        low, high = step.min or 0.0, step.max or 0.0
        if not low <= value <= high:
            return self._reask(user, "common/number_out_of_range", low=low, high=high)
        return self._answer(user, dialogue, step, value)

    def _button(self, user: UserState, dialogue: DialogueState, data: str) -> list[Reply]:
        token = decode(data)
        if token is None or token.turn != dialogue.turn:
            return self._reask(user, "common/button_outdated")
        replies = self._apply_button(user, dialogue, token)
        return replies if replies is not None else self._reask(user, "common/button_outdated")

    def _apply_confirmation(
        self, user: UserState, dialogue: DialogueState, token: ButtonToken
    ) -> list[Reply] | None:
        action, value, kind = token.action, token.value, dialogue.confirm
        if action is Action.BACK:
            return self._back(user, dialogue)
        if action is Action.CONFIRM and value in (prompt.YES, prompt.NO):
            if kind == prompt.RESTART and value == prompt.YES:
                return [self._say(user, "common/restarted"), *self._begin(user)]
            if kind == prompt.DELETE and value == prompt.YES:
                user.deleted = True
                return [self._say(user, "common/deleted")]
            if kind in (prompt.RESTART, prompt.DELETE):
                dialogue.confirm = None
                if kind == prompt.DELETE:
                    return self._reask(user, "common/delete_cancelled")
                return self._ask(user)
        if action is Action.LANGUAGE and kind == prompt.LANGUAGE:
            if value not in self.content.languages:
                return None
            user.lang = value
            dialogue.confirm = None
            return self._reask(user, "common/language_changed")
        if action is Action.CHECKIN and kind == prompt.CHECKIN:
            return self._answer_reminder(user, dialogue, value)
        return None

    def _apply_button(
        self, user: UserState, dialogue: DialogueState, token: ButtonToken
    ) -> list[Reply] | None:
        """Apply a current button; None when it does not belong to the current question."""
        if dialogue.confirm is not None:
            return self._apply_confirmation(user, dialogue, token)
        step = self._step(dialogue)
        action, value = token.action, token.value
        if action is Action.BACK:
            return self._back(user, dialogue)
        option_ids = [oid for oid, _ in self.view.options(step, user)]
        if action is Action.CHOOSE and step.ask is AskType.SINGLE_CHOICE and value in option_ids:
            return self._answer(user, dialogue, step, value)
        if action is Action.CHOOSE and step.ask is AskType.TIMEZONE:
            zones = self.view.zones(user)
            return self._answer(user, dialogue, step, value) if value in zones else None
        if action is Action.TOGGLE and step.ask is AskType.MULTI_CHOICE and value in option_ids:
            return self._toggle(user, dialogue, step, value)
        if action is Action.TOGGLE and step.ask is AskType.CHANNEL_GRID and value in option_ids:
            return self._rate(user, dialogue, step, value)
        if action is Action.DONE and step.ask is AskType.MULTI_CHOICE:
            chosen = [oid for oid in option_ids if oid in (dialogue.selection or [])]
            if step.min is not None and len(chosen) < step.min:
                return self._reask(user, "common/too_few", minimum=int(step.min))
            return self._answer(user, dialogue, step, chosen)
        if action is Action.DONE and step.ask is AskType.CHANNEL_GRID:
            ratings = grid_ratings(dialogue.selection)
            if any(oid not in ratings for oid in option_ids):
                return self._reask(user, "common/rate_all")
            return self._answer(user, dialogue, step, {oid: ratings[oid] for oid in option_ids})
        if action is Action.NUMBER and step.ask in (AskType.NUMBER, AskType.TIME_OF_DAY):
            number = parse_number(value)
            if number is None or (
                step.ask is AskType.TIME_OF_DAY and number not in step.suggestions
            ):
                return None
            if step.ask is AskType.TIME_OF_DAY:
                return self._answer(user, dialogue, step, format_hour(number))
            return self._number(user, dialogue, step, number)
        if action is Action.CONTINUE and step.ask in (AskType.CONTINUE, AskType.SUMMARY):
            return self._advance(user, dialogue, step)
        if action is Action.CONTINUE and step.ask is AskType.TEXT and step.optional:
            return self._answer(user, dialogue, step, None)
        if action is Action.EDIT and step.ask is AskType.SUMMARY and value in step.edits:
            dialogue.return_to = dialogue.step
            return self._enter(user, value, push=False)
        if (
            action is Action.PLAN
            and step.ask is AskType.PLAN
            and value in ("show", prompt.RESTART)
        ):
            if value == prompt.RESTART:
                dialogue.confirm = prompt.RESTART
                return self._ask(user)
            return self._enter(user, dialogue.step, push=False)
        if action is Action.FLOW and step.ask is AskType.PLAN:
            if value != plan_flow_target(user):
                return None  # never a forged entry point (say, straight to a finish step)
            flow_id, _, step_id = value.partition(":")
            return self._start_flow(user, flow_id, step_id or None)
        return None

    def _toggle(
        self, user: UserState, dialogue: DialogueState, step: Step, option: str
    ) -> list[Reply]:
        selection = dialogue.selection if dialogue.selection is not None else []
        if option in selection:
            selection.remove(option)
        elif step.max is not None and len(selection) >= step.max:
            return [self._say(user, "common/too_many", maximum=int(step.max))]
        else:
            selection.append(option)
        dialogue.selection = selection
        return [self._redraw(user)]

    def _rate(
        self, user: UserState, dialogue: DialogueState, step: Step, channel: str
    ) -> list[Reply]:
        """Cycle one channel's rating in a grid: unrated -> first -> second -> ... -> first."""
        order = [oid for oid, _ in self.content.ratings(step, user.lang)]
        ratings = grid_ratings(dialogue.selection)
        current = ratings.get(channel, GRID_UNRATED)
        position = order.index(current) + 1 if current in order else 0
        ratings[channel] = order[position % len(order)]
        dialogue.selection = [f"{c}:{r}" for c, r in ratings.items()]
        return [self._redraw(user)]

    def _redraw(self, user: UserState) -> Reply:
        # Same turn: the ticks are redrawn on the same message, its buttons stay valid.
        question = self.view.question(user)
        return Reply(
            text=question.text,
            kind=ReplyKind.QUESTION,
            buttons=question.buttons,
            edits_question=True,
        )

    # ---- weekly check-in -----------------------------------------------------------------
    def _answer_reminder(
        self, user: UserState, dialogue: DialogueState, choice: str
    ) -> list[Reply] | None:
        pending = user.pending_checkin
        reminder = user.reminder
        if choice not in prompt.CHECKIN_CHOICES or pending is None:
            return None
        dialogue.confirm = None
        if choice == "start":
            return self._start_flow(user, CHECKIN_FLOW)
        dialogue.turn += 1  # the reminder's buttons are used up
        if reminder is None:
            return [self._say(user, "checkin/skipped")]
        if choice == "skip":
            reminder.update(skipped_week=pending["week"], snoozed_until=None, snoozed_week=None)
            user.pending_checkin = None
            return [self._say(user, "checkin/skipped")]
        until = self._snooze_until(choice, reminder)
        reminder.update(snoozed_until=until.isoformat(), snoozed_week=pending["week"])
        local = until.astimezone(ZoneInfo(reminder["zone"]))
        return [self._say(user, "checkin/snoozed", time=local.strftime("%H:%M"), choice=choice)]

    def _snooze_until(self, choice: str, reminder: dict[str, Any]) -> datetime:
        now = self.clock()
        zone = ZoneInfo(reminder["zone"])
        if choice == "snooze_1h":
            return now + timedelta(hours=1)
        local = now.astimezone(zone)
        if choice == "snooze_evening":
            evening = local.replace(hour=_EVENING, minute=0, second=0, microsecond=0)
            return evening.astimezone(UTC) if evening - local >= _MIN_SNOOZE else now + _MIN_SNOOZE
        # Tomorrow at the usual check-in time (a wall-clock time, so DST-safe via the slot).
        slot = slot_of(reminder)
        tomorrow = local.date() + timedelta(days=1)
        start = datetime.combine(tomorrow, datetime.min.time(), tzinfo=zone)
        return next_occurrence(
            type(slot)(weekday=tomorrow.weekday(), time=slot.time, zone=slot.zone),
            start - timedelta(microseconds=1),
        )

    def _history(self, user: UserState) -> Reply:
        if not user.checkins:
            return self._say(user, "common/history_empty")
        plan = FocusPlan.from_dict(user.plan) if user.plan else None
        budget = plan.hours_planned if plan else 0.0
        stats = evaluate(user.checkins, budget)
        zone = user.reminder["zone"] if user.reminder else "Europe/Berlin"
        weeks = [
            {
                "week_number": int(str(r["week"]).split("-W")[1]),
                "year": str(r["week"]).split("-W")[0],
                "on_plan": all(v == "on_plan" for v in (r.get("channels") or {}).values()),
                "hours": r.get("hours", 0.0),
                "budget": r.get("budget", budget),
                "energy": r.get("energy"),
                "creep": r.get("creep", "none") != "none",
            }
            for r in reversed(user.checkins[-12:])
        ]
        return self._say(
            user,
            "common/history",
            stats=stats.as_context(),
            weeks=weeks,
            this_week=local_week_key(self.clock(), zone),
        )

    # ---- data ----------------------------------------------------------------------------
    def _export(self, user: UserState) -> list[Reply]:
        """All stored data as a JSON file, plus a readable summary."""
        document = user.to_document()
        onboarding = user.onboarding()
        rows: list[dict[str, str]] = []
        if onboarding is not None and onboarding.flow == ONBOARDING_FLOW:
            flow = self.content.flows[onboarding.flow]
            summary = next((s for s in flow.steps.values() if s.ask is AskType.SUMMARY), None)
            if summary is not None:
                rows = self.view.summary_rows(onboarding, summary, user)
        plan = FocusPlan.from_dict(user.plan) if user.plan else None
        text = self.content.texts.render(
            user.lang,
            "common/export",
            rows=rows,
            plan=self.view.plan_context(plan, user.lang) if plan else None,
            created_at=user.created_at,
            checkins=len(user.checkins),
        )
        payload = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True)
        return [
            Reply(
                text=text,
                kind=ReplyKind.DOCUMENT,
                document=Document(
                    filename=f"fokus-coach-{user.user_id.replace(':', '-')}.json",
                    content=payload.encode("utf-8"),
                ),
            )
        ]
