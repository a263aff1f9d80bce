"""The focus plan: which channels to keep, keep as a profile, drop and park under a real budget.

Plain, deterministic Python over the rules catalogue. The thesis (domain.md section 4): nobody
can master every channel, so choose by audience and goal, fit the choice into the hours the user
really has, and leave the rest out on purpose, each with its reason and its sources.

The model (every number in ``prompts/rules/scoring.yaml``, whose comments explain it):

1. Fit: a channel's best audience and goal rating for this user; a candidate needs both at
   least ``min_fit`` (and no video below ``text_only_below_hours``).
2. Score = audience fit x weight + goal fit x weight, plus ``in_use_bonus`` for a channel the
   user already runs (switching cost), less ``new_needs_audience_penalty`` for a new channel
   that only reaches people who know the user already (a newsletter needs readers from
   somewhere). Ties: in use first, then fewer hours, then the id; never the catalogue order.
3. Below ``no_new_below_hours`` nothing new is proposed while one of the user's channels fits;
   above it, at most ``max_new_channels`` new ones at once (a team one more).
4. ``buffer_share`` of the week stays free. Candidates are kept best first while they fit the
   rest and the channel ceiling; if even the best does not fit, it is kept at a smaller rhythm
   worked out from its costs. With no candidate at all, the closest channel is kept.
5. A channel in use and not kept is "profile only" where the catalogue allows it, else dropped;
   good fits not in use and not kept are parked, each with a trigger for a second look.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from bot.core.focus_plan import (
    WEEKS_PER_MONTH,
    DroppedChannel,
    DropReason,
    FocusPlan,
    KeptChannel,
    ParkedChannel,
    PressureNote,
    PressureStatus,
    ProfileOnly,
    Rhythm,
)
from bot.core.rules import Catalogue, Channel, Scoring

__all__ = [
    "DropReason",
    "DroppedChannel",
    "FocusPlan",
    "KeptChannel",
    "ParkedChannel",
    "PlanInput",
    "PressureNote",
    "PressureStatus",
    "ProfileOnly",
    "Rhythm",
    "build_plan",
    "channel_cost",
    "kept_channel",
    "max_channels",
    "max_new_channels",
    "smallest_rhythm_hours",
]

_ESTIMATE = "E"  # the source key of the coach's own estimates (sources.yaml)
_MAX_SOURCES = 3  # a statement cites at most this many sources
# Good fits that only lack room (hours, a channel slot, the pace of new ones): parked for later.
_ROOM_REASONS = frozenset({DropReason.BUDGET, DropReason.CEILING, DropReason.PACE})


@dataclass(frozen=True)
class PlanInput:
    """The answers a plan is built from."""

    channels_used: tuple[str, ...]  # channel ids the user uses today (may be empty)
    hours: float  # real weekly capacity, 0.5 .. 60 (the onboarding flow enforces the range)
    audiences: tuple[str, ...]  # 1-2 segment ids
    goals: tuple[str, ...]  # 1-2 goal ids
    team: bool  # works in a team (True) or alone
    pressure: str | None  # channel id they feel they SHOULD be on, or None


def max_channels(hours: float, team: bool, rules: Scoring) -> int:
    """Return how many channels ``hours`` a week carry (domain.md section 6), more for a team."""
    ceiling = next(count for lowest, count in rules.ceilings if hours >= lowest)
    if team and hours >= rules.team_from_hours:
        ceiling += rules.team_extra_channels
    return min(ceiling, rules.max_channels)


def max_new_channels(hours: float, team: bool, rules: Scoring) -> int:
    """Return how many channels the plan starts from zero at once; a team shares the work."""
    extra = rules.team_extra_channels if team and hours >= rules.team_from_hours else 0
    return rules.max_new_channels + extra


@dataclass(frozen=True)
class _Scored:
    """A channel rated for one user."""

    channel: Channel
    audience_fit: int
    goal_fit: int
    in_use: bool
    unfit: DropReason | None  # AUDIENCE, GOAL or VIDEO_CAPACITY; None for a candidate
    score: float  # with the switching bonus

    @property
    def rank(self) -> tuple[float, bool, float, str]:
        """Sort key: best score, then in use, then cheaper, then id (never file order)."""
        return (-self.score, not self.in_use, self.channel.hours_per_week, self.channel.id)


@dataclass
class _Choice:
    """What the selection decided: kept channels and why each other channel is not kept.

    ``reduced`` is the best candidate when even it does not fit: it gets what is left after
    the findable profiles (``_leave``), at a smaller rhythm.
    """

    kept: list[KeptChannel]
    reasons: dict[str, DropReason]
    reduced: _Scored | None = None


@dataclass(frozen=True)
class _User:
    """What the plan needs about this user beyond the answers."""

    answers: PlanInput
    catalogue: Catalogue
    usable: float  # hours a week the channels may take (the rest is buffer)
    overhead: float  # reply share added to every channel (customer service)
    audience_keys: frozenset[str]  # sources behind the chosen audiences
    goal_keys: frozenset[str]  # sources behind the chosen goals

    @property
    def rules(self) -> Scoring:
        return self.catalogue.scoring

    def cost(self, channel: Channel) -> float:
        """The channel's weekly hours for this user, reply time included."""
        return channel.hours_per_week * (1 + self.overhead)


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


