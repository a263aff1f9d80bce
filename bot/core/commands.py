"""The slash commands: one table of name -> handler, the menu, and what /help lists.

A handler gets the user's ``Conversation`` and the command, and returns the replies. Most say
something and ask the current question again, so the user is never left without one.

/help lists the commands of the transport it is asked in, from data (``ListedCommand``), each
described by its label ``command_<name>``: Telegram lists its menu (``MENU_HELP``), the terminal
chat every command the engine runs plus its own ``SESSION_COMMANDS``. Telegram's menu is built
from the same names and labels, so its /help and its menu cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from bot.core import confirmations
from bot.core.checkin_reminder import catch_up, catch_up_week
from bot.core.checkin_stats import evaluate, history_weeks, latest_wins
from bot.core.coaching import FocusPlan
from bot.core.contract_view import contract_context
from bot.core.conversation import Conversation
from bot.core.export_files import checkins_csv, export_json
from bot.core.flow_ids import (
    CHECKIN_FLOW,
    ONBOARDING_FLOW,
    REVIEW_FLOW,
    RULES_FLOW,
    SETTINGS_FLOW,
)
from bot.core.light_week import coming_light_week
from bot.core.messages import Command, Reply, ReplyKind
from bot.core.plan_versions_view import history_versions
from bot.core.plan_view import SOURCES_TEMPLATE, plan_context, sources_context
from bot.core.progress_view import progress_reply
from bot.core.questions import asked, shown_answers
from bot.core.questions.statements import summary_rows
from bot.core.results_view import own_results_context, reclaimed_context
from bot.core.schedule import DEFAULT_ZONE, local_week_key
from bot.core.text_input import clean_text
from bot.core.week_view import with_reasons

__all__ = [
    "COMMANDS",
    "COMMAND_LABELS",
    "ENGINE_COMMANDS",
    "ENGINE_HELP",
    "HELP",
    "HELP_TEMPLATE",
    "MENU_COMMANDS",
    "MENU_HELP",
    "SESSION_COMMANDS",
    "ListedCommand",
    "run_command",
]

Handler = Callable[[Conversation, Command], list[Reply]]

HELP: Final = "help"
HELP_TEMPLATE: Final = "common/help"


@dataclass(frozen=True)
class ListedCommand:
    """A command as /help lists it: its name, other names it answers to, its label."""

    name: str
    aliases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The label key that describes it (also its description in Telegram's menu)."""
        return f"command_{self.name}"

    def as_context(self) -> dict[str, Any]:
        """What the help template reads."""
        return {"name": self.name, "aliases": list(self.aliases), "label": self.label}


# Every command the engine runs, in the order a full /help lists them.
ENGINE_COMMANDS: Final = (
    "start",
    "plan",
    "sources",
    "checkin",
    "history",
    "rules",
    "review",
    "settings",
    "back",
    "restart",
    HELP,
    "language",
    "cancel",
    "export",
    "delete",
)
# Commands a transport runs itself to end its session (the terminal chat's /quit): the engine
# never sees them, but they are here so that `focus-coach check` asks for their labels.
SESSION_COMMANDS: Final = (ListedCommand("quit", aliases=("exit", "q")),)
# Commands offered in Telegram's menu, in menu order; /restart is a button there ("Start over").
MENU_COMMANDS: Final = (
    "start",
    "plan",
    "sources",
    "checkin",
    "history",
    "rules",
    "review",
    "settings",
    "back",
    "help",
    "language",
    "cancel",
    "export",
    "delete",
)
MENU_HELP: Final = tuple(ListedCommand(name) for name in MENU_COMMANDS)
ENGINE_HELP: Final = tuple(ListedCommand(name) for name in ENGINE_COMMANDS)
COMMAND_LABELS: Final = tuple(c.label for c in (*ENGINE_HELP, *SESSION_COMMANDS))
_SHOWN_COMMAND_CHARS = 32


