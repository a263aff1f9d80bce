"""Navigation through the flows for one user while one message is handled.

``Conversation`` moves the user's dialogue from step to step: it asks, takes answers, goes back,
starts and ends side flows (check-in, settings) and finishes them. It is the ``Turn`` the
question kinds act through, and what commands and the check-in reminder work with. It changes
the user's state in memory only; ``DialogueEngine`` loads and saves it around each message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from markupsafe import Markup

from bot.core import confirmations
from bot.core.actions import ACTIONS, ActionContext
from bot.core.coaching import FocusPlan
from bot.core.comeback import comeback_context
from bot.core.conditions import condition_names
from bot.core.content import Content
from bot.core.cool_off_view import COOL_OFF_NOTE, pending_view
from bot.core.flow_ids import ONBOARDING_FLOW
from bot.core.flow_model import Step, Then
from bot.core.messages import Reply, ReplyKind
from bot.core.plan_answers import PLAN_ANSWERS
from bot.core.plan_versions import current_plan, set_aside
from bot.core.plan_view import plan_reply
from bot.core.progress_view import progress_reply
from bot.core.question_view import UserContext, render_question
from bot.core.questions import Asked, asked
from bot.core.state import DialogueState, UserState
from bot.core.templating import Condition

__all__ = ["Conversation"]

log = logging.getLogger(__name__)

ANSWERED = "common/answered"  # the question rewritten to show the answer under it


class Conversation:
    """One user's dialogue, navigated for one inbound message (implements ``questions.Turn``)."""

    def __init__(
        self,
        content: Content,
        user: UserState,
        *,
        clock: Callable[[], datetime],
        condition: Callable[[str], Condition],
    ) -> None:
        """Navigate ``user``'s dialogue over ``content``; ``condition`` compiles flow rules."""
        self.content = content
        self.user = user
        self.clock = clock
        self._condition = condition

    # ---- where the user is ---------------------------------------------------------------
    @property
    def dialogue(self) -> DialogueState:
        """The flow the user is in now."""
        if self.user.dialogue is None:
            raise RuntimeError("no dialogue in progress")
        return self.user.dialogue

    def asked(self) -> Asked:
        """The current step as this user is asked it."""
        dialogue = self.dialogue
        step = self.content.flows[dialogue.flow].step(dialogue.step)
        return asked(self.content, self.user, dialogue, step, now=self.clock())

    # ---- saying and asking ---------------------------------------------------------------
    def say(self, template: str, **context: object) -> Reply:
        """A statement rendered in the user's language."""
        return Reply(text=self.content.texts.render(self.user.lang, template, **context))

    def ask(self, *, selection: list[str] | None = None) -> list[Reply]:
        """Ask the current question anew; buttons of earlier copies become out of date."""
        dialogue = self.dialogue
        if selection is not None:
            dialogue.selection = selection
        dialogue.turn += 1
        return [self._question()]

    def _question(self, extra: dict[str, Any] | None = None) -> Reply:
        """The current question (or pending prompt) with buttons of the current turn."""
        dialogue = self.dialogue
        if dialogue.confirm is not None:
            # "flow" names the side flow a resume prompt is about.
            own: dict[str, Any] = {"flow": dialogue.flow}
            if dialogue.confirm == confirmations.COMEBACK:
                own["comeback"] = comeback_context(self.content, self.user, self.clock())
            context = UserContext(self.content, self.user, self.clock(), own)
            return confirmations.confirmation(
                self.content, dialogue.confirm, self.user.lang, dialogue.turn, context
            )
        return render_question(self.asked(), extra=extra)

    def ask_again(self, hint: str, **context: object) -> list[Reply]:
        """Say something (a hint, an error) and ask the current question again."""
        return [self.say(hint, **context), *self.ask()]

    def hint(self, hint: str, **context: object) -> list[Reply]:
        """Say a short correction of stray input; the question on screen stays as it is.

        The question follows marked ``repeat``, its buttons still valid (same turn): a transport
        shows it again only where the original has scrolled out of view.
        """
        return [self.say(hint, **context), replace(self._question(), repeat=True)]

    def tell(self, note: str, **context: object) -> list[Reply]:
        """Say something; the question on screen stays as it is."""
        return [self.say(note, **context)]

    def redraw(self, selection: list[str]) -> list[Reply]:
        """New ticks on the same message: same turn, so its buttons stay valid."""
        self.dialogue.selection = selection
        question = render_question(self.asked())
        return [
            Reply(
                text=question.text,
                kind=ReplyKind.QUESTION,
                buttons=question.buttons,
                edits_question=True,
            )
        ]

    def confirm(self, prompt: str) -> list[Reply]:
        """Ask a yes/no prompt (restart, delete, language, the check-in reminder) first."""
        self.dialogue.confirm = prompt
        return self.ask()

    # ---- answering and moving on ---------------------------------------------------------
    def answer(self, value: object, *, marks: list[str] | None = None) -> list[Reply]:
        """Save an answer (and a grid's marks), echo it on the question, and go on."""
        current = self.asked()
        question = render_question(current)
        dialogue = self.dialogue
        dialogue.answers[current.step.save or ""] = value
        if current.step.save_marks and marks is not None:
            dialogue.answers[current.step.save_marks] = marks
        dialogue.selection = None
        echo = Reply(
            text=self.content.texts.render(
                self.user.lang,
                ANSWERED,
                question=Markup(question.text),  # noqa: S704 - rendered by our own sandbox
                answer=current.kind.show(current, value),
            ),
            kind=ReplyKind.ANSWERED,
            edits_question=True,
        )
        return [echo, *self.advance()]

    def advance(self) -> list[Reply]:
        """Go to the next step; after changing one answer from the summary, back to it."""
        dialogue = self.dialogue
        if dialogue.return_to is not None:
            target, dialogue.return_to = dialogue.return_to, None
            return self.enter(target, push=False)
        return self.enter(self._next_step(self.asked().step), push=True)

    def change(self, step_id: str) -> list[Reply]:
        """Ask ``step_id`` again to change its answer, then come back to the current step."""
        self.dialogue.return_to = self.dialogue.step
        return self.enter(step_id, push=False)

    def back(self) -> list[Reply]:
        """One step back: out of a prompt, a change, a side flow, or to the previous step."""
        dialogue = self.dialogue
        if dialogue.confirm is not None:
            dialogue.confirm = None
            return self.ask()
        if dialogue.return_to is not None:
            target, dialogue.return_to = dialogue.return_to, None
            return self.enter(target, push=False)
        if not dialogue.history:
            if self.user.suspended is not None:
                return self.end_flow(resume=True)  # back out of a side flow
            return self.ask_again("common/at_first_step")
        return self.enter(dialogue.history.pop(), push=False)

    def enter(self, step_id: str, *, push: bool) -> list[Reply]:
        """Move to ``step_id`` and let its kind begin it (usually: ask it, a new turn)."""
        dialogue = self.dialogue
        step_id = self._unless_skipped(step_id)
        if push:
            dialogue.history.append(dialogue.step)
        dialogue.step = step_id
        dialogue.confirm = None
        dialogue.selection = None
        current = self.asked()
        return current.kind.enter(current, self)

    def _unless_skipped(self, step_id: str) -> str:
        """``step_id``, or the first step after it whose ``skip_when`` does not hold.

        A step passed by is not asked and not on the way back; its default ``next`` follows.
        """
        steps = self.content.flows[self.dialogue.flow].steps
        step, passed = steps[step_id], set()
        while step.skip_when is not None and step.id not in passed:
            if not self.holds(step.skip_when, f"step {step.id!r}"):
                break
            passed.add(step.id)  # a circle of passed-by steps asks the first one again
            step = steps[self._default_next(step)]
        return step.id

    def begin(self) -> list[Reply]:
        """Start the onboarding from its first step (a new user, or a restart)."""
        flow = self.content.flows[ONBOARDING_FLOW]
        previous_turn = self.user.dialogue.turn if self.user.dialogue else 0
        self.user.dialogue = DialogueState(flow=flow.id, step=flow.start, turn=previous_turn)
        self.user.suspended = None
        set_aside(self.user)  # kept as a previous version: /history and /export still show it
        return self.enter(flow.start, push=False)

    def holds(self, when: str, where: str) -> bool:
        """Whether the flow condition ``when`` holds now (``where`` names it for the log)."""
        names = condition_names(self.user, self.dialogue.answers, self.clock())
        try:
            return bool(self._condition(when)(names))
        except Exception:
            # Checked flows evaluate cleanly; a failing condition counts as false.
            log.exception("condition %r of %s failed", when, where)
            return False

    @staticmethod
    def _default_next(step: Step) -> str:
        return next(rule.goto for rule in step.next if rule.when is None)

    def _next_step(self, step: Step) -> str:
        for rule in step.next:
            if rule.when is None or self.holds(rule.when, f"step {step.id!r}"):
                return rule.goto
        raise RuntimeError(f"step '{step.id}' has no default 'next'")

    # ---- side flows ----------------------------------------------------------------------
    def start_flow(self, flow_id: str, step_id: str | None = None) -> list[Reply]:
        """Start a side flow; the onboarding dialogue waits (a running side flow is dropped)."""
        current = self.dialogue
        current.confirm = None
        if self.user.suspended is None:
            self.user.suspended = current
        flow = self.content.flows[flow_id]
        self.user.dialogue = DialogueState(flow=flow.id, step=flow.start, turn=current.turn)
        return self.enter(step_id or flow.start, push=False)

    def end_flow(self, *, resume: bool) -> list[Reply]:
        """Return from a side flow to the waiting onboarding dialogue."""
        side = self.dialogue
        if self.user.suspended is None:
            return self.ask() if resume else []
        self.user.dialogue, self.user.suspended = self.user.suspended, None
        self.user.dialogue.turn = max(self.user.dialogue.turn, side.turn) + (0 if resume else 1)
        return self.ask() if resume else []

    def finish(self, step: Step) -> list[Reply]:
        """Run the finish step's action, say its result, and end the side flow."""
        extra: dict[str, Any] = {}
        if step.action is not None:
            context = ActionContext(
                user=self.user,
                answers=self.dialogue.answers,
                now=self.clock(),
                content=self.content,
                condition=self._condition,
            )
            extra = ACTIONS[step.action](context)
        # A change waiting out its cool-off: its note (with the cancel button) follows the text.
        note = extra.pop(COOL_OFF_NOTE, None)
        if extra.get("advice"):
            extra["advice_text"] = Markup(  # noqa: S704 - rendered by our own sandbox
                self.content.texts.render(
                    self.user.lang, f"advice/{extra['advice']}", stats=extra["stats"]
                )
            )
        self.dialogue.turn += 1
        result = render_question(self.asked(), extra=extra)
        replies = [Reply(text=result.text, kind=ReplyKind.INFO)]
        if isinstance(note, Reply):
            replies.append(note)
        if extra.get("show_progress"):
            # Drawn here, not in the action: `focus-coach check` runs actions, never draws.
            picture = progress_reply(self.content, self.user, self.clock())
            if picture is not None:
                replies.append(picture)
        # An offer that follows the result (a missed week to cover after a check-in) is a
        # side flow of its own, started at its step: the user may take it or leave it.
        follow_up = extra.get("follow_up")
        if isinstance(follow_up, str) and follow_up:
            flow_id, _, step_id = follow_up.partition(":")
            self.end_flow(resume=False)
            return [*replies, *self.start_flow(flow_id, step_id or None)]
        return [*replies, *self.end_flow(resume=step.then is Then.RESUME)]

    # ---- the plan ------------------------------------------------------------------------
    def build_plan(self) -> FocusPlan | None:
        """The focus plan: the current version while the answers hold, else a new one.

        None while the onboarding answers are incomplete.
        """
        return current_plan(self.user, self.content, self.clock())

    def present_plan(self, *, intro: bool = False) -> list[Reply]:
        """Show the plan, then ask the current step (its menu; in full with ``intro``).

        If an answer the plan needs is missing (one that no longer fit was dropped when the
        state was loaded), that question is asked first, then the plan comes.
        """
        plan = self.build_plan()
        if plan is None:
            flow = self.content.flows[self.dialogue.flow]
            missing = next(
                s.id
                for s in flow.steps.values()
                if s.save in PLAN_ANSWERS and s.save not in self.dialogue.answers
            )
            return self.change(missing)
        self.dialogue.turn += 1
        menu = self._question(extra={"intro": intro})
        return [self.plan_reply(plan), menu]

    def plan_reply(self, plan: FocusPlan, *, light_week: Mapping[str, Any] | None = None) -> Reply:
        """The plan as shown, with a change waiting out its cool-off on top (and its cancel),
        and a coming light week (``bot.core.light_week``) if there is one."""
        pending, buttons = pending_view(self.content, self.user)
        return plan_reply(
            self.content,
            plan,
            self.user.lang,
            pending=pending,
            buttons=buttons,
            light_week=light_week,
        )

    def with_question(self, reply: Reply) -> list[Reply]:
        """``reply``, then the question on screen again, unchanged (its buttons stay valid)."""
        return [reply, replace(self._question(), repeat=True)]