def _score(user: _User, text_only: bool) -> list[_Scored]:
    rules, answers = user.rules, user.answers
    used = set(answers.channels_used)
    scored = []
    for channel in user.catalogue.channels:
        audience_fit = max(channel.audience_fit[a] for a in answers.audiences)
        goal_fit = max(channel.goal_fit[g] for g in answers.goals)
        unfit: DropReason | None = None
        if audience_fit < rules.min_fit or goal_fit < rules.min_fit:
            # Name the weaker side; audience first on a tie (no audience, no goal).
            unfit = DropReason.AUDIENCE if audience_fit <= goal_fit else DropReason.GOAL
        elif text_only and channel.video:
            unfit = DropReason.VIDEO_CAPACITY
        in_use = channel.id in used
        score = audience_fit * rules.audience_weight + goal_fit * rules.goal_weight
        if in_use:
            score += rules.in_use_bonus
        elif channel.needs_audience:
            score -= rules.new_needs_audience_penalty
        scored.append(_Scored(channel, audience_fit, goal_fit, in_use, unfit, score))
    return sorted(scored, key=lambda s: s.rank)


def _pick(keys: Iterable[str], preferred: frozenset[str], limit: int) -> list[str]:
    """Up to ``limit`` study keys: those the user's own audience or goal also cites, else any.

    A channel's sources back its ratings as a whole; the ones it shares with the user's chosen
    audience or goal back this very statement.
    """
    studies = [key for key in dict.fromkeys(keys) if key != _ESTIMATE]
    return ([key for key in studies if key in preferred] or studies)[:limit]


def _cite(keys: list[str]) -> tuple[str, ...]:
    """At most three keys; the coach's estimate when no study backs the statement."""
    return tuple(dict.fromkeys(keys))[:_MAX_SOURCES] or (_ESTIMATE,)


def _fit_sources(user: _User, channel: Channel) -> tuple[str, ...]:
    """The studies behind "fits your audience and your goals": two for each side at most."""
    audience = _pick(channel.audience_sources, user.audience_keys, 2)
    goals = _pick(channel.goal_sources, user.goal_keys, 1)
    return _cite(audience[:2] + goals)


def _reason_sources(user: _User, channel: Channel, reason: DropReason) -> tuple[str, ...]:
    """The studies behind one reason for not keeping ``channel``."""
    if reason is DropReason.AUDIENCE:
        return _cite(_pick(channel.audience_sources, user.audience_keys, _MAX_SOURCES))
    if reason is DropReason.GOAL:
        return _cite(_pick(channel.goal_sources, user.goal_keys, _MAX_SOURCES))
    if reason is DropReason.CEILING:
        return _cite(list(user.rules.sources["focus"]))
    if reason is DropReason.PACE:
        return _cite(list(user.rules.sources["pace"]))
    return _cite(_pick(channel.effort_sources, frozenset(), _MAX_SOURCES))


def _rhythm(user: _User, channel: Channel, hours: float) -> Rhythm:
    """The rhythm ``hours`` a week allow: never more posts than usual, replies always.

    Posts come first (up to the usual number), the rest of the time goes to replies; when not
    even one post a week fits, the rhythm counts per month.
    """
    effort, minutes = channel.effort, hours * 60
    least_replies = user.rules.min_reply_minutes
    per_week = min(effort.units_per_week, (minutes - least_replies) / effort.minutes_per_unit)
    if per_week >= 1:
        units, per = math.floor(per_week), "week"
        replies = minutes - units * effort.minutes_per_unit
    else:
        monthly = (minutes - least_replies) * WEEKS_PER_MONTH / effort.minutes_per_unit
        units, per, replies = max(1, math.floor(monthly)), "month", least_replies
    usual = effort.reply_minutes_per_week * (1 + user.overhead)
    return Rhythm(units, per, int(5 * round(min(replies, usual) / 5)))


