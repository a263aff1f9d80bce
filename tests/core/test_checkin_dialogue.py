"""The weekly check-in, its reminder, and /settings, through the engine with an injected clock."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dialogue_driver import Chat, plain
from test_engine import onboard_de

from bot.core.callbacks import Action, decode, encode
from bot.core.content import Content
from bot.core.due_kinds import Kind
from bot.core.engine import DialogueEngine
from bot.core.messages import Reply, ReplyKind
from storage import InMemoryUserRepository


class Clock:
    """A settable clock (Friday 2026-11-27 09:00 UTC to start with)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class RecordingHooks:
    """Reminder hooks that record their calls together with what was stored at that moment."""

    def __init__(self, repository: InMemoryUserRepository) -> None:
        self.repository = repository
        self.calls: list[tuple[str, str, Any]] = []

    def _stored_due(self, user_id: str) -> Any:
        doc = self.repository.get(user_id)
        return None if doc is None or doc.get("reminder") is None else doc["reminder"]["next_due"]

    def user_lock(self, user_id: str) -> AbstractContextManager[None]:
        return nullcontext()

    def before_update(self, user_id: str, document: dict[str, Any]) -> None:
        self.calls.append(("before_update", user_id, self._stored_due(user_id)))

    def reschedule(self, user_id: str) -> None:
        self.calls.append(("reschedule", user_id, self._stored_due(user_id)))

    def forget(self, user_id: str) -> None:
        self.calls.append(("forget", user_id, self._stored_due(user_id)))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def repo() -> InMemoryUserRepository:
    return InMemoryUserRepository()


@pytest.fixture
def hooks(repo: InMemoryUserRepository) -> RecordingHooks:
    return RecordingHooks(repo)


@pytest.fixture
def engine(
    content: Content, repo: InMemoryUserRepository, clock: Clock, hooks: RecordingHooks
) -> DialogueEngine:
    return DialogueEngine(content, repo, clock=clock, reminders=hooks)


@pytest.fixture
def planned(engine: DialogueEngine) -> Chat:
    """A German user with a plan: LinkedIn kept, Xing and TikTok dropped."""
    chat = Chat(engine, "anna", language_hint="de")
    onboard_de(chat)
    chat.press("show_plan")
    return chat


def schedule_friday_0830(chat: Chat) -> None:
    chat.press("setup_checkin")
    assert "An welchem Tag" in chat.question_text
    chat.press("fri")
    chat.send("8:30")
    chat.send("Hamburg")


def test_setting_up_the_weekly_checkin(
    planned: Chat, repo: InMemoryUserRepository, hooks: RecordingHooks
) -> None:
    schedule_friday_0830(planned)
    assert "Check-in eingerichtet: jeden Freitag um 08:30 (Berlin)" in planned.text
    assert "Der nächste kommt am 4. Dezember 2026 um 08:30" in planned.text  # 08:30 has passed
    reminder = repo.get("anna")["reminder"]  # type: ignore[index]
    assert (reminder["weekday"], reminder["time"], reminder["zone"]) == (
        4,
        "08:30",
        "Europe/Berlin",
    )
    assert reminder["next_due"] == "2026-12-04T07:30:00+00:00"
    # The reminder side heard of it before and after the save (index ordering).
    assert hooks.calls == [
        ("before_update", "anna", None),
        ("reschedule", "anna", "2026-12-04T07:30:00+00:00"),
    ]
    planned.send("/settings")
    assert "jeden Freitag um 08:30 (Berlin)" in planned.question_text


def test_time_and_zone_typos_get_a_hint(planned: Chat) -> None:
    planned.press("setup_checkin")
    planned.press("mon")
    planned.send("25:99")
    assert "Diese Uhrzeit verstehe ich nicht" in planned.text
    planned.press("7")
    planned.send("Atlantis")
    assert "Diese Stadt oder Zeitzone kenne ich nicht" in planned.text
    planned.press("America/New_York")
    assert "jeden Montag um 07:00 (New York)" in planned.text


def test_back_out_of_the_side_flow_returns_to_the_plan(
    planned: Chat, repo: InMemoryUserRepository
) -> None:
    planned.press("setup_checkin")
    planned.press("back")
    assert "Dein Plan – wie geht es weiter?" in planned.question_text
    planned.send("/settings")
    planned.send("/cancel")
    assert "Abgebrochen" in planned.text
    assert "Dein Plan – wie geht es weiter?" in planned.question_text
    assert repo.get("anna")["reminder"] is None  # type: ignore[index]


