"""The terminal chat has no scheduler: a weekly check-in due by now is offered when it opens.

Each ``open_chat`` is one session of the chat (start, the typed lines, goodbye) on the same
stored user, with the engine's clock set between sessions. The user sets up a check-in for
Fridays 08:30 Berlin on Friday 2026-11-27 at 10:00 Berlin, so the first one is due on
2026-12-04 at 07:30 UTC (ISO week 49).
"""

from __future__ import annotations

import html
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.console import ConsoleChat
from bot.core.content import Content
from bot.core.document_schema import USER_DOCUMENTS
from bot.core.engine import DialogueEngine
from storage import InMemoryUserRepository

USER = "console:t"
ONBOARD = ["a", "a,o", "3", "a,k", "b,j", "a", "c", "g"]  # a plan that keeps LinkedIn
SET_UP_FRIDAY_0830 = ["/settings", "a", "e", "8:30", "Hamburg"]
SET_UP_AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 4, 7, 30, tzinfo=UTC)  # Friday 08:30 Berlin, week 49
REMINDER = "Time for your focus check-in (week 49)"
# The reminder's buttons, in order: start, in 1 hour, this evening, tomorrow, skip.
START, SNOOZE_EVENING, SKIP = "a", "c", "e"
CHECKIN = ["a", "c", "2", "a", "f"]  # LinkedIn on plan ([b]: its 🎯), 2 h, energy 1, no plan


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(SET_UP_AT)


@pytest.fixture
def repo() -> InMemoryUserRepository:
    return InMemoryUserRepository(migrator=USER_DOCUMENTS)


@pytest.fixture
def engine(content: Content, repo: InMemoryUserRepository, clock: Clock) -> DialogueEngine:
    return DialogueEngine(content, repo, clock=clock)


def open_chat(engine: DialogueEngine, tmp_path: Path, lines: list[str], lang: str = "en") -> str:
    """One session of the terminal chat; returns everything it printed."""
    typed = iter([*lines, "/quit"])
    out = io.StringIO()
    ConsoleChat(
        engine,
        USER,
        language_hint=lang,
        reader=lambda _: next(typed),
        out=out,
        exports=tmp_path / "exports",
        charts=tmp_path / "charts",
    ).run()
    return out.getvalue()


@pytest.fixture
def scheduled(engine: DialogueEngine, tmp_path: Path) -> DialogueEngine:
    """A user with a plan and a check-in on Fridays 08:30 Berlin, set up after this week's."""
    text = open_chat(engine, tmp_path, [*ONBOARD, *SET_UP_FRIDAY_0830])
    assert "every Friday at 08:30 (Berlin)" in text
    return engine


def stored_reminder(repo: InMemoryUserRepository) -> dict[str, Any]:
    document = repo.get(USER)
    assert document is not None and document["reminder"] is not None
    reminder: dict[str, Any] = document["reminder"]
    return reminder


def test_a_due_checkin_is_offered_right_after_start_in_the_users_language(
    scheduled: DialogueEngine, clock: Clock, tmp_path: Path
) -> None:
    # Set up after this week's slot had passed: the first check-in is next week's.
    assert "Time for your focus check-in" not in open_chat(scheduled, tmp_path, [])
    clock.now = DUE - timedelta(minutes=1)
    assert REMINDER not in open_chat(scheduled, tmp_path, [])

    clock.now = DUE
    text = open_chat(scheduled, tmp_path, [])

    assert REMINDER in text
    assert "[a] ▶️ Start check-in" in text and "[e] ⏭ Skip this week" in text
    # After what /start shows, before the terminal hint: the last buttons are the reminder's.
    assert (
        text.index("Your plan – what next?") < text.index(REMINDER) < text.index("Terminal chat.")
    )
    german = open_chat(scheduled, tmp_path, ["/language de"])
    assert german.count(REMINDER) == 1  # still unanswered, so asked again (in English here)
    assert "Zeit für deinen Fokus-Check-in (KW 49)" in open_chat(scheduled, tmp_path, [])


def test_an_answered_checkin_is_not_offered_again_and_no_claim_is_written(
    scheduled: DialogueEngine, clock: Clock, repo: InMemoryUserRepository, tmp_path: Path
) -> None:
    clock.now = DUE + timedelta(hours=2)
    before = stored_reminder(repo)

    text = open_chat(scheduled, tmp_path, [START, *CHECKIN])

    assert "Thanks, your check-in for week 49 is saved." in text
    assert REMINDER not in open_chat(scheduled, tmp_path, [])
    # The dispatcher's bookkeeping is the dispatcher's: the chat only reads the reminder.
    assert stored_reminder(repo) == before
    clock.now += timedelta(days=7)
    assert "Time for your focus check-in (week 50)" in open_chat(scheduled, tmp_path, [])


def test_a_skipped_week_is_not_offered_again(
    scheduled: DialogueEngine, clock: Clock, repo: InMemoryUserRepository, tmp_path: Path
) -> None:
    clock.now = DUE

    assert "we will skip this week" in open_chat(scheduled, tmp_path, [SKIP])

    assert REMINDER not in open_chat(scheduled, tmp_path, [])
    assert stored_reminder(repo)["skipped_week"] == "2026-W49"
    assert stored_reminder(repo)["sending"] is None and stored_reminder(repo)["sent_weeks"] == []


def test_a_snoozed_checkin_comes_back_only_once_the_snooze_has_run_out(
    scheduled: DialogueEngine, clock: Clock, tmp_path: Path
) -> None:
    clock.now = DUE

    assert "remind you again at 19:00" in open_chat(scheduled, tmp_path, [SNOOZE_EVENING])

    clock.now = datetime(2026, 12, 4, 17, 59, tzinfo=UTC)  # 18:59 Berlin
    assert REMINDER not in open_chat(scheduled, tmp_path, [])
    clock.now = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
    assert REMINDER in open_chat(scheduled, tmp_path, [])


def test_an_unfinished_checkin_is_offered_to_continue_not_reminded_of(
    scheduled: DialogueEngine, clock: Clock, tmp_path: Path
) -> None:
    clock.now = DUE
    open_chat(scheduled, tmp_path, [START, "a", "c"])  # quits at the hours question

    text = open_chat(scheduled, tmp_path, ["a"])  # [a] continue

    assert "You were in the middle of your check-in" in text
    assert REMINDER not in text
    assert "How many hours did you really spend" in text.rsplit("Terminal chat.", 1)[1]


def test_the_terminal_chat_shows_the_opener_core_chose_the_same_as_telegram_would(
    scheduled: DialogueEngine,
    clock: Clock,
    repo: InMemoryUserRepository,
    content: Content,
    tmp_path: Path,
) -> None:
    clock.now = DUE
    first = open_chat(scheduled, tmp_path, [])
    document = repo.get(USER)
    assert document is not None
    chosen = document["variety"]["checkin_opener"]
    assert chosen["key"] == "2026-W49"
    opener = content.texts.banks["en"]["checkin_opener"][chosen["index"]]
    assert opener in first
    # Opened again, the unanswered reminder reads the same; Telegram's path renders it alike.
    assert opener in open_chat(scheduled, tmp_path, [])
    [telegram] = scheduled.checkin_reminder(USER, week="2026-W49")
    assert opener in html.unescape(telegram.text)
