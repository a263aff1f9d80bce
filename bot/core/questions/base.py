"""The one protocol every kind of question follows, and what a kind may see and do.

A kind (``QuestionKind``) says how its steps are checked at load time, which buttons it shows,
how it takes a button or typed text, and how its answer is shown back. It reads the question
through ``Asked`` (the step as one user is asked it) and acts only through ``Turn``, the narrow
set of moves the dialogue engine offers: ask again, answer, redraw, go on ... A kind never
touches the user's state or the engine itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar, Protocol

from bot.core.actions import checkin_week
from bot.core.callbacks import Action, ButtonToken, encode
from bot.core.conditions import condition_names
from bot.core.content import Content
from bot.core.flow_ids import CHECKIN_FLOW
from bot.core.flow_model import Flow, Step
from bot.core.light_week import light_week_of
from bot.core.messages import Button, LocationRequest, Reply, SharedLocation
from bot.core.questions.layout import in_rows
from bot.core.state import DialogueState, UserState

__all__ = ["Asked", "ButtonRows", "QuestionKind", "Report", "Turn", "in_rows"]

ButtonRows = tuple[tuple[Button, ...], ...]
Report = Callable[[str], None]  # records a problem of the step being checked


def _holds(condition: Callable[[Mapping[str, Any]], Any], names: Mapping[str, Any]) -> bool:
    """A checked condition evaluates cleanly; one that fails counts as false."""
    try:
        return bool(condition(names))
    except Exception:
        return False


class Turn(Protocol):
    """The moves a question kind may make with the user's turn (the engine implements them)."""

    def ask(self, *, selection: list[str] | None = None) -> list[Reply]:
        """Ask the current question anew; ``selection`` starts its ticks (multi choice, grid)."""

    def ask_again(self, hint: str, **context: object) -> list[Reply]:
        """Say the template ``hint`` (a short correction) and ask the question again."""

    def hint(self, hint: str, **context: object) -> list[Reply]:
        """Say the template ``hint`` after stray input; the question on screen stays valid."""

    def tell(self, note: str, **context: object) -> list[Reply]:
        """Say the template ``note``; the question stays as it is on screen."""

    def redraw(self, selection: list[str]) -> list[Reply]:
        """Show the same question with new ticks, edited in place (its buttons stay valid)."""

    def answer(self, value: object, *, marks: list[str] | None = None) -> list[Reply]:
        """Save ``value`` as the answer, show it on the question, and go on.

        ``marks``: a channel grid's marked channels, saved under the step's ``save_marks``.
        """

    def advance(self) -> list[Reply]:
        """Go on to the next step without an answer."""

    def change(self, step_id: str) -> list[Reply]:
        """Ask ``step_id`` again to change its answer, then come back here."""

    def present_plan(self, *, intro: bool = False) -> list[Reply]:
        """Build the focus plan from the answers and show it with this step's menu.

        ``intro``: the menu's full introduction, the first time; later ones are compact.
        """

    def confirm(self, prompt: str) -> list[Reply]:
        """Ask the yes/no prompt ``prompt`` (say "restart") before doing anything."""

    def start_flow(self, flow_id: str, step_id: str | None = None) -> list[Reply]:
        """Start the side flow ``flow_id`` (at ``step_id``); this dialogue waits."""

    def finish(self, step: Step) -> list[Reply]:
        """Run the finish step's action, say its result and end the side flow."""


