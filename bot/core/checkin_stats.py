"""Weekly check-in evaluation: the week's status, streak, hours against the budget, and advice.

A week is *on plan* only when every focus channel ran as planned, the hours stayed within the
budget plus a tolerance (``OVER_BUDGET_FACTOR``: 10 %, the texts say so) and no dropped channel
came back. A week where at least half of the focus channels' work got done (partly counts half)
is *partly* on plan, otherwise *off* plan; each says why (``WeekVerdict``). Adherence counts on
plan 1, partly a half, off 0. ``CheckinStats.streak`` counts the most recent check-ins on plan
in a row, over the check-ins alone. The streak the user sees is the streak contract's
(``week_ledger``): there a week without a check-in is a joker, repaired, paused, still open or
missed, and only a missed one ends the streak; the feedback and /history put that one in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from bot.core.flow_ids import NO_CREEP, ON_PLAN, PARTLY
from bot.core.focus_plan import FocusPlan

__all__ = [
    "HISTORY_WEEKS",
    "OVER_BUDGET_FACTOR",
    "AdviceRule",
    "CheckinStats",
    "WeekStatus",
    "WeekVerdict",
    "evaluate",
    "history_weeks",
    "judge_week",
    "latest_wins",
    "load_advice",
    "parked_ready",
    "recalled_win",
    "week_on_plan",
]

# How many weeks /history lists, newest first.
HISTORY_WEEKS = 12
# /history lists the latest wins; every fourth check-in brings one back (a month of weeks).
WINS_SHOWN = 3
RECALL_EVERY = 4

# "Over budget" means more than 10 % over the planned hours: a little slack is normal.
OVER_BUDGET_FACTOR = 1.1
# Below half of the focus channels' work done (partly counts half), a week is off plan.
_OFF_BELOW = 0.5
# How many recent check-ins the drift and "room to spare" judgements look at.
RECENT = 3


@dataclass(frozen=True)
class AdviceRule:
    """One advice rule: when ``when`` holds over ``stats``, say ``advice/<id>``."""

    id: str
    when: str


@dataclass(frozen=True)
class CheckinStats:
    """What the feedback after a check-in and /history report."""

    weeks: int
    streak: int
    adherence: int  # percent of check-ins on plan (a partly week counts half)
    status: str  # the latest week's ``WeekStatus``
    missed: list[str]  # its focus channels not fully on plan (ids)
    over_budget: bool  # its hours above the budget plus the tolerance
    crept: str | None  # the dropped channel that came back in it (id)
    tolerance: int  # the tolerance over the budget, in percent
    hours: float  # hours spent in the latest week
    budget: float  # hours planned per week
    over_budget_streak: int  # latest check-ins over budget in a row
    creep_recent: int  # of the last RECENT check-ins, how many had a dropped channel creep back
    energy: int  # latest energy, 1-5
    energy_recent: float  # average energy over the last RECENT check-ins
    hours_recent: float  # average hours over the last RECENT check-ins

    def as_context(self) -> dict[str, Any]:
        """The stats as a template/condition context."""
        return asdict(self)


class WeekStatus(StrEnum):
    """How a checked-in week went against the plan."""

    ON_PLAN = "on_plan"
    PARTLY = "partly"
    OFF = "off"


@dataclass(frozen=True)
class WeekVerdict:
    """A week's status and why it is not on plan (no reasons when it is)."""

    status: WeekStatus
    missed: tuple[str, ...]  # focus channels rated partly or not, in the plan's order
    over_budget: bool  # hours above the budget plus the tolerance
    crept: str | None  # the dropped channel that came back, if one did

    @property
    def on_plan(self) -> bool:
        """Whether the week counts for the streak."""
        return self.status is WeekStatus.ON_PLAN


def _channel_score(record: Mapping[str, Any]) -> float:
    """The focus channels' share run as planned: on plan 1, partly a half, not 0."""
    ratings = list((record.get("channels") or {}).values())
    if not ratings:
        return 0.0
    score = sum(1.0 if r == ON_PLAN else 0.5 if r == PARTLY else 0.0 for r in ratings)
    return score / len(ratings)


def judge_week(record: Mapping[str, Any], budget: float | None = None) -> WeekVerdict:
    """Judge one check-in; ``budget`` is used when the record does not carry its own."""
    week_budget = record.get("budget", budget)
    hours = float(record.get("hours", 0.0))
    # A record without any budget (very old data) is not judged on its hours.
    over = week_budget is not None and hours > float(week_budget) * OVER_BUDGET_FACTOR
    creep = record.get("creep", NO_CREEP)
    crept = None if creep in (None, NO_CREEP) else str(creep)
    ratings = record.get("channels") or {}
    missed = tuple(channel for channel, rating in ratings.items() if rating != ON_PLAN)
    if _channel_score(record) < _OFF_BELOW:
        status = WeekStatus.OFF
    elif missed or over or crept:
        status = WeekStatus.PARTLY
    else:
        status = WeekStatus.ON_PLAN
    return WeekVerdict(status, missed, over, crept)


def week_on_plan(record: Mapping[str, Any]) -> bool:
    """Tell whether a check-in's week counts as on plan (see ``judge_week``)."""
    return judge_week(record).on_plan


