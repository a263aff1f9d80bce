"""The cool-off: a change that eases the focus waits seven days; a change that narrows it does not.

Beeminder's "akrasia horizon" (domain.md 8, row 4.5) applies hyperbolic discounting to goals: in
a weak moment the near reward of sliding back looms large, so a change that *eases* a goal takes
effect only after a week, while tightening it is immediate. Here the focus plan is the goal: a
channel the plan leaves out (dropped, or kept as a profile only) that comes back into the kept
set eases it. Such a plan is not adopted; it is stored as the user's ``pending_change`` with the
instant it takes effect, cancellable until then, and adopted as a plan version the first time
the user's document is loaded at or after that instant (``settle``).

The instant: the same wall-clock time a week later in the user's zone, but never earlier than
7 times 24 h after the request (on the night the clocks spring forward the wall-clock week is an
hour short: then it is an hour later), rounded up to the whole minute, so the time the user is
shown is never before the change can happen.

Only one change waits at a time: a second easing request replaces the first and its week starts
anew (otherwise one could queue a harmless change and swap in another when it is nearly due);
the very same request again keeps the first and its date. A new plan version made meanwhile (a
review, changed answers, starting over, a repair) withdraws the waiting change: it was worked
out on a plan that no longer holds, and the user is told so once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.core.coaching import PlanInput
from bot.core.focus_plan import FocusPlan, PlanChange
from bot.core.plan_versions import adopt, inputs_record
from bot.core.state import UserState

__all__ = [
    "COOL_OFF",
    "PENDING_CHANGE",
    "Outcome",
    "PendingChange",
    "Settled",
    "cancel",
    "effective_instant",
    "inputs_from_record",
    "plan_version",
    "request",
    "returning",
    "settle",
    "waiting",
]

COOL_OFF: Final = timedelta(days=7)
PENDING_CHANGE: Final = "pending_change"  # the key of the user's document
_MINUTE: Final = timedelta(minutes=1)


def effective_instant(requested_at: datetime, zone: str) -> datetime:
    """When a change requested at ``requested_at`` takes effect (UTC, a whole minute).

    A week later on the user's wall clock, never earlier than 7 times 24 h after the request.
    """
    local = requested_at.astimezone(ZoneInfo(zone))
    wall_clock_week = (local.replace(tzinfo=None) + COOL_OFF).replace(tzinfo=local.tzinfo)
    earliest = max(wall_clock_week.astimezone(UTC), requested_at.astimezone(UTC) + COOL_OFF)
    rounded = earliest.replace(second=0, microsecond=0)
    return rounded if rounded == earliest else rounded + _MINUTE


def plan_version(user: UserState) -> int:
    """The version number of the user's current plan (0: no plan)."""
    if user.plan is None:
        return 0
    return int((user.plan_info or {}).get("version", 1))


def returning(before: FocusPlan, after: FocusPlan) -> tuple[str, ...]:
    """Channels ``before`` left out (dropped or profile only) that ``after`` keeps: easing."""
    kept = {k.channel for k in after.kept}
    return tuple(channel for channel in before.left_behind if channel in kept)


