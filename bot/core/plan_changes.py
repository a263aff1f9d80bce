"""One in, one out: what a dropped channel that came back does to the plan, as the user decides.

The check-in asks what happens when a channel the plan leaves out is back. The choices, and
exactly what each changes:

- ``drop_again``: it goes again; the plan stays as it is.
- a kept channel's id: it stays and that kept channel gives way; it takes the hours freed (at
  most its usual cost), and the kept channel is dropped with the reason "your choice".

One in, one out, strictly: "it stays, in the buffer" is no longer offered. Bringing a channel
back eases the focus (it waits a cool-off week, ``bot.core.cool_off``), and the buffer is the
room for replies and the unexpected that lets the plan survive a bad week, not room for one more
channel. ``buffer`` (``TAKE_BUFFER``) survives only in the history of plan versions made before.

Plain functions over the plan; ``actions.record_checkin`` makes the result the pending change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from bot.core.coaching import PlanInput, channel_cost, kept_channel, smallest_rhythm_hours
from bot.core.focus_plan import (
    DroppedChannel,
    DropReason,
    FocusPlan,
    KeptChannel,
    PressureNote,
    PressureStatus,
)
from bot.core.rules import Catalogue

__all__ = [
    "DROP_AGAIN",
    "TAKE_BUFFER",
    "CreepChoice",
    "add_channel",
    "apply_creep_choice",
    "creep_choices",
]

DROP_AGAIN: Final = "drop_again"
TAKE_BUFFER: Final = "buffer"  # a choice of earlier versions, read in their history only


@dataclass(frozen=True)
class CreepChoice:
    """One answer to "it came back: what now?": its id and what it would do."""

    id: str  # DROP_AGAIN or the id of the kept channel that gives way
    hours: float  # the hours the channel that came back would get (0 for DROP_AGAIN)


def creep_choices(
    plan: FocusPlan, inputs: PlanInput, catalogue: Catalogue, channel: str
) -> list[CreepChoice]:
    """The choices for ``channel`` (a dropped or profile-only channel), in the order shown."""
    if channel not in plan.left_behind:
        return []
    cost = channel_cost(inputs, catalogue, channel)
    choices = [CreepChoice(DROP_AGAIN, 0.0)]
    choices.extend(CreepChoice(k.channel, min(cost, k.hours)) for k in plan.kept)
    return choices


def apply_creep_choice(
    plan: FocusPlan, inputs: PlanInput, catalogue: Catalogue, channel: str, choice: str
) -> FocusPlan | None:
    """The plan after ``choice`` for ``channel``; None when it does not change (or no longer
    applies: the plan changed since the question was asked)."""
    offered = {c.id: c for c in creep_choices(plan, inputs, catalogue, channel)}
    picked = offered.get(choice)
    if picked is None or picked.id == DROP_AGAIN:
        return None
    back = kept_channel(inputs, catalogue, channel, picked.hours)
    return _with_kept(plan, catalogue, back, picked.id)


def add_channel(
    plan: FocusPlan, inputs: PlanInput, catalogue: Catalogue, channel: str
) -> FocusPlan | None:
    """``channel`` kept with what the buffer holds (its usual rhythm at most), out of whatever
    list it was in (dropped, profile only, parked); None if the buffer cannot hold even its
    smallest rhythm, or it is kept already."""
    if any(k.channel == channel for k in plan.kept):
        return None
    free = _free_hours(plan, channel)
    if free < smallest_rhythm_hours(inputs, catalogue, channel):
        return None
    hours = min(channel_cost(inputs, catalogue, channel), free)
    in_use = channel in inputs.channels_used
    kept = kept_channel(inputs, catalogue, channel, hours, in_use=in_use)
    return _with_kept(plan, catalogue, kept, None)


def _with_kept(
    plan: FocusPlan, catalogue: Catalogue, back: KeptChannel, gives_way: str | None
) -> FocusPlan:
    """``plan`` keeping ``back``; ``gives_way`` (a kept channel) dropped as the user's choice."""
    channel = back.channel
    kept = [k for k in plan.kept if k.channel != gives_way]
    dropped = [d for d in plan.dropped if d.channel != channel]
    if gives_way is not None:
        dropped.append(
            DroppedChannel(
                gives_way,
                DropReason.CHOICE,
                tuple(catalogue.scoring.sources["focus"]),
                replaced_by=channel,
            )
        )
    return replace(
        plan,
        kept=(*kept, back),
        dropped=tuple(dropped),
        profile_only=tuple(p for p in plan.profile_only if p.channel != channel),
        parked=tuple(p for p in plan.parked if p.channel != channel),
        pressure=_pressure_after(plan.pressure, channel, gives_way),
        already_focused=False,
    )


def _free_hours(plan: FocusPlan, channel: str) -> float:
    """The buffer once ``channel`` no longer needs its profile minutes."""
    profile = sum(p.hours for p in plan.profile_only if p.channel == channel)
    return plan.buffer + profile


def _pressure_after(
    pressure: PressureNote | None, back: str, gives_way: str | None
) -> PressureNote | None:
    """The "channel you feel you must be on" note after the change."""
    if pressure is None:
        return None
    if pressure.channel == back:
        return PressureNote(back, PressureStatus.KEPT, None)
    if pressure.channel == gives_way:
        return PressureNote(gives_way, PressureStatus.DROPPED, DropReason.CHOICE)
    return pressure
