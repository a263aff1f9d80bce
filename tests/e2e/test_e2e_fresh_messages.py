"""Fresh messages end to end: the reminder on Telegram opens with the wording core chose.

The user's document remembers which opening lines they have had this round; the only one left
must come now, and last week's must not come again.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from e2e_bot import BotProcess
from fakebotapi import FakeTelegram

from bot.core.checker import load_content
from bot.core.checkin_schedule import Reminder
from bot.core.coaching import PlanInput, build_plan
from bot.core.content import DEFAULT_PROMPTS_DIR
from bot.core.message_banks import CHECKIN_OPENER
from bot.core.schedule import local_week_key
from storage import TinyDBUserRepository

pytestmark = pytest.mark.e2e

BERLIN = ZoneInfo("Europe/Berlin")
HEADING = "Zeit für deinen Fokus-Check-in"


def test_the_reminder_opens_with_the_one_wording_left_in_the_round_never_last_weeks(
    tg: FakeTelegram, launch: Callable[..., BotProcess], data_dir: Path
) -> None:
    content = load_content(DEFAULT_PROMPTS_DIR)
    wordings = content.texts.banks["de"][CHECKIN_OPENER]
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    week = local_week_key(now, "Europe/Berlin")
    last_week = local_week_key(now - timedelta(days=7), "Europe/Berlin")
    left, last = 4, 7  # every wording but one had its turn this round; last week's was 7
    used = [i for i in range(len(wordings)) if i not in (left, last)] + [last]
    plan = build_plan(
        PlanInput(("linkedin",), 3.0, ("b2b_dach",), ("leads",), False, None), content.catalogue
    )
    local = now.astimezone(BERLIN)
    uid = 6001
    repo = TinyDBUserRepository(data_dir)
    try:
        repo.put(
            str(uid),
            {
                "user_id": str(uid),
                "lang": "de",
                "dialogue": {"flow": "onboarding", "step": "plan", "turn": 5},
                "plan": plan.to_dict(),
                "reminder": Reminder(
                    weekday=local.weekday(),
                    time=local.strftime("%H:%M"),
                    zone="Europe/Berlin",
                    next_due=now,
                ).to_dict(),
                "active": True,
                "variety": {CHECKIN_OPENER: {"key": last_week, "index": last, "used": used}},
            },
        )
    finally:
        repo.close()
    anna = tg.user(uid, "Anna", "de")
    anna.had_started_the_bot()

    launch({"FOCUS_COACH_TICK_SECONDS": "1"})
    reminder = anna.wait_for(lambda m: HEADING in m.text and bool(m.buttons), timeout=30)
    text = html.unescape(reminder.text)
    assert html.unescape(wordings[left]) in text
    assert html.unescape(wordings[last]) not in text

    path = next(data_dir.rglob(f"{uid}.json"))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        stored = json.loads(path.read_text())["user"]["1"]["variety"][CHECKIN_OPENER]
        if stored["key"] == week:
            break
        time.sleep(0.1)
    assert stored == {"key": week, "index": left, "used": [*used, left]}