def test_start_in_the_middle_of_a_checkin_offers_to_continue_it(
    planned: Chat, repo: InMemoryUserRepository
) -> None:
    planned.send("/checkin")
    planned.press("linkedin", "done")
    planned.send("3")
    asked_before = planned.question_text

    planned.send("/start")  # the menu's /start, or the terminal chat starting again

    assert "mitten in deinem Check-in" in planned.question_text
    stored = repo.get("anna")
    assert stored is not None and stored["dialogue"]["answers"]["hours"] == 3.0
    planned.press("resume_continue")
    assert planned.question_text == asked_before
    planned.press("none")
    assert repo.get("anna")["dialogue"]["answers"] == {  # type: ignore[index]
        "channels": {"linkedin": "on_plan"},
        "results": [],  # no 🎯 tapped: nothing came this week
        "hours": 3.0,
        "creep": "none",
    }


def test_start_over_drops_only_the_open_side_flows_answers(
    planned: Chat, repo: InMemoryUserRepository
) -> None:
    planned.send("/settings")
    planned.press("schedule")
    planned.press("fri")
    planned.send("/start")
    assert "mitten in den Einstellungen" in planned.question_text

    planned.send("weiter")  # typed instead of tapped: the prompt stays
    assert "mitten in den Einstellungen" in planned.question_text
    planned.press("resume_over")

    stored = repo.get("anna")
    assert stored is not None
    assert (stored["dialogue"]["flow"], stored["dialogue"]["step"]) == ("settings", "menu")
    assert stored["dialogue"]["answers"] == {}
    assert stored["suspended"]["answers"]["hours"] == 3.0  # the onboarding is untouched
    planned.send("/start")
    planned.send("/cancel")  # leaving the side flow is still one command
    assert "Dein Plan – wie geht es weiter?" in planned.question_text


def do_checkin(
    chat: Chat, *, hours: str = "2", creep: str | None = None, energy: str = "e4"
) -> None:
    chat.press("linkedin")
    chat.press("done")
    chat.send(hours)
    if creep is None:
        chat.press("none")
    else:
        chat.press(creep)
        assert "Eins rein, eins raus" in chat.question_text
        chat.press("drop_again")
    chat.press(energy)
    chat.press("skip")


def test_a_whole_checkin_with_a_dropped_channel_creeping_back(
    planned: Chat, repo: InMemoryUserRepository
) -> None:
    planned.send("/checkin")
    assert "Fokus-Check-in" in planned.question_text
    planned.press("done")
    assert "Bitte bewerte jeden Kanal" in planned.text
    planned.press("linkedin")
    assert "✅ LinkedIn" in [b.label for b in planned.buttons()]
    planned.press("linkedin")
    assert "◐ LinkedIn" in [b.label for b in planned.buttons()]
    planned.press("done")
    planned.send("3")
    assert [b.label for b in planned.buttons()][:3] == [
        "TikTok",
        "Xing",  # a profile only: posting there again is creeping back too
        "Nein, keiner",
    ]
    planned.press("tiktok")
    planned.press("drop_again")
    planned.press("e5")
    planned.press("win_first")
    planned.send("Mein erster Beitrag mit <b>100 Likes</b>")
    planned.press("skip")
    assert "Danke, dein Check-in für KW 48 ist gespeichert" in planned.text
    # The budget holds LinkedIn's 2 h and a few minutes a month for the Xing profile.
    assert "⏱ 3 Std. gebraucht, 2,1 geplant." in planned.text
    assert (
        "◐ Diese Woche teilweise nach Plan: LinkedIn lief nicht wie geplant, mehr als 10\u00a0% "
        "über dem Budget, TikTok kam zurück." in planned.text
    )
    record = repo.get("anna")["checkins"][0]  # type: ignore[index]
    assert record["channels"] == {"linkedin": "partly"}
    assert (record["hours"], record["creep"], record["audit"], record["energy"]) == (
        3.0,
        "tiktok",
        "drop_again",
        5,
    )
    assert record["win"] == "Mein erster Beitrag mit <b>100 Likes</b>"
    assert record["week"] == "2026-W48"


def test_checkin_needs_a_plan(engine: DialogueEngine) -> None:
    chat = Chat(engine, "neu", language_hint="de")
    chat.send("/start")
    chat.send("/checkin")
    assert "fehlen mir noch" in chat.text