@dataclass(frozen=True)
class Asked:
    """A step as one user is asked it: what a kind reads to draw and to answer the question."""

    kind: QuestionKind
    step: Step
    flow: Flow
    dialogue: DialogueState
    user: UserState
    content: Content
    # The engine's clock when the user is asked; None where a question is only read (a summary
    # row, a check), where options' conditions take the latest check-in as the last one.
    now: datetime | None = None

    @property
    def lang(self) -> str:
        """The language the user reads."""
        return self.user.lang

    @property
    def answer(self) -> Any:
        """The answer saved for this step so far (None if none)."""
        return self.dialogue.answers.get(self.step.save or "")

    @property
    def selection(self) -> list[str]:
        """The ticks of a question that is being answered in several taps."""
        return list(self.dialogue.selection or [])

    @property
    def listed_plan(self) -> dict[str, Any] | None:
        """The plan that listed options come from; in a light week's check-in only its channels
        (``bot.core.light_week``): that week is rated on them alone."""
        plan = self.user.plan
        if plan is None or self.flow.id != CHECKIN_FLOW:
            return plan
        pending = self.user.pending_checkin
        if pending is not None:
            week: str | None = str(pending.get("week"))
        else:
            week = None if self.now is None else checkin_week(self.user, self.now)
        light = light_week_of(self.user.light_week, week)
        return plan if light is None else light.narrow(plan)

    @cached_property
    def options(self) -> list[tuple[str, str]]:
        """``(id, label)`` of what can be chosen here, for this user."""
        return self.kind.options(self)

    def offered(self, options: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The fixed ``options`` whose ``when`` holds now (all of them, for a step without)."""
        conditions = {option.id: option.when for option in self.step.options}
        if not any(conditions.values()):
            return options
        names = condition_names(self.user, self.dialogue.answers, self.now)
        condition = self.content.texts.condition
        shown = []
        for oid, text in options:
            when = conditions.get(oid)
            if when is None or _holds(condition(when), names):
                shown.append((oid, text))
        return shown

    def label(self, key: str, **context: Any) -> str:
        """The short label ``key`` in the user's language."""
        return self.content.texts.label(self.lang, key, **context)

    def button(self, caption: str, action: Action, value: str = "", *, short: str = "") -> Button:
        """A button of this question (it carries the current turn, so old copies go stale);
        ``short`` is the caption where ``caption`` does not fit its row."""
        return Button(caption, encode(self.dialogue.turn, action, value), short=short)

    def short_label(self, option_id: str) -> str:
        """The shorter caption of option ``option_id`` for a narrow row, or "" if none."""
        return self.kind.short_caption(self, option_id)


class QuestionKind:
    """Base of every kind: a statement with no buttons and no answer, until a kind says more.

    Subclasses set the class attributes that apply and override what differs.
    """

    saves_answer: ClassVar[bool] = False  # needs 'save'; its answer goes into the answers
    has_options: ClassVar[bool] = False  # 'options' / 'options_from' apply
    ends_flow: ClassVar[bool] = False  # has no 'next'
    allows_optional: ClassVar[bool] = False
    allows_action: ClassVar[bool] = False
    allows_edits: ClassVar[bool] = False
    offers_back: ClassVar[bool] = True  # a "back" button under its own ones
    shows_plan: ClassVar[bool] = False  # the end of onboarding: the plan and its menu
    waits: ClassVar[bool] = True  # the dialogue rests here until the user answers
    label_keys: ClassVar[tuple[str, ...]] = ()  # labels.yaml keys it uses in every language

    def check(self, step: Step, report: Report) -> None:
        """Report what does not fit this kind in a step as loaded (keys, bounds ...)."""

    def options(self, asked: Asked) -> list[tuple[str, str]]:
        """``(id, label)`` of the options: the listed ones (``options_from``), then the fixed
        ones whose ``when`` holds."""
        return [
            *asked.content.listed_options(asked.step, asked.lang, asked.listed_plan),
            *asked.offered(asked.content.fixed_options(asked.step, asked.lang)),
        ]

    def short_caption(self, asked: Asked, option_id: str) -> str:
        """A shorter caption of an option for a narrow row: a listed option's catalogue
        ``short`` ("X/Twitter"); "" when there is none."""
        if not asked.step.options_from:
            return ""
        return asked.content.short_label(asked.lang, option_id)

    def enter(self, asked: Asked, turn: Turn) -> list[Reply]:
        """Arrive at the step: ask it."""
        return turn.ask()

    def context(self, asked: Asked, shown: Mapping[str, str]) -> dict[str, Any]:
        """What the step's template gets beyond the common context (``shown``: answers shown)."""
        return {}

    def buttons(self, asked: Asked) -> list[tuple[Button, ...]]:
        """The step's own buttons, row by row (the engine adds "back" when it applies)."""
        return []

    def on_button(self, asked: Asked, token: ButtonToken, turn: Turn) -> list[Reply] | None:
        """Take a current button of this step; None when it is not one of its buttons."""
        return None

    def on_text(self, asked: Asked, text: str, turn: Turn) -> list[Reply]:
        """Take typed text (cleaned, not empty): by default, point at the buttons."""
        return turn.hint("common/use_buttons")

    def location(self, asked: Asked) -> LocationRequest | None:
        """The "share my location" offer of this question, if a location answers it."""
        return None

    def on_location(self, asked: Asked, location: SharedLocation, turn: Turn) -> list[Reply]:
        """Take a shared location: by default it answers nothing (and is not kept)."""
        return turn.ask_again("common/location_not_asked")

    def show(self, asked: Asked, value: Any) -> str:
        """A saved answer as people read it (echoed under the question, listed in summaries)."""
        return str(value)

    def sample(self, asked: Asked) -> Any:
        """A valid answer, for ``focus-coach check`` to render later steps with."""
        return "sample"

    def accepts(self, asked: Asked, value: Any) -> bool:
        """Whether a stored ``value`` is an answer this step could have given (load-time check)."""
        return True
