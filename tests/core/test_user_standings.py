"""The operator's user figures against a real TinyDB store on disk: active, paused, blocked,
due in the next hour, kept by every write after one scan at start-up."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core.checkin_claims import ReminderService
from bot.core.checkin_schedule import Reminder
from bot.core.document_schema import USER_DOCUMENTS
from bot.core.operations import Event, OperationsRecorder
from bot.core.operator_status import OperatorView, status_context
from bot.core.user_standings import (
    STANDING_PATTERN,
    StandingsRepository,
    UserCounts,
    UserStandings,
    standing_of,
)
from storage import InMemoryUserRepository, ScheduleIndex, TinyDBUserRepository

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)  # a Saturday, 10:00 in Berlin


def document(
    user_id: str,
    *,
    due: datetime | None = None,
    paused_until: date | None = None,
    active: bool = True,
) -> dict[str, Any]:
    """A user as onboarding stores one; with ``due``, a weekly check-in at that instant."""
    stored: dict[str, Any] = {
        "user_id": user_id,
        "lang": "de",
        "dialogue": {"flow": "onboarding", "step": "plan", "turn": 5},
        "active": active,
    }
    if due is not None:
        local = due.astimezone(BERLIN)
        reminder = Reminder(
            weekday=local.weekday(),
            time=local.strftime("%H:%M"),
            zone="Europe/Berlin",
            next_due=due,
            paused_until=paused_until,
        )
        stored["reminder"] = reminder.to_dict()
    return stored


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TinyDBUserRepository]:
    """Users in each standing, written before the bot starts."""
    repo = TinyDBUserRepository(tmp_path / "data", migrator=USER_DOCUMENTS)
    repo.put("101", document("101", due=NOW + timedelta(minutes=30)))  # active, due soon
    repo.put("102", document("102", due=NOW + timedelta(days=2)))  # active
    repo.put("103", document("103"))  # active, no check-in yet
    # Paused until 19 December (Berlin midnight): the check-in waits until then.
    repo.put("104", document("104", due=NOW + timedelta(days=14), paused_until=date(2026, 12, 19)))
    repo.put("105", document("105", due=NOW + timedelta(days=3), active=False))  # blocked
    # A pause that ended yesterday counts as active.
    repo.put("106", document("106", due=NOW + timedelta(days=1), paused_until=date(2026, 12, 4)))
    # A user's own words that look like the markers must not make them blocked.
    words = document("107")
    words["answers"] = {"note": '"active":false and "paused_until":"2030-01-01"'}
    repo.put("107", words)
    yield repo
    repo.close()


def test_standing_of_reads_blocked_pauses_and_malformed_blocks_tolerantly() -> None:
    assert standing_of(None) is None
    assert standing_of(document("1")) is None
    assert standing_of(document("1", active=False)) == "blocked"
    paused = document("1", due=NOW, paused_until=date(2026, 12, 19))
    assert standing_of(paused) == datetime(2026, 12, 18, 23, 0, tzinfo=UTC)
    paused["reminder"]["zone"] = "Mars/Olympus"
    assert standing_of(paused) is None
    paused["reminder"] = "not a block"
    assert standing_of(paused) is None


def test_the_scan_parses_only_files_that_may_be_blocked_or_paused(
    store: TinyDBUserRepository,
) -> None:
    found = dict(store.documents_matching(STANDING_PATTERN))
    # 107's words are escaped inside a JSON string: not a match.
    assert sorted(found) == ["104", "105", "106"]
    assert found["105"]["active"] is False


def test_counts_after_the_start_up_scan(store: TinyDBUserRepository) -> None:
    repository = StandingsRepository(store, UserStandings())
    assert repository.counts(NOW) is None  # not counted yet
    repository.seed()
    counts = repository.counts(NOW)
    assert counts is not None
    assert (counts.active, counts.paused, counts.blocked) == (5, 1, 1)
    assert counts.total == 7
    # The pause ends at local midnight: from then on the user is active again.
    later = repository.counts(datetime(2026, 12, 18, 23, 0, tzinfo=UTC))
    assert later is not None
    assert (later.active, later.paused) == (6, 0)


def test_every_write_and_delete_moves_a_user_between_standings(
    store: TinyDBUserRepository,
) -> None:
    repository = StandingsRepository(store, UserStandings())
    repository.seed()
    repository.put("101", document("101", active=False))  # blocked the bot
    repository.put("105", document("105"))  # /start after blocking
    repository.put("102", document("102", due=NOW, paused_until=date(2027, 1, 4)))  # holidays
    assert repository.delete("104")
    repository.put("108", document("108"))  # someone new
    counts = repository.counts(NOW)
    assert counts is not None
    assert (counts.active, counts.paused, counts.blocked) == (5, 1, 1)


def test_a_write_during_the_scan_wins_over_what_the_scan_read(
    store: TinyDBUserRepository,
) -> None:
    standings = UserStandings()

    class WritesWhileScanned:
        """The store, with user 105 unblocking (/start) while the scan reads."""

        def documents_matching(
            self, pattern: Any, *, stop: Any = None
        ) -> Iterator[tuple[str, dict[str, Any]]]:
            for user_id, found in store.documents_matching(pattern, stop=stop):
                standings.note("105", document("105"))
                yield user_id, found

        def user_ids(self) -> Iterator[str]:
            return store.user_ids()

    standings.seed(WritesWhileScanned())  # type: ignore[arg-type]
    counts = standings.counts(7, NOW)
    assert counts is not None
    assert counts.blocked == 0


def test_the_figures_of_status(store: TinyDBUserRepository, tmp_path: Path) -> None:
    repository = StandingsRepository(store, UserStandings())
    repository.seed()
    reminders = ReminderService(repository, ScheduleIndex(tmp_path / "data"), clock=lambda: NOW)
    reminders.load()
    recorder = OperationsRecorder(lambda: NOW)
    recorder.record(Event.SENT, 3)
    recorder.record(Event.CHECKIN_SENT, 2)
    view = OperatorView(
        version="9.9.9",
        recorder=recorder,
        repository=repository,
        reminders=reminders,
        last_tick=lambda: NOW - timedelta(seconds=75),
        queue=lambda: 4,
    )
    context = status_context(view.figures())
    assert context["version"] == "9.9.9"
    assert context["users"] == {"active": 5, "paused": 1, "blocked": 1, "total": 7}
    # Only 101 is due within the hour (the blocked and the paused are not due at all soon).
    assert context["due_next_hour"] == 1
    assert context["last_tick"] == {"days": 0, "hours": 0, "minutes": 1, "seconds": 15}
    assert (context["sends"], context["checkins_sent"], context["failures"]) == (3, 2, 0)
    assert context["queue"] == 4


def test_the_in_memory_repository_pre_selects_the_same_users(
    store: TinyDBUserRepository,
) -> None:
    memory = InMemoryUserRepository(migrator=USER_DOCUMENTS)
    for user_id in store.user_ids():
        found = store.get(user_id)
        assert found is not None
        memory.put(user_id, found)
    on_disk = dict(store.documents_matching(STANDING_PATTERN))
    in_memory = dict(memory.documents_matching(STANDING_PATTERN))
    assert sorted(in_memory) == sorted(on_disk) == ["104", "105", "106"]
    standings = UserStandings()
    standings.seed(memory)
    assert standings.counts(7, NOW) == UserCounts(active=5, paused=1, blocked=1)


def test_a_stopped_scan_leaves_the_counts_unknown(store: TinyDBUserRepository) -> None:
    repository = StandingsRepository(store, UserStandings())
    stop = threading.Event()
    stop.set()  # the bot stops before the count finished
    repository.seed(stop)
    assert repository.counts(NOW) is None
    repository.seed()
    assert repository.counts(NOW) == UserCounts(active=5, paused=1, blocked=1)
