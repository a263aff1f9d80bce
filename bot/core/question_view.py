"""A question as the user sees it: its template rendered with the common context, its buttons.

Every step's text gets the same context (the answers so far, as given and as shown, the user's
weekly check-in and plan budget, where the step stands in its flow), plus what its kind adds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final

from bot.core.callbacks import Action, decode
from bot.core.checkin_stats import parked_ready
from bot.core.coaching import FocusPlan
from bot.core.conditions import make_up, previous_checkin
from bot.core.content import Content
from bot.core.contract_view import LazyContract
from bot.core.exit_view import heartbeat_context
from bot.core.flow_ids import REVIEW_FLOW
from bot.core.light_week import LightWeek
from bot.core.messages import Button, Reply, ReplyKind
from bot.core.questions import Asked, ButtonRows, shown_answers
from bot.core.questions.layout import fits_row
from bot.core.results_view import own_results_context
from bot.core.review import recent_hours
from bot.core.schedule import zone_label
from bot.core.state import UserState
from bot.core.variety import chosen_indices

__all__ = ["UserContext", "render_question", "user_context"]


def _reminder(view: UserContext) -> dict[str, Any] | None:
    # Plain data, not the record: a template must not reach its methods.
    reminder = view.user.reminder
    return None if reminder is None else reminder.to_dict()


def _reminder_weekday(view: UserContext) -> str | None:
    reminder, user = view.user.reminder, view.user
    return (
        None
        if reminder is None
        else view.content.texts.label(user.lang, f"weekday_{reminder.weekday}")
    )


def _reminder_zone(view: UserContext) -> str | None:
    reminder = view.user.reminder
    return None if reminder is None else zone_label(reminder.zone, view.user.lang)


def _light_week(view: UserContext) -> dict[str, Any] | None:
    # A week at a smaller rhythm after a lapse (``bot.core.light_week``), as stored.
    light = LightWeek.from_document(view.user.light_week)
    return None if light is None else light.to_dict()


def _recent(view: UserContext) -> dict[str, Any] | None:
    # The review's facts: the hours the last check-ins took.
    recent = recent_hours(view.user.checkins)
    return None if recent is None else asdict(recent)


def _own_results(view: UserContext) -> dict[str, Any] | None:
    # The review's look at the user's own results: minutes per result, and what decides.
    # Worked out in the review only: it reads every check-in, and no other step shows it.
    user = view.user
    reviewing = user.dialogue is not None and user.dialogue.flow == REVIEW_FLOW
    return own_results_context(view.content, user) if reviewing else None


def _parked_ready(view: UserContext) -> list[str]:
    # Parked channels now due for a look (the review's facts).
    plan, user = view.plan, view.user
    return [
        view.content.catalogue.channel(channel).label[user.lang]
        for channel in (parked_ready(plan, user.checkins) if plan else [])
    ]


# What every template may use about the user, in the order ``user_context`` has always given.
_USER_VALUES: Final[Mapping[str, Callable[[UserContext], Any]]] = MappingProxyType(
    {
        "reminder": _reminder,
        "reminder_weekday": _reminder_weekday,
        "reminder_zone": _reminder_zone,
        "quiet_hours": lambda view: view.user.quiet_hours.to_dict(),
        "budget": lambda view: view.plan.hours_planned if view.plan else None,
        "capacity": lambda view: view.plan.capacity if view.plan else None,
        "checkin": lambda view: view.user.pending_checkin,
        "contract": lambda view: LazyContract(view.user, view.now),
        "light_week": _light_week,
        "checkins_count": lambda view: view.user.checkin_count,
        "recent": _recent,
        # The handle heartbeat on screen, for its prompt (``exit_view``).
        "heartbeat": lambda view: heartbeat_context(view.content, view.user),
        "own_results": _own_results,
        "parked_ready": _parked_ready,
        # Which wording of each message bank ``fresh(bank)`` shows (chosen in core).
        "variety": lambda view: chosen_indices(view.user.variety),
    }
)


class UserContext(Mapping[str, Any]):
    """``user_context`` as a mapping that works out each value when it is first asked for.

    ``TextRenderer.render_from`` asks only for what the template can read: the reminder's
    prompt reads four of these, and the others (the plan parsed, the recent hours, the
    heartbeat) cost a fifth of composing it. ``extra`` holds values of the caller's own (given,
    not worked out), which win over the user's of the same name. The user must not change
    while the mapping is in use: a value is worked out from the user as it is then.
    """

    __slots__ = ("_extra", "_plan", "_plan_read", "_values", "content", "now", "user")

    content: Content
    user: UserState
    now: datetime | None

    def __init__(
        self,
        content: Content,
        user: UserState,
        now: datetime | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.content = content
        self.user = user
        self.now = now
        self._extra: Mapping[str, Any] = extra or {}
        self._values: dict[str, Any] = {}
        self._plan: FocusPlan | None = None
        self._plan_read = False

    @property
    def plan(self) -> FocusPlan | None:
        """The user's plan, read once for the values that need it."""
        if not self._plan_read:
            self._plan = FocusPlan.from_dict(self.user.plan) if self.user.plan else None
            self._plan_read = True
        return self._plan

    def __getitem__(self, name: str) -> Any:
        if name in self._extra:
            return self._extra[name]
        if name in self._values:
            return self._values[name]
        make = _USER_VALUES[name]  # KeyError: not a name of this context
        value = self._values[name] = make(self)
        return value

    def __contains__(self, name: object) -> bool:
        return name in self._extra or name in _USER_VALUES

    def __iter__(self) -> Iterator[str]:
        return iter({**dict.fromkeys(_USER_VALUES), **dict.fromkeys(self._extra)})

    def __len__(self) -> int:
        return len({**dict.fromkeys(_USER_VALUES), **dict.fromkeys(self._extra)})