def _start(conversation: Conversation, command: Command) -> list[Reply]:
    """Carry on where the user is; an open side flow is offered to continue, never dropped."""
    if conversation.user.suspended is not None:
        return conversation.confirm(confirmations.RESUME)
    conversation.dialogue.confirm = None
    current = conversation.asked()
    if current.kind.shows_plan:
        return conversation.present_plan()  # its menu compact: introduced once already
    return conversation.ask_again("common/resume")


def _back(conversation: Conversation, command: Command) -> list[Reply]:
    return conversation.back()


def _plan(conversation: Conversation, command: Command) -> list[Reply]:
    plan = conversation.build_plan()
    if plan is None:
        return conversation.ask_again("common/plan_not_ready")
    user = conversation.user
    light = coming_light_week(conversation.content, user, conversation.clock())
    return [conversation.plan_reply(plan, light_week=light), *conversation.ask()]


def _sources(conversation: Conversation, command: Command) -> list[Reply]:
    """Every source the plan cites, with where it was read."""
    user, content = conversation.user, conversation.content
    plan = FocusPlan.from_dict(user.plan) if user.plan else None
    listed = conversation.say(SOURCES_TEMPLATE, **sources_context(content, plan, user.lang))
    return [listed, *conversation.ask()]


def _restart(conversation: Conversation, command: Command) -> list[Reply]:
    return conversation.confirm(confirmations.RESTART)


def _language(conversation: Conversation, command: Command) -> list[Reply]:
    # "/language en" was applied before the command ran (even as the very first message).
    if command.args.strip().lower() in conversation.content.languages:
        return conversation.ask_again("common/language_changed")
    return conversation.confirm(confirmations.LANGUAGE)


def _cancel(conversation: Conversation, command: Command) -> list[Reply]:
    if conversation.user.suspended is not None:
        cancelled = conversation.say("common/side_cancelled")
        return [cancelled, *conversation.end_flow(resume=True)]
    return [conversation.say("common/cancelled")]


def _delete(conversation: Conversation, command: Command) -> list[Reply]:
    return conversation.confirm(confirmations.DELETE)


def _checkin(conversation: Conversation, command: Command) -> list[Reply]:
    """The check-in: of last week while that one can still be logged late, else this week's."""
    user = conversation.user
    if user.plan is None:
        return conversation.ask_again("common/plan_not_ready")
    pending, now = user.pending_checkin, conversation.clock()
    if pending is None or pending.get("catch_up"):
        # A catch-up chosen earlier is chosen afresh: its week may have closed since.
        week = catch_up_week(user, now)
        user.pending_checkin = None if week is None else catch_up(week)
    elif str(pending["week"]) < local_week_key(now, user.zone):
        # Last week's reminder, answered after the week turned: logged late, and it says so.
        pending["catch_up"] = True
    return conversation.start_flow(CHECKIN_FLOW)


def _rules(conversation: Conversation, command: Command) -> list[Reply]:
    """The streak contract: the rules, jokers left, the score, a week to cover or log late."""
    if conversation.user.plan is None:
        return conversation.ask_again("common/plan_not_ready")
    return conversation.start_flow(RULES_FLOW)


def _review(conversation: Conversation, command: Command) -> list[Reply]:
    """The plan walked through with its stored reasons (also offered after twelve weeks)."""
    if conversation.user.plan is None:
        return conversation.ask_again("common/plan_not_ready")
    return conversation.start_flow(REVIEW_FLOW)


def _settings(conversation: Conversation, command: Command) -> list[Reply]:
    return conversation.start_flow(SETTINGS_FLOW)


