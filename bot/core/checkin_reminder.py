"""The weekly reminder message in the dialogue: asking it, and its answers (start, snooze, skip).

The reminder's follow-up (the day after, if the check-in was not answered) is asked the same
way with fewer answers (start, skip). After one missed week the reminder is softer (its
``lapsed`` count); after two the comeback offer comes instead (``answer_comeback``). The claim
protocol (``bot.core.checkin_claims``) decides *when* either goes out on Telegram; a chat
without a scheduler asks ``due_offer`` when it opens. This module decides what the reminder
does to the user's dialogue: any open side flow gives way to it, and the answer starts the
check-in, moves the reminder later, or skips the week.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import confirmations
from bot.core.checkin_schedule import Reminder, due_week
from bot.core.comeback import comeback_context, proposal
from bot.core.contract_actions import skip_with_joker
from bot.core.contract_view import open_last_week_of
from bot.core.conversation import Conversation
from bot.core.due_kinds import Kind
from bot.core.exit_view import answer_heartbeat, offer_heartbeat
from bot.core.exits import window_of
from bot.core.flow_ids import CHECKIN_FLOW, REVIEW_FLOW, SETTINGS_FLOW
from bot.core.lapses import lapse
from bot.core.message_banks import CHECKIN_OPENER, FOLLOWUP_OPENER
from bot.core.messages import Reply
from bot.core.question_view import user_context
from bot.core.schedule import WeeklySlot, local_week_key, next_occurrence
from bot.core.state import UserState
from bot.core.variety import choose
from bot.core.week_ledger import monday_of

__all__ = [
    "SKIPPED",
    "SNOOZED",
    "answer_comeback",
    "answer_heartbeat_prompt",
    "answer_reminder",
    "answer_review_offer",
    "catch_up",
    "catch_up_week",
    "due_offer",
    "offer_heartbeat_prompt",
    "offer_review",
    "remind",
    "restart_after_block",
]

SKIPPED = "checkin/skipped"
SNOOZED = "checkin/snoozed"
REVIEW_LATER = "review/later"
COMEBACK_STARTED = "checkin/comeback_minimum"
COMEBACK_NORMAL = "checkin/comeback_normal"
PAUSE_STEP = "pause"  # the settings flow's step that pauses check-ins
HEARTBEAT_LOGGED_IN = "heartbeat/logged_in"
HEARTBEAT_LET_GO = "heartbeat/let_go"
# The prompt each kind of message asks (a new kind of message adds its own).
_PROMPTS = {
    Kind.CHECKIN: confirmations.CHECKIN,
    Kind.FOLLOWUP: confirmations.FOLLOWUP,
    Kind.REVIEW: confirmations.REVIEW,
    Kind.COMEBACK: confirmations.COMEBACK,
    Kind.HEARTBEAT: confirmations.HEARTBEAT,
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
    if kind is Kind.COMEBACK:
        return conversation.confirm(confirmations.COMEBACK)  # over the question, like a review
    if kind is Kind.HEARTBEAT:
        return offer_heartbeat_prompt(conversation)
    if user.suspended is not None:
        abandoned = conversation.dialogue.flow == CHECKIN_FLOW
        conversation.end_flow(resume=False)
    # Weeks the bot could not ask about (it was offline) count like a pause: neutral.
    for missed in missed_weeks:
        monday = monday_of(missed)
        user.contract = user.contract.with_pause(monday, monday + timedelta(weeks=1))
    lapsed = 0
    if user.reminder is not None:
        answered = {str(record.get("week")) for record in user.checkins}
        lapsed = lapse(user.reminder, answered, conversation.clock(), before=week).missed
    user.pending_checkin = {
        "week": week,
        "late": late,
        "missed": list(missed_weeks),
        "snooze": snooze,
        "abandoned": abandoned,
        # An earlier week than the current one (a follow-up after the week turned, the
        # terminal chat opened before this week's slot): it is logged late, and says so.
        "catch_up": week < local_week_key(conversation.clock(), user.zone),
        # Weeks missed in a row before this one: after one, the reminder is softer.
        "lapsed": lapsed,
    }
    # A new opening line each week; the same one when this week's is sent or snoozed again.
    opener = _OPENERS.get(kind)
    if opener is not None:
        choose(user, conversation.content, opener, week)
    return conversation.confirm(_PROMPTS[kind])


def catch_up_week(user: UserState, now: datetime) -> str | None:
    """Last week, while its check-in can still be logged late; else None.

    That is: its slot passed, it was neither answered nor skipped, and this week's slot has
    not come yet (``week_ledger``: open). From this week's slot on it is missed.
    """
    return open_last_week_of(user, now)


def catch_up(week: str) -> dict[str, object]:
    """The pending check-in of ``week`` logged late (``/checkin`` before this week's slot)."""
    return {
        "week": week,
        "late": False,
        "missed": [],
        "snooze": False,
        "abandoned": False,
        "catch_up": True,
    }


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


def answer_comeback(conversation: Conversation, choice: str) -> list[Reply] | None:
    """Start the minimum week, go on with the normal plan, or pause; None for an unknown choice.

    The minimum week is stored as the light week of the next check-in (``bot.core.light_week``):
    that check-in rates its channel only and judges the week against its budget. The plan and
    the history stay as they are.
    """
    if choice not in confirmations.COMEBACK_CHOICES:
        return None
    user = conversation.user
    conversation.dialogue.confirm = None
    if choice == confirmations.COMEBACK_PAUSE:
        return conversation.start_flow(SETTINGS_FLOW, PAUSE_STEP)
    now = conversation.clock()
    context = comeback_context(conversation.content, user, now)
    if choice == confirmations.COMEBACK_MINIMUM:
        offered = proposal(conversation.content, user, now)
        if offered is not None:
            user.light_week = offered.to_dict()
            return conversation.ask_again(COMEBACK_STARTED, comeback=context)
    return conversation.ask_again(COMEBACK_NORMAL, comeback=context)


def offer_heartbeat_prompt(conversation: Conversation) -> list[Reply]:
    """Ask to log in to a left channel: over the current question, like the review offer.

    The channel and window are the claim's (``Reminder.heartbeat_claim``); [] when the claim
    no longer names a channel with a heartbeat (nothing is sent then).
    """
    user = conversation.user
    reminder = user.reminder
    claim = None if reminder is None else reminder.heartbeat_claim
    found = None if claim is None else user.exits.get(claim.channel)
    if reminder is None or claim is None or found is None or found.heartbeat is None:
        return []
    _, end = window_of(found.heartbeat, reminder.heartbeat_offered.get(claim.channel))
    # ``take`` recorded this window as offered, so ``window_of`` now gives the next one.
    end -= found.heartbeat.period
    if not offer_heartbeat(user, claim.channel, end):
        return []
    return conversation.confirm(confirmations.HEARTBEAT)


def answer_heartbeat_prompt(conversation: Conversation, choice: str) -> list[Reply] | None:
    """ "Logged in" starts the next window now; "let it go" ends the heartbeats."""
    if choice not in (confirmations.LOGGED_IN, confirmations.LET_GO):
        return None
    user = conversation.user
    now = conversation.clock()
    logged_in = choice == confirmations.LOGGED_IN
    channel = answer_heartbeat(user, conversation.content, logged_in=logged_in, now=now)
    conversation.dialogue.confirm = None
    if channel is None:
        return conversation.ask()
    name = conversation.content.catalogue.channel(channel).label[user.lang]
    beat = user.exits[channel].heartbeat
    if logged_in and beat is not None and not beat.stopped:
        zone = user.zone
        deadline = (beat.since + beat.period).astimezone(ZoneInfo(zone)).date()
        return conversation.ask_again(HEARTBEAT_LOGGED_IN, channel=name, deadline=deadline)
    return conversation.ask_again(HEARTBEAT_LET_GO, channel=name)


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
    # This week's when due, else last week's while it can still be logged late.
    return due_week(reminder, answered, now) or catch_up_week(user, now)


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
        return [conversation.say(SKIPPED, joker=False, week_number=None, contract=None)]
    # The user answered the reminder: no follow-up (a snooze brings the reminder back itself).
    reminder.drop_followup()
    if choice == confirmations.SKIP:
        week = str(pending["week"])
        # A joker week when one is left (the button says so); else the week is missed.
        joker = skip_with_joker(user, week, conversation.clock())
        reminder.skipped_week = week
        reminder.snoozed_until = reminder.snoozed_week = None
        user.pending_checkin = None
        context = user_context(conversation.content, user, conversation.clock())
        return [conversation.say(SKIPPED, joker=joker, week_number=int(week[-2:]), **context)]
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
