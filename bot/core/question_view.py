"""A question as the user sees it: its template rendered with the common context, its buttons.

Every step's text gets the same context (the answers so far, as given and as shown, the user's
weekly check-in and plan budget, where the step stands in its flow), plus what its kind adds.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

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

__all__ = ["render_question", "user_context"]


def user_context(content: Content, user: UserState, now: datetime | None = None) -> dict[str, Any]:
    """What every template may use about the user beyond the current flow's answers.

    ``contract`` (the streak contract: jokers left, the week that can be logged late until when)
    needs the clock: without ``now`` it has nothing open and nothing to offer.
    """
    reminder = user.reminder
    plan = FocusPlan.from_dict(user.plan) if user.plan else None
    recent = recent_hours(user.checkins)
    light = LightWeek.from_document(user.light_week)
    reviewing = user.dialogue is not None and user.dialogue.flow == REVIEW_FLOW
    return {
        # Plain data, not the record: a template must not reach its methods.
        "reminder": None if reminder is None else reminder.to_dict(),
        "reminder_weekday": (
            None
            if reminder is None
            else content.texts.label(user.lang, f"weekday_{reminder.weekday}")
        ),
        "reminder_zone": None if reminder is None else zone_label(reminder.zone, user.lang),
        "quiet_hours": user.quiet_hours.to_dict(),
        "budget": plan.hours_planned if plan else None,
        "capacity": plan.capacity if plan else None,
        "checkin": user.pending_checkin,
        "contract": LazyContract(user, now),
        # A week at a smaller rhythm after a lapse (``bot.core.light_week``), as stored.
        "light_week": None if light is None else light.to_dict(),
        "checkins_count": len(user.checkins),
        # The review's facts: the hours the last check-ins took, parked channels now due.
        "recent": None if recent is None else asdict(recent),
        # The handle heartbeat on screen, for its prompt (``exit_view``).
        "heartbeat": heartbeat_context(content, user),
        # The review's look at the user's own results: minutes per result, and what decides.
        # Worked out in the review only: it reads every check-in, and no other step shows it.
        "own_results": own_results_context(content, user) if reviewing else None,
        "parked_ready": [
            content.catalogue.channel(channel).label[user.lang]
            for channel in (parked_ready(plan, user.checkins) if plan else [])
        ],
        # Which wording of each message bank ``fresh(bank)`` shows (chosen in core).
        "variety": chosen_indices(user.variety),
    }


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
    context: dict[str, Any] = {
        **user_context(content, asked.user, asked.now),
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
    text = content.texts.render(asked.lang, step.say, **context)
    return Reply(
        text=text,
        kind=ReplyKind.QUESTION,
        buttons=_buttons(asked),
        location=asked.kind.location(asked),
    )