def _history(conversation: Conversation, command: Command) -> list[Reply]:
    """The past weeks, newest first, with the streak and adherence, then their picture."""
    user = conversation.user
    if not user.checkins:
        return conversation.ask_again("common/history_empty")
    plan = FocusPlan.from_dict(user.plan) if user.plan else None
    budget = plan.hours_planned if plan else 0.0
    zone = user.reminder.zone if user.reminder else DEFAULT_ZONE
    contract = contract_context(user, conversation.clock())
    # The streak is the contract's: jokers and repairs keep it, a missed week ends it.
    stats = {**evaluate(user.checkins, budget).as_context(), "streak": contract["streak"]}
    history = conversation.say(
        "common/history",
        stats=stats,
        contract=contract,
        weeks=[
            with_reasons(conversation.content, user.lang, week)
            for week in history_weeks(user.checkins, budget)
        ],
        this_week=local_week_key(conversation.clock(), zone),
        wins=latest_wins(user.checkins),
        versions=history_versions(conversation.content, user, zone),
        own_results=own_results_context(conversation.content, user),
        reclaimed=reclaimed_context(
            conversation.content, user, now=conversation.clock(), zone=zone
        ),
    )
    picture = progress_reply(conversation.content, user, conversation.clock())
    return [history, *([picture] if picture else []), *conversation.ask()]


def _export(conversation: Conversation, command: Command) -> list[Reply]:
    """All stored data as a JSON file plus a readable summary, then the current question."""
    question = conversation.ask()  # first, so the export shows the state as saved
    user, content = conversation.user, conversation.content
    rows: list[dict[str, str]] = []
    onboarding = user.onboarding()
    if onboarding is not None and onboarding.flow == ONBOARDING_FLOW:
        summary = content.flows[onboarding.flow].summary_step()
        if summary is not None:
            shown = shown_answers(content, user, onboarding)
            rows = summary_rows(asked(content, user, onboarding, summary), shown)
    plan = FocusPlan.from_dict(user.plan) if user.plan else None
    text = content.texts.render(
        user.lang,
        "common/export",
        rows=rows,
        plan=plan_context(content, plan, user.lang) if plan else None,
        created_at=user.created_at,
        checkins=len(user.checkins),
    )
    export = Reply(text=text, kind=ReplyKind.DOCUMENT, document=export_json(user))
    if not user.checkins:
        return [export, *question]
    table = Reply(
        text=content.texts.render(user.lang, "common/export_csv", checkins=len(user.checkins)),
        kind=ReplyKind.DOCUMENT,
        document=checkins_csv(content, user),
    )
    return [export, table, *question]


COMMANDS: Final[Mapping[str, Handler]] = MappingProxyType(
    {
        "start": _start,
        "back": _back,
        "plan": _plan,
        "sources": _sources,
        confirmations.RESTART: _restart,
        confirmations.LANGUAGE: _language,
        "cancel": _cancel,
        "export": _export,
        confirmations.DELETE: _delete,
        "checkin": _checkin,
        "settings": _settings,
        "history": _history,
        "review": _review,
        "rules": _rules,
    }
)

# A listed command without a handler (or the reverse) is a bug: say so at import, not to a user.
if set(ENGINE_COMMANDS) != {*COMMANDS, HELP} or not set(MENU_COMMANDS) <= set(ENGINE_COMMANDS):
    raise RuntimeError("ENGINE_COMMANDS, MENU_COMMANDS and COMMANDS do not match")


def run_command(
    conversation: Conversation,
    command: Command,
    *,
    listed: Sequence[ListedCommand],
) -> list[Reply]:
    """Run ``command``; /help lists ``listed``; an unknown one gets a hint and the question."""
    if command.name == HELP:
        # The one answer that depends on the transport: the commands it has.
        commands = [listed_command.as_context() for listed_command in listed]
        return conversation.ask_again(HELP_TEMPLATE, commands=commands)
    handler = COMMANDS.get(command.name)
    if handler is None:
        # Cleaned: a console can pass undecodable bytes as lone surrogates, not valid UTF-8.
        shown = clean_text(command.name)[:_SHOWN_COMMAND_CHARS]
        return conversation.hint("common/unknown_command", command=shown)
    return handler(conversation, command)
