"""The restart test's cooperative user, and the in-memory coach that predicts the real one.

``next_move`` looks at the user's state as the coach last acknowledged it and answers the open
question as a person who wants to get on would: the onboarding, the weekly check-in set up from
the plan menu, then ``/checkin`` and ``/settings`` in turn (new schedule, a pause, its end, the
other language), so that a check-in or a settings flow is open most of the time. After a restart
it mostly continues the open flow; now and then it starts it over.

``Oracle`` is the coach's own engine on an in-memory store. Fed the same messages as the real
process, it says what that process must show and what its store must hold afterwards; the real
process only adds the files, the pipe or Telegram, and the crash.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench.crash_test import number_move, pick
from bot.core import confirmations
from bot.core.callbacks import Action, decode, encode
from bot.core.content import Content
from bot.core.document_schema import USER_DOCUMENTS
from bot.core.engine import DialogueEngine
from bot.core.flow_ids import (
    CHECKIN_FLOW,
    SETTINGS_FLOW,
    WEEKDAYS,
    WIN_FIRST,
    checkin_setup_target,
)
from bot.core.flow_model import AskType, Step
from bot.core.messages import ButtonPress, Command, Inbound, Reply, TextMessage
from bot.core.question_view import render_question
from bot.core.questions import asked
from bot.core.questions.choices import grid_ratings, shown_options
from bot.core.questions.values import format_hour, offered_zones
from bot.core.state import UserState
from storage import InMemoryUserRepository

__all__ = [
    "Move",
    "Oracle",
    "Shown",
    "current_question",
    "is_resume_prompt",
    "next_move",
    "position",
    "shown",
    "side_flow",
]

START_OVER_SHARE = 0.1  # after a restart: "start over" instead of "continue"
CHECKIN_SHARE = 0.55  # at the plan menu: /checkin, else /settings
WIN_FIRST_SHARE = 0.3  # at the if-then plan: note a win first
# The settings menu's branches and how often each is taken.
SETTINGS_CHOICES = {"schedule": 0.4, "pause": 0.2, "resume": 0.15, "language": 0.25}
# Typed times and what the coach stores for them.
TYPED_TIMES = (("8:30", "08:30"), ("6pm", "18:00"), ("20 Uhr", "20:00"), ("7.15", "07:15"))
# Volatile parts of a document: when it was written, and reminder bookkeeping that follows
# from the clock (the next due instant), not from the user's answers.
# Not the user's answers or place: clock-made values, the ids of the updates handled, and the
# transport's id of the message with live buttons.
_VOLATILE = frozenset({"created_at", "updated_at", "schema", "handled", "live_message"})
_SLOT_FIELDS = ("weekday", "time", "zone", "paused_until")


@dataclass(frozen=True)
class Move:
    """One message of the user, the answer it saves once applied, and a side flow it starts."""

    inbound: Inbound
    answer: tuple[str, str, Any] | None = None  # (flow, key, value as the dialogue stores it)
    starts: str | None = None  # a side flow started afresh (the answers of an open one go)


@dataclass(frozen=True)
class Shown:
    """A question as the user sees it: its text and button captions (button data carry turns)."""

    text: str
    labels: tuple[str, ...]


def shown(reply: Reply) -> Shown:
    """The reply as the user sees it."""
    return Shown(reply.text, tuple(button.label for row in reply.buttons for button in row))


def side_flow(document: dict[str, Any] | None) -> str | None:
    """The side flow (check-in, settings) open in a stored document, if any."""
    if not document or document.get("suspended") is None or document.get("dialogue") is None:
        return None
    return str(document["dialogue"]["flow"])


def current_question(content: Content, document: dict[str, Any] | None) -> Shown | None:
    """The question a stored state is at, as asked again ("continue"); None for no dialogue."""
    user = None if document is None else UserState.from_document(document)
    if user is None or user.dialogue is None:
        return None
    dialogue = user.dialogue
    step = content.flows[dialogue.flow].step(dialogue.step)
    return shown(render_question(asked(content, user, dialogue, step)))


def is_resume_prompt(reply: Reply) -> bool:
    """Whether ``reply`` is the "continue or start over?" prompt (told by its buttons)."""
    tokens = [decode(button.data) for row in reply.buttons for button in row]
    values = [(t.action, t.value) for t in tokens if t is not None]
    return values == [
        (Action.CONFIRM, confirmations.CONTINUE),
        (Action.CONFIRM, confirmations.START_OVER),
    ]


def position(document: dict[str, Any] | None) -> dict[str, Any]:
    """What a document says about the user's answers and place, without clock-made values."""
    if document is None:
        return {}
    kept = {key: value for key, value in document.items() if key not in _VOLATILE}
    reminder = kept.get("reminder")
    if reminder is not None:
        kept["reminder"] = {key: reminder.get(key) for key in _SLOT_FIELDS}
    stamped: dict[str, Any] = _without_instants(kept)
    return stamped