def test_the_reminder_offers_start_snooze_and_skip(
    planned: Chat, engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    schedule_friday_0830(planned)
    replies = engine.checkin_reminder("anna", week="2026-W48")
    assert len(replies) == 1 and replies[0].kind is ReplyKind.QUESTION
    assert "Zeit für deinen Fokus-Check-in (KW 48)" in replies[0].text
    labels = [b.label for row in replies[0].buttons for b in row]
    assert labels == [
        "▶️ Check-in starten",
        "⏰ In 1 Stunde",
        "🌙 Heute Abend",
        "📅 Morgen",
        "⏭ Diese Woche auslassen",
    ]
    planned.question = replies[0]
    planned.press("checkin_snooze_evening")
    assert "erinnere dich um 19:00" in planned.text
    reminder = repo.get("anna")["reminder"]  # type: ignore[index]
    assert reminder["snoozed_until"] == "2026-11-27T18:00:00+00:00"  # 19:00 Berlin (CET)
    assert reminder["snoozed_week"] == "2026-W48"

    clock.now += timedelta(hours=9)
    planned.question = engine.checkin_reminder("anna", week="2026-W48", snooze=True)[0]
    planned.press("checkin_snooze_tomorrow")
    assert "morgen um 08:30" in planned.text
    assert repo.get("anna")["reminder"]["snoozed_until"] == "2026-11-28T07:30:00+00:00"  # type: ignore[index]

    planned.question = engine.checkin_reminder("anna", week="2026-W48", snooze=True)[0]
    planned.press("checkin_skip")
    assert "diese Woche lassen wir aus" in planned.text
    # Skipping from the reminder declares a joker while one is left (the streak contract).
    assert "KW 48 ist eine Joker-Woche" in planned.text
    stored = repo.get("anna")
    assert stored is not None
    assert stored["contract"]["jokers"] == [{"week": "2026-W48", "how": "declared"}]
    assert stored["reminder"]["skipped_week"] == "2026-W48"
    assert stored["reminder"]["snoozed_until"] is None
    assert stored["pending_checkin"] is None


def test_a_button_from_last_weeks_reminder_is_out_of_date(
    planned: Chat, engine: DialogueEngine, clock: Clock
) -> None:
    schedule_friday_0830(planned)
    old = engine.checkin_reminder("anna", week="2026-W47")[0]
    clock.now += timedelta(days=7)
    planned.question = engine.checkin_reminder("anna", week="2026-W48")[0]
    planned.press_data(old.buttons[0][0].data)
    assert "nicht mehr aktuell" in planned.text
    assert "KW 48" in planned.question_text


def test_a_checkin_answered_days_late_counts_for_its_week_and_says_so(
    planned: Chat, engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    schedule_friday_0830(planned)
    planned.question = engine.checkin_reminder("anna", week="2026-W48")[0]
    clock.now += timedelta(days=4)  # Tuesday of the next week
    planned.press("checkin_start")
    do_checkin(planned)
    assert "KW 48 ist gespeichert" in planned.text
    assert "(nachgetragen)" in planned.text
    assert repo.get("anna")["checkins"][-1]["week"] == "2026-W48"  # type: ignore[index]


def test_an_unfinished_checkin_is_replaced_by_the_next_reminder(
    planned: Chat, engine: DialogueEngine, clock: Clock
) -> None:
    schedule_friday_0830(planned)
    planned.question = engine.checkin_reminder("anna", week="2026-W48")[0]
    planned.press("checkin_start")
    clock.now += timedelta(days=7)
    reply = engine.checkin_reminder("anna", week="2026-W49")[0]
    assert "Der Check-in von letzter Woche ist unvollständig geblieben" in reply.text


def test_streak_history_and_advice(planned: Chat, engine: DialogueEngine, clock: Clock) -> None:
    planned.send("/history")
    assert "Noch keine Check-ins" in planned.text
    schedule_friday_0830(planned)
    for hours in ("2", "2,2", "6", "6"):  # 2,2 is within the 10 % tolerance of 2,1
        planned.question = engine.checkin_reminder("anna", week=week_now(clock))[0]
        planned.press("checkin_start")
        do_checkin(planned, hours=hours)
        clock.now += timedelta(days=7)
        if hours == "2,2":
            assert "🔥 2 Wochen in Folge nach Plan" in planned.text
    assert "zwei Wochen in Folge über deinem Zeitbudget" in planned.text
    # Every channel on plan, but hours over budget: honest, not "on plan".
    assert "◐ Diese Woche teilweise nach Plan: mehr als 10\u00a0% über dem Budget." in planned.text
    assert "🔥" not in planned.text
    planned.send("/history")
    assert "Serie: 0 Wochen nach Plan · bisher 4 Check-ins, 75\u00a0% nach Plan" in planned.text
    assert (
        "◐ KW 51/2026: 6 Std. (geplant 2,1), Energie 4/5 – mehr als 10\u00a0% über dem Budget"
        in planned.text
    )
    assert "✅ KW 49/2026: 2,2 Std. (geplant 2,1), Energie 4/5\n" in planned.text


def test_a_week_with_a_channel_missed_and_a_dropped_one_back_says_both(
    planned: Chat, engine: DialogueEngine, clock: Clock
) -> None:
    planned.send("/checkin")
    planned.press("linkedin", "linkedin", "done")  # one tap: on plan, two: partly
    planned.send("1")
    planned.press("xing")
    planned.press("drop_again")
    planned.press("e3")
    planned.press("skip")

    assert "◐ Diese Woche teilweise nach Plan: LinkedIn lief nicht wie geplant, Xing kam" in (
        planned.text
    )
    planned.send("/history")
    assert "LinkedIn lief nicht wie geplant, Xing kam zurück" in planned.text


def test_a_parked_channel_is_mentioned_when_its_trigger_fires(
    planned: Chat, engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    document = repo.get("anna")
    assert document is not None
    # X parked with the smallest rhythm the shipped catalogue gives it: 1 h a week to spare.
    document["plan"]["parked"] = [
        {"channel": "x", "reason": "budget", "trigger_weeks": 4, "trigger_hours": 1.0}
    ]
    repo.put("anna", document)
    for week in range(4):
        planned.send("/checkin")
        do_checkin(planned, hours="1.5")  # on plan, 1.5 of 3 h used
        fired = "ein guter Moment, dir X (ehemals Twitter) noch einmal anzusehen" in planned.text
        assert fired == (week == 3), week  # only after the fourth week on plan
        clock.now += timedelta(days=7)


def week_now(clock: Clock) -> str:
    year, week, _ = clock.now.isocalendar()
    return f"{year}-W{week:02d}"


def test_settings_pause_resume_and_language(planned: Chat, repo: InMemoryUserRepository) -> None:
    planned.send("/settings")
    planned.press("pause")
    planned.press("w2")
    assert "noch keinen Check-in eingerichtet" in planned.text
    schedule_friday_0830(planned)
    planned.send("/settings")
    planned.press("pause")
    planned.press("w2")
    assert "2 Wochen Pause: Ab dem 11. Dezember 2026 geht es" in planned.text
    assert repo.get("anna")["reminder"]["paused_until"] == "2026-12-11"  # type: ignore[index]
    planned.send("/settings")
    assert "pausiert, wieder ab dem 11. Dezember 2026" in planned.question_text
    planned.press("resume")
    assert "Pause beendet" in planned.text
    assert repo.get("anna")["reminder"]["paused_until"] is None  # type: ignore[index]
    planned.send("/settings")
    planned.press("language")
    planned.press("en")
    assert "from now on I will speak English" in planned.text
    assert "Your plan – what next?" in planned.question_text


def test_reminder_for_users_who_cannot_get_one_is_empty(
    engine: DialogueEngine, repo: InMemoryUserRepository
) -> None:
    assert engine.checkin_reminder("nobody", week="2026-W48") == []
    chat = Chat(engine, "halfway", language_hint="de")
    chat.send("/start")
    assert engine.checkin_reminder("halfway", week="2026-W48") == []


def test_start_reactivates_a_user_who_had_blocked_the_bot(
    planned: Chat, repo: InMemoryUserRepository, hooks: RecordingHooks
) -> None:
    schedule_friday_0830(planned)
    document = repo.get("anna")
    assert document is not None
    document["active"] = False
    document["reminder"]["next_due"] = "2026-10-02T06:30:00+00:00"  # weeks ago, while blocked
    document["reminder"]["sending"] = {
        "week": "2026-W40",
        "claimed_at": "2026-10-02T06:30:00+00:00",
    }
    repo.put("anna", document)
    hooks.calls.clear()
    planned.send("/start")
    stored = repo.get("anna")
    assert stored is not None
    assert stored["active"] is True
    # The blocked weeks are not "missed": the next regular slot after now applies.
    assert stored["reminder"]["next_due"] == "2026-12-04T07:30:00+00:00"
    assert stored["reminder"]["sending"] is None
    assert [c[0] for c in hooks.calls] == ["before_update", "reschedule"]


def test_delete_tells_the_reminder_side(planned: Chat, hooks: RecordingHooks) -> None:
    planned.send("/delete")
    planned.press("delete_yes")
    assert hooks.calls[-1][:2] == ("forget", "anna")


def test_checkin_in_english(engine: DialogueEngine) -> None:
    chat = Chat(engine, "ben", language_hint="en")
    chat.send("/start")
    chat.press("continue")
    chat.press("instagram", "done")
    chat.send("4")
    chat.press("consumers_u30", "done")
    chat.press("awareness", "done")
    chat.press("alone")
    chat.press("none")
    chat.press("show_plan")
    chat.send("/checkin")
    assert "Focus check-in" in chat.question_text
    for button in [b for b in chat.buttons() if decode(b.data).action is Action.TOGGLE]:
        chat.press_data(button.data)  # every channel row of the grid, still unrated
    chat.press("done")
    chat.press("3")
    chat.press("e3")
    chat.press("skip")
    assert "your check-in for week 48 is saved" in chat.text
    replies: list[Reply] = chat.replies
    assert replies[-1].kind is ReplyKind.INFO


def checkin_with_creep(chat: Chat, channel: str, decision: str, *, win: str | None = None) -> None:
    """A check-in where ``channel`` came back and ``decision`` (a button key) was taken."""
    chat.send("/checkin")
    chat.press("linkedin", "done")
    chat.send("2")
    chat.press(channel)
    chat.press(decision)
    chat.press("e4")
    if win is not None:
        chat.press("win_first")
        chat.send(win)
    chat.press("skip")  # no if-then plan


def test_a_channel_that_came_back_and_stays_changes_the_plan_after_its_cool_off(
    planned: Chat, repo: InMemoryUserRepository, clock: Clock
) -> None:
    planned.send("/checkin")
    planned.press("linkedin", "done")
    planned.send("2")
    planned.press("tiktok")
    # First why TikTok was left out, with its source, then one in, one out.
    text = planned.question_text
    assert "Du hast TikTok weggelassen, weil dein Publikum dort kaum ist" in text
    assert "nach 7 Tagen in deinen Plan" in text
    # Every button says what happens, never a bare channel name; no "stays, in the buffer".
    labels = [b.label for b in planned.buttons()]
    assert labels[:2] == ["TikTok geht wieder", "TikTok bleibt, LinkedIn geht"]
    assert "TikTok" not in labels and "LinkedIn" not in labels
    planned.press("linkedin")
    planned.press("e4")
    planned.press("skip")
    # Friday 10:00 in Berlin: back a week later at the same time, not at once.
    assert "TikTok kommt am Freitag, 4. Dezember 2026 um 10:00 zurück (statt LinkedIn)" in (
        planned.text
    )
    assert [b.label for b in planned.replies[-1].buttons[0]] == ["↩ Zurücknehmen"]

    document = repo.get("anna")
    assert document is not None
    assert [k["channel"] for k in document["plan"]["kept"]] == ["linkedin"]
    assert document["plan_info"]["version"] == 1
    assert document["pending_change"]["effective_at"] == "2026-12-04T09:00:00+00:00"
    # The week just recorded keeps the budget it ran under.
    assert document["checkins"][-1]["budget"] == pytest.approx(2.1, abs=0.05)

    clock.now += timedelta(days=7) - timedelta(minutes=1)
    planned.send("/plan")
    assert "TikTok kommt am Freitag, 4. Dezember 2026 um 10:00 zurück" in planned.text
    assert repo.get("anna")["plan_info"]["version"] == 1  # type: ignore[index]

    clock.now += timedelta(minutes=1)
    replies = planned.send("/plan")
    assert "📌 TikTok ist wieder in deinem Plan, seit Freitag, 4. Dezember 2026, 10:00" in (
        plain(replies[0].text)
    )
    assert "✅ TikTok" in planned.text
    assert "LinkedIn: deine Entscheidung im Check-in: die Zeit bekommt TikTok" in planned.text
    document = repo.get("anna")
    assert document is not None
    assert [k["channel"] for k in document["plan"]["kept"]] == ["tiktok"]
    assert {"channel": "linkedin", "reason": "choice"}.items() <= next(
        d for d in document["plan"]["dropped"] if d["channel"] == "linkedin"
    ).items()
    assert document["plan_info"]["version"] == 2
    assert document["plan_info"]["reason"] == "checkin"
    assert document["plan_info"]["made_at"] == "2026-12-04T09:00:00+00:00"
    assert document["plan_info"]["detail"]["choice"] == "linkedin"
    assert document["pending_change"] is None
    assert [p["version"] for p in document["previous_plans"]] == [1]

    # Told once; showing the plan again does not undo the change.
    planned.send("/plan")
    assert "wieder in deinem Plan" not in planned.text
    assert repo.get("anna")["plan_info"]["version"] == 2  # type: ignore[index]

    planned.send("/history")
    assert "Dein Plan im Lauf der Zeit" in planned.text
    assert "▶ Version 2 vom 04.12.2026: TikTok bleibt, LinkedIn geht" in planned.text
    assert "• Version 1 vom 27.11.2026: erster Plan" in planned.text


def test_going_again_leaves_the_plan_as_it_is(planned: Chat, repo: InMemoryUserRepository) -> None:
    before = repo.get("anna")
    assert before is not None
    checkin_with_creep(planned, "tiktok", "drop_again")
    after = repo.get("anna")
    assert after is not None
    assert after["plan"] == before["plan"]
    assert after["plan_info"]["version"] == 1
    assert "Plan angepasst" not in planned.text


def test_a_stale_decision_button_changes_nothing(
    planned: Chat, repo: InMemoryUserRepository
) -> None:
    planned.send("/checkin")
    planned.press("linkedin", "done")
    planned.send("2")
    planned.press("tiktok")
    swap = planned.button("linkedin").data
    planned.press("linkedin")
    planned.press("e4")
    planned.press("skip")
    requested = repo.get("anna")["pending_change"]  # type: ignore[index]
    planned.press_data(swap)  # the same button again, after the check-in is saved
    assert "nicht mehr aktuell" in planned.text or "veraltet" in planned.text
    assert repo.get("anna")["plan_info"]["version"] == 1  # type: ignore[index]
    assert repo.get("anna")["pending_change"] == requested  # type: ignore[index]


def test_changed_answers_make_a_new_version_and_start_over_keeps_the_old(
    planned: Chat, repo: InMemoryUserRepository, clock: Clock
) -> None:
    checkin_with_creep(planned, "tiktok", "linkedin")
    clock.now += timedelta(days=7)  # the change is due: the next message makes it version 2
    planned.send("/restart")
    planned.press("restart_yes")
    document = repo.get("anna")
    assert document is not None and document["plan"] is None
    assert [p["version"] for p in document["previous_plans"]] == [1, 2]
    onboard_de(planned, hours="5")
    planned.press("show_plan")
    document = repo.get("anna")
    assert document is not None
    assert (document["plan_info"]["version"], document["plan_info"]["reason"]) == (3, "answers")


def test_wins_come_back_in_history_and_every_fourth_checkin(planned: Chat, clock: Clock) -> None:
    wins = ["Erster Kunde über LinkedIn", "Post mit 40 Kommentaren", "Drei Anfragen"]
    for win in wins:
        planned.send("/checkin")
        planned.press("linkedin", "done")
        planned.send("2")
        planned.press("none")
        planned.press("e4")
        planned.press("win_first")
        planned.send(win)
        planned.press("skip")
        assert "Weißt du noch?" not in planned.text
        clock.now += timedelta(weeks=1)
    planned.send("/checkin")
    do_checkin(planned)  # the fourth
    assert "🏆 Weißt du noch? KW 48: „Erster Kunde über LinkedIn“" in planned.text
    planned.send("/history")
    assert "Deine letzten Erfolge" in planned.text
    shown = planned.text
    assert shown.index("KW 50: Drei Anfragen") < shown.index("KW 48: Erster Kunde über LinkedIn")


def test_export_holds_every_plan_version_and_the_checkins_as_csv(
    planned: Chat, clock: Clock
) -> None:
    import csv
    import io
    import json

    checkin_with_creep(planned, "tiktok", "linkedin", win="=HYPERLINK(1)")
    clock.now += timedelta(days=7)  # its cool-off is over
    replies = planned.send("/export")
    documents = [r.document for r in replies if r.document is not None]
    assert [d.filename.rsplit(".", 1)[1] for d in documents] == ["json", "csv"]
    exported = json.loads(documents[0].content)
    versions = exported["plan_versions"]
    assert [(v["version"], v["reason"], v["current"]) for v in versions] == [
        (1, "first", False),
        (2, "checkin", True),
    ]
    assert [k["channel"] for k in versions[0]["kept"]] == ["linkedin"]
    assert [k["channel"] for k in versions[1]["kept"]] == ["tiktok"]
    assert {"channel": "linkedin", "reason": "choice"} in versions[1]["dropped"]
    assert all("made_at" in v and "hours_planned" in v for v in versions)
    table = documents[1].content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(table), delimiter=";"))
    assert rows[0][:4] == ["Woche", "Beantwortet am", "Status", "Stunden"]
    assert rows[1][0] == "2026-W48" and rows[1][3] == "2"
    assert rows[1][rows[0].index("Zurückgekommen")] == "TikTok"
    assert rows[1][rows[0].index("Erfolg")] == "'=HYPERLINK(1)"  # never run as a formula


def test_an_if_then_plan_is_built_from_the_obstacle_saved_and_asked_about_next_week(
    planned: Chat, repo: InMemoryUserRepository, clock: Clock
) -> None:
    schedule_friday_0830(planned)
    planned.send("/checkin")
    assert "Fokus-Check-in" in planned.question_text  # no plan last week: nothing to ask
    planned.press("linkedin", "done")
    planned.send("2")
    planned.press("none")
    planned.press("e4")
    # First the obstacle (mental contrasting), with a dropped channel named as a temptation.
    assert "Dein Wenn-dann-Plan für nächste Woche" in planned.question_text
    assert "am ehesten in die Quere kommen" in planned.question_text
    labels = [b.label for b in planned.buttons()]
    assert labels[:5] == [
        "⏰ Keine Zeit",
        "💭 Geht unter",
        "🤷 Keine Idee",
        "📱 TikTok lockt",
        "🔋 Wenig Energie",
    ]
    assert "🏆 Erfolg notieren" in labels and "🔁 Plan behalten" not in labels
    planned.press("no_time")
    # Then the contingent plan for it, built from the plan: the day after the Friday check-in
    # at its time, the kept channel. One tap confirms it (the rehearsal).
    assert "Hindernis: Die Zeit wird knapp" in planned.question_text
    assert (
        "„Wenn ich am Montag merke, dass die Zeit knapp wird, dann poste ich nur einen kurzen "
        "Beitrag auf LinkedIn um 08:30 Uhr.“" in planned.question_text
    )
    assert planned.buttons()[0].label == "✅ Ja, das ist mein Plan"
    planned.press("confirm")
    assert "🚧 Hindernis: Die Zeit wird knapp" in planned.text
    assert "Nächste Woche: „Wenn ich am Montag merke, dass die Zeit knapp wird" in planned.text
    record = repo.get("anna")["checkins"][-1]  # type: ignore[index]
    assert record["intention"].startswith("Wenn ich am Montag merke")
    assert record["obstacle"] == "Die Zeit wird knapp"

    clock.now += timedelta(weeks=1)
    planned.send("/checkin")
    assert "Letzte Woche hattest du dir vorgenommen" in planned.question_text
    assert "„Wenn ich am Montag merke, dass die Zeit knapp wird" in planned.question_text
    planned.press("partly")
    planned.press("linkedin", "done")
    planned.send("2")
    planned.press("none")
    planned.press("e3")
    # Only partly: no "keep my plan"; a new obstacle, then the user's own words as the plan.
    assert "🔁 Plan behalten" not in [b.label for b in planned.buttons()]
    planned.press("forget")
    assert "Hindernis: Es geht im Alltag unter" in planned.question_text
    planned.send("Wenn ich den Laptop zuklappe, plane ich den nächsten Post.")
    assert "Dein Wenn-dann-Plan hat teilweise geklappt" in planned.text
    record = repo.get("anna")["checkins"][-1]  # type: ignore[index]
    assert record["intention_kept"] == "partly"
    assert record["intention"] == "Wenn ich den Laptop zuklappe, plane ich den nächsten Post."
    assert record["obstacle"] == "Es geht im Alltag unter"


def test_noting_a_win_comes_back_to_the_obstacle_without_that_option(
    planned: Chat, repo: InMemoryUserRepository
) -> None:
    planned.send("/checkin")
    planned.press("linkedin", "done")
    planned.send("2")
    planned.press("none")
    planned.press("e4")
    planned.press("win_first")
    planned.send("Drei neue Kontakte")
    assert "am ehesten in die Quere kommen" in planned.question_text
    assert "🏆 Erfolg notieren" not in [b.label for b in planned.buttons()]
    planned.press("low_energy")
    planned.press("confirm")
    record = repo.get("anna")["checkins"][-1]  # type: ignore[index]
    assert record["win"] == "Drei neue Kontakte"
    assert record["intention"].startswith("Wenn ich mich zu müde für einen Beitrag fühle")
    assert record["obstacle"] == "Wenig Energie"


def test_a_two_channel_checkin_takes_at_most_eight_taps(
    engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    chat = Chat(engine, "tapsy", language_hint="de")
    onboard_de(chat, hours="6")
    chat.press("show_plan")
    kept = [k["channel"] for k in repo.get("tapsy")["plan"]["kept"]]  # type: ignore[index]
    assert len(kept) == 2
    taps = 0

    def tap(*keys: str) -> None:
        nonlocal taps
        chat.press(*keys)
        taps += len(keys)

    # The first week: an obstacle, then its plan confirmed. The second: last week's plan
    # worked, and one tap keeps (and rehearses) it.
    for week in range(2):
        chat.send("/checkin")
        taps = 0
        if week:
            tap("yes")
        tap(*kept, "done")
        tap("2")
        tap("none")
        tap("e4")
        if week:
            tap("keep")
        else:
            tap("no_time", "confirm")
        assert "ist gespeichert" in chat.text
        assert taps <= 8, taps
        clock.now += timedelta(weeks=1)
    assert taps == 8
    # After a plan that failed, a new obstacle and its plan cost one tap more (nine); skipping
    # the plan stays at eight. Every path: test_if_then_obstacle.py.
    for worked, ending, expected in (("no", ("no_idea", "confirm"), 9), ("no", ("skip",), 8)):
        chat.send("/checkin")
        taps = 0
        tap(worked, *kept, "done", "2", "none", "e4", *ending)
        assert "ist gespeichert" in chat.text
        assert taps == expected, taps
        clock.now += timedelta(weeks=1)


def test_settings_change_the_quiet_hours_and_show_them(
    planned: Chat, repo: InMemoryUserRepository, hooks: RecordingHooks
) -> None:
    schedule_friday_0830(planned)
    planned.send("/settings")
    assert "Ruhezeiten: 21:00 – 08:00 Uhr" in planned.question_text  # the default
    planned.press("quiet")
    assert "Jetzt: 21:00 – 08:00 Uhr (Berlin)" in planned.question_text
    hooks.calls.clear()
    planned.press("q22_07")
    assert "Ruhezeiten: 22:00 – 07:00 Uhr (Berlin)" in planned.text
    stored = repo.get("anna")
    assert stored is not None
    assert stored["quiet_hours"] == {"start": "22:00", "end": "07:00", "on": True}
    # The due instant may move with them: the reminder side hears of the change.
    assert [call[0] for call in hooks.calls] == ["before_update", "reschedule"]
    planned.send("/settings")
    assert "Ruhezeiten: 22:00 – 07:00 Uhr" in planned.question_text
    planned.press("quiet")
    planned.press("off")
    assert "Keine Ruhezeiten" in planned.text
    stored = repo.get("anna")
    assert stored is not None
    assert stored["quiet_hours"] == {"start": "22:00", "end": "07:00", "on": False}
    planned.send("/settings")
    assert "Ruhezeiten: aus" in planned.question_text
    planned.press("language")
    planned.press("en")
    planned.send("/settings")
    assert "Quiet hours: off" in planned.question_text
    planned.press("quiet")
    planned.press("q21_08")
    assert "Quiet hours: 21:00 – 08:00 (Berlin)" in planned.text


def test_the_follow_up_offers_the_check_in_or_skipping_the_week(
    planned: Chat, engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    schedule_friday_0830(planned)
    planned.question = engine.checkin_reminder("anna", week="2026-W48")[0]
    clock.now += timedelta(days=1)
    [followup] = engine.checkin_reminder("anna", week="2026-W48", kind=Kind.FOLLOWUP)

    assert "Dein Check-in von gestern ist noch offen (KW 48)" in followup.text
    labels = [b.label for row in followup.buttons for b in row]
    assert labels == ["▶️ Check-in starten", "⏭ Diese Woche auslassen"]
    planned.question = followup
    token = decode(followup.buttons[0][0].data)
    assert token is not None
    planned.press_data(encode(token.turn, Action.CHECKIN, "snooze_1h"))  # not offered: forged
    assert "nicht mehr aktuell" in planned.text
    planned.press("checkin_skip")
    assert "diese Woche lassen wir aus" in planned.text
    stored = repo.get("anna")
    assert stored is not None
    assert stored["reminder"]["skipped_week"] == "2026-W48"
    # Skipped since: a follow-up claimed before that is not shown after all.
    assert engine.checkin_reminder("anna", week="2026-W48", kind=Kind.FOLLOWUP) == []


def test_the_follow_up_starts_the_check_in_and_an_answered_week_gets_none(
    planned: Chat, engine: DialogueEngine, clock: Clock
) -> None:
    schedule_friday_0830(planned)
    planned.question = engine.checkin_reminder("anna", week="2026-W48", kind=Kind.FOLLOWUP)[0]
    planned.press("checkin_start")
    assert "Fokus-Check-in" in planned.question_text
    do_checkin(planned)
    assert "Danke, dein Check-in für KW 48 ist gespeichert" in planned.text
    assert engine.checkin_reminder("anna", week="2026-W48", kind=Kind.FOLLOWUP) == []


def test_a_snooze_into_quiet_hours_says_when_it_really_comes(
    planned: Chat, engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    schedule_friday_0830(planned)
    clock.now = datetime(2026, 11, 27, 19, 30, tzinfo=UTC)  # 20:30 in Berlin
    planned.question = engine.checkin_reminder("anna", week="2026-W48")[0]
    planned.press("checkin_snooze_1h")
    assert "erinnere dich morgen um 08:00, wenn deine Ruhezeit endet, noch einmal" in planned.text
    stored = repo.get("anna")
    assert stored is not None
    # Stored as asked (21:30); quiet hours are applied when it falls due, so a change counts.
    assert stored["reminder"]["snoozed_until"] == "2026-11-27T20:30:00+00:00"
