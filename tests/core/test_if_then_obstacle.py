"""The if-then plan gets its obstacle (issue 14, item 8; domain.md 4.1), through the engine.

Before the if-then plan the check-in asks what will most likely get in the way; the plan is
built from that obstacle in the contingent format and confirmed once more by a tap or typed
(the rehearsal). A plan that worked is kept with one tap. Every path is counted in taps: a
two-channel check-in stays within eight, "did it work?" included, except after a plan that
failed, where choosing a new one costs one more.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dialogue_driver import Chat
from test_engine import onboard_de

from bot.core.callbacks import Action, decode, encode
from bot.core.content import Content
from bot.core.engine import DialogueEngine
from storage import InMemoryUserRepository


class Clock:
    """A settable clock (Friday 2026-11-27 09:00 UTC to start with)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def repo() -> InMemoryUserRepository:
    return InMemoryUserRepository()


@pytest.fixture
def engine(content: Content, repo: InMemoryUserRepository, clock: Clock) -> DialogueEngine:
    return DialogueEngine(content, repo, clock=clock)


def last_record(repo: InMemoryUserRepository, user_id: str) -> dict[str, Any]:
    document = repo.get(user_id)
    assert document is not None
    record: dict[str, Any] = document["checkins"][-1]
    return record


class Tapper:
    """A two-channel German user (LinkedIn and Xing kept) who counts the taps of a check-in."""

    def __init__(self, engine: DialogueEngine, repo: InMemoryUserRepository) -> None:
        self.chat = Chat(engine, "tapsy", language_hint="de")
        onboard_de(self.chat, hours="6")
        self.chat.press("show_plan")
        document = repo.get("tapsy")
        assert document is not None
        self.kept = [k["channel"] for k in document["plan"]["kept"]]
        assert len(self.kept) == 2
        self.taps = 0

    def tap(self, *keys: str) -> None:
        self.chat.press(*keys)
        self.taps += len(keys)

    def checkin(self, *, last_week: str | None, ending: tuple[str, ...]) -> int:
        """One check-in: "did it work?" (when asked), the usual answers, then ``ending``."""
        self.chat.send("/checkin")
        self.taps = 0
        if last_week is not None:
            assert "Hat das geklappt?" in self.chat.question_text
            self.tap(last_week)
        self.tap(*self.kept, "done")
        self.tap("2")
        self.tap("none")
        self.tap("e4")
        self.tap(*ending)
        assert "ist gespeichert" in self.chat.text
        return self.taps


