"""The picture of progress end to end: the real bot sends it with sendPhoto to the fake API."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from e2e_bot import BotProcess, question, tap
from fakebotapi import FakeTelegram, FakeUser
from PIL import Image

from bot.core.checker import load_content
from bot.core.coaching import PlanInput, build_plan
from bot.core.content import DEFAULT_PROMPTS_DIR
from bot.core.progress_chart import CHART_DPI, CHART_INCHES
from bot.core.schedule import local_week_key
from storage import TinyDBUserRepository

pytestmark = pytest.mark.e2e

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
USER_ID = 4001


def seed_user_with_last_weeks_checkin(data_dir: Path) -> tuple[int, int]:
    """A German user with a plan (LinkedIn kept, TikTok dropped) and last week's check-in.

    Returns the ISO week numbers of last week and this week (in Berlin, the user's zone).
    """
    content = load_content(DEFAULT_PROMPTS_DIR)
    plan = build_plan(
        PlanInput(("linkedin", "tiktok"), 3.0, ("b2b_dach",), ("leads",), False, None),
        content.catalogue,
    )
    now = datetime.now(UTC)
    last_week = local_week_key(now - timedelta(days=7), "Europe/Berlin")
    this_week = local_week_key(now, "Europe/Berlin")
    repo = TinyDBUserRepository(data_dir)
    try:
        repo.put(
            str(USER_ID),
            {
                "user_id": str(USER_ID),
                "lang": "de",
                "dialogue": {"flow": "onboarding", "step": "plan", "turn": 5},
                "plan": plan.to_dict(),
                "checkins": [
                    {
                        "week": last_week,
                        "answered_at": (now - timedelta(days=7)).isoformat(),
                        "channels": {k.channel: "on_plan" for k in plan.kept},
                        "hours": plan.hours_planned,
                        "creep": "none",
                        "energy": 4,
                        "budget": plan.hours_planned,
                    }
                ],
                "active": True,
            },
        )
    finally:
        repo.close()
    return int(last_week.split("-W")[1]), int(this_week.split("-W")[1])


def answer_checkin(user: FakeUser) -> None:
    """LinkedIn partly on plan (two taps), 2 hours, nothing crept back, no win, energy 4."""
    user.send_command("/checkin")
    grid = question(user, "Fokus-Check-in")
    tap(user, grid, "linkedin")
    user.wait_for(lambda m: m.message_id == grid.message_id and m.edited_count >= 1)
    tap(user, grid, "linkedin")
    user.wait_for(lambda m: m.message_id == grid.message_id and m.edited_count >= 2)
    tap(user, grid, "done")
    tap(user, question(user, "wirklich in soziale Medien gesteckt"), "2")
    tap(user, question(user, "zurückgeschlichen"), "none")
    tap(user, question(user, "Wie ist deine Energie"), "e4")
    tap(user, question(user, "Wenn-dann-Plan für nächste Woche"), "skip")


def test_the_second_checkin_and_history_bring_the_picture(
    tg: FakeTelegram, launch: Callable[..., BotProcess], data_dir: Path
) -> None:
    last_week, this_week = seed_user_with_last_weeks_checkin(data_dir)
    launch()
    anna = tg.user(USER_ID, "Anna", "de")
    anna.had_started_the_bot()

    answer_checkin(anna)

    feedback = anna.wait_for_text("ist gespeichert")
    picture = anna.wait_for(lambda m: m.kind == "photo")
    assert feedback.message_id < picture.message_id  # the words first, then their picture
    assert picture.file is not None
    assert picture.file.data.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(picture.file.data)) as image:
        assert image.size == (CHART_INCHES[0] * CHART_DPI, CHART_INCHES[1] * CHART_DPI)
    assert "Deine Wochen im Bild" in picture.text
    assert "Serie: 0 Wochen nach Plan · 1 der letzten 2 Wochen nach Plan" in picture.text
    assert f"KW {last_week}: " in picture.text and "– Nach Plan" in picture.text
    assert f"KW {this_week}: 2 Std. von " in picture.text
    assert "– Teilweise nach Plan" in picture.text
    (sent,) = [r for r in tg.requests("sendPhoto") if r.status == 200]
    assert str(sent.params.get("chat_id")) == str(USER_ID)

    anna.send_command("/history")
    listed = anna.wait_for_text("Deine Wochen")
    again = anna.wait_for(lambda m: m.kind == "photo" and m.message_id > listed.message_id)
    assert again.file is not None and again.file.data.startswith(PNG_MAGIC)
    assert "1 der letzten 2 Wochen nach Plan" in again.text
    assert len([m for m in anna.messages() if m.kind == "photo"]) == 2
    tg.assert_no_internal_errors()
