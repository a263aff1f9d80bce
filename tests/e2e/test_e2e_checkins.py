"""Weekly check-ins end to end: the real bot process sends them on time through the fake API."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from e2e_bot import BotProcess, question
from fakebotapi import FakeTelegram, FakeUser

from bot.core.checker import load_content
from bot.core.checkin_schedule import Reminder
from bot.core.coaching import PlanInput, build_plan
from bot.core.content import DEFAULT_PROMPTS_DIR
from bot.core.schedule import local_week_key
from storage import TinyDBUserRepository

pytestmark = pytest.mark.e2e

FAST_TICKS = {"FOCUS_COACH_TICK_SECONDS": "1"}
BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS_DE = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")


def onboard(user: FakeUser) -> None:
    """A short onboarding with buttons up to the plan (LinkedIn kept, TikTok dropped)."""
    user.send_command("/start")
    user.press(question(user, "Hallo, ich bin dein Fokus-Coach"), button_text="Weiter")
    channels = question(user, "Deine Kanäle heute")
    user.press(channels, button_text="LinkedIn")
    user.wait_for(
        lambda m: m.message_id == channels.message_id and "✅ LinkedIn" in m.button_texts
    )
    user.press(channels, button_text="TikTok")
    user.wait_for(lambda m: m.message_id == channels.message_id and "✅ TikTok" in m.button_texts)
    user.press(channels, button_text="Fertig (2)")
    user.press(question(user, "Deine echte Zeit"), button_text="3 Std.")
    audiences = question(user, "Deine Zielgruppe")
    user.press(audiences, button_text="B2B-Entscheider (DACH)")
    user.wait_for(
        lambda m: m.message_id == audiences.message_id and "Fertig (1) ✔️" in m.button_texts
    )
    user.press(audiences, button_text="Fertig (1)")
    goals = question(user, "Deine Ziele")
    user.press(goals, button_text="Leads/Neukunden")
    user.wait_for(lambda m: m.message_id == goals.message_id and "Fertig (1) ✔️" in m.button_texts)
    user.press(goals, button_text="Fertig (1)")
    user.press(question(user, "Allein oder im Team?"), button_text="Allein")
    user.press(question(user, "Das gefühlte Muss"), button_text="Keiner")
    user.press(question(user, "Deine Antworten"), button_text="Zeig mir meinen Plan")


def test_a_checkin_due_within_the_minute_arrives_is_answered_and_shows_in_history(
    tg: FakeTelegram, launch: Callable[..., BotProcess]
) -> None:
    launch(FAST_TICKS)
    anna = tg.user(2001, "Anna", "de")
    onboard(anna)
    menu = question(anna, "Das ist dein Plan")
    anna.press(menu, button_text="Wöchentlichen Check-in einrichten")

    # The next whole minute in Berlin, at least 5 s away, on today's (or tomorrow's) weekday.
    slot = (datetime.now(BERLIN) + timedelta(seconds=65)).replace(second=0, microsecond=0)
    anna.press(question(anna, "An welchem Tag"), button_text=WEEKDAYS_DE[slot.weekday()])
    question(anna, "Um wie viel Uhr")
    anna.send_text(slot.strftime("%H:%M"))
    anna.press(question(anna, "In welcher Zeitzone"), button_text="Berlin")
    anna.wait_for_text("Check-in eingerichtet")

    reminder = anna.wait_for(
        lambda m: "Zeit für deinen Fokus-Check-in" in m.text and bool(m.buttons), timeout=100
    )
    arrived = datetime.now(BERLIN)
    assert slot <= arrived < slot + timedelta(seconds=30)
    assert f"KW {slot.isocalendar()[1]}" in reminder.text

    anna.press(reminder, button_text="Check-in starten")
    grid = question(anna, "Fokus-Check-in")
    anna.press(grid, button_text="LinkedIn: ?")
    anna.wait_for(
        lambda m: m.message_id == grid.message_id and "LinkedIn: ✅ nach Plan" in m.button_texts
    )
    anna.press(grid, button_text="Fertig (1)")
    anna.press(question(anna, "wirklich in soziale Medien gesteckt"), button_text="2 Std.")
    anna.press(question(anna, "zurückgeschlichen"), button_text="Nein, alles draußen geblieben")
    anna.press(question(anna, "kleiner Erfolg der Woche"), button_text="Überspringen")
    anna.press(question(anna, "Wie ist deine Energie"), button_text="4")
    feedback = anna.wait_for_text("ist gespeichert")
    assert "Diese Woche nach Plan" in feedback.text
    assert "2 von 2 Std. geplant" in feedback.text

    anna.send_command("/history")
    history = anna.wait_for_text("Deine Wochen")
    assert (
        f"KW {slot.isocalendar()[1]}/{slot.isocalendar()[0]}: 2 von 2 Std., Energie 4/5"
        in history.text
    )
    reminders = [m for m in anna.messages() if "Zeit für deinen Fokus-Check-in" in m.text]
    assert len(reminders) == 1


def seed_due_users(data_dir: Path, user_ids: list[int], due: datetime) -> None:
    """Store users with a plan and a weekly check-in due at ``due`` (as onboarding would)."""
    content = load_content(DEFAULT_PROMPTS_DIR)
    plan = build_plan(
        PlanInput(("linkedin",), 3.0, ("b2b_dach",), ("leads",), False, None), content.catalogue
    )
    repo = TinyDBUserRepository(data_dir)
    try:
        for user_id in user_ids:
            local = due.astimezone(BERLIN)
            reminder = Reminder(
                weekday=local.weekday(),
                time=local.strftime("%H:%M"),
                zone="Europe/Berlin",
                next_due=due,
            ).to_dict()
            repo.put(
                str(user_id),
                {
                    "user_id": str(user_id),
                    "lang": "de",
                    "dialogue": {"flow": "onboarding", "step": "plan", "turn": 5},
                    "plan": plan.to_dict(),
                    "reminder": reminder,
                    "active": True,
                },
            )
    finally:
        repo.close()


def test_rate_limit_and_blocked_users_during_a_fan_out(
    tg: FakeTelegram, launch: Callable[..., BotProcess], data_dir: Path
) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    ok_id, limited_id, blocked_id = 3001, 3002, 3003
    seed_due_users(data_dir, [ok_id, limited_id, blocked_id], now)
    users = {uid: tg.user(uid, f"U{uid}", "de") for uid in (ok_id, limited_id, blocked_id)}
    for user in users.values():
        user.had_started_the_bot()
    tg.inject_error("sendMessage", 429, retry_after=2, chat_id=limited_id, times=1)
    tg.inject_error(
        "sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=blocked_id, times=10
    )

    launch(FAST_TICKS)
    for uid in (ok_id, limited_id):
        users[uid].wait_for(lambda m: "Zeit für deinen Fokus-Check-in" in m.text, timeout=30)
    limited_sends = [
        r for r in tg.requests("sendMessage") if str(r.params.get("chat_id")) == str(limited_id)
    ]
    assert [r.status for r in limited_sends][:2] == [429, 200]
    assert limited_sends[1].monotonic - limited_sends[0].monotonic >= 2.0

    tg.wait_for_request(
        "sendMessage",
        lambda r: str(r.params.get("chat_id")) == str(blocked_id) and r.status == 403,
    )
    week = local_week_key(now, "Europe/Berlin")

    def stored(uid: int) -> dict[str, object]:
        path = next(data_dir.rglob(f"{uid}.json"))
        return json.loads(path.read_text())["user"]["1"]

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (
        stored(blocked_id).get("active") is False
        and all(week in stored(u)["reminder"]["sent_weeks"] for u in (ok_id, limited_id))  # type: ignore[index]
    ):
        time.sleep(0.1)  # the confirm is written right after the send returns
    assert stored(blocked_id)["active"] is False
    blocked_attempts = [
        r for r in tg.requests("sendMessage") if str(r.params.get("chat_id")) == str(blocked_id)
    ]
    assert len(blocked_attempts) == 1  # no retry after a 403, and no more reminders
    for uid in (ok_id, limited_id):
        messages = [m for m in users[uid].messages() if "Zeit für deinen Fokus-Check-in" in m.text]
        assert len(messages) == 1, f"user {uid} got {len(messages)} reminders"
        assert week in stored(uid)["reminder"]["sent_weeks"], stored(uid)  # type: ignore[index]

    # Blocking the bot (Telegram's my_chat_member update) also stops the reminders.
    users[ok_id].block_bot()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and stored(ok_id).get("active") is not False:
        time.sleep(0.1)
    assert stored(ok_id)["active"] is False
