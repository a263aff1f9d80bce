"""The handle heartbeat end to end: the real bot process, the fake Bot API, a seeded user whose
TikTok exit was done 160 days ago, so the reminder to log in is due now.

It arrives once, "✅ Angemeldet" answers it, the next window starts at that moment, and a
restart of the bot sends nothing more.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from e2e_bot import BotProcess, stored_document, tap
from fakebotapi import FakeTelegram

from bot.core.checker import load_content
from bot.core.checkin_schedule import Reminder
from bot.core.coaching import PlanInput, build_plan
from bot.core.content import DEFAULT_PROMPTS_DIR
from storage import TinyDBUserRepository

pytestmark = pytest.mark.e2e

FAST_TICKS = {"FOCUS_COACH_TICK_SECONDS": "1"}
BERLIN = ZoneInfo("Europe/Berlin")
USER_ID = 4701
INPUTS = PlanInput(("linkedin", "tiktok"), 3.0, ("b2b_dach",), ("leads",), False, None)


def seed_user(data_dir: Path, since: datetime) -> None:
    """LinkedIn kept, TikTok dropped and left quietly at ``since``; the check-in next week."""
    plan = build_plan(INPUTS, load_content(DEFAULT_PROMPTS_DIR).catalogue)
    assert "tiktok" in [d.channel for d in plan.dropped]
    next_checkin = datetime.now(UTC) + timedelta(days=6)
    local = next_checkin.astimezone(BERLIN)
    reminder = Reminder(
        weekday=local.weekday(),
        time=local.strftime("%H:%M"),
        zone="Europe/Berlin",
        next_due=next_checkin,
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
                # Off, so the test does not depend on the hour it runs at.
                "quiet_hours": {"start": "21:00", "end": "08:00", "on": False},
                "active": True,
                "exits": {
                    "tiktok": {
                        "mode": "quiet",
                        "started": since.astimezone(BERLIN).date().isoformat(),
                        "done": ["bio_link", "auto_reply", "export"],
                        "finished_at": since.isoformat(),
                        "heartbeat": {
                            "since": since.isoformat(),
                            "days": 180,
                            "remind_before": 30,
                            "stopped": False,
                            "asked": None,
                        },
                    }
                },
            },
        )


def stored(data_dir: Path) -> dict[str, object]:
    return stored_document(data_dir, USER_ID)


def test_the_heartbeat_arrives_once_and_a_login_answers_it(
    tg: FakeTelegram, launch: Callable[..., BotProcess], data_dir: Path
) -> None:
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(days=160)
    seed_user(data_dir, since)
    deadline = (since + timedelta(days=180)).astimezone(BERLIN).date()
    anna = tg.user(USER_ID, "Anna", "de")
    anna.had_started_the_bot()

    bot = launch(FAST_TICKS)
    heartbeat = anna.wait_for(lambda m: "Dein Name bei TikTok" in m.text, timeout=30)
    assert f"Melde dich vor dem {deadline.day}." in heartbeat.text
    assert "sonst kann TikTok deinen Nutzernamen durch eine zufällige Zahlenfolge ersetzen" in (
        heartbeat.text
    )
    assert "Quelle: TT-INACTIVE" in heartbeat.text
    assert heartbeat.button_texts == ["✅ Angemeldet", "Ich lasse den Namen los"]

    tap(anna, heartbeat, "logged_in")
    anna.wait_for_text("Dein Name bei TikTok ist sicher")
    limit = time.monotonic() + 15
    while time.monotonic() < limit:
        beat = stored(data_dir)["exits"]["tiktok"]["heartbeat"]  # type: ignore[index]
        if datetime.fromisoformat(beat["since"]) > since:
            break
        time.sleep(0.1)
    assert datetime.fromisoformat(beat["since"]) > since + timedelta(days=159)
    assert beat["asked"] is None

    assert bot.stop() == 0
    launch(FAST_TICKS)  # a restart: the answered window is not offered again
    time.sleep(3)
    assert len([m for m in anna.messages() if "🔑 Dein Name bei TikTok" in m.text]) == 1
    reminder = stored(data_dir)["reminder"]
    assert reminder["sending"] is None and reminder["heartbeat_claim"] is None  # type: ignore[index]
    tg.assert_no_internal_errors()
