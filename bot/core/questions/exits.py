"""Tracked exits in dialogues: the playbook that offers one, and the check-in's due steps.

- ``exit_offer``: the sunset playbook of the channel being left, and under it the choice of how
  to leave it (the step's own options: announced, quiet, only the tips). Once that channel has
  an exit, the playbook shows its progress and the options that start one are hidden (their
  ``when``: ``not exit_started``).
- ``exit_steps``: in the check-in, one button per exit step due now ("TikTok: pin the post"),
  then the step's own options (all of them done, not yet); "all" only when more than one is
  due. The flow skips the step (``skip_when: not exit_due``) in every week without due steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from bot.core.coaching import FocusPlan
from bot.core.exit_view import ALL_DUE, due_exit_steps, exit_context, step_option
from bot.core.exits import STEP_IDS
from bot.core.flow_model import Step
from bot.core.questions.base import Asked, Report
from bot.core.questions.choices import SingleChoice
from bot.core.sunset_view import chosen_channel, playbook_context

__all__ = ["ExitOffer", "ExitSteps"]


class ExitOffer(SingleChoice):
    """The playbook of the channel being left, with the ways to leave it as options."""

    def check(self, step: Step, report: Report) -> None:
        """The ways out are the step's own options; the channel is the flow's choice."""
        if step.options_from or not step.options:
            report("an exit_offer step lists its own 'options' (no 'options_from')")

    def context(self, asked: Asked, shown: Mapping[str, str]) -> dict[str, Any]:
        """The playbook (``sunset_view``) and, once started, the exit's dated steps."""
        user = asked.user
        plan = FocusPlan.from_dict(user.plan) if user.plan else None
        kept = plan.kept[0].channel if plan and plan.kept else None
        channel = chosen_channel(plan, asked.dialogue.answers)
        context = playbook_context(asked.content, channel, kept, asked.lang)
        started = channel is not None and channel in user.exits and asked.now is not None
        context["exit"] = (
            exit_context(asked.content, user, channel, asked.now)
            if started and channel is not None and asked.now is not None
            else None
        )
        return context


def _due(asked: Asked) -> list[tuple[str, str, str]]:
    """``(option id, button label, full text)`` of each exit step due now.

    The button says what was done ("📌 Pinned"), named after its channel ("TikTok: ...") only
    when steps of several channels are due; the text above the buttons has the full step.
    """
    if asked.now is None:
        return []
    catalogue, lang = asked.content.catalogue, asked.lang
    due = due_exit_steps(asked.user, asked.now)
    several = len({channel for channel, _ in due}) > 1
    found = []
    for channel, step in due:
        named = catalogue.channel(channel)
        short = (named.short or named.label)[lang]
        done = asked.label(f"exit_done_{step}")
        button = asked.label("exit_due_step", channel=short, text=done) if several else done
        text = asked.label(f"exit_step_{step}", channel=named.label[lang])
        found.append((step_option(channel, step), button, text))
    return found


class ExitSteps(SingleChoice):
    """The exit steps due now: one tap ticks one of them, or all of them, or none yet."""

    label_keys: ClassVar[tuple[str, ...]] = (
        "exit_due_step",
        *(f"exit_done_{step}" for step in STEP_IDS),
        *(f"exit_step_{step}" for step in STEP_IDS),
        "chosen",
        "answer_none",
    )

    def check(self, step: Step, report: Report) -> None:
        """The steps come from the user's exits; the step lists "all" and "not yet"."""
        ids = [option.id for option in step.options]
        if step.options_from or ids != [ALL_DUE, "not_yet"]:
            report("an exit_steps step lists exactly the options all_due and not_yet")

    def options(self, asked: Asked) -> list[tuple[str, str]]:
        """The due steps, then "all of them" (only for more than one) and "not yet"."""
        due = [(option, button) for option, button, _ in _due(asked)]
        fixed = asked.offered(asked.content.fixed_options(asked.step, asked.lang))
        if len(due) < 2:  # "all of them" of one step is that step
            fixed = [(oid, label) for oid, label in fixed if oid != ALL_DUE]
        return [*due, *fixed]

    def context(self, asked: Asked, shown: Mapping[str, str]) -> dict[str, Any]:
        """The steps due, in full, for the question's text."""
        return {"due": [text for _, _, text in _due(asked)]}

    def sample(self, asked: Asked) -> Any:
        """The first option (a due step, or "not yet" when read without a clock)."""
        return self.options(asked)[0][0]

    def accepts(self, asked: Asked, value: Any) -> bool:
        """Any step of an exit of the user, "all" or "not yet": the stored answer is read
        without a clock (which steps are due depends on the day), and ``record_checkin``
        ticks only what is due when the check-in is saved."""
        if not isinstance(value, str):
            return False
        if value in {option.id for option in asked.step.options}:
            return True
        channel, _, step = value.partition("/")
        return channel in asked.user.exits and step in STEP_IDS