def test_every_path_is_counted_in_taps(
    engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    user = Tapper(engine, repo)
    # The first week: the obstacle, then its plan confirmed.
    assert user.checkin(last_week=None, ending=("no_time", "confirm")) == 8
    first = last_record(repo, "tapsy")
    clock.now += timedelta(weeks=1)
    # It worked: one tap keeps it, as it was (the obstacle too).
    assert user.checkin(last_week="yes", ending=("keep",)) == 8
    kept = last_record(repo, "tapsy")
    assert (kept["intention"], kept["obstacle"]) == (first["intention"], first["obstacle"])
    assert kept["intention_kept"] == "yes"
    clock.now += timedelta(weeks=1)
    # It kept working: keeping it again is the steady state.
    assert user.checkin(last_week="yes", ending=("keep",)) == 8
    clock.now += timedelta(weeks=1)
    # It failed: a new obstacle and its plan cost one tap more than keeping.
    assert user.checkin(last_week="no", ending=("no_idea", "confirm")) == 9
    failed = last_record(repo, "tapsy")
    assert failed["obstacle"] == "Mir fällt nichts zum Posten ein"
    assert failed["intention"].startswith("Wenn mir nichts zum Posten einfällt, dann")
    clock.now += timedelta(weeks=1)
    # Skipped: no plan for next week, and the week after asks nothing about one.
    assert user.checkin(last_week="partly", ending=("skip",)) == 8
    skipped = last_record(repo, "tapsy")
    assert (skipped["intention"], skipped["obstacle"]) == (None, None)
    clock.now += timedelta(weeks=1)
    assert user.checkin(last_week=None, ending=("skip",)) == 7
    clock.now += timedelta(weeks=1)
    # An obstacle named, its plan skipped: the obstacle is kept, there is no plan to check.
    assert user.checkin(last_week=None, ending=("low_energy", "skip")) == 8
    record = last_record(repo, "tapsy")
    assert (record["intention"], record["obstacle"]) == (None, "Wenig Energie")


def test_a_plan_that_worked_is_quoted_and_kept_with_one_tap(
    engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    user = Tapper(engine, repo)
    user.checkin(last_week=None, ending=("forget", "confirm"))
    sentence = last_record(repo, "tapsy")["intention"]
    clock.now += timedelta(weeks=1)
    chat = user.chat
    chat.send("/checkin")
    assert f"„{sentence}“" in chat.question_text  # "did it work?" quotes the plan
    chat.press("yes", *user.kept, "done", "2", "none", "e4")
    assert "Dein Plan von letzter Woche hat geklappt" in chat.question_text
    assert f"„{sentence}“" in chat.question_text  # read once more before keeping it
    assert chat.buttons()[0].label == "🔁 Plan behalten"
    chat.press("keep")
    assert "Dein Wenn-dann-Plan hat geklappt" in chat.text
    assert "🚧 Hindernis: Es geht im Alltag unter" in chat.text
    assert f"Nächste Woche: „{sentence}“" in chat.text


def test_a_typed_obstacle_gets_a_plan_and_the_users_own_sentence_is_the_plan(
    engine: DialogueEngine, repo: InMemoryUserRepository
) -> None:
    user = Tapper(engine, repo)
    chat = user.chat
    chat.send("/checkin")
    chat.press(*user.kept, "done", "2", "none", "e4")
    chat.send("Kundentermine <b>ohne Ende</b>")
    assert "Hindernis: Kundentermine <b>ohne Ende</b>" in chat.question_text
    assert (
        "„Wenn es so kommt (Kundentermine <b>ohne Ende</b>), dann mache ich den kleinsten "
        "Schritt: zehn Minuten für LinkedIn.“" in chat.question_text
    )
    chat.send("Wenn ein Termin ausfällt, dann schreibe ich meinen LinkedIn-Post.")
    record = last_record(repo, "tapsy")
    assert record["obstacle"] == "Kundentermine <b>ohne Ende</b>"
    assert (
        record["intention"] == "Wenn ein Termin ausfällt, dann schreibe ich meinen LinkedIn-Post."
    )
    assert "🚧 Hindernis: Kundentermine <b>ohne Ende</b>" in chat.text  # shown as typed


def test_a_typed_plan_or_obstacle_that_is_too_long_is_asked_again(
    engine: DialogueEngine, repo: InMemoryUserRepository
) -> None:
    user = Tapper(engine, repo)
    chat = user.chat
    chat.send("/checkin")
    chat.press(*user.kept, "done", "2", "none", "e4")
    chat.send("x" * 121)
    assert "am ehesten in die Quere kommen" in chat.question_text
    chat.press("no_time")
    chat.send("y" * 201)
    assert "Hindernis: Die Zeit wird knapp" in chat.question_text
    chat.press("confirm")
    assert last_record(repo, "tapsy")["obstacle"] == "Die Zeit wird knapp"


def test_the_dropped_channel_that_came_back_is_the_temptation_named(
    engine: DialogueEngine, repo: InMemoryUserRepository
) -> None:
    chat = Chat(engine, "anna", language_hint="de")
    onboard_de(chat)  # LinkedIn kept; Xing a profile only; TikTok dropped
    chat.press("show_plan")
    chat.send("/checkin")
    chat.press("linkedin", "done")
    chat.send("3")
    chat.press("xing", "drop_again", "e4")
    assert "📱 Xing lockt" in [b.label for b in chat.buttons()]
    chat.press("tempted")
    assert (
        "„Wenn ich Xing öffnen will, dann öffne ich stattdessen LinkedIn und kommentiere einen "
        "Beitrag.“" in chat.question_text
    )
    chat.press("confirm")
    assert last_record(repo, "anna")["obstacle"] == "Xing lockt"


def test_a_returning_channel_that_stays_is_next_weeks_plan(
    engine: DialogueEngine, repo: InMemoryUserRepository
) -> None:
    chat = Chat(engine, "anna", language_hint="de")
    onboard_de(chat)
    chat.press("show_plan")
    chat.send("/checkin")
    chat.press("linkedin", "done")
    chat.send("3")
    chat.press("tiktok", "linkedin", "e4")  # TikTok stays, LinkedIn goes
    # Next week's plan keeps TikTok: the temptation is LinkedIn, the action TikTok.
    assert "📱 LinkedIn lockt" in [b.label for b in chat.buttons()]
    chat.press("no_time")
    assert "kurzen Beitrag auf TikTok" in chat.question_text
    chat.press("confirm")
    record = last_record(repo, "anna")
    assert "kurzen Beitrag auf TikTok" in record["intention"]
    assert [k["channel"] for k in repo.get("anna")["plan"]["kept"]] == ["tiktok"]  # type: ignore[index]


def test_stale_and_forged_buttons_change_nothing(
    engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    user = Tapper(engine, repo)
    chat = user.chat
    chat.send("/checkin")
    chat.press(*user.kept, "done", "2", "none", "e4")
    obstacle_button = chat.button("forget").data
    turn = decode(obstacle_button).turn
    # "Keep my plan" is not offered in a first week: a forged one is no answer.
    chat.press_data(encode(turn, Action.CHOOSE, "keep"))
    assert chat.text.startswith("Dieser Knopf ist nicht mehr aktuell")
    turn = decode(chat.button("forget").data).turn
    chat.press_data(encode(turn, Action.CHOOSE, "no_such_obstacle"))
    assert "am ehesten in die Quere kommen" in chat.question_text
    assert chat.text.startswith("Dieser Knopf ist nicht mehr aktuell")
    assert "am ehesten in die Quere kommen" in chat.question_text
    chat.press("no_time")
    chat.press_data(obstacle_button)  # the obstacle question's button, now out of date
    assert chat.text.startswith("Dieser Knopf ist nicht mehr aktuell")
    rehearsal = chat.button("confirm").data
    chat.press_data(encode(decode(rehearsal).turn, Action.CHOOSE, "other"))
    assert "Hindernis: Die Zeit wird knapp" in chat.question_text
    document = repo.get("tapsy")
    assert document is not None and document["checkins"] == []
    chat.press("confirm")
    record = last_record(repo, "tapsy")
    assert record["obstacle"] == "Die Zeit wird knapp"
    chat.press_data(rehearsal)  # an old copy, after the check-in is saved
    assert "nicht mehr aktuell" in chat.text or "veraltet" in chat.text
    document = repo.get("tapsy")
    assert document is not None and len(document["checkins"]) == 1


def test_the_obstacle_and_its_plan_in_english(
    engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    chat = Chat(engine, "ben", language_hint="en")
    chat.send("/start")
    chat.press("continue")
    chat.press("linkedin", "tiktok", "done")
    chat.send("3")
    chat.press("b2b_dach", "done")
    chat.press("leads", "done")
    chat.press("alone")
    chat.press("tiktok")
    chat.press("show_plan")
    chat.send("/checkin")
    chat.press("linkedin", "done")
    chat.send("2")
    chat.press("none", "e4")
    assert "What will most likely get in your way next week?" in chat.question_text
    labels = [b.label for b in chat.buttons()]
    assert "📱 TikTok tempts" in labels and "🏆 Note a win" in labels
    chat.press("no_time")
    assert "Obstacle: Time runs short" in chat.question_text
    assert (
        "“If on Monday I notice time is running short, then I post just one short LinkedIn "
        "post at 09:00.”" in chat.question_text
    )
    chat.press("confirm")
    assert "🚧 Obstacle: Time runs short" in chat.text
    assert "Next week: “If on Monday I notice time is running short" in chat.text
    clock.now += timedelta(weeks=1)
    chat.send("/checkin")
    assert "Last week you planned: “If on Monday I notice" in chat.question_text
    chat.press("yes", "linkedin", "done", "2", "none", "e4")
    assert "Last week's plan worked" in chat.question_text
    chat.press("keep")
    assert "Your if-then plan worked" in chat.text
    record = last_record(repo, "ben")
    assert record["obstacle"] == "Time runs short"
    assert record["intention"].startswith("If on Monday I notice")


def test_a_plan_stored_before_obstacles_existed_is_kept_without_one(
    engine: DialogueEngine, repo: InMemoryUserRepository, clock: Clock
) -> None:
    user = Tapper(engine, repo)
    user.checkin(last_week=None, ending=("no_time", "confirm"))
    document = repo.get("tapsy")
    assert document is not None
    del document["checkins"][-1]["obstacle"]  # as a check-in of an older version stored it
    repo.put("tapsy", document)
    clock.now += timedelta(weeks=1)
    assert user.checkin(last_week="yes", ending=("keep",)) == 8
    record = last_record(repo, "tapsy")
    assert record["intention"].startswith("Wenn ich am Montag merke")
    assert record["obstacle"] is None
    assert "🚧 Hindernis" not in user.chat.text
