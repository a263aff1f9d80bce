"""A user's stored state: language, where they are in a flow, their answers and their plan.

The state is a plain document so any repository can store it; ``from_document`` tolerates
missing keys (older documents) and rejects wrong types with ``ValueError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.core.checkin_schedule import Reminder
from bot.core.exits import EXITS, Exit, exits_to_document, read_exits
from bot.core.quiet_hours import DEFAULT_QUIET, QUIET_HOURS, QuietHours
from bot.core.schedule import suggested_zone
from bot.core.streak_contract import CONTRACT, Contract
from storage.history_archive import ARCHIVE_KEY

__all__ = ["HANDLED_KEPT", "DialogueState", "UserState"]

# Telegram resends the updates of its last unconfirmed batch only, and one user rarely sends
# more than a few in one: twenty ids are plenty. They are kept as a set, not a high-water mark,
# because Telegram restarts update ids at random after a week without any update.
HANDLED_KEPT = 20


@dataclass
class DialogueState:
    """Where the user is in a flow.

    ``turn`` increases each time a question is (re)asked, so buttons of older messages can be
    recognised. ``selection`` holds the ticks of a multi choice that is not finished yet.
    ``return_to`` is set while the user changes one answer from the summary.
    ``confirm`` names a pending yes/no question ("restart").
    """

    flow: str
    step: str
    turn: int = 0
    history: list[str] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)
    selection: list[str] | None = None
    return_to: str | None = None
    confirm: str | None = None

    def to_document(self) -> dict[str, Any]:
        """Serialise to a JSON-compatible dict."""
        return {
            "flow": self.flow,
            "step": self.step,
            "turn": self.turn,
            "history": list(self.history),
            "answers": dict(self.answers),
            "selection": None if self.selection is None else list(self.selection),
            "return_to": self.return_to,
            "confirm": self.confirm,
        }

    @classmethod
    def from_document(cls, raw: dict[str, Any]) -> DialogueState:
        """Read from a stored dict."""
        state = cls(
            flow=raw["flow"],
            step=raw["step"],
            turn=int(raw.get("turn", 0)),
            history=list(raw.get("history", [])),
            answers=dict(raw.get("answers", {})),
            selection=raw.get("selection"),
            return_to=raw.get("return_to"),
            confirm=raw.get("confirm"),
        )
        if not isinstance(state.flow, str) or not isinstance(state.step, str):
            raise TypeError("dialogue.flow and dialogue.step must be texts")
        return state


@dataclass
class UserState:
    """Everything the coach keeps about one user.

    ``dialogue`` is the flow the user is in; while a side flow (check-in, settings) runs, the
    onboarding dialogue waits in ``suspended``. ``reminder`` is the weekly check-in schedule, whose
    bookkeeping the claim protocol owns (``bot.core.checkin_claims``); ``checkins`` are the
    answered weekly check-ins, oldest first; ``pending_checkin`` is the reminder the user has not
    acted on. ``active`` turns false when the user blocked the bot, and true again with /start.
    ``quiet_hours`` hold back every message the bot starts except the check-in at its own time.
    ``came_from`` is the first deep-link tag the user arrived with (``/start <tag>``).
    """

    user_id: str
    lang: str
    dialogue: DialogueState | None = None
    plan: dict[str, Any] | None = None
    created_at: str = ""
    updated_at: str = ""
    suspended: DialogueState | None = None
    active: bool = True
    reminder: Reminder | None = None
    quiet_hours: QuietHours = DEFAULT_QUIET
    checkins: list[dict[str, Any]] = field(default_factory=list)
    # Set only in a document read without its older check-ins (``get_recent``, the weekly
    # check-in's claim): where they are kept, which ``checkins`` then does not hold. Written
    # back as it was, so the store keeps them (``storage.history_archive``).
    archived_checkins: dict[str, Any] | None = None
    pending_checkin: dict[str, Any] | None = None
    # The transport's ids of the last messages that changed this document, newest last: a
    # message delivered again after a crash (Telegram resends what the bot did not confirm)
    # is recognised and not applied twice. Kept with the answers, so both are saved together.
    handled: list[int] = field(default_factory=list)
    # The current plan's version, when and why it was made and the answers it was made from;
    # the plans it replaced, oldest first (``bot.core.plan_versions``).
    plan_info: dict[str, Any] | None = None
    previous_plans: list[dict[str, Any]] = field(default_factory=list)
    came_from: str | None = None
    # A change that eases the plan (a channel left out comes back), waiting out its seven-day
    # cool-off (``bot.core.cool_off``); None when none waits.
    pending_change: dict[str, Any] | None = None
    # The transport's id of the message whose buttons are live (the current question), so a
    # restarted bot can take them off when it asks anew. Only a hint: a stale id costs one
    # failed edit, so the transport records it after sending, outside the answer's save.
    live_message: int | None = None
    # A week at a smaller rhythm after a lapse (``bot.core.light_week``; stored form, or None).
    light_week: dict[str, Any] | None = None
    # Per message bank, the wording last chosen, for which occasion, and those used this round
    # (``bot.core.variety``): {bank: {"key": "2026-W49", "index": 3, "used": [5, 3]}}.
    variety: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The forgiving streak contract: jokers, repairs and pauses of past weeks, and whether
    # its rules were shown (``bot.core.streak_contract``; older documents lack it).
    contract: Contract = field(default_factory=Contract)
    # The tracked exits from dropped channels, by channel id (``bot.core.exits``).
    exits: dict[str, Exit] = field(default_factory=dict)
    # The content (``Content.identity``) this state was last fitted to (``state_repair``): a
    # claim skips fitting it again to the same content. Only a hint: None or another content
    # means "fit it".
    fitted_to: str | None = None
    # Set when the user confirmed /delete: the engine removes them instead of saving.
    deleted: bool = field(default=False, compare=False)

    @property
    def checkin_count(self) -> int:
        """How many check-ins the user answered, those kept aside (``archived_checkins``) too."""
        archived = self.archived_checkins
        count = archived.get("count") if archived is not None else 0
        return len(self.checkins) + (count if isinstance(count, int) else 0)

    @staticmethod
    def now_iso(now: datetime) -> str:
        """Format an aware instant as ISO 8601 in UTC."""
        return now.astimezone(UTC).isoformat(timespec="seconds")

    def to_document(self) -> dict[str, Any]:
        """Serialise to a JSON-compatible dict."""
        document: dict[str, Any] = {
            "user_id": self.user_id,
            "lang": self.lang,
            "dialogue": None if self.dialogue is None else self.dialogue.to_document(),
            "plan": self.plan,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "suspended": None if self.suspended is None else self.suspended.to_document(),
            "active": self.active,
            "reminder": None if self.reminder is None else self.reminder.to_dict(),
            QUIET_HOURS: self.quiet_hours.to_dict(),
            "checkins": list(self.checkins),
            "pending_checkin": self.pending_checkin,
            "handled": list(self.handled),
            "plan_info": self.plan_info,
            "previous_plans": list(self.previous_plans),
            "came_from": self.came_from,
            "pending_change": self.pending_change,
            "live_message": self.live_message,
            "light_week": self.light_week,
            "variety": {bank: dict(entry) for bank, entry in self.variety.items()},
            CONTRACT: self.contract.to_document(),
            EXITS: exits_to_document(self.exits),
            "fitted_to": self.fitted_to,
        }
        if self.archived_checkins is not None:
            document[ARCHIVE_KEY] = self.archived_checkins
        return document

    @property
    def zone(self) -> str:
        """The user's time zone: their check-in's, else the one their language suggests."""
        return self.reminder.zone if self.reminder is not None else suggested_zone(self.lang)

    def note_handled(self, delivery: int) -> None:
        """Remember that the message ``delivery`` has been applied (the last few are kept)."""
        self.handled = [*self.handled, delivery][-HANDLED_KEPT:]

    def onboarding(self) -> DialogueState | None:
        """The onboarding dialogue, whether it is current or waits behind a side flow."""
        return self.suspended if self.suspended is not None else self.dialogue

    @classmethod
    def from_document(cls, raw: dict[str, Any]) -> UserState:
        """Read from a stored dict."""
        dialogue = raw.get("dialogue")
        suspended = raw.get("suspended")
        reminder = raw.get("reminder")
        return cls(
            user_id=str(raw["user_id"]),
            lang=str(raw.get("lang", "de")),
            dialogue=None if dialogue is None else DialogueState.from_document(dialogue),
            plan=raw.get("plan"),
            created_at=str(raw.get("created_at", "")),
            updated_at=str(raw.get("updated_at", "")),
            suspended=None if suspended is None else DialogueState.from_document(suspended),
            active=bool(raw.get("active", True)),
            reminder=None if reminder is None else Reminder.from_dict(reminder),
            quiet_hours=QuietHours.from_document(raw),
            checkins=list(raw.get("checkins", [])),
            # As stored: the store checked it, and a put must get back exactly what it gave.
            archived_checkins=raw.get(ARCHIVE_KEY),
            pending_checkin=raw.get("pending_checkin"),
            handled=[int(delivery) for delivery in raw.get("handled", [])],
            plan_info=raw.get("plan_info"),
            previous_plans=list(raw.get("previous_plans", [])),
            came_from=raw.get("came_from"),
            pending_change=raw.get("pending_change"),
            live_message=_optional_int(raw.get("live_message")),
            light_week=_optional_dict(raw.get("light_week")),
            variety=_variety(raw.get("variety")),
            contract=Contract.from_document(raw.get(CONTRACT)),
            exits=read_exits(raw.get(EXITS)),
            fitted_to=_optional_text(raw.get("fitted_to")),
        )


def _optional_dict(value: object) -> dict[str, Any] | None:
    """A block read from a document: a dict, or None for anything else (older documents)."""
    return dict(value) if isinstance(value, dict) else None


def _optional_text(value: object) -> str | None:
    """A hint read from a document: a text, or None for anything else (older documents)."""
    return value if isinstance(value, str) else None


def _optional_int(value: object) -> int | None:
    """An id read from a document: an int, or None for anything else (it is only a hint)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _variety(value: object) -> dict[str, dict[str, Any]]:
    """The banks' last choices read from a document; an entry of the wrong shape is dropped.

    Only a memory of wordings: losing one means a line may come round a week early, no more.
    """
    if not isinstance(value, dict):
        return {}
    variety: dict[str, dict[str, Any]] = {}
    for bank, entry in value.items():
        if not isinstance(bank, str) or not isinstance(entry, dict):
            continue
        key, index, used = entry.get("key"), _optional_int(entry.get("index")), entry.get("used")
        if not isinstance(key, str) or index is None or index < 0 or not isinstance(used, list):
            continue
        kept = [i for i in used if isinstance(i, int) and not isinstance(i, bool) and i >= 0]
        variety[bank] = {"key": key, "index": index, "used": kept}
    return variety
