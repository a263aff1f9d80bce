"""Weekly check-ins end to end: the real bot process sends them on time through the fake API."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from e2e_bot import BotProcess, question, stored_document, tap
from fakebotapi import BotMessage, FakeTelegram, FakeUser

from bot.core.checker import load_content
from bot.core.checkin_schedule import Reminder
from bot.core.coaching import PlanInput, build_plan
from bot.core.content import DEFAULT_PROMPTS_DIR
from bot.core.schedule import local_week_key
from storage import TinyDBUserRepository

pytestmark = pytest.mark.e2e

FAST_TICKS = {"FOCUS_COACH_TICK_SECONDS": "1"}
BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # option ids of settings/weekday


def edited(user: FakeUser, message: BotMessage, *, times: int) -> None:
    """Wait until the tick of a tap shows: the question was edited ``times`` times."""
    user.wait_for(lambda m: m.message_id == message.message_id and m.edited_count >= times)


def onboard(user: FakeUser) -> None:
    """A short onboarding with buttons up to the plan (LinkedIn kept, TikTok dropped)."""
    user.send_command("/start")
    tap(user, question(user, "Hallo, ich bin dein Fokus-Coach"), "continue")
    channels = question(user, "Deine Kanäle heute")
    tap(user, channels, "linkedin")
    edited(user, channels, times=1)
    tap(user, channels, "tiktok")
    edited(user, channels, times=2)
    tap(user, channels, "done")
    tap(user, question(user, "Deine echte Zeit"), "3")
    audiences = question(user, "Deine Zielgruppe")
    tap(user, audiences, "b2b_dach")
    edited(user, audiences, times=1)
    tap(user, audiences, "done")
    goals = question(user, "Deine Ziele")
    tap(user, goals, "leads")
    edited(user, goals, times=1)
    tap(user, goals, "done")
    tap(user, question(user, "Allein oder im Team?"), "alone")
    tap(user, question(user, "Das gefühlte Muss"), "none")
    tap(user, question(user, "Deine Antworten"), "show_plan")


def test_a_checkin_due_within_the_minute_arrives_is_answered_and_shows_in_history(
    tg: FakeTelegram, launch: Callable[..., BotProcess]
) -> None:
    launch(FAST_TICKS)
    anna = tg.user(2001, "Anna", "de")
    onboard(anna)
    menu = question(anna, "Das ist dein Plan")
    tap(anna, menu, "setup_checkin")

    # The next whole minute in Berlin, at least 5 s away, on today's (or tomorrow's) weekday.
    slot = (datetime.now(BERLIN) + timedelta(seconds=65)).replace(second=0, microsecond=0)
    tap(anna, question(anna, "An welchem Tag"), WEEKDAYS[slot.weekday()])
    question(anna, "Um wie viel Uhr")
    anna.send_text(slot.strftime("%H:%M"))
    tap(anna, question(anna, "In welcher Zeitzone"), "Europe/Berlin")
    anna.wait_for_text("Check-in eingerichtet")

    reminder = anna.wait_for(
        lambda m: "Zeit für deinen Fokus-Check-in" in m.text and bool(m.buttons), timeout=100
    )
    arrived = datetime.now(BERLIN)
    assert slot <= arrived < slot + timedelta(seconds=30)
    assert f"KW {slot.isocalendar()[1]}" in reminder.text

    tap(anna, reminder, "checkin_start")
    grid = question(anna, "Fokus-Check-in")
    tap(anna, grid, "linkedin")
    anna.wait_for(lambda m: m.message_id == grid.message_id and "✅ LinkedIn" in m.button_texts)
    tap(anna, grid, "done")
    tap(anna, question(anna, "wirklich in soziale Medien gesteckt"), "2")
    tap(anna, question(anna, "zurückgeschlichen"), "none")
    tap(anna, question(anna, "Wie ist deine Energie"), "e4")
    tap(anna, question(anna, "Wenn-dann-Plan für nächste Woche"), "skip")
    feedback = anna.wait_for_text("ist gespeichert")
    assert "Diese Woche nach Plan" in feedback.text
    assert "2 Std. gebraucht, 2 geplant." in feedback.text

    anna.send_command("/history")
    history = anna.wait_for_text("Deine Wochen")
    assert (
        f"KW {slot.isocalendar()[1]}/{slot.isocalendar()[0]}: 2 Std. (geplant 2), Energie 4/5"
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
        return stored_document(data_dir, uid)

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


def test_a_follow_up_arrives_once_and_skipping_ends_the_week(
    tg: FakeTelegram, launch: Callable[..., BotProcess], data_dir: Path
) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    uid = 4001
    week = local_week_key(now, "Europe/Berlin")
    # Yesterday's check-in went out and was not answered: its follow-up is due now. Quiet hours
    # are off so the test does not depend on the hour it runs at.
    seed_due_users(data_dir, [uid], now + timedelta(days=7))
    repo = TinyDBUserRepository(data_dir)
    try:
        document = repo.get(str(uid))
        assert document is not None
        document["reminder"].update(
            sent_weeks=[week], followup_due=now.isoformat(), followup_week=week
        )
        document["quiet_hours"] = {"start": "21:00", "end": "08:00", "on": False}
        repo.put(str(uid), document)
    finally:
        repo.close()
    user = tg.user(uid, "Uwe", "de")
    user.had_started_the_bot()

    launch(FAST_TICKS)
    followup = user.wait_for(
        lambda m: "Dein Check-in von gestern ist noch offen" in m.text and bool(m.buttons),
        timeout=30,
    )
    assert followup.button_texts == ["▶️ Check-in starten", "⏭ Diese Woche auslassen"]
    tap(user, followup, "checkin_skip")
    user.wait_for_text("diese Woche lassen wir aus")

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        block = stored_document(data_dir, uid)["reminder"]
        if block["sending"] is None and block["skipped_week"] == week:
            break
        time.sleep(0.1)
    assert (block["sending"], block["followup_due"], block["skipped_week"]) == (None, None, week)
    time.sleep(2)  # two more ticks: nothing more comes
    followups = [m for m in user.messages() if "noch offen" in m.text]
    assert len(followups) == 1