_STATUS_SCORE = {WeekStatus.ON_PLAN: 1.0, WeekStatus.PARTLY: 0.5, WeekStatus.OFF: 0.0}


def _leading(items: Sequence[Any], predicate: Any) -> int:
    """How many of the last ``items`` in a row satisfy ``predicate``."""
    count = 0
    for item in reversed(items):
        if not predicate(item):
            break
        count += 1
    return count


def evaluate(records: Sequence[Mapping[str, Any]], budget: float) -> CheckinStats:
    """Compute the stats over check-ins ordered oldest first (at least one)."""
    if not records:
        raise ValueError("evaluate needs at least one check-in")
    recent = records[-RECENT:]
    latest = records[-1]
    verdicts = [judge_week(record, budget) for record in records]
    last = verdicts[-1]
    return CheckinStats(
        weeks=len(records),
        streak=_leading(verdicts, lambda verdict: verdict.on_plan),
        adherence=round(100 * sum(_STATUS_SCORE[v.status] for v in verdicts) / len(records)),
        status=str(last.status),
        missed=list(last.missed),
        over_budget=last.over_budget,
        crept=last.crept,
        tolerance=round((OVER_BUDGET_FACTOR - 1) * 100),
        hours=float(latest.get("hours", 0.0)),
        budget=budget,
        over_budget_streak=_leading(
            records, lambda r: float(r.get("hours", 0.0)) > budget * OVER_BUDGET_FACTOR
        ),
        creep_recent=sum(1 for r in recent if r.get("creep", NO_CREEP) != NO_CREEP),
        energy=int(latest.get("energy", 3)),
        energy_recent=round(sum(int(r.get("energy", 3)) for r in recent) / len(recent), 1),
        hours_recent=round(sum(float(r.get("hours", 0.0)) for r in recent) / len(recent), 1),
    )


def parked_ready(plan: FocusPlan, records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Parked channels whose trigger fired: enough weeks on plan in a row, enough time spare.

    The spare time is the capacity less the average hours of those weeks (the plan's own
    buffer included: that is what the user could give a new channel).
    """
    ready = []
    for parked in plan.parked:
        recent = records[-parked.trigger_weeks :]
        if len(recent) < parked.trigger_weeks or not all(week_on_plan(r) for r in recent):
            continue
        spent = sum(float(r.get("hours", 0.0)) for r in recent) / len(recent)
        if plan.capacity - spent >= parked.trigger_hours:
            ready.append(parked.channel)
    return ready


def history_weeks(records: Sequence[Mapping[str, Any]], budget: float) -> list[dict[str, Any]]:
    """The latest check-ins, newest first, as the /history template lists them."""
    weeks = []
    for record in reversed(records[-HISTORY_WEEKS:]):
        year, _, number = str(record["week"]).partition("-W")
        verdict = judge_week(record, budget)
        weeks.append(
            {
                "week_number": int(number),
                "year": year,
                "status": str(verdict.status),
                "missed": list(verdict.missed),
                "over_budget": verdict.over_budget,
                "crept": verdict.crept,
                "hours": record.get("hours", 0.0),
                "budget": record.get("budget", budget),
                "energy": record.get("energy"),
            }
        )
    return weeks


def _week_number(week: str) -> int:
    return int(week.partition("-W")[2])


def latest_wins(
    records: Sequence[Mapping[str, Any]], count: int = WINS_SHOWN
) -> list[dict[str, Any]]:
    """The latest wins the user noted, newest first: ``{week_number, text}``."""
    noted = [r for r in records if r.get("win")]
    return [
        {"week_number": _week_number(str(r["week"])), "text": str(r["win"])}
        for r in reversed(noted[-count:])
    ]


def recalled_win(records: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Every ``RECALL_EVERY``th check-in, one earlier win to remember; else None.

    The wins take turns (oldest first), so a user who noted several sees each of them again.
    The check-in just recorded (the last) is not recalled: it was typed a minute ago.
    """
    if not records or len(records) % RECALL_EVERY:
        return None
    earlier = [r for r in records[:-1] if r.get("win")]
    if not earlier:
        return None
    turn = len(records) // RECALL_EVERY - 1
    record = earlier[turn % len(earlier)]
    return {"week_number": _week_number(str(record["week"])), "text": str(record["win"])}


def load_advice(path: Path) -> tuple[list[AdviceRule], list[str]]:
    """Read ``advice.yaml``: an ordered list of ``{id, when}``; the first rule that holds wins."""
    problems: list[str] = []
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        return [], [f"{path}: cannot be read as YAML: {error}"]
    entries = raw.get("advice") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        return [], [f"{path}: needs 'advice': a list of {{id, when}}"]
    rules: list[AdviceRule] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            problems.append(f"{path}: advice number {index} needs 'id' and 'when'")
            continue
        if not isinstance(entry.get("when"), str) or not entry["when"].strip():
            problems.append(f"{path}: advice '{entry['id']}': 'when' must be a condition")
            continue
        if entry["id"] in seen:
            problems.append(f"{path}: advice '{entry['id']}' appears twice")
            continue
        seen.add(entry["id"])
        rules.append(AdviceRule(id=entry["id"], when=entry["when"]))
    return rules, problems