def _without_instants(value: Any) -> Any:
    """``value`` without the keys that hold when something happened (``*_at``), at any depth.

    The oracle's clock and the real process's differ by up to a second, so such a key (a
    check-in's ``answered_at``, the plan's ``made_at``) may differ when nothing else does.
    """
    if isinstance(value, dict):
        return {k: _without_instants(v) for k, v in value.items() if not str(k).endswith("_at")}
    if isinstance(value, list):
        return [_without_instants(item) for item in value]
    return value


class Oracle:
    """The coach's engine on an in-memory store, fed what the real process is fed."""

    def __init__(self, content: Content, user_id: str, language_hint: str) -> None:
        """Predict for ``user_id``, whose client says ``language_hint``."""
        self.content = content
        self.user_id = user_id
        self.language_hint = language_hint
        self._repository = InMemoryUserRepository(migrator=USER_DOCUMENTS)
        self._engine = DialogueEngine(content, self._repository)

    def document(self) -> dict[str, Any] | None:
        """The user's document as the engine would have stored it."""
        return self._repository.get(self.user_id)

    def user(self) -> UserState | None:
        """The user's state."""
        document = self.document()
        return None if document is None else UserState.from_document(document)

    def reset(self, document: dict[str, Any] | None) -> None:
        """Start over from ``document`` (what the real store holds after a kill)."""
        self._repository.delete(self.user_id)
        if document is not None:
            self._repository.put(self.user_id, document)

    def apply(self, inbound: Inbound, *, delivery: int | None = None) -> list[Reply]:
        """Handle one message; returns the replies the real process must show.

        ``delivery``: the Telegram update's id, for an update the bot gets a second time.
        """
        return self._engine.handle(
            self.user_id, inbound, language_hint=self.language_hint, delivery=delivery
        )

    def render(self, template: str) -> str:
        """A template in the user's language (the terminal chat's own texts)."""
        lang = self._engine.language(self.user_id, language_hint=self.language_hint)
        return self.content.texts.render(lang, template)


# ---- the moves --------------------------------------------------------------------------------
def next_move(content: Content, user: UserState | None, rng: random.Random, instance: int) -> Move:
    """The next message of a cooperative user; ``instance`` numbers the open side flow."""
    if user is None or user.dialogue is None:
        return Move(Command("start"))
    dialogue = user.dialogue
    turn = dialogue.turn
    if dialogue.confirm == confirmations.RESUME:
        if rng.random() < START_OVER_SHARE:
            over = encode(turn, Action.CONFIRM, confirmations.START_OVER)
            return Move(ButtonPress(over), starts=dialogue.flow)
        return Move(ButtonPress(encode(turn, Action.CONFIRM, confirmations.CONTINUE)))
    if dialogue.confirm is not None:  # no other prompt is ever asked for here: say no
        return Move(ButtonPress(encode(turn, Action.CONFIRM, confirmations.NO)))
    step = content.flows[dialogue.flow].step(dialogue.step)

    def answer(value: Any) -> tuple[str, str, Any]:
        return (dialogue.flow, step.save or "", value)

    if step.ask is AskType.PLAN:
        return _plan_move(user, turn, rng)
    if step.ask in (AskType.MULTI_CHOICE, AskType.CHANNEL_GRID):
        return _ticks_move(content, user, step, instance, answer)
    if step.ask in (AskType.SINGLE_CHOICE, AskType.CREEP_DECISION):
        choice = _single_choice(content, user, step, rng)
        return Move(ButtonPress(encode(turn, Action.CHOOSE, choice)), answer(choice))
    if step.ask is AskType.INTENTION and rng.random() < WIN_FIRST_SHARE:
        offered = [oid for oid, _ in asked(content, user, dialogue, step).options]
        if WIN_FIRST in offered:
            # Routes to the win question; the if-then plan answered after it replaces this.
            return Move(ButtonPress(encode(turn, Action.CHOOSE, WIN_FIRST)))
    if step.ask is AskType.NUMBER:
        typed_or_tapped = number_move(step, turn, rng, answer)
        return Move(typed_or_tapped.inbound, typed_or_tapped.answer)
    return _value_move(step, user, turn, rng, answer)


