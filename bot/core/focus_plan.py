"""The focus plan as data: what is kept (and at which rhythm), kept as a profile only, dropped and
parked, each with its reason and the sources behind that very statement.

``bot.core.coaching`` decides it; ``to_dict`` / ``from_dict`` are its stored form (the user
document's ``plan``); fields added later read with a default from older documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "DropReason",
    "DroppedChannel",
    "FocusPlan",
    "KeptChannel",
    "ParkedChannel",
    "PlanChange",
    "PressureNote",
    "PressureStatus",
    "ProfileOnly",
    "Rhythm",
    "hours_planned_of",
]

WEEKS_PER_MONTH = 52 / 12


class DropReason(StrEnum):
    """Why a channel is not kept."""

    AUDIENCE = "audience"  # the user's audience is hardly there (fit below 2)
    GOAL = "goal"  # it hardly serves the user's goals (fit below 2)
    VIDEO_CAPACITY = "video_capacity"  # needs video, and under 2 h a week there is no time for it
    BUDGET = "budget"  # a good fit, but its hours do not fit what is left of the capacity
    CEILING = "ceiling"  # a good fit, but the plan already holds as many channels as it can
    PACE = "pace"  # a good fit, new to the user, but the plan already starts what one can build
    CHOICE = "choice"  # the user gave its time to another channel (a check-in or a review)


class PlanChange(StrEnum):
    """Why a plan version was made."""

    FIRST = "first"  # the first plan, from the onboarding answers
    ANSWERS = "answers"  # the user changed their answers (or started over)
    CHECKIN = "checkin"  # a check-in decision: a dropped channel came back and stays
    REVIEW = "review"  # the quarterly review (or /review)
    REPAIR = "repair"  # the catalogue no longer knew a channel of the plan


class PressureStatus(StrEnum):
    """What became of the channel the user feels they should be on."""

    KEPT = "kept"
    PROFILE = "profile"  # in use, kept as a findable profile without posting
    DROPPED = "dropped"  # in use and not kept
    PARKED = "parked"  # not in use, a good fit, no room now
    NOT_A_FIT = "not_a_fit"  # not in use and not a fit (audience, goal or video capacity)


@dataclass(frozen=True)
class Rhythm:
    """A concrete smaller rhythm: ``units`` per week (or per month) plus minutes of replies."""

    units: int
    per: str  # "week" or "month"
    reply_minutes: int

    def to_dict(self) -> dict[str, Any]:
        """The stored form."""
        return {"units": self.units, "per": self.per, "reply_minutes": self.reply_minutes}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Rhythm:
        """Read the stored form."""
        return cls(int(raw["units"]), str(raw["per"]), int(raw["reply_minutes"]))


@dataclass(frozen=True)
class KeptChannel:
    """A focus channel: its weekly hours (reply time included) and the sources behind it."""

    channel: str
    hours: float
    reduced: bool  # True: below the usual minimum rhythm; ``rhythm`` says what fits instead
    audience_fit: int
    goal_fit: int
    sources: tuple[str, ...]  # at most three, behind "fits your audience and goals"
    in_use: bool = True  # False: the user starts it from zero
    rhythm: Rhythm | None = None
    chosen: bool = False  # kept because the user decided so (a check-in, a review)


@dataclass(frozen=True)
class ProfileOnly:
    """A channel in use kept findable and current, without posting; why it is not kept more."""

    channel: str
    reason: DropReason
    minutes_per_month: float
    sources: tuple[str, ...]

    @property
    def hours(self) -> float:
        """Its share of a week."""
        return self.minutes_per_month / WEEKS_PER_MONTH / 60


@dataclass(frozen=True)
class DroppedChannel:
    """A channel in use that the plan leaves out, with the reason and the sources for it.

    ``replaced_by``: with reason CHOICE, the channel the user gave its time to.
    """

    channel: str
    reason: DropReason
    sources: tuple[str, ...]
    replaced_by: str | None = None


@dataclass(frozen=True)
class ParkedChannel:
    """A good fit not in use that has no room now, and when to look at it again.

    Look again when the plan has run ``trigger_weeks`` weeks on plan with at least
    ``trigger_hours`` a week to spare (the parked channel's smallest rhythm).
    """

    channel: str
    reason: DropReason
    sources: tuple[str, ...] = ()
    trigger_weeks: int = 4
    trigger_hours: float = 1.0


@dataclass(frozen=True)
class PressureNote:
    """What the plan says about the channel the user feels they should be on."""

    channel: str
    status: PressureStatus
    reason: DropReason | None


@dataclass(frozen=True)
class FocusPlan:
    """The focus plan: kept, profile-only, dropped and parked channels under a weekly budget."""

    capacity: float
    max_channels: int
    text_only: bool
    reply_overhead: float
    kept: tuple[KeptChannel, ...]
    dropped: tuple[DroppedChannel, ...]
    parked: tuple[ParkedChannel, ...]
    pressure: PressureNote | None
    profile_only: tuple[ProfileOnly, ...] = ()
    channels_in_use: int = 0  # how many channels the user ran when the plan was made
    already_focused: bool = False  # they run just what fits, at its rhythm: say so first

    @property
    def hours_planned(self) -> float:
        """Hours a week the plan takes: kept channels (replies included) and profiles."""
        return sum(item.hours for item in self.kept) + sum(p.hours for p in self.profile_only)

    @property
    def left_behind(self) -> tuple[str, ...]:
        """The channels the user stops posting on: dropped, or kept as a profile only."""
        return tuple(d.channel for d in self.dropped) + tuple(p.channel for p in self.profile_only)

    @property
    def buffer(self) -> float:
        """Hours a week left free (never negative)."""
        return max(0.0, self.capacity - self.hours_planned)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-compatible dict; ``from_dict`` turns it back into an equal plan."""
        return {
            "capacity": self.capacity,
            "max_channels": self.max_channels,
            "text_only": self.text_only,
            "reply_overhead": self.reply_overhead,
            "kept": [_kept_dict(k) for k in self.kept],
            "profile_only": [
                {
                    "channel": p.channel,
                    "reason": p.reason.value,
                    "minutes_per_month": p.minutes_per_month,
                    "sources": list(p.sources),
                }
                for p in self.profile_only
            ],
            "dropped": [
                {
                    "channel": d.channel,
                    "reason": d.reason.value,
                    "sources": list(d.sources),
                    "replaced_by": d.replaced_by,
                }
                for d in self.dropped
            ],
            "parked": [
                {
                    "channel": p.channel,
                    "reason": p.reason.value,
                    "sources": list(p.sources),
                    "trigger_weeks": p.trigger_weeks,
                    "trigger_hours": p.trigger_hours,
                }
                for p in self.parked
            ],
            "pressure": None
            if self.pressure is None
            else {
                "channel": self.pressure.channel,
                "status": self.pressure.status.value,
                "reason": None if self.pressure.reason is None else self.pressure.reason.value,
            },
            "channels_in_use": self.channels_in_use,
            "already_focused": self.already_focused,
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
            kept=tuple(_kept_from(k) for k in d["kept"]),
            profile_only=tuple(
                ProfileOnly(
                    channel=str(p["channel"]),
                    reason=DropReason(p["reason"]),
                    minutes_per_month=float(p["minutes_per_month"]),
                    sources=tuple(str(s) for s in p["sources"]),
                )
                for p in d.get("profile_only", ())
            ),
            dropped=tuple(
                DroppedChannel(
                    channel=str(x["channel"]),
                    reason=DropReason(x["reason"]),
                    sources=tuple(str(s) for s in x["sources"]),
                    replaced_by=None if x.get("replaced_by") is None else str(x["replaced_by"]),
                )
                for x in d["dropped"]
            ),
            parked=tuple(_parked_from(p) for p in d["parked"]),
            pressure=None
            if pressure is None
            else PressureNote(
                channel=str(pressure["channel"]),
                status=PressureStatus(pressure["status"]),
                reason=None if pressure["reason"] is None else DropReason(pressure["reason"]),
            ),
            channels_in_use=int(d.get("channels_in_use", 0)),
            already_focused=bool(d.get("already_focused", False)),
        )


def hours_planned_of(plan: Mapping[str, Any]) -> float:
    """``FocusPlan.from_dict(plan).hours_planned`` without building the plan.

    The same sums in the same order, so the same float. For a plan as the document schema lets
    it be stored (``document_schema.Plan``), which ``from_dict`` always reads; every weekly
    reminder judges the user's weeks against it.
    """
    return sum(float(kept["hours"]) for kept in plan["kept"]) + sum(
        float(profile["minutes_per_month"]) / WEEKS_PER_MONTH / 60
        for profile in plan.get("profile_only", ())
    )


def _kept_dict(k: KeptChannel) -> dict[str, Any]:
    return {
        "channel": k.channel,
        "hours": k.hours,
        "reduced": k.reduced,
        "audience_fit": k.audience_fit,
        "goal_fit": k.goal_fit,
        "sources": list(k.sources),
        "in_use": k.in_use,
        "rhythm": None if k.rhythm is None else k.rhythm.to_dict(),
        "chosen": k.chosen,
    }


def _kept_from(k: Mapping[str, Any]) -> KeptChannel:
    rhythm = k.get("rhythm")
    return KeptChannel(
        channel=str(k["channel"]),
        hours=float(k["hours"]),
        reduced=bool(k["reduced"]),
        audience_fit=int(k["audience_fit"]),
        goal_fit=int(k["goal_fit"]),
        sources=tuple(str(s) for s in k["sources"]),
        in_use=bool(k.get("in_use", True)),
        rhythm=None if rhythm is None else Rhythm.from_dict(rhythm),
        chosen=bool(k.get("chosen", False)),
    )


def _parked_from(p: Mapping[str, Any]) -> ParkedChannel:
    return ParkedChannel(
        channel=str(p["channel"]),
        reason=DropReason(p["reason"]),
        sources=tuple(str(s) for s in p.get("sources", ())),
        trigger_weeks=int(p.get("trigger_weeks", 4)),
        trigger_hours=float(p.get("trigger_hours", 1.0)),
    )
