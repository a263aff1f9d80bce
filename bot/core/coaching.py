"""The focus plan: which channels to keep, drop and park under a real weekly time budget.

Plain, deterministic Python over the rules catalogue. The thesis (domain.md section 4): nobody
can master every channel, so choose by audience and goal, fit the choice into the hours the user
really has, and leave the rest out on purpose, each with its reason.

How a plan is built:

1. Every channel gets an audience fit (best rating over the chosen audiences) and a goal fit
   (best rating over the chosen goals). It is a candidate only with at least a fair fit (2) for
   both; under 2 h a week video channels are not candidates either.
2. Candidates are ranked by ``audience_fit * 2 + goal_fit`` (+0.5 when already in use); ties go
   to the channel listed first in ``channels.yaml``.
3. Walking down that ranking, a candidate is kept while its hours (plus reply time for customer
   service) fit what is left of the capacity and the channel ceiling is not reached; the others
   get BUDGET (checked first) or CEILING.
4. The best candidate is always kept: when even its hours exceed the capacity, it is kept at a
   reduced cadence with all the hours there are. If there is no candidate at all, the best
   channel by the same ranking (no video under 2 h) is kept anyway: a plan keeps one channel.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.core.rules import Catalogue, Channel

__all__ = [
    "AUDIENCE_WEIGHT",
    "IN_USE_BONUS",
    "MAX_PARKED",
    "MIN_FIT",
    "TEXT_ONLY_BELOW",
    "DropReason",
    "DroppedChannel",
    "FocusPlan",
    "KeptChannel",
    "ParkedChannel",
    "PlanInput",
    "PressureNote",
    "PressureStatus",
    "build_plan",
    "max_channels",
]

# A channel needs at least a "fair fit" (●● in domain.md section 3) for one of the user's
# audiences and one of their goals before the plan recommends it.
MIN_FIT = 2

# Under 2 h a week: one channel, text or images only (domain.md section 6, weekly-hours bands);
# a short video costs 1-3 h on its own (domain.md section 2, "Short video vs. text").
TEXT_ONLY_BELOW = 2.0

# Channel ceiling by weekly hours, alone (domain.md section 6): under 5 h -> 1 (the bands
# "under 2" and "2-5" both allow one channel), 5-10 h -> 2, 10 h and more -> 3 at most.
# Each entry is (lowest hours of the band, channels); the first band that applies wins.
_SOLO_CEILING = ((10.0, 3), (5.0, 2), (0.0, 1))

# Judgement (domain.md is silent on teams): from 5 h a week a team can split drafting, filming
# and replies, so it carries one channel more. Below 5 h the hours, not the hands, are the limit.
_TEAM_BONUS_FROM = 5.0
_TEAM_BONUS = 1
_MAX_CHANNELS = 4  # a hard cap even for a team with many hours: focus is the point (section 4)

# Ranking: audience counts double, because a channel whose audience is not there cannot serve
# any goal (domain.md section 1 is the usage data every rating rests on).
AUDIENCE_WEIGHT = 2
# A channel already in use wins a tie: the profile, the followers and the habit exist, and
# switching costs time the user does not have (judgement; domain.md section 2 on effort).
IN_USE_BONUS = 0.5

# Parked channels are shown for a later review; three keep the list a choice, not a new to-do
# list (judgement; domain.md section 4: spreading thin is the problem being solved).
MAX_PARKED = 3


@dataclass(frozen=True)
class PlanInput:
    """The answers a plan is built from."""

    channels_used: tuple[str, ...]  # channel ids the user uses today (may be empty)
    hours: float  # real weekly capacity, 0.5 .. 60 (the onboarding flow enforces the range)
    audiences: tuple[str, ...]  # 1-2 segment ids
    goals: tuple[str, ...]  # 1-2 goal ids
    team: bool  # works in a team (True) or alone
    pressure: str | None  # channel id they feel they SHOULD be on, or None


class DropReason(StrEnum):
    """Why a channel is not kept."""

    AUDIENCE = "audience"  # the user's audience is hardly there (fit below 2)
    GOAL = "goal"  # it hardly serves the user's goals (fit below 2)
    VIDEO_CAPACITY = "video_capacity"  # needs video, and under 2 h a week there is no time for it
    BUDGET = "budget"  # a good fit, but its hours do not fit what is left of the capacity
    CEILING = "ceiling"  # a good fit, but the plan already holds as many channels as it can


class PressureStatus(StrEnum):
    """What became of the channel the user feels they should be on."""

    KEPT = "kept"
    DROPPED = "dropped"  # in use and not kept
    PARKED = "parked"  # not in use, a good fit, no room now
    NOT_A_FIT = "not_a_fit"  # not in use and not a fit (audience, goal or video capacity)


@dataclass(frozen=True)
class KeptChannel:
    """A focus channel: its weekly hours (reply time included) and the sources behind it."""

    channel: str
    hours: float
    reduced: bool  # True: below the minimum viable cadence, hours = the whole capacity
    audience_fit: int
    goal_fit: int
    sources: tuple[str, ...]


@dataclass(frozen=True)
class DroppedChannel:
    """A channel in use that the plan leaves out, with the reason and the sources for it."""

    channel: str
    reason: DropReason
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ParkedChannel:
    """A good fit not in use that has no room now (reason BUDGET or CEILING)."""

    channel: str
    reason: DropReason


@dataclass(frozen=True)
class PressureNote:
    """What the plan says about the channel the user feels they should be on."""

    channel: str
    status: PressureStatus
    reason: DropReason | None


@dataclass(frozen=True)
class FocusPlan:
    """The focus plan: kept, dropped and parked channels under a weekly time budget."""

    capacity: float
    max_channels: int
    text_only: bool
    reply_overhead: float
    kept: tuple[KeptChannel, ...]
    dropped: tuple[DroppedChannel, ...]
    parked: tuple[ParkedChannel, ...]
    pressure: PressureNote | None

    @property
    def hours_planned(self) -> float:
        """Hours a week the kept channels take, reply time included."""
        return sum(item.hours for item in self.kept)

    @property
    def buffer(self) -> float:
        """Hours a week left over (never negative)."""
        return max(0.0, self.capacity - self.hours_planned)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-compatible dict; ``from_dict`` turns it back into an equal plan."""
        return {
            "capacity": self.capacity,
            "max_channels": self.max_channels,
            "text_only": self.text_only,
            "reply_overhead": self.reply_overhead,
            "kept": [
                {
                    "channel": k.channel,
                    "hours": k.hours,
                    "reduced": k.reduced,
                    "audience_fit": k.audience_fit,
                    "goal_fit": k.goal_fit,
                    "sources": list(k.sources),
                }
                for k in self.kept
            ],
            "dropped": [
                {"channel": d.channel, "reason": d.reason.value, "sources": list(d.sources)}
                for d in self.dropped
            ],
            "parked": [{"channel": p.channel, "reason": p.reason.value} for p in self.parked],
            "pressure": None
            if self.pressure is None
            else {
                "channel": self.pressure.channel,
                "status": self.pressure.status.value,
                "reason": None if self.pressure.reason is None else self.pressure.reason.value,
            },
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FocusPlan:
        """Rebuild a plan from ``to_dict`` output; KeyError/ValueError/TypeError if malformed."""
        pressure = d["pressure"]
        return cls(
            capacity=float(d["capacity"]),
            max_channels=int(d["max_channels"]),
            text_only=bool(d["text_only"]),
            reply_overhead=float(d["reply_overhead"]),
            kept=tuple(
                KeptChannel(
                    channel=str(k["channel"]),
                    hours=float(k["hours"]),
                    reduced=bool(k["reduced"]),
                    audience_fit=int(k["audience_fit"]),
                    goal_fit=int(k["goal_fit"]),
                    sources=tuple(str(s) for s in k["sources"]),
                )
                for k in d["kept"]
            ),
            dropped=tuple(
                DroppedChannel(
                    channel=str(x["channel"]),
                    reason=DropReason(x["reason"]),
                    sources=tuple(str(s) for s in x["sources"]),
                )
                for x in d["dropped"]
            ),
            parked=tuple(
                ParkedChannel(channel=str(p["channel"]), reason=DropReason(p["reason"]))
                for p in d["parked"]
            ),
            pressure=None
            if pressure is None
            else PressureNote(
                channel=str(pressure["channel"]),
                status=PressureStatus(pressure["status"]),
                reason=None if pressure["reason"] is None else DropReason(pressure["reason"]),
            ),
        )


def max_channels(hours: float, team: bool) -> int:
    """Return how many channels ``hours`` a week can carry (domain.md section 6), +1 for a team."""
    ceiling = next(count for lowest, count in _SOLO_CEILING if hours >= lowest)
    if team and hours >= _TEAM_BONUS_FROM:
        ceiling += _TEAM_BONUS
    return min(ceiling, _MAX_CHANNELS)


@dataclass(frozen=True)
class _Scored:
    """A channel rated for one user."""

    channel: Channel
    index: int  # position in channels.yaml: breaks ties
    audience_fit: int
    goal_fit: int
    in_use: bool
    unfit: DropReason | None  # AUDIENCE, GOAL or VIDEO_CAPACITY; None for a candidate

    @property
    def rank(self) -> tuple[float, int]:
        """Sort key: best score first, then catalogue order."""
        score = self.audience_fit * AUDIENCE_WEIGHT + self.goal_fit
        return (-(score + (IN_USE_BONUS if self.in_use else 0.0)), self.index)


def _check_input(answers: PlanInput, catalogue: Catalogue) -> None:
    """Raise ValueError naming every id the catalogue does not know and a bad capacity."""
    problems: list[str] = []
    if isinstance(answers.hours, bool) or not math.isfinite(answers.hours) or answers.hours <= 0:
        problems.append(f"hours must be a positive number, got {answers.hours!r}")
    if not answers.audiences:
        problems.append("at least one audience is needed")
    if not answers.goals:
        problems.append("at least one goal is needed")
    known_channels = {c.id for c in catalogue.channels}
    checks: tuple[tuple[str, Sequence[str], set[str]], ...] = (
        ("channel", answers.channels_used, known_channels),
        ("audience", answers.audiences, {a.id for a in catalogue.audiences}),
        ("goal", answers.goals, {g.id for g in catalogue.goals}),
        (
            "pressure channel",
            () if answers.pressure is None else (answers.pressure,),
            known_channels,
        ),
    )
    for what, ids, known in checks:
        problems.extend(f"unknown {what} '{i}'" for i in ids if i not in known)
    if problems:
        raise ValueError("invalid plan input: " + "; ".join(problems))


def _score(answers: PlanInput, catalogue: Catalogue, text_only: bool) -> list[_Scored]:
    used = set(answers.channels_used)
    scored = []
    for index, channel in enumerate(catalogue.channels):
        audience_fit = max(channel.audience_fit[a] for a in answers.audiences)
        goal_fit = max(channel.goal_fit[g] for g in answers.goals)
        unfit: DropReason | None = None
        if audience_fit < MIN_FIT or goal_fit < MIN_FIT:
            # Name the weaker side; audience first on a tie (no audience, no goal).
            unfit = DropReason.AUDIENCE if audience_fit <= goal_fit else DropReason.GOAL
        elif text_only and channel.video:
            unfit = DropReason.VIDEO_CAPACITY
        scored.append(_Scored(channel, index, audience_fit, goal_fit, channel.id in used, unfit))
    return scored


def _kept(item: _Scored, hours: float, reduced: bool) -> KeptChannel:
    return KeptChannel(
        channel=item.channel.id,
        hours=hours,
        reduced=reduced,
        audience_fit=item.audience_fit,
        goal_fit=item.goal_fit,
        sources=item.channel.sources,
    )


def _reason_sources(channel: Channel, reason: DropReason) -> tuple[str, ...]:
    """The sources that back a drop reason: usage data, goal ratings, or effort figures."""
    if reason is DropReason.AUDIENCE:
        return channel.audience_sources
    if reason is DropReason.GOAL:
        return channel.goal_sources
    return channel.effort_sources


def _select(
    scored: list[_Scored], capacity: float, ceiling: int, overhead: float, text_only: bool
) -> tuple[list[KeptChannel], dict[str, DropReason]]:
    """Keep the best candidates under the budget and the ceiling; return kept and reasons."""
    reasons = {s.channel.id: s.unfit for s in scored if s.unfit is not None}
    candidates = sorted((s for s in scored if s.unfit is None), key=lambda s: s.rank)
    if not candidates:
        # No channel fits the audience and the goals. A plan still keeps one channel (decision):
        # the best by the same ranking among those the hours allow (no video under 2 h).
        allowed = [s for s in scored if not (text_only and s.channel.video)]
        best = min(allowed, key=lambda s: s.rank)
        cost = best.channel.hours_per_week * (1 + overhead)
        del reasons[best.channel.id]
        return [_kept(best, min(cost, capacity), reduced=cost > capacity)], reasons
    kept: list[KeptChannel] = []
    planned = 0.0  # summed in the same order as FocusPlan.hours_planned, so both agree exactly
    for position, item in enumerate(candidates):
        cost = item.channel.hours_per_week * (1 + overhead)
        if position == 0 and cost > capacity:
            # Not even the best candidate fits: keep it at a reduced cadence with all the hours
            # there are (design.md section 3); little and regular beats nothing. The best
            # candidate is therefore always kept.
            kept.append(_kept(item, capacity, reduced=True))
            planned = capacity
        elif planned + cost > capacity:
            # Hours first: "no time left" is the concrete reason whenever it applies.
            reasons[item.channel.id] = DropReason.BUDGET
        elif len(kept) >= ceiling:
            reasons[item.channel.id] = DropReason.CEILING
        else:
            kept.append(_kept(item, cost, reduced=False))
            planned += cost
    return kept, reasons


def _parked(
    scored: list[_Scored], reasons: Mapping[str, DropReason], pressure: str | None
) -> tuple[ParkedChannel, ...]:
    """Good fits not in use that found no room, best first, at most MAX_PARKED.

    The pressure channel, when it qualifies, is always listed (taking the last place), so the
    plan can say "parked" about it and show it in the same list.
    """
    eligible = [
        s.channel.id
        for s in sorted(scored, key=lambda s: s.rank)
        if not s.in_use and reasons.get(s.channel.id) in (DropReason.BUDGET, DropReason.CEILING)
    ]
    chosen = eligible[:MAX_PARKED]
    if pressure in eligible and pressure not in chosen:
        chosen = [*chosen[: MAX_PARKED - 1], pressure]
    return tuple(ParkedChannel(channel_id, reasons[channel_id]) for channel_id in chosen)


def _pressure_note(
    pressure: str | None,
    kept: Sequence[KeptChannel],
    dropped: Sequence[DroppedChannel],
    parked: Sequence[ParkedChannel],
    reasons: Mapping[str, DropReason],
) -> PressureNote | None:
    if pressure is None:
        return None
    if any(k.channel == pressure for k in kept):
        return PressureNote(pressure, PressureStatus.KEPT, None)
    for item in dropped:
        if item.channel == pressure:
            return PressureNote(pressure, PressureStatus.DROPPED, item.reason)
    for slot in parked:
        if slot.channel == pressure:
            return PressureNote(pressure, PressureStatus.PARKED, slot.reason)
    return PressureNote(pressure, PressureStatus.NOT_A_FIT, reasons[pressure])


def build_plan(answers: PlanInput, catalogue: Catalogue) -> FocusPlan:
    """Build the focus plan for ``answers``; ValueError for ids the catalogue does not know."""
    _check_input(answers, catalogue)
    capacity = float(answers.hours)
    text_only = capacity < TEXT_ONLY_BELOW
    ceiling = max_channels(capacity, answers.team)
    # Replies add 20-30% per channel when customer service is a goal (domain.md sections 2, 3).
    overhead = max(catalogue.goal(g).reply_overhead for g in answers.goals)
    scored = _score(answers, catalogue, text_only)
    kept, reasons = _select(scored, capacity, ceiling, overhead, text_only)
    dropped = tuple(
        DroppedChannel(
            s.channel.id,
            reasons[s.channel.id],
            _reason_sources(s.channel, reasons[s.channel.id]),
        )
        for s in scored
        if s.in_use and s.channel.id in reasons
    )
    parked = _parked(scored, reasons, answers.pressure)
    return FocusPlan(
        capacity=capacity,
        max_channels=ceiling,
        text_only=text_only,
        reply_overhead=overhead,
        kept=tuple(kept),
        dropped=dropped,
        parked=parked,
        pressure=_pressure_note(answers.pressure, kept, dropped, parked, reasons),
    )