def _plan_move(user: UserState, turn: int, rng: random.Random) -> Move:
    """At the plan menu: set up the weekly check-in first, then check in or change settings."""
    if user.reminder is None:
        target = checkin_setup_target(has_reminder=False)
        return Move(ButtonPress(encode(turn, Action.FLOW, target)), starts=SETTINGS_FLOW)
    if rng.random() < CHECKIN_SHARE:
        return Move(Command(CHECKIN_FLOW), starts=CHECKIN_FLOW)
    return Move(Command(SETTINGS_FLOW), starts=SETTINGS_FLOW)


def _single_choice(content: Content, user: UserState, step: Step, rng: random.Random) -> str:
    assert user.dialogue is not None
    options = [oid for oid, _ in shown_options(asked(content, user, user.dialogue, step))]
    if user.dialogue.flow == SETTINGS_FLOW and step.id == "menu":
        return rng.choices(list(SETTINGS_CHOICES), weights=list(SETTINGS_CHOICES.values()))[0]
    if user.dialogue.flow == SETTINGS_FLOW and step.save == "weekday":
        # Never today, yesterday or tomorrow (in UTC): no check-in falls due during the run
        # in any time zone, so no reminder interrupts the scripted user.
        today = datetime.now(UTC).weekday()
        far = [day for i, day in enumerate(WEEKDAYS) if (i - today) % 7 not in (0, 1, 6)]
        return rng.choice(far)
    return rng.choice(options)


def _ticks_move(
    content: Content,
    user: UserState,
    step: Step,
    instance: int,
    answer: Callable[[Any], tuple[str, str, Any]],
) -> Move:
    """Tick towards a wanted selection (the same all through one flow instance), then done."""
    dialogue = user.dialogue
    assert dialogue is not None
    turn = dialogue.turn
    options = [oid for oid, _ in asked(content, user, dialogue, step).options]
    salt = (user.user_id, dialogue.flow, step.id, instance)
    if step.ask is AskType.CHANNEL_GRID:
        ratings = [oid for oid, _ in content.fixed_options(step, user.lang)]
        wanted = {c: ratings[pick(*salt, c) % len(ratings)] for c in options}
        current = grid_ratings(dialogue.selection)
        for channel in options:
            if current.get(channel) != wanted[channel]:
                return Move(ButtonPress(encode(turn, Action.TOGGLE, channel)))
        return Move(ButtonPress(encode(turn, Action.DONE)), answer(wanted))
    most = int(step.max or 3)
    chosen = sorted(options, key=lambda o: pick(*salt, o))[: 1 + pick(*salt) % most]
    selection = dialogue.selection or []
    for option in options:
        if (option in chosen) != (option in selection):
            return Move(ButtonPress(encode(turn, Action.TOGGLE, option)))
    return Move(
        ButtonPress(encode(turn, Action.DONE)), answer([o for o in options if o in chosen])
    )


def _value_move(
    step: Step,
    user: UserState,
    turn: int,
    rng: random.Random,
    answer: Callable[[Any], tuple[str, str, Any]],
) -> Move:
    """Times, zones, free text, and the statements that only go on."""
    if step.ask is AskType.TIME_OF_DAY:
        if rng.random() < 0.5 and step.suggestions:
            hour = float(rng.choice(step.suggestions))
            tapped = ButtonPress(encode(turn, Action.NUMBER, f"{hour:g}"))
            return Move(tapped, answer(format_hour(hour)))
        typed, stored = rng.choice(TYPED_TIMES)
        return Move(TextMessage(typed), answer(stored))
    if step.ask is AskType.TIMEZONE:
        if rng.random() < 0.4:
            return Move(TextMessage("Hamburg"), answer("Europe/Berlin"))
        zone = rng.choice(offered_zones(user.lang)[:4])
        return Move(ButtonPress(encode(turn, Action.CHOOSE, zone)), answer(zone))
    if step.ask in (AskType.TEXT, AskType.INTENTION):
        if rng.random() < 0.3:
            return Move(ButtonPress(encode(turn, Action.CONTINUE)), answer(None))
        text = f"Woche {len(user.checkins)}: {rng.randrange(10**6)} ✓ <b>& erledigt"
        return Move(TextMessage(text), answer(text))
    return Move(ButtonPress(encode(turn, Action.CONTINUE)))
