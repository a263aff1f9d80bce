"""A comeback end to end: a user who missed two weeks gets one offer and starts a minimum week.

The stored document puts the lapse in the past: two check-ins sent and not answered, the
second closed by this week's Monday slot, which is the fresh start; so the real bot process
sends the offer within its first ticks, through the fake Bot API.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from e2e_bot import BotProcess, question, stored_document, tap
from fakebotapi import FakeTelegram

from bot.core.checker import load_content
from bot.core.checkin_schedule import Reminder
from bot.core.coaching import PlanInput, build_plan
from bot.core.content import DEFAULT_PROMPTS_DIR
from bot.core.schedule import local_week_key
from storage import TinyDBUserRepository

pytestmark = pytest.mark.e2e

FAST_TICKS = {"FOCUS_COACH_TICK_SECONDS": "1"}
BERLIN = ZoneInfo("Europe/Berlin")
USER_ID = 2301


def latest_monday_slot(now: datetime) -> datetime:
    """The latest Monday, at the minute before now's wall-clock time (Berlin), as UTC."""
    local = (now.astimezone(BERLIN) - timedelta(minutes=1)).replace(second=0, microsecond=0)
    monday = local.date() - timedelta(days=local.weekday())
    return datetime.combine(monday, local.time(), tzinfo=BERLIN).astimezone(UTC)


def seed_lapsed_user(data_dir: Path, slot: datetime) -> None:
    """A user with a plan whose last two Monday check-ins went out unanswered."""
    content = load_content(DEFAULT_PROMPTS_DIR)
    plan = build_plan(
        PlanInput(("linkedin", "xing"), 6.0, ("b2b_dach",), ("leads",), False, None),
        content.catalogue,
    )
    local = slot.astimezone(BERLIN)
    reminder = Reminder(
        weekday=0,
        time=local.strftime("%H:%M"),
        zone="Europe/Berlin",
        next_due=slot,  # this week's check-in: held back for the comeback
        sent_weeks=[local_week_key(slot - timedelta(weeks=n), "Europe/Berlin") for n in (2, 1)],
        # Last week's follow-up, due now: the lapse had its one follow-up (of the week before),
        # so this second one must never go out.
        followup_due=datetime.now(UTC) - timedelta(minutes=1),
        followup_week=local_week_key(slot - timedelta(weeks=1), "Europe/Berlin"),
    ).to_dict()
    with TinyDBUserRepository(data_dir) as repo:
        repo.put(
            str(USER_ID),
            {
                "user_id": str(USER_ID),
                "lang": "de",
                "dialogue": {"flow": "onboarding", "step": "plan", "turn": 5},
                "plan": plan.to_dict(),
                "reminder": reminder,
                # Off, so the offer is not held back when the test runs at night.
                "quiet_hours": {"start": "21:00", "end": "08:00", "on": False},
                "checkins": [
                    {
                        "week": local_week_key(slot - timedelta(weeks=3), "Europe/Berlin"),
                        "hours": 3.0,
                        "budget": 3.0,
                    }
                ],
                "active": True,
            },
        )


def stored(data_dir: Path) -> dict[str, Any]:
    return stored_document(data_dir, USER_ID)


def test_two_missed_weeks_bring_one_comeback_offer_and_a_minimum_week(
    tg: FakeTelegram, launch: Callable[..., BotProcess], data_dir: Path
) -> None:
    slot = latest_monday_slot(datetime.now(UTC))
    seed_lapsed_user(data_dir, slot)
    anna = tg.user(USER_ID, "Anna", "de")
    anna.had_started_the_bot()
    launch(FAST_TICKS)

    offer = question(anna, "Ein neues Kapitel")
    assert "Die letzten 2 Wochen sind ohne Check-in geblieben" in offer.text
    assert "Minimalwoche: nur LinkedIn" in offer.text
    assert offer.button_texts == [
        "🌱 Minimalwoche starten",
        "📋 Mit meinem normalen Plan weiter",
        "🏖 Check-ins pausieren",
    ]
    tap(anna, offer, "minimum")
    started = anna.wait_for_text("Deine Minimalwoche läuft")
    assert "Nur LinkedIn" in started.text

    next_week = local_week_key(slot + timedelta(weeks=1), "Europe/Berlin")
    document = stored(data_dir)
    assert document["light_week"] == {
        "week": next_week,  # the week of the next Monday check-in
        "channels": ["linkedin"],
        "budget": document["light_week"]["budget"],
        "why": "comeback",
    }
    assert 0 < document["light_week"]["budget"] < 1
    assert document["reminder"]["comeback_offered"] == local_week_key(slot, "Europe/Berlin")
    assert len(document["plan"]["kept"]) == 2  # never a reset: the plan stays
    # One offer, and no weekly nag in its place.
    assert [m for m in anna.messages() if "Ein neues Kapitel" in m.text] == [offer]
    assert not [m for m in anna.messages() if "Zeit für deinen Fokus-Check-in" in m.text]
    assert not [m for m in anna.messages() if "noch offen" in m.text]  # no second follow-up
