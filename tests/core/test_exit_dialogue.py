"""A tracked exit in the dialogue: started from the playbook, ticked in check-ins, then the
heartbeat prompt and its answers. Real engine and content, an injected clock, Berlin time."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from dialogue_driver import Chat
from test_checkin_dialogue import Clock, RecordingHooks, schedule_friday_0830
from test_engine import onboard_de

from bot.core.checkin_schedule import Reminder, Sending
from bot.core.content import Content
from bot.core.due_kinds import KINDS, Kind, Outlook
from bot.core.engine import DialogueEngine
from storage import InMemoryUserRepository

DAY = timedelta(days=1)


@pytest.fixture
def clock() -> Clock:
    return Clock()  # Friday 2026-11-27 09:00 UTC


@pytest.fixture
def repo() -> InMemoryUserRepository:
    return InMemoryUserRepository()


@pytest.fixture
def engine(content: Content, repo: InMemoryUserRepository, clock: Clock) -> DialogueEngine:
    return DialogueEngine(content, repo, clock=clock, reminders=RecordingHooks(repo))


@pytest.fixture
def anna(engine: DialogueEngine) -> Chat:
    """LinkedIn kept, Xing and TikTok dropped; the check-in on Fridays at 08:30 (Hamburg)."""
    chat = Chat(engine, "anna", language_hint="de")
    onboard_de(chat)
    chat.press("show_plan")
    schedule_friday_0830(chat)
    return chat


def stored(repo: InMemoryUserRepository, user_id: str = "anna") -> dict[str, Any]:
    document = repo.get(user_id)
    assert document is not None
    return document


def start_tiktok_exit(chat: Chat, how: str = "announce") -> None:
    chat.send("/plan")
    chat.press("leave_gracefully")
    chat.press("tiktok")
    chat.press(how)


def checkin(chat: Chat, *, exit_answer: str | None) -> list[str]:
    """One check-in; the exit step answered with ``exit_answer`` (None: it must not come)."""
    chat.send("/checkin")
    if "ob dein Wenn-dann-Plan" in chat.question_text or chat.buttons()[0].label.startswith("✅"):
        chat.press("yes") if _has(chat, "yes") else None
    chat.press("linkedin", "done")
    chat.send("2")
    chat.press("none")
    asked = "Dein Ausstieg" in chat.question_text
    labels = [b.label for b in chat.buttons()] if asked else []
    assert asked is (exit_answer is not None), chat.question_text
    if exit_answer is not None:
        chat.press(exit_answer)
    chat.press("e4")
    chat.press("skip")
    assert "ist gespeichert" in chat.text
    return labels


def _has(chat: Chat, key: str) -> bool:
    try:
        chat.button(key)
    except AssertionError:
        return False
    return True


def test_the_playbook_starts_a_dated_exit(
    anna: Chat, repo: InMemoryUserRepository, engine: DialogueEngine
) -> None:
    start_tiktok_exit(anna)

    text = anna.text
    assert "Dein Ausstieg aus TikTok" in text
    assert "👉 27. November 2026: Auf TikTok ankündigen" in text
    assert "▫️ 13. Dezember 2026: Auf TikTok noch einmal ankündigen (zwei Wochen vorher)" in text
    assert "▫️ 20. Dezember 2026: Eine Kopie deiner Daten von TikTok anfordern" in text
    assert "▫️ 25. Dezember 2026: Letzte Ankündigung auf TikTok" in text
    assert "▫️ 27. Dezember 2026: Abschiedsbeitrag auf TikTok" in text
    assert "0 von 8 Schritten erledigt" in text
    assert stored(repo)["exits"] == {
        "tiktok": {
            "mode": "announce",
            "started": "2026-11-27",
            "done": [],
            "finished_at": None,
            "heartbeat": None,
        }
    }
    assert stored(repo)["dialogue"]["step"] == "plan"  # back at the plan menu
    anna.send("/plan")
    assert (
        "🚪 Ausstieg aus TikTok: 0 von 8 Schritten, als Nächstes am 27. November 2026: "
        "Auf TikTok ankündigen" in anna.text
    )

    # Asked again, the playbook shows the progress and offers no second start.
    anna.press("leave_gracefully")
    anna.press("tiktok")
    assert "Dein Ausstieg aus TikTok" in anna.question_text
    assert [b.label for b in anna.buttons()] == ["👍 Alles klar", "⬅️ Zurück"]


def test_the_quiet_exit_skips_announcing(anna: Chat, repo: InMemoryUserRepository) -> None:
    start_tiktok_exit(anna, "quiet")

    assert "ankündigen" not in anna.text
    assert "👉 27. November 2026: Profiltext und Link auf TikTok" in anna.text
    assert stored(repo)["exits"]["tiktok"]["mode"] == "quiet"


def test_check_ins_ask_only_when_a_step_is_due_and_one_tap_ticks_it(
    anna: Chat, repo: InMemoryUserRepository, clock: Clock
) -> None:
    start_tiktok_exit(anna)

    # Day 0: two steps due; one tap ticks both.
    labels = checkin(anna, exit_answer="all_due")
    assert labels == [
        "📣 Angekündigt",
        "📌 Angepinnt",
        "✅ Alles erledigt",
        "Noch nicht",
        "⬅️ Zurück",
    ]
    assert stored(repo)["exits"]["tiktok"]["done"] == ["announce_month", "pin"]

    # A week on (day 7) nothing is due: the check-in passes the step by.
    clock.now += 7 * DAY
    checkin(anna, exit_answer=None)

    # Day 21: the second announcement; "not yet" ticks nothing, so it is asked again.
    clock.now += 14 * DAY
    assert checkin(anna, exit_answer="not_yet")[:2] == ["📣 Wieder angekündigt", "Noch nicht"]
    assert stored(repo)["exits"]["tiktok"]["done"] == ["announce_month", "pin"]
    clock.now += 7 * DAY  # day 28: the data copy and the last announcement are due too
    labels = checkin(anna, exit_answer="tiktok/announce_2weeks")
    assert labels[:3] == [
        "📣 Wieder angekündigt",
        "📦 Daten angefordert",
        "📣 Zuletzt angekündigt",
    ]
    assert stored(repo)["exits"]["tiktok"]["done"][-1] == "announce_2weeks"

    # Day 35: everything left is due; one tap finishes the exit and starts the heartbeat.
    clock.now += 7 * DAY
    checkin(anna, exit_answer="all_due")
    finished = stored(repo)["exits"]["tiktok"]
    assert finished["finished_at"] == clock.now.isoformat()
    assert finished["heartbeat"] == {
        "since": clock.now.isoformat(),
        "days": 180,
        "remind_before": 30,
        "stopped": False,
        "asked": None,
    }
    clock.now += 7 * DAY
    checkin(anna, exit_answer=None)  # done: never asked again

    anna.send("/plan")
    anna.press("leave_gracefully")
    anna.press("tiktok")
    assert "Alle Schritte erledigt." in anna.question_text
    assert "rechtzeitig vor dem 30. Juni 2027" in anna.question_text
    anna.press("ok")
    anna.send("/plan")
    assert (
        "🚪 Ausstieg aus TikTok: erledigt – melde dich vor dem 30. Juni 2027 einmal an"
        in anna.text
    )


def test_a_stale_exit_answer_ticks_nothing_it_was_not_asked(
    anna: Chat, repo: InMemoryUserRepository
) -> None:
    start_tiktok_exit(anna)
    anna.send("/checkin")
    anna.press("linkedin", "done")
    anna.send("2")
    anna.press("none")
    button = anna.button("tiktok/pin")
    forged = button.data.replace("tiktok/pin", "tiktok/farewell")

    anna.press_data(forged)

    assert "nicht mehr aktuell" in anna.text or "Dein Ausstieg" in anna.question_text
    assert stored(repo)["exits"]["tiktok"]["done"] == []


def test_a_two_channel_checkin_without_due_steps_keeps_its_taps(
    engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    chat = Chat(engine, "tapsy", language_hint="de")
    onboard_de(chat, hours="6")
    chat.press("show_plan")
    plan = stored(repo, "tapsy")["plan"]
    kept = [k["channel"] for k in plan["kept"]]
    dropped = [d["channel"] for d in plan["dropped"] + plan.get("profile_only", [])]
    assert len(kept) == 2 and "tiktok" in dropped
    chat.press("leave_gracefully")
    chat.press("tiktok")
    chat.press("announce")
    document = stored(repo, "tapsy")
    document["exits"]["tiktok"]["done"] = ["announce_month", "pin"]  # day 0 ticked already
    repo.put("tapsy", document)

    taps = 0

    def tap(*keys: str) -> None:
        nonlocal taps
        chat.press(*keys)
        taps += len(keys)

    chat.send("/checkin")
    tap(*kept, "done")
    tap("2")
    tap("none")
    assert "Dein Ausstieg" not in chat.question_text
    tap("e4")
    tap("no_time", "confirm")
    assert "ist gespeichert" in chat.text
    assert taps == 8  # as without an exit: the exit step was passed by

    clock.now += 16 * DAY  # a step is due: one more tap, that week only
    chat.send("/checkin")
    chat.press("yes") if _has(chat, "yes") else None
    chat.press(*kept, "done")
    chat.send("2")
    chat.press("none")
    assert "Dein Ausstieg" in chat.question_text
    assert [b.label for b in chat.buttons()] == ["📣 Wieder angekündigt", "Noch nicht", "⬅️ Zurück"]


def offer_heartbeat(repo: InMemoryUserRepository, now: datetime) -> tuple[str, datetime]:
    """Claim the next heartbeat as the dispatcher would; its week and planned instant."""
    document = stored(repo)
    outlook = Outlook.of(document)
    assert outlook is not None
    kind = KINDS[Kind.HEARTBEAT]
    due = kind.planned(outlook)
    assert due is not None
    kind.take(outlook, due, now)
    reminder: Reminder = outlook.reminder
    reminder.sending = Sending(due.week, now, False, due.at, False, Kind.HEARTBEAT.value)
    document["reminder"] = reminder.to_dict()
    repo.put("anna", document)
    return due.week, due.at


def finish_quietly(anna: Chat, repo: InMemoryUserRepository) -> None:
    start_tiktok_exit(anna, "quiet")
    checkin(anna, exit_answer="all_due")
    assert stored(repo)["exits"]["tiktok"]["heartbeat"]["since"]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_heartbeat_asks_to_log_in_and_a_login_starts_the_next_window(
    anna: Chat,
    repo: InMemoryUserRepository,
    engine: DialogueEngine,
    clock: Clock,
    lang: str,
) -> None:
    finish_quietly(anna, repo)
    if lang == "en":
        anna.send("/language en")
    clock.now += 150 * DAY
    week, at = offer_heartbeat(repo, clock.now)
    assert at.date() == date(2027, 4, 26)  # 30 days before 26 May 2027: 180 days on

    replies = engine.checkin_reminder("anna", week=week, kind=Kind.HEARTBEAT)

    text = replies[-1].text
    if lang == "de":
        assert (
            "Melde dich vor dem 26. Mai 2027 einmal bei TikTok an, sonst kann TikTok deinen "
            "Nutzernamen durch eine zufällige Zahlenfolge ersetzen." in text
        )
        assert "Regel von TikTok für inaktive Konten, Stand Dez. 2026; Quelle: TT-INACTIVE" in text
    else:
        assert (
            "Log in to TikTok before 26 May 2027, or TikTok may reset your username to a random "
            "number." in text
        )
        assert "TikTok's inactive-account policy, as of Dec 2026; source: TT-INACTIVE" in text
    anna._deliver(replies)
    anna.press("logged_in")

    beat = stored(repo)["exits"]["tiktok"]["heartbeat"]
    assert beat["since"] == clock.now.isoformat() and beat["asked"] is None
    assert ("Dein Name bei TikTok ist sicher" if lang == "de" else "is safe") in anna.text
    # A stale copy of the prompt's button changes nothing more.
    anna.press_data(replies[-1].buttons[0][0].data)
    assert stored(repo)["exits"]["tiktok"]["heartbeat"] == beat


def test_letting_the_name_go_stops_the_heartbeat(
    anna: Chat, repo: InMemoryUserRepository, engine: DialogueEngine, clock: Clock
) -> None:
    finish_quietly(anna, repo)
    clock.now += 150 * DAY
    week, _ = offer_heartbeat(repo, clock.now)
    anna._deliver(engine.checkin_reminder("anna", week=week, kind=Kind.HEARTBEAT))

    anna.press("let_go")

    assert stored(repo)["exits"]["tiktok"]["heartbeat"]["stopped"] is True
    assert "erinnere ich dich nicht mehr an TikTok" in anna.text
    outlook = Outlook.of(stored(repo))
    assert outlook is not None and KINDS[Kind.HEARTBEAT].planned(outlook) is None
