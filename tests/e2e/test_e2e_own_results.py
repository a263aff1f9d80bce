"""The user's own results end to end: the real bot, the fake Bot API, a user with months behind.

Seeded with a plan made ten weeks ago (LinkedIn kept, TikTok dropped) and eight check-ins with
results, the user taps 🎯 beside LinkedIn in this week's grid; /history then shows minutes per
result, says that the user's own numbers now decide, and adds up the hours won back from TikTok.
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
from bot.core.locale_format import format_number
from bot.core.plan_versions import inputs_record
from bot.core.schedule import local_week_key
from storage import TinyDBUserRepository

pytestmark = pytest.mark.e2e

USER_ID = 4141
INPUTS = PlanInput(("linkedin", "tiktok"), 3.0, ("b2b_dach",), ("leads",), False, None)
WEEKS_AGO = 10
ZONE = "Europe/Berlin"


def seed_user(data_dir: Path, now: datetime) -> None:
    """A German user at the plan menu whose plan is ten weeks old, with eight check-ins."""
    plan = build_plan(INPUTS, load_content(DEFAULT_PROMPTS_DIR).catalogue)
    assert [k.channel for k in plan.kept] == ["linkedin"]
    assert [d.channel for d in plan.dropped] == ["tiktok"]
    made = now - timedelta(weeks=WEEKS_AGO, hours=1)
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
            "week": local_week_key(now - timedelta(weeks=weeks), ZONE),
            "answered_at": (now - timedelta(weeks=weeks)).isoformat(),
            "channels": {"linkedin": "on_plan"},
            "hours": 2.0,
            "energy": 4,
            "budget": plan.hours_planned,
            "results": ["linkedin"] if weeks % 2 else [],  # a result every other week
        }
        for weeks in range(8, 0, -1)
    ]
    with TinyDBUserRepository(data_dir) as repo:
        repo.put(
            str(USER_ID),
            {
                "user_id": str(USER_ID),
                "lang": "de",
                "dialogue": {"flow": "onboarding", "step": "plan", "turn": 5, "answers": answers},
                "plan": plan.to_dict(),
                "plan_info": {
                    "version": 1,
                    "made_at": made.isoformat(),
                    "reason": "first",
                    "detail": {},
                    "inputs": inputs_record(INPUTS),
                },
                "checkins": checkins,
                "active": True,
            },
        )


def test_a_result_tapped_in_the_grid_counts_and_history_shows_the_hours_won_back(
    tg: FakeTelegram, launch: Callable[..., BotProcess], data_dir: Path
) -> None:
    now = datetime.now(UTC)
    seed_user(data_dir, now)
    launch()
    anna = tg.user(USER_ID, "Anna", "de")
    anna.had_started_the_bot()

    anna.send_command("/checkin")
    grid = question(anna, "Fokus-Check-in")
    assert "☐ 🎯 Ergebnis" in grid.button_texts
    tap(anna, grid, "+linkedin")
    marked = anna.wait_for(lambda m: m.message_id == grid.message_id and m.edited_count >= 1)
    assert "LinkedIn · 🎯 hat etwas gebracht" in marked.text
    assert "☑ 🎯 Ergebnis" in marked.button_texts
    tap(anna, grid, "linkedin")
    anna.wait_for(lambda m: m.message_id == grid.message_id and m.edited_count >= 2)
    tap(anna, grid, "done")
    tap(anna, question(anna, "wirklich in soziale Medien gesteckt"), "2")
    tap(anna, question(anna, "zurückgeschlichen"), "none")
    tap(anna, question(anna, "Wie ist deine Energie"), "e4")
    tap(anna, question(anna, "Wenn-dann-Plan für nächste Woche"), "skip")
    feedback = anna.wait_for_text("ist gespeichert")

    anna.send_command("/history")
    listed = anna.wait_for(
        lambda m: "Zurückgewonnene Zeit" in m.text and m.message_id > feedback.message_id
    )
    # Nine weeks with results marked, five of them with one: 9 x 2 h = 1,080 min over 5.
    assert "aus 9 Wochen mit markierten Ergebnissen" in listed.text
    expected = "LinkedIn: 216 Min. pro Ergebnis (5 Ergebnisse in 9 Wochen mit etwa 18 Std. Arbeit)"
    assert expected in listed.text
    assert "entscheiden jetzt deine eigenen Zahlen" in listed.text
    tiktok = round(load_content(DEFAULT_PROMPTS_DIR).catalogue.channel("tiktok").hours_per_week, 1)
    weekly, total = format_number(tiktok, "de"), format_number(WEEKS_AGO * tiktok, "de")
    assert "TikTok, weggelassen seit" in listed.text
    assert f"{WEEKS_AGO} Wochen × {weekly} Std. = {total} Std." in listed.text
    assert "kleinsten sinnvollen Rhythmus laut Katalog" in listed.text
    tg.assert_no_internal_errors()