@dataclass(frozen=True)
class PendingChange:
    """An easing plan change waiting out its cool-off.

    ``channel`` comes back; ``instead`` is the kept channel that makes room for it (None when
    nothing had to: a review whose new hours hold it). ``base_version`` is the plan version it
    was worked out on. ``inputs``: the answers the new plan rests on (a review may change the
    hours), adopted with it.
    """

    channel: str
    instead: str | None
    plan: dict[str, Any]
    reason: PlanChange
    detail: dict[str, str]
    inputs: dict[str, Any] | None
    base_version: int
    requested_at: datetime
    effective_at: datetime
    others: tuple[str, ...] = field(default=())  # further channels coming back with it

    @property
    def id(self) -> str:
        """What a cancel button carries: the plan it rests on and the second it was asked for."""
        return f"{self.base_version}-{int(self.requested_at.timestamp())}"

    def due_at(self) -> datetime:
        """When it is due: its stored instant, but never before the full cool-off."""
        return max(self.effective_at, self.requested_at + COOL_OFF)

    def same_request(self, other: PendingChange) -> bool:
        """The same plan asked for on the same plan version."""
        return (
            self.plan == other.plan
            and self.base_version == other.base_version
            and self.reason is other.reason
        )

    def to_dict(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "channel": self.channel,
            "instead": self.instead,
            "others": list(self.others),
            "plan": self.plan,
            "reason": self.reason.value,
            "detail": dict(self.detail),
            "inputs": self.inputs,
            "base_version": self.base_version,
            "requested_at": UserState.now_iso(self.requested_at),
            "effective_at": UserState.now_iso(self.effective_at),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PendingChange:
        """Read the stored form (the document schema has checked its types)."""
        return cls(
            channel=str(raw["channel"]),
            instead=None if raw.get("instead") is None else str(raw["instead"]),
            others=tuple(str(c) for c in raw.get("others", ())),
            plan=dict(raw["plan"]),
            reason=PlanChange(raw["reason"]),
            detail={str(k): str(v) for k, v in dict(raw.get("detail", {})).items()},
            inputs=None if raw.get("inputs") is None else dict(raw["inputs"]),
            base_version=int(raw["base_version"]),
            requested_at=datetime.fromisoformat(raw["requested_at"]),
            effective_at=datetime.fromisoformat(raw["effective_at"]),
        )


def waiting(user: UserState) -> PendingChange | None:
    """The user's waiting change, if any (one that cannot be read is no change: dropped)."""
    raw = user.pending_change
    if raw is None:
        return None
    try:
        return PendingChange.from_dict(raw)
    except (KeyError, TypeError, ValueError):
        user.pending_change = None
        return None


class Outcome(StrEnum):
    """What a request, a cancel or a load did to the waiting change."""

    REQUESTED = "requested"  # a new change waits
    REPLACED = "replaced"  # it replaced an earlier one, whose week is void
    SAME = "same"  # the very same change waits already: its date holds
    CANCELLED = "cancelled"  # the user took it back
    NOTHING = "nothing"  # a cancel with nothing (or something else) waiting
    APPLIED = "applied"  # its week was over: it is the plan now
    WITHDRAWN = "withdrawn"  # the plan changed meanwhile: it no longer applies


@dataclass(frozen=True)
class Settled:
    """An outcome and the change it is about (the previous one for REPLACED)."""

    outcome: Outcome
    change: PendingChange | None
    previous: PendingChange | None = None


def request(
    user: UserState,
    plan: FocusPlan,
    *,
    before: FocusPlan,
    reason: PlanChange,
    detail: Mapping[str, str],
    inputs: PlanInput | None,
    instead: str | None,
    now: datetime,
    zone: str,
) -> Settled:
    """Store ``plan`` (which brings back channels ``before`` left out) as the waiting change."""
    back = returning(before, plan)
    if not back:
        raise ValueError("not an easing change: adopt it at once")
    change = PendingChange(
        channel=back[0],
        instead=instead,
        others=back[1:],
        plan=plan.to_dict(),
        reason=reason,
        detail=dict(detail),
        inputs=None if inputs is None else inputs_record(inputs),
        base_version=plan_version(user),
        requested_at=now.astimezone(UTC).replace(microsecond=0),
        effective_at=effective_instant(now, zone),
    )
    previous = waiting(user)
    if previous is not None and previous.same_request(change):
        return Settled(Outcome.SAME, previous)
    user.pending_change = change.to_dict()
    if previous is not None:
        return Settled(Outcome.REPLACED, change, previous)
    return Settled(Outcome.REQUESTED, change)


def cancel(user: UserState, change_id: str) -> Settled:
    """Take back the waiting change ``change_id``; anything else (stale, forged) is NOTHING."""
    change = waiting(user)
    if change is None or change.id != change_id:
        return Settled(Outcome.NOTHING, change)
    user.pending_change = None
    return Settled(Outcome.CANCELLED, change)


def settle(user: UserState, now: datetime, known: Collection[str]) -> Settled | None:
    """On load: adopt the waiting change once due, or withdraw it if the plan changed meanwhile.

    ``known``: the channels the catalogue has; a change naming another (a coach removed it) is
    withdrawn too. None when nothing happened (nothing waits, or its week is not over yet).
    """
    change = waiting(user)
    if change is None:
        return None
    try:
        plan = FocusPlan.from_dict(change.plan)
        inputs = inputs_from_record(change.inputs)
    except (KeyError, TypeError, ValueError):
        plan, inputs = None, None
    if (
        plan is None
        or change.base_version != plan_version(user)
        or not _names_known(plan, change, known)
    ):
        user.pending_change = None
        return Settled(Outcome.WITHDRAWN, change)
    if now < change.due_at():
        return None
    user.pending_change = None
    onboarding = user.onboarding()
    if change.reason is PlanChange.REVIEW and inputs is not None and onboarding is not None:
        # The review's hours: the plan is made from this answer, and left as it was, the next
        # /plan would make the plan anew from it.
        onboarding.answers["hours"] = inputs.hours
    adopt(
        user, plan, reason=change.reason, now=change.due_at(), inputs=inputs, detail=change.detail
    )
    return Settled(Outcome.APPLIED, change)


def _names_known(plan: FocusPlan, change: PendingChange, known: Collection[str]) -> bool:
    """Every channel the change and its plan name is one the catalogue has."""
    named = {change.channel, *change.others, *([change.instead] if change.instead else [])}
    for items in (plan.kept, plan.dropped, plan.parked, plan.profile_only):
        named.update(item.channel for item in items)
    if plan.pressure is not None:
        named.add(plan.pressure.channel)
    return named <= set(known)


def inputs_from_record(record: Mapping[str, Any] | None) -> PlanInput | None:
    """The answers of ``plan_versions.inputs_record`` as a ``PlanInput`` (None: none stored)."""
    if record is None:
        return None
    pressure = record.get("pressure")
    return PlanInput(
        channels_used=tuple(str(c) for c in record["channels_used"]),
        hours=float(record["hours"]),
        audiences=tuple(str(a) for a in record["audiences"]),
        goals=tuple(str(g) for g in record["goals"]),
        team=bool(record["team"]),
        pressure=None if pressure is None else str(pressure),
    )
