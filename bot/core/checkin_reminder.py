"""The weekly reminder message in the dialogue: asking it, and its answers (start, snooze, skip).

The reminder's follow-up (the day after, if the check-in was not answered) is asked the same
way with fewer answers (start, skip). The claim protocol (``bot.core.checkin_claims``) decides
*when* either goes out on Telegram;
a chat without a scheduler asks ``due_offer`` when it opens. This module decides what the
reminder does to the user's dialogue: any open side flow gives way to it, and the answer starts
the check-in, moves the reminder later, or skips the week.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import confirmations
from bot.core.checkin_schedule import Reminder, due_week
from bot.core.conversation import Conversation
from bot.core.due_kinds import Kind
from bot.core.flow_ids import CHECKIN_FLOW, REVIEW_FLOW
from bot.core.message_banks import CHECKIN_OPENER, FOLLOWUP_OPENER
from bot.core.messages import Reply
from bot.core.schedule import WeeklySlot, next_occurrence
from bot.core.state import UserState
from bot.core.variety import choose

__all__ = [
    "SKIPPED",
    "SNOOZED",
    "answer_reminder",
    "answer_review_offer",
    "due_offer",
    "offer_review",
    "remind",
    "restart_after_block",
]

SKIPPED = "checkin/skipped"
SNOOZED = "checkin/snoozed"
REVIEW_LATER = "review/later"
# The prompt each kind of message asks (a new kind of message adds its own).
_PROMPTS = {
    Kind.CHECKIN: confirmations.CHECKIN,
    Kind.FOLLOWUP: confirmations.FOLLOWUP,
    Kind.REVIEW: confirmations.REVIEW,
}
# The bank each reminder's opening line comes from (``bot.core.message_banks``).
_OPENERS = {Kind.CHECKIN: CHECKIN_OPENER, Kind.FOLLOWUP: FOLLOWUP_OPENER}
# "This evening" means 19:00 local time, unless that is less than half an hour away.
_EVENING = 19
_MIN_SNOOZE = timedelta(minutes=30)


def remind(
    conversation: Conversation,
    *,
    week: str,
    late: bool,
    missed_weeks: Sequence[str],
    snooze: bool,
    kind: Kind = Kind.CHECKIN,
) -> list[Reply]:
    """Put the reminder (or follow-up) of ``week`` in front of the user; a side flow is dropped."""
    user = conversation.user
    abandoned = False
    if kind is Kind.REVIEW:
        return offer_review(conversation)
    if user.suspended is not None:
        abandoned = conversation.dialogue.flow == CHECKIN_FLOW
        conversation.end_flow(resume=False)
    user.pending_checkin = {
        "week": week,
        "late": late,
        "missed": list(missed_weeks),
        "snooze": snooze,
        "abandoned": abandoned,
    }
    # A new opening line each week; the same one when this week's is sent or snoozed again.
    opener = _OPENERS.get(kind)
    if opener is not None:
        choose(user, conversation.content, opener, week)
    return conversation.confirm(_PROMPTS[kind])


def offer_review(conversation: Conversation) -> list[Reply]:
    """Offer the twelve-week review: asked over the current question, like a reminder.

    An open side flow is not dropped for it (nothing is due): the offer waits on top of it, and
    "later" leaves the user where they were.
    """
    return conversation.confirm(confirmations.REVIEW)


def answer_review_offer(conversation: Conversation, choice: str) -> list[Reply] | None:
    """Start the review now, or later (/review); None for an unknown choice."""
    if choice not in (confirmations.YES, confirmations.NO):
        return None
    conversation.dialogue.confirm = None
    if choice == confirmations.YES and conversation.user.plan is not None:
        return conversation.start_flow(REVIEW_FLOW)
    return conversation.ask_again(REVIEW_LATER)


def due_offer(user: UserState, now: datetime) -> str | None:
    """The week whose check-in a chat opened at ``now`` offers (``checkin_schedule.due_week``).

    None without a plan or a weekly check-in, and while a side flow is open: /start offers to
    continue that one (an unfinished check-in, the settings), and the reminder would drop it.
    """
    reminder = user.reminder
    if (
        reminder is None
        or not user.active
        or user.plan is None
        or user.dialogue is None
        or user.suspended is not None
    ):
        return None
    answered = {str(record.get("week")) for record in user.checkins}
    return due_week(reminder, answered, now)


def answer_reminder(conversation: Conversation, choice: str) -> list[Reply] | None:
    """Start the check-in, snooze the reminder or skip the week; None for an unknown choice."""
    user = conversation.user
    pending, reminder = user.pending_checkin, user.reminder
    follow_up = conversation.dialogue.confirm == confirmations.FOLLOWUP
    offered = confirmations.FOLLOWUP_CHOICES if follow_up else confirmations.CHECKIN_CHOICES
    if choice not in offered or pending is None:
        return None
    conversation.dialogue.confirm = None
    if choice == confirmations.START:
        return conversation.start_flow(CHECKIN_FLOW)
    conversation.dialogue.turn += 1  # the reminder's buttons are used up
    if reminder is None:
        return [conversation.say(SKIPPED)]
    # The user answered the reminder: no follow-up (a snooze brings the reminder back itself).
    reminder.drop_followup()
    if choice == confirmations.SKIP:
        reminder.skipped_week = pending["week"]
        reminder.snoozed_until = reminder.snoozed_week = None
        user.pending_checkin = None
        return [conversation.say(SKIPPED)]
    until = snooze_until(choice, reminder, conversation.clock())
    reminder.snoozed_until, reminder.snoozed_week = until, pending["week"]
    # When it really comes: a snooze that lands in quiet hours waits for their end.
    comes = user.quiet_hours.release(until, reminder.zone)
    # A local datetime, not text: the template writes the time the user's language's way.
    zone = ZoneInfo(reminder.zone)
    local = comes.astimezone(zone)
    today = conversation.clock().astimezone(zone).date()
    return [
        conversation.say(
            SNOOZED,
            time=local,
            choice=choice,
            tomorrow=local.date() > today,
            moved=comes != until,
        )
    ]


def snooze_until(choice: str, reminder: Reminder, now: datetime) -> datetime:
    """When a snoozed reminder comes again: in an hour, this evening, or tomorrow at its time."""
    if choice == confirmations.SNOOZE_HOUR:
        return now + timedelta(hours=1)
    zone = ZoneInfo(reminder.zone)
    local = now.astimezone(zone)
    if choice == confirmations.SNOOZE_EVENING:
        evening = local.replace(hour=_EVENING, minute=0, second=0, microsecond=0)
        return evening.astimezone(UTC) if evening - local >= _MIN_SNOOZE else now + _MIN_SNOOZE
    # Tomorrow at the usual check-in time (a wall-clock time, so DST-safe via the slot).
    slot = reminder.slot
    tomorrow = local.date() + timedelta(days=1)
    start = datetime.combine(tomorrow, datetime.min.time(), tzinfo=zone)
    return next_occurrence(
        WeeklySlot(weekday=tomorrow.weekday(), time=slot.time, zone=slot.zone),
        start - timedelta(microseconds=1),
    )


def restart_after_block(reminder: Reminder, now: datetime) -> None:
    """They came back after blocking the bot: the weeks away are not "missed", start afresh."""
    reminder.next_due = next_occurrence(reminder.slot, now)
    reminder.sending = None
    reminder.snoozed_until = reminder.snoozed_week = None
    reminder.drop_followup()
