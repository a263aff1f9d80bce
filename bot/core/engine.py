"""The dialogue engine: one inbound message in, replies out, state saved in between.

``DialogueEngine.handle`` is plain synchronous Python shared by every transport. It loads the
user's state, applies the message, saves the state (before any reply can reach the user, so an
acknowledged answer is never lost) and returns what to show.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

from markupsafe import Markup

from bot.core.callbacks import Action, ButtonToken, decode, encode
from bot.core.coaching import FocusPlan, build_plan
from bot.core.content import ONBOARDING_FLOW, Content
from bot.core.flows import AskType, Step
from bot.core.messages import (
    Button,
    ButtonPress,
    Command,
    Document,
    Inbound,
    Reply,
    ReplyKind,
    TextMessage,
)
from bot.core.plan_answers import plan_input
from bot.core.state import DialogueState, UserState
from bot.core.templating import Condition
from bot.core.text_input import MAX_INBOUND_CHARS, clean_text, parse_number
from bot.core.views import QuestionView
from storage.repository import UserRepository

__all__ = ["DialogueEngine"]

log = logging.getLogger(__name__)

_RESTART = "restart"
_DELETE = "delete"
_LANGUAGE = "language"
_YES = "yes"
_NO = "no"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DialogueEngine:
    """Runs the flows in ``content`` for any number of users stored in ``repository``."""

    def __init__(
        self,
        content: Content,
        repository: UserRepository,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.content = content
        self.repository = repository
        self.clock = clock
        self.view = QuestionView(content)
        self._condition = lru_cache(maxsize=256)(self._compile_condition)

    # ---- entry point ---------------------------------------------------------------------
    def handle(
        self, user_id: str, inbound: Inbound, *, language_hint: str | None = None
    ) -> list[Reply]:
        """Apply one inbound message for ``user_id`` and return the replies to show."""
        stored = self.repository.get(user_id)
        if stored is None:
            user = self._new_user(user_id, language_hint)
            before = None
        else:
            user = UserState.from_document(stored)
            before = user.to_document()
        replies = self._dispatch(user, inbound)
        if user.deleted:
            self.repository.delete(user_id)
            return replies
        after = user.to_document()
        if after != before:
            user.updated_at = UserState.now_iso(self.clock())
            self.repository.put(user_id, user.to_document())
        return replies

    def language(self, user_id: str, *, language_hint: str | None = None) -> str:
        """The language the user's replies are in (their choice, else the hint)."""
        stored = self.repository.get(user_id)
        if stored is None:
            return self.content.pick_language(language_hint)
        return UserState.from_document(stored).lang

    def _new_user(self, user_id: str, language_hint: str | None) -> UserState:
        now = UserState.now_iso(self.clock())
        return UserState(
            user_id=user_id,
            lang=self.content.pick_language(language_hint),
            created_at=now,
            updated_at=now,
        )

    def _dispatch(self, user: UserState, inbound: Inbound) -> list[Reply]:
        if isinstance(inbound, Command) and inbound.name == _LANGUAGE and inbound.args.strip():
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
        user.plan = None
        return self._enter(user, flow.start, push=False)

    def _step(self, dialogue: DialogueState) -> Step:
        return self.content.flows[dialogue.flow].step(dialogue.step)

    def _enter(self, user: UserState, step_id: str, *, push: bool) -> list[Reply]:
        """Move to ``step_id`` and ask its question (a new turn)."""
        dialogue = self._dialogue(user)
        if push:
            dialogue.history.append(dialogue.step)
        dialogue.step = step_id
        dialogue.confirm = None
        step = self._step(dialogue)
        dialogue.selection = (
            list(dialogue.answers.get(step.save or "", []))
            if step.ask is AskType.MULTI_CHOICE
            else None
        )
        if step.ask is AskType.PLAN:
            plan = self._build_plan(user)
            if plan is None:
                # Cannot happen with a checked flow: a plan step needs every plan answer.
                raise RuntimeError(f"plan step '{step_id}' reached without all plan answers")
            return [self.view.plan_reply(plan, user.lang), *self._ask(user, plan=plan)]
        return self._ask(user)

    def _ask(self, user: UserState, *, plan: FocusPlan | None = None) -> list[Reply]:
        """Ask the current question anew; buttons of earlier copies become out of date."""
        dialogue = self._dialogue(user)
        dialogue.turn += 1
        if dialogue.confirm is not None:
            return [self._confirmation(user, dialogue)]
        return [self.view.question(dialogue, user.lang, plan=plan)]

    def _say(self, user: UserState, template: str, **context: object) -> Reply:
        return Reply(text=self.content.texts.render(user.lang, template, **context))

    def _reask(self, user: UserState, template: str, **context: object) -> list[Reply]:
        """Say something (a hint, an error) and ask the current question again."""
        return [self._say(user, template, **context), *self._ask(user)]

    @staticmethod
    def _dialogue(user: UserState) -> DialogueState:
        if user.dialogue is None:
            raise RuntimeError("no dialogue in progress")
        return user.dialogue

    def _back(self, user: UserState, dialogue: DialogueState) -> list[Reply]:
        if dialogue.confirm is not None:
            dialogue.confirm = None
            return self._ask(user)
        if dialogue.return_to is not None:
            target, dialogue.return_to = dialogue.return_to, None
            return self._enter(user, target, push=False)
        if not dialogue.history:
            return self._reask(user, "common/at_first_step")
        return self._enter(user, dialogue.history.pop(), push=False)

    def _advance(self, user: UserState, dialogue: DialogueState, step: Step) -> list[Reply]:
        if dialogue.return_to is not None:
            # Changing one answer from the summary goes straight back to it.
            target, dialogue.return_to = dialogue.return_to, None
            return self._enter(user, target, push=False)
        return self._enter(user, self._next_step(dialogue, step), push=True)

    def _next_step(self, dialogue: DialogueState, step: Step) -> str:
        for rule in step.next:
            if rule.when is None:
                return rule.goto
            try:
                if self._condition(rule.when)(dialogue.answers):
                    return rule.goto
            except Exception:
                # Checked flows evaluate cleanly; a failing condition counts as false.
                log.exception("condition %r of step %r failed", rule.when, step.id)
        raise RuntimeError(f"step '{step.id}' has no default 'next'")

    def _compile_condition(self, expression: str) -> Condition:
        return self.content.texts.condition(expression)

    def _answer(
        self, user: UserState, dialogue: DialogueState, step: Step, value: object
    ) -> list[Reply]:
        """Save an answer, echo it on the question, and go on."""
        question = self.view.question(dialogue, user.lang)
        dialogue.answers[step.save or ""] = value
        dialogue.selection = None
        echo = Reply(
            text=self.content.texts.render(
                user.lang,
                "common/answered",
                question=Markup(question.text),  # noqa: S704 - rendered by our own sandbox
                answer=self.view.show_answer(step, value, user.lang),
            ),
            kind=ReplyKind.ANSWERED,
            edits_question=True,
        )
        return [echo, *self._advance(user, dialogue, step)]

    # ---- plan ----------------------------------------------------------------------------
    def _build_plan(self, user: UserState) -> FocusPlan | None:
        answers = self._dialogue(user).answers
        inputs = plan_input(answers)
        if inputs is None:
            return None
        plan = build_plan(inputs, self.content.catalogue)
        user.plan = plan.to_dict()
        return plan

    # ---- inbound kinds -------------------------------------------------------------------
    def _command(self, user: UserState, dialogue: DialogueState, command: Command) -> list[Reply]:
        name = command.name
        if name == "start":
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
        if name == _RESTART:
            dialogue.confirm = _RESTART
            return self._ask(user)
        if name == "help":
            return self._reask(user, "common/help")
        if name == _LANGUAGE:
            if command.args.strip().lower() in self.content.languages:
                return self._reask(user, "common/language_changed")
            dialogue.confirm = _LANGUAGE
            return self._ask(user)
        if name == "cancel":
            return [self._say(user, "common/cancelled")]
        if name == "export":
            question = self._ask(user)  # first, so the export shows the state as saved
            return [*self._export(user), *question]
        if name == _DELETE:
            dialogue.confirm = _DELETE
            return self._ask(user)
        return self._reask(user, "common/unknown_command", command=name[:32])

    def _text(self, user: UserState, dialogue: DialogueState, message: TextMessage) -> list[Reply]:
        if len(message.text) > MAX_INBOUND_CHARS:
            return self._reask(user, "common/too_long", limit=MAX_INBOUND_CHARS)
        text = clean_text(message.text)
        if not text:
            return self._reask(user, "common/empty_input")
        step = self._step(dialogue)
        if dialogue.confirm is not None or step.ask not in (AskType.NUMBER, AskType.TEXT):
            return self._reask(user, "common/use_buttons")
        if step.ask is AskType.NUMBER:
            value = parse_number(text)
            if value is None:
                return self._reask(user, "common/not_a_number", step=step)
            return self._number(user, dialogue, step, value)
        limit = step.max_length or MAX_INBOUND_CHARS
        if len(text) > limit:
            return self._reask(user, "common/too_long", limit=limit)
        return self._answer(user, dialogue, step, text)

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

    def _apply_button(
        self, user: UserState, dialogue: DialogueState, token: ButtonToken
    ) -> list[Reply] | None:
        """Apply a current button; None when it does not belong to the current question."""
        step = self._step(dialogue)
        action, value = token.action, token.value
        if dialogue.confirm is not None:
            if action is Action.CONFIRM and dialogue.confirm == _RESTART and value in (_YES, _NO):
                if value == _YES:
                    return [self._say(user, "common/restarted"), *self._begin(user)]
                dialogue.confirm = None
                return self._ask(user)
            if action is Action.CONFIRM and dialogue.confirm == _DELETE and value in (_YES, _NO):
                if value == _YES:
                    user.deleted = True
                    return [self._say(user, "common/deleted")]
                dialogue.confirm = None
                return self._reask(user, "common/delete_cancelled")
            if action is Action.LANGUAGE and dialogue.confirm == _LANGUAGE:
                if value not in self.content.languages:
                    return None
                user.lang = value
                dialogue.confirm = None
                return self._reask(user, "common/language_changed")
            if action is Action.BACK:
                return self._back(user, dialogue)
            return None
        if action is Action.BACK:
            return self._back(user, dialogue)
        option_ids = [oid for oid, _ in self.content.options(step, user.lang)]
        if action is Action.CHOOSE and step.ask is AskType.SINGLE_CHOICE and value in option_ids:
            return self._answer(user, dialogue, step, value)
        if action is Action.TOGGLE and step.ask is AskType.MULTI_CHOICE and value in option_ids:
            return self._toggle(user, dialogue, step, value)
        if action is Action.DONE and step.ask is AskType.MULTI_CHOICE:
            chosen = [oid for oid in option_ids if oid in (dialogue.selection or [])]
            if step.min is not None and len(chosen) < step.min:
                return self._reask(user, "common/too_few", minimum=int(step.min))
            return self._answer(user, dialogue, step, chosen)
        if action is Action.NUMBER and step.ask is AskType.NUMBER:
            number = parse_number(value)
            return None if number is None else self._number(user, dialogue, step, number)
        if action is Action.CONTINUE and step.ask in (AskType.CONTINUE, AskType.SUMMARY):
            return self._advance(user, dialogue, step)
        if action is Action.EDIT and step.ask is AskType.SUMMARY and value in step.edits:
            dialogue.return_to = dialogue.step
            return self._enter(user, value, push=False)
        if action is Action.PLAN and step.ask is AskType.PLAN and value in ("show", _RESTART):
            if value == _RESTART:
                dialogue.confirm = _RESTART
                return self._ask(user)
            return self._enter(user, dialogue.step, push=False)
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
        # Same turn: the ticks are redrawn on the same message, its buttons stay valid.
        question = self.view.question(dialogue, user.lang)
        return [
            Reply(
                text=question.text,
                kind=ReplyKind.QUESTION,
                buttons=question.buttons,
                edits_question=True,
            )
        ]

    def _export(self, user: UserState) -> list[Reply]:
        """All stored data as a JSON file, plus a readable summary."""
        document = user.to_document()
        dialogue = self._dialogue(user)
        flow = self.content.flows[dialogue.flow]
        summary = next((s for s in flow.steps.values() if s.ask is AskType.SUMMARY), None)
        rows = self.view.summary_rows(dialogue, summary, user.lang) if summary else []
        plan = FocusPlan.from_dict(user.plan) if user.plan else None
        text = self.content.texts.render(
            user.lang,
            "common/export",
            rows=rows,
            plan=self.view.plan_context(plan, user.lang) if plan else None,
            created_at=user.created_at,
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

    def _confirmation(self, user: UserState, dialogue: DialogueState) -> Reply:
        label = self.content.texts.label
        lang, turn = user.lang, dialogue.turn
        if dialogue.confirm == _DELETE:
            return Reply(
                text=self.content.texts.render(lang, "common/delete_confirm"),
                kind=ReplyKind.QUESTION,
                buttons=(
                    (
                        Button(label(lang, "delete_yes"), encode(turn, Action.CONFIRM, _YES)),
                        Button(label(lang, "delete_no"), encode(turn, Action.CONFIRM, _NO)),
                    ),
                ),
            )
        if dialogue.confirm == _LANGUAGE:
            buttons = tuple(
                Button(label(lang, f"language_{code}"), encode(turn, Action.LANGUAGE, code))
                for code in self.content.languages
            )
            return Reply(
                text=self.content.texts.render(lang, "common/choose_language"),
                kind=ReplyKind.QUESTION,
                buttons=(buttons,),
            )
        return Reply(
            text=self.content.texts.render(lang, "common/restart_confirm"),
            kind=ReplyKind.QUESTION,
            buttons=(
                (
                    Button(label(lang, "restart_yes"), encode(turn, Action.CONFIRM, _YES)),
                    Button(label(lang, "restart_no"), encode(turn, Action.CONFIRM, _NO)),
                ),
            ),
        )
