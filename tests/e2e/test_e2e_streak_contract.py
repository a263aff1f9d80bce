"""The streak contract end to end: the real bot, the fake Bot API, a user two weeks on plan.

/rules shows the contract (streak, jokers left, the score, its sources) and declares next week
a joker week; /history then shows the joker week ahead, the jokers left and the score.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from e2e_bot import BotProcess, question, tap
from fakebotapi import FakeTelegram

from bot.core.checker import load_content
from bot.core.coaching import PlanInput, build_plan
from bot.core.content import DEFAULT_PROMPTS_DIR
from bot.core.schedule import local_week_key
from bot.core.week_ledger import quarter_of, week_after
from storage import TinyDBUserRepository

pytestmark = pytest.mark.e2e

USER_ID = 4141
ZONE = "Europe/Berlin"
INPUTS = PlanInput(("linkedin", "tiktok"), 3.0, ("b2b_dach",), ("leads",), False, None)


def seed_user(data_dir: Path, now: datetime) -> None:
    """A German user at the plan menu (LinkedIn kept), on plan the last two weeks."""
    plan = build_plan(INPUTS, load_content(DEFAULT_PROMPTS_DIR).catalogue)
    answers = {
        "channels": list(INPUTS.channels_used),
        "hours": INPUTS.hours,
        "audiences": list(INPUTS.audiences),
        "goals": list(INPUTS.goals),
        "team": "alone",
        "pressure": "none",
    }
    checkins = [
        {
            "week": local_week_key(now - timedelta(days=days), ZONE),
            "answered_at": (now - timedelta(days=days)).isoformat(),
            "channels": {k.channel: "on_plan" for k in plan.kept},
            "hours": plan.hours_planned,
            "energy": 4,
            "budget": plan.hours_planned,
        }
        for days in (14, 7)
    ]
    with TinyDBUserRepository(data_dir) as repo:
        repo.put(
            str(USER_ID),
            {
                "user_id": str(USER_ID),
                "lang": "de",
                "dialogue": {"flow": "onboarding", "step": "plan", "turn": 5, "answers": answers},
                "plan": plan.to_dict(),
                "checkins": checkins,
                "contract": {"jokers": [], "repairs": [], "pauses": [], "rules_shown": True},
                "active": True,
            },
        )


def test_a_declared_joker_shows_in_rules_and_history(
    tg: FakeTelegram, launch: Callable[..., BotProcess], data_dir: Path
) -> None:
    now = datetime.now(UTC)
    seed_user(data_dir, now)
    launch()
    anna = tg.user(USER_ID, "Anna", "de")
    anna.had_started_the_bot()
    next_week = week_after(local_week_key(now, ZONE))
    number = int(next_week[-2:])
    # The joker counts in next week's quarter: across a quarter's end, this one keeps both.
    left = 1 if quarter_of(next_week) == quarter_of(local_week_key(now, ZONE)) else 2

    anna.send_command("/rules")
    rules = question(anna, "Deine Spielregeln für die Serie")
    assert "🔥 Serie: 2 Wochen nach Plan in Folge" in rules.text
    assert "Nach Plan: 2 der letzten 2 Wochen · 🃏 noch 2 Joker in diesem Quartal" in rules.text
    assert "Sharif & Shu 2017" in rules.text and "Lally et al. 2010" in rules.text
    tap(anna, rules, "joker_next")
    declared = anna.wait_for_text("ist deine Joker-Woche")
    assert f"KW {number} ist deine Joker-Woche" in declared.text

    anna.send_command("/history")
    listed = anna.wait_for_text("Deine Wochen")
    assert "Serie: 2 Wochen nach Plan" in listed.text
    assert f"Nach Plan: 2 der letzten 2 Wochen · 🃏 noch {left} Joker" in listed.text
    assert f"Nächste Woche (KW {number}) ist eine Joker-Woche" in listed.text
    assert "/rules" in listed.text
    tg.assert_no_internal_errors()