def _kept(user: _User, item: _Scored, hours: float, *, reduced: bool) -> KeptChannel:
    return KeptChannel(
        channel=item.channel.id,
        hours=hours,
        reduced=reduced,
        audience_fit=item.audience_fit,
        goal_fit=item.goal_fit,
        sources=_fit_sources(user, item.channel),
        in_use=item.in_use,
        rhythm=_rhythm(user, item.channel, hours) if reduced else None,
    )


def _select(user: _User, scored: list[_Scored], ceiling: int, text_only: bool) -> _Choice:
    """Keep the best candidates under the budget and the ceilings; say why the others are not."""
    answers = user.answers
    new_ceiling = max_new_channels(answers.hours, answers.team, user.rules)
    choice = _Choice([], {s.channel.id: s.unfit for s in scored if s.unfit is not None})
    candidates = [s for s in scored if s.unfit is None]
    if user.answers.hours < user.rules.no_new_below_hours and any(c.in_use for c in candidates):
        # Too little time to build anything from zero while one of the user's own fits.
        choice.reasons.update(
            {c.channel.id: DropReason.BUDGET for c in candidates if not c.in_use}
        )
        candidates = [c for c in candidates if c.in_use]
    if not candidates:
        # No channel fits audience and goals: keep the closest the hours allow (decision).
        best = next(s for s in scored if not (text_only and s.channel.video))
        del choice.reasons[best.channel.id]
        candidates = [best]
    planned = 0.0
    for position, item in enumerate(candidates):
        cost = user.cost(item.channel)
        if position == 0 and cost > user.usable:
            # Little and regular beats nothing: the best is kept at what the hours allow.
            choice.reduced = item
            planned = user.usable
        elif planned + cost > user.usable:
            choice.reasons[item.channel.id] = DropReason.BUDGET  # hours first: most concrete
        elif len(choice.kept) >= ceiling:
            choice.reasons[item.channel.id] = DropReason.CEILING
        elif not item.in_use and sum(not k.in_use for k in choice.kept) >= new_ceiling:
            # A channel from zero takes months to carry: one at a time, the next once it runs.
            choice.reasons[item.channel.id] = DropReason.PACE
        else:
            choice.kept.append(_kept(user, item, cost, reduced=False))
            planned += cost
    return choice


def _leave(
    user: _User, scored: list[_Scored], choice: _Choice
) -> tuple[tuple[ProfileOnly, ...], tuple[DroppedChannel, ...]]:
    """Each channel in use and not kept: a findable profile where it pays, else dropped.

    Profiles take a few minutes a month; with a reduced channel they come out of its share
    (it is kept at what is left), never out of the buffer.
    """
    planned = sum(k.hours for k in choice.kept)
    profiles: list[ProfileOnly] = []
    dropped: list[DroppedChannel] = []
    for item in scored:
        reason = choice.reasons.get(item.channel.id)
        if not item.in_use or reason is None:
            continue
        sources = _reason_sources(user, item.channel, reason)
        minutes = item.channel.profile_minutes_per_month
        profile = (
            None if minutes is None else ProfileOnly(item.channel.id, reason, minutes, sources)
        )
        if (
            profile is not None
            and item.audience_fit >= user.rules.profile_only_min_fit
            and planned + profile.hours <= user.usable
        ):
            profiles.append(profile)
            planned += profile.hours
        else:
            dropped.append(DroppedChannel(item.channel.id, reason, sources))
    if choice.reduced is not None:
        choice.kept.insert(0, _kept(user, choice.reduced, user.usable - planned, reduced=True))
    return tuple(profiles), tuple(dropped)


def _trigger_hours(user: _User, channel: Channel) -> float:
    """The hours a week the parked channel's smallest rhythm needs, rounded up to a half."""
    smallest = (channel.effort.minutes_per_unit + user.rules.min_reply_minutes) / 60
    return max(1.0, math.ceil(smallest * 2) / 2)


def _parked(
    user: _User, scored: list[_Scored], reasons: Mapping[str, DropReason]
) -> tuple[ParkedChannel, ...]:
    """Good fits not in use that found no room, best first, with a trigger for a second look.

    The pressure channel, when it qualifies, is always listed (taking the last place), so the
    plan can say "parked" about it and show it in the same list.
    """
    rules, pressure = user.rules, user.answers.pressure
    eligible = [
        s
        for s in scored
        if not s.in_use
        and reasons.get(s.channel.id) in _ROOM_REASONS
        # Only what these hours could ever carry: no trigger that can never fire.
        and _trigger_hours(user, s.channel) <= user.answers.hours
    ]
    chosen = eligible[: rules.max_parked]
    wanted = next((s for s in eligible if s.channel.id == pressure), None)
    if wanted is not None and wanted not in chosen:
        chosen = [*chosen[: rules.max_parked - 1], wanted]
    return tuple(
        ParkedChannel(
            s.channel.id,
            reasons[s.channel.id],
            _reason_sources(user, s.channel, reasons[s.channel.id]),
            rules.trigger_weeks_on_plan,
            _trigger_hours(user, s.channel),
        )
        for s in chosen
    )


