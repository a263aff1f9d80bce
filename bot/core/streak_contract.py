"""The forgiving streak contract as stored: jokers, repairs, pauses, and whether it was shown.

The ``"contract"`` block of a user's document remembers what the check-ins alone cannot tell
about a past week (domain.md 4.4, forgiving streaks): that it was a joker week (declared in
advance, or used on a missed week afterwards), that a missed week is being made up (which week
makes it up, with which extra action, and whether that action got done), and when the check-ins
were paused for a holiday. The reminder keeps only twelve sent weeks and the current pause, so
these are written here when they happen, and kept.

Older documents lack the block: they read as an empty contract. Entries of a wrong shape are
dropped on reading (the schema in ``document_schema`` refuses such a document before, so this is
the second line), never raised: a damaged joker must not lock a user out of their check-ins.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any, Final

__all__ = [
    "CONTRACT",
    "KEPT_ENTRIES",
    "Contract",
    "Joker",
    "JokerHow",
    "Pause",
    "Repair",
]

CONTRACT: Final = "contract"  # the document key of the block
# Two years of weeks: as long as check-ins are kept (``actions.MAX_CHECKINS``).
KEPT_ENTRIES: Final = 104


class JokerHow(StrEnum):
    """How a joker week came about."""

    DECLARED = "declared"  # in advance: "next week is a joker week", or the reminder's skip
    USED = "used"  # afterwards, on a missed week


@dataclass(frozen=True)
class Joker:
    """A joker week: it keeps the streak without adding to it."""

    week: str
    how: JokerHow


@dataclass(frozen=True)
class Repair:
    """A missed ``week`` made up in the week ``by``: that week on plan plus ``action``.

    ``done`` is the answer to "did the extra action happen?" in the make-up week's check-in,
    None until it is asked.
    """

    week: str
    by: str
    action: str
    done: bool | None = None


@dataclass(frozen=True)
class Pause:
    """A holiday pause: no check-in from the local day ``start`` until before ``until``."""

    start: date
    until: date


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _joker(raw: object) -> Joker | None:
    if not isinstance(raw, dict) or _text(raw.get("week")) is None:
        return None
    how = raw.get("how")
    if how not in set(JokerHow):
        return None
    return Joker(week=raw["week"], how=JokerHow(how))


def _repair(raw: object) -> Repair | None:
    if not isinstance(raw, dict):
        return None
    week, by, action = _text(raw.get("week")), _text(raw.get("by")), _text(raw.get("action"))
    done = raw.get("done")
    if week is None or by is None or action is None or not isinstance(done, bool | None):
        return None
    return Repair(week=week, by=by, action=action, done=done)


def _pause(raw: object) -> Pause | None:
    if not isinstance(raw, dict):
        return None
    try:
        return Pause(start=date.fromisoformat(raw["from"]), until=date.fromisoformat(raw["until"]))
    except (KeyError, TypeError, ValueError):
        return None


def _entries(raw: dict[str, Any], key: str) -> list[Any]:
    value = raw.get(key)
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class Contract:
    """What the streak contract remembers about one user's past weeks."""

    jokers: tuple[Joker, ...] = ()
    repairs: tuple[Repair, ...] = ()
    pauses: tuple[Pause, ...] = ()
    rules_shown: bool = False

    @classmethod
    def from_document(cls, raw: object) -> Contract:
        """Read the stored block; a missing or malformed one (or entry) reads as empty."""
        if not isinstance(raw, dict):
            return cls()
        jokers = (_joker(item) for item in _entries(raw, "jokers"))
        repairs = (_repair(item) for item in _entries(raw, "repairs"))
        pauses = (_pause(item) for item in _entries(raw, "pauses"))
        return cls(
            jokers=tuple(joker for joker in jokers if joker is not None),
            repairs=tuple(repair for repair in repairs if repair is not None),
            pauses=tuple(pause for pause in pauses if pause is not None),
            rules_shown=raw.get("rules_shown") is True,
        )

    def to_document(self) -> dict[str, Any]:
        """The stored form (JSON-compatible)."""
        return {
            "jokers": [{"week": j.week, "how": str(j.how)} for j in self.jokers],
            "repairs": [
                {"week": r.week, "by": r.by, "action": r.action, "done": r.done}
                for r in self.repairs
            ],
            "pauses": [
                {"from": p.start.isoformat(), "until": p.until.isoformat()} for p in self.pauses
            ],
            "rules_shown": self.rules_shown,
        }

    def joker(self, week: str) -> Joker | None:
        """The joker of ``week``, if it is one."""
        return next((joker for joker in self.jokers if joker.week == week), None)

    def repair(self, week: str) -> Repair | None:
        """The repair of the missed ``week``, if one was started."""
        return next((repair for repair in self.repairs if repair.week == week), None)

    def repair_by(self, week: str) -> Repair | None:
        """The repair that ``week`` is the make-up week of, if any."""
        return next((repair for repair in self.repairs if repair.by == week), None)

    def with_joker(self, week: str, how: JokerHow) -> Contract:
        """``week`` as a joker week (once)."""
        jokers = [*(j for j in self.jokers if j.week != week), Joker(week, how)]
        return replace(self, jokers=tuple(sorted(jokers, key=lambda j: j.week)[-KEPT_ENTRIES:]))

    def without_joker(self, week: str) -> Contract:
        """``week`` no longer a joker week (a declared joker taken back)."""
        return replace(self, jokers=tuple(j for j in self.jokers if j.week != week))

    def with_repair(self, repair: Repair) -> Contract:
        """``repair`` started (it replaces an earlier one of the same week)."""
        repairs = [*(r for r in self.repairs if r.week != repair.week), repair]
        return replace(self, repairs=tuple(sorted(repairs, key=lambda r: r.week)[-KEPT_ENTRIES:]))

    def with_pause(self, start: date, until: date) -> Contract:
        """A pause from ``start`` until before ``until``, merged with any it overlaps."""
        overlapping = [p for p in self.pauses if p.start < until and start < p.until]
        kept = [p for p in self.pauses if p not in overlapping]
        merged = Pause(
            min([start, *(p.start for p in overlapping)]),
            max([until, *(p.until for p in overlapping)]),
        )
        pauses = sorted([*kept, merged], key=lambda p: p.start)
        return replace(self, pauses=tuple(pauses[-KEPT_ENTRIES:]))

    def ending_pauses(self, today: date) -> Contract:
        """A pause that runs past ``today`` ends today (the user resumed early)."""
        pauses = (
            Pause(p.start, today) if p.start <= today < p.until else p
            for p in self.pauses
            if p.start < today or p.until <= today
        )
        return replace(self, pauses=tuple(pauses))

    def shown(self) -> Contract:
        """The rules have been shown once."""
        return replace(self, rules_shown=True)