def user_context(content: Content, user: UserState, now: datetime | None = None) -> dict[str, Any]:
    """What every template may use about the user beyond the current flow's answers.

    ``contract`` (the streak contract: jokers left, the week that can be logged late until when)
    needs the clock: without ``now`` it has nothing open and nothing to offer.
    """
    return dict(UserContext(content, user, now))


def _closes(row: tuple[Button, ...]) -> bool:
    """A row of one button that ends the step ("Done", "Continue", "Skip"), not an option."""
    token = decode(row[0].data) if len(row) == 1 else None
    return token is not None and token.action in (Action.DONE, Action.CONTINUE)


def _buttons(asked: Asked) -> ButtonRows:
    """The kind's buttons, and "back" when there is a way back: beside a last button that stands
    alone ("Done", "Continue") when both fit two to a row, else on a row of its own."""
    rows = asked.kind.buttons(asked)
    if asked.kind.offers_back and (asked.dialogue.history or asked.user.suspended is not None):
        back = asked.button(asked.label("back"), Action.BACK)
        if rows and _closes(rows[-1]) and fits_row([*rows[-1], back]):
            rows[-1] = (*rows[-1], back)
        else:
            rows.append((back,))
    return tuple(rows)


def render_question(asked: Asked, *, extra: dict[str, Any] | None = None) -> Reply:
    """The step as a question with its buttons; ``extra`` adds to the template context."""
    step, dialogue, content = asked.step, asked.dialogue, asked.content
    shown = shown_answers(content, asked.user, dialogue)
    progress = asked.flow.progress.get(step.id)
    own: dict[str, Any] = {
        "answers": dialogue.answers,
        "shown": shown,
        "step": {"min": step.min, "max": step.max, "max_length": step.max_length},
        "progress": None
        if progress is None
        else {"number": progress.number, "total": progress.total},
        "selected": len(dialogue.selection or []),
        "editing": dialogue.return_to is not None,
        "last_checkin": previous_checkin(asked.user, asked.now),
        "make_up": make_up(asked.user, asked.now),
        **asked.kind.context(asked, shown),
        **(extra or {}),
    }
    context = UserContext(content, asked.user, asked.now, own)
    text = content.texts.render_from(asked.lang, step.say, context)
    return Reply(
        text=text,
        kind=ReplyKind.QUESTION,
        buttons=_buttons(asked),
        location=asked.kind.location(asked),
    )