def _pressure_note(
    pressure: str | None,
    plan_parts: Mapping[str, PressureStatus],
    reasons: Mapping[str, DropReason],
) -> PressureNote | None:
    if pressure is None:
        return None
    status = plan_parts.get(pressure, PressureStatus.NOT_A_FIT)
    return PressureNote(
        pressure, status, None if status is PressureStatus.KEPT else reasons[pressure]
    )


def _user(answers: PlanInput, catalogue: Catalogue) -> _User:
    rules = catalogue.scoring
    capacity = float(answers.hours)
    buffered = capacity >= rules.buffer_from_hours
    return _User(
        answers=answers,
        catalogue=catalogue,
        usable=capacity * (1 - rules.buffer_share) if buffered else capacity,
        # Replies add 20-30% per channel when customer service is a goal (sections 2, 3).
        overhead=max(catalogue.goal(g).reply_overhead for g in answers.goals),
        audience_keys=frozenset(
            k for a in answers.audiences for k in catalogue.audience(a).sources
        ),
        goal_keys=frozenset(k for g in answers.goals for k in catalogue.goal(g).sources),
    )


def channel_cost(answers: PlanInput, catalogue: Catalogue, channel_id: str) -> float:
    """The hours a week ``channel_id`` takes this user at its usual rhythm, replies included."""
    return _user(answers, catalogue).cost(catalogue.channel(channel_id))


def smallest_rhythm_hours(answers: PlanInput, catalogue: Catalogue, channel_id: str) -> float:
    """The hours a week of ``channel_id``'s smallest sensible rhythm: one post a month, replies.

    Below this a channel is not kept but neglected; a decision that would give it less is not
    offered.
    """
    channel = catalogue.channel(channel_id)
    minutes = (
        channel.effort.minutes_per_unit / WEEKS_PER_MONTH + catalogue.scoring.min_reply_minutes
    )
    return minutes / 60


def kept_channel(
    answers: PlanInput,
    catalogue: Catalogue,
    channel_id: str,
    hours: float,
    *,
    in_use: bool = True,
) -> KeptChannel:
    """``channel_id`` kept with ``hours`` a week, because the user decided so (a check-in or a
    review).

    Rated and cited like any kept channel; below its usual cost it gets the rhythm the hours
    allow. By default it counts as in use: a channel that came back is one the user runs.
    """
    user = _user(answers, catalogue)
    rated = next(s for s in _score(user, text_only=False) if s.channel.id == channel_id)
    cost = user.cost(rated.channel)
    chosen = _Scored(
        rated.channel, rated.audience_fit, rated.goal_fit, in_use, rated.unfit, rated.score
    )
    kept = _kept(user, chosen, min(hours, cost), reduced=hours < cost)
    return replace(kept, chosen=True)


def build_plan(answers: PlanInput, catalogue: Catalogue) -> FocusPlan:
    """Build the focus plan for ``answers``; ValueError for ids the catalogue does not know."""
    _check_input(answers, catalogue)
    rules = catalogue.scoring
    capacity = float(answers.hours)
    text_only = capacity < rules.text_only_below_hours
    ceiling = max_channels(capacity, answers.team, rules)
    user = _user(answers, catalogue)
    scored = _score(user, text_only)
    choice = _select(user, scored, ceiling, text_only)
    profiles, dropped = _leave(user, scored, choice)
    parked = _parked(user, scored, choice.reasons)
    parts = {
        **{k.channel: PressureStatus.KEPT for k in choice.kept},
        **{p.channel: PressureStatus.PROFILE for p in profiles},
        **{d.channel: PressureStatus.DROPPED for d in dropped},
        **{p.channel: PressureStatus.PARKED for p in parked},
    }
    used = set(answers.channels_used)
    return FocusPlan(
        capacity=capacity,
        max_channels=ceiling,
        text_only=text_only,
        reply_overhead=user.overhead,
        kept=tuple(choice.kept),
        dropped=dropped,
        parked=parked,
        pressure=_pressure_note(answers.pressure, parts, choice.reasons),
        profile_only=profiles,
        channels_in_use=len(used),
        already_focused=bool(used)
        and {k.channel for k in choice.kept} == used
        and not any(k.reduced for k in choice.kept),
    )
