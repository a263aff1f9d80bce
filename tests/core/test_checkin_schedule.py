"""ReminderService on real files: due, pause, snooze, skip, inactive, catch-up, DST and a crash.

User documents are written straight into a TinyDBUserRepository, as the dialogue engine would;
the service's index starts missing, so ``load`` rebuilds it from those documents.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.checkin_claims import Claim, ReminderService
from bot.core.due_kinds import effective_due
from bot.core.schedule import WeeklySlot, local_week_key, next_occurrence
from bot.core.sent_records import SentRecords, journaled
from storage import ScheduleIndex, TinyDBUserRepository, UserRepository
from storage.tinydb_repo import shard_of

BERLIN = "Europe/Berlin"
MON, SUN = 0, 6
# Monday 2026-11-23 09:00 Berlin = 08:00 UTC, ISO week 2026-W48.
START = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
MONDAY_9 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
MINUTE = timedelta(minutes=1)


class Clock:
    """A settable clock for the service (the tests pass ``now`` to the calls explicitly too)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture(params=["confirm-in-document", "sent-journal"])
def store_kind(request: pytest.FixtureRequest) -> str:
    """Every test runs with the confirm rewriting the document, and as shipped: journalled."""
    kind: str = request.param
    return kind


def open_store(data_dir: Path, kind: str) -> TinyDBUserRepository | SentRecords:
    """The file store in ``data_dir``, read through the journal of sent check-ins if asked."""
    stored = TinyDBUserRepository(data_dir)
    if kind == "confirm-in-document":
        return stored
    sent = journaled(stored)
    sent.load()
    return sent


@pytest.fixture
def repo(data_dir: Path, store_kind: str) -> Iterator[UserRepository]:
    with open_store(data_dir, store_kind) as repository:
        yield repository


def write_user(
    repo: UserRepository,
    user_id: str,
    *,
    weekday: int = MON,
    at: str = "09:00",
    zone: str = BERLIN,
    after: datetime = START,
    active: bool = True,
    **reminder: Any,
) -> datetime:
    """Store a user whose reminder block is due at the first slot after ``after``."""
    slot = WeeklySlot(weekday, time.fromisoformat(at), zone)
    due = next_occurrence(slot, after)
    block: dict[str, Any] = {
        "weekday": weekday,
        "time": at,
        "zone": zone,
        "next_due": due.isoformat(),
        "paused_until": None,
        "snoozed_until": None,
        "skipped_week": None,
        "sending": None,
        "sent_weeks": [],
        "missed_weeks": [],
    }
    block.update(reminder)
    repo.put(
        user_id,
        {
            "user_id": user_id,
            "lang": "de",
            "plan": {"hours": 5},
            "active": active,
            "reminder": block,
        },
    )
    return due


def edit_reminder(repo: UserRepository, user_id: str, **changes: Any) -> dict[str, Any]:
    document = repo.get(user_id)
    assert document is not None
    document["reminder"].update(changes)
    repo.put(user_id, document)
    return document


def reminder_of(repo: UserRepository, user_id: str) -> dict[str, Any]:
    document = repo.get(user_id)
    assert document is not None
    block: dict[str, Any] = document["reminder"]
    return block


def open_service(
    repo: UserRepository, data_dir: Path, clock: Clock, **options: Any
) -> ReminderService:
    if isinstance(repo, SentRecords):
        options.setdefault("sent", repo)
    service = ReminderService(repo, ScheduleIndex(data_dir), clock=clock, **options)
    service.load()
    return service


def claim_due(service: ReminderService, now: datetime) -> list[Claim]:
    """One tick without sending: claim every due user."""
    claims = [service.claim(user_id, now) for user_id in service.due_users(now)]
    return [claim for claim in claims if claim is not None]


def tick(service: ReminderService, now: datetime) -> list[Claim]:
    """One tick where every send succeeds."""
    claims = claim_due(service, now)
    for claim in claims:
        service.confirm(claim)
    return claims


# ---- due / not due ---------------------------------------------------------------------------
def test_due_user_is_claimed_confirmed_and_moved_to_next_week(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1")
    repo.put("no-reminder", {"user_id": "no-reminder", "lang": "de"})
    service = open_service(repo, data_dir, clock)

    assert service.due_users(due - MINUTE) == []
    assert service.due_users(due) == ["u1"]
    claim = service.claim("u1", due)

    assert claim == Claim("u1", "2026-W48", late=False, resend=False, missed_weeks=())
    pending = reminder_of(repo, "u1")
    assert pending["sending"]["week"] == "2026-W48"
    assert pending["next_due"] == (due + WEEK).isoformat()
    assert ScheduleIndex(data_dir).get("u1") == due  # still due until confirmed

    service.confirm(claim)

    block = reminder_of(repo, "u1")
    assert (block["sending"], block["sent_weeks"]) == (None, ["2026-W48"])
    assert block["next_due"] == (due + WEEK).isoformat()
    # Not answered yet: the one follow-up comes the next day at the same time, then the slot.
    followup = due + timedelta(days=1)
    assert (block["followup_due"], block["followup_week"]) == (followup.isoformat(), "2026-W48")
    assert ScheduleIndex(data_dir).get("u1") == followup
    assert service.due_users(followup - MINUTE) == []
    assert service.due_users(due + WEEK) == ["u1"]


def test_unknown_keys_survive_claim_and_confirm(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1", colour="blue")
    service = open_service(repo, data_dir, clock)

    tick(service, due)

    document = repo.get("u1")
    assert document is not None
    assert (document["plan"], document["lang"], document["reminder"]["colour"]) == (
        {"hours": 5},
        "de",
        "blue",
    )


def test_a_too_early_hint_is_corrected_without_a_send(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1")
    service = open_service(repo, data_dir, clock)
    later = due + timedelta(hours=3)
    edit_reminder(repo, "u1", next_due=later.isoformat())  # engine changed it, index is older

    assert service.due_users(due) == ["u1"]
    assert service.claim("u1", due) is None

    assert ScheduleIndex(data_dir).get("u1") == later
    assert service.due_users(later - MINUTE) == []
    assert [claim.week for claim in tick(service, later)] == ["2026-W48"]


def test_reschedule_earlier_and_later(repo: UserRepository, data_dir: Path, clock: Clock) -> None:
    due = write_user(repo, "u1")
    service = open_service(repo, data_dir, clock)
    earlier = due - timedelta(hours=20)  # the user moved the check-in to Sunday
    document = repo.get("u1")
    assert document is not None
    document["reminder"].update(weekday=SUN, time="13:00", next_due=earlier.isoformat())

    service.before_update("u1", document)
    assert ScheduleIndex(data_dir).get("u1") == earlier  # written before the document
    repo.put("u1", document)
    service.reschedule("u1")

    claims = tick(service, earlier)
    assert [claim.week for claim in claims] == [local_week_key(earlier, BERLIN)]
    assert reminder_of(repo, "u1")["next_due"] == (earlier + WEEK).isoformat()


def test_forget_drops_memory_and_index(repo: UserRepository, data_dir: Path, clock: Clock) -> None:
    due = write_user(repo, "u1")
    service = open_service(repo, data_dir, clock)

    repo.delete("u1")
    service.forget("u1")

    assert service.due_users(due) == []
    assert ScheduleIndex(data_dir).load_all() == {}


def test_a_deleted_user_with_a_stale_hint_is_dropped(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1")
    service = open_service(repo, data_dir, clock)
    repo.delete("u1")

    assert claim_due(service, due) == []
    assert ScheduleIndex(data_dir).load_all() == {}


def test_due_users_respects_the_limit_and_the_in_flight_set(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = max(write_user(repo, f"u{n}") for n in range(5))
    service = open_service(repo, data_dir, clock)

    first = service.due_users(due, limit=2)
    rest = service.due_users(due)

    assert len(first) == 2
    assert sorted(first + rest) == [f"u{n}" for n in range(5)]
    assert service.due_users(due) == []  # all in flight
    service.abandon(first[0])
    assert service.due_users(due) == [first[0]]


def test_a_user_in_flight_is_not_due_again_until_settled(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1")
    service = open_service(repo, data_dir, clock)
    [user_id] = service.due_users(due)
    claim = service.claim(user_id, due + MINUTE)
    assert claim is not None

    service.reschedule("u1")  # the dialogue touched the document during the send
    service.claim("u1", due + MINUTE)  # a stray direct claim: the pending one, again

    assert service.due_users(due + 2 * MINUTE) == []
    service.confirm(claim)
    assert service.due_users(due + 2 * MINUTE) == []
    assert service.due_users(due + WEEK) == ["u1"]


# ---- pause, snooze, skip, inactive -------------------------------------------------------
def test_pause_sends_nothing_then_resumes_without_missed_weeks(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1")
    service = open_service(repo, data_dir, clock)
    # Holidays: no check-ins before Monday 2026-12-07 (local date); the engine forgot reschedule.
    edit_reminder(repo, "u1", paused_until="2026-12-07")

    sent: list[Claim] = []
    for week in range(4):
        slot = due + week * WEEK
        for now in (slot - MINUTE, slot, slot + MINUTE):
            sent += tick(service, now)

    assert [(claim.week, claim.late, claim.missed_weeks) for claim in sent] == [
        ("2026-W50", False, ()),  # 2026-12-07, the first day after the pause
        ("2026-W51", False, ()),
    ]
    block = reminder_of(repo, "u1")
    assert (block["sent_weeks"], block["missed_weeks"]) == (["2026-W50", "2026-W51"], [])


def test_pause_written_with_reschedule_moves_the_hint(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1")
    service = open_service(repo, data_dir, clock)
    edit_reminder(repo, "u1", paused_until="2026-12-01")  # a Tuesday
    service.reschedule("u1")

    assert ScheduleIndex(data_dir).get("u1") == due + 2 * WEEK
    assert service.due_users(due + WEEK) == []


def test_snooze_resends_the_same_week_once(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1")
    service = open_service(repo, data_dir, clock)
    tick(service, due)
    snooze = due + timedelta(hours=1)
    document = repo.get("u1")
    assert document is not None
    # As the dialogue does (checkin_reminder.answer_reminder): a snooze ends the follow-up.
    document["reminder"].update(
        snoozed_until=snooze.isoformat(),
        snoozed_week="2026-W48",
        followup_due=None,
        followup_week=None,
    )
    service.before_update("u1", document)
    repo.put("u1", document)
    service.reschedule("u1")

    assert tick(service, snooze - MINUTE) == []
    claims = tick(service, snooze)
    assert tick(service, snooze + MINUTE) == []

    assert claims == [
        Claim("u1", "2026-W48", late=False, resend=False, missed_weeks=(), snooze=True)
    ]
    block = reminder_of(repo, "u1")
    assert (block["snoozed_until"], block["sent_weeks"]) == (None, ["2026-W48"])
    assert block["next_due"] == (due + WEEK).isoformat()
    assert ScheduleIndex(data_dir).get("u1") == due + WEEK


def test_snooze_into_the_next_week_keeps_the_snoozed_week(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1", weekday=SUN, at="20:00")  # Sunday 2026-11-22, week 47
    service = open_service(repo, data_dir, clock)
    tick(service, due)
    tomorrow = due + timedelta(hours=13)  # Monday morning: week 48 on the wall clock
    edit_reminder(repo, "u1", snoozed_until=tomorrow.isoformat())
    service.reschedule("u1")

    claims = tick(service, tomorrow)

    assert [claim.week for claim in claims] == ["2026-W47"]
    assert [claim.week for claim in tick(service, due + WEEK)] == ["2026-W48"]


def test_skipped_week_is_dropped_silently(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1", skipped_week="2026-W48")
    service = open_service(repo, data_dir, clock)

    assert tick(service, due) == []
    block = reminder_of(repo, "u1")
    assert (block["sent_weeks"], block["missed_weeks"], block["sending"]) == ([], [], None)
    assert block["next_due"] == (due + WEEK).isoformat()
    assert ScheduleIndex(data_dir).get("u1") == due + WEEK
    assert [claim.week for claim in tick(service, due + WEEK)] == ["2026-W49"]


def test_inactive_users_get_nothing(repo: UserRepository, data_dir: Path, clock: Clock) -> None:
    due = write_user(repo, "blocked", active=False)
    write_user(repo, "u1")
    service = open_service(repo, data_dir, clock)
    assert ScheduleIndex(data_dir).load_all() == {"u1": due}

    # Blocked after the index was built, and the hint was never fixed: claim fixes it.
    document = repo.get("u1")
    assert document is not None
    repo.put("u1", {**document, "active": False})

    assert tick(service, due) == []
    assert ScheduleIndex(data_dir).load_all() == {}
    assert service.due_users(due + WEEK) == []


def test_mark_inactive_then_start_again(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1")
    service = open_service(repo, data_dir, clock)
    [claim] = claim_due(service, due)
    assert claim.week == "2026-W48"

    service.mark_inactive("u1")

    document = repo.get("u1")
    assert document is not None
    assert (document["active"], document["reminder"]["sending"]) == (False, None)
    assert ScheduleIndex(data_dir).get("u1") is None
    assert service.due_users(due + WEEK) == []

    # /start: the engine sets active again with a fresh next_due and calls reschedule.
    back = due + 3 * WEEK
    repo.put("u1", {**document, "active": True})
    edit_reminder(repo, "u1", next_due=back.isoformat())
    service.reschedule("u1")
    assert [claim.week for claim in tick(service, back)] == ["2026-W51"]


# ---- failures and catch-up ----------------------------------------------------------------
def test_release_makes_it_due_again_at_once(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1")
    service = open_service(repo, data_dir, clock)
    [claim] = claim_due(service, due)
    clock.now = due + MINUTE

    service.release(claim)

    assert reminder_of(repo, "u1")["sending"] is None
    assert service.due_users(due + MINUTE) == ["u1"]
    again = service.claim("u1", due + 20 * MINUTE)
    assert again == Claim("u1", "2026-W48", late=True, resend=False, missed_weeks=())


def test_release_with_retry_at_waits(repo: UserRepository, data_dir: Path, clock: Clock) -> None:
    due = write_user(repo, "u1")
    service = open_service(repo, data_dir, clock)
    [claim] = claim_due(service, due)

    service.release(claim, retry_at=due + 30 * MINUTE)

    assert service.due_users(due + 29 * MINUTE) == []
    assert service.due_users(due + 30 * MINUTE) == ["u1"]


def test_release_past_grace_ends_in_missed_weeks(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1")
    service = open_service(repo, data_dir, clock, grace=timedelta(hours=1))
    [claim] = claim_due(service, due)
    service.release(claim, retry_at=due + 2 * timedelta(hours=1))

    assert claim_due(service, due + timedelta(hours=2)) == []
    block = reminder_of(repo, "u1")
    assert (block["missed_weeks"], block["next_due"]) == (["2026-W48"], (due + WEEK).isoformat())


def test_catch_up_after_two_hours_down_is_sent_late(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1")
    clock.now = due + timedelta(hours=2)
    service = open_service(repo, data_dir, clock)

    claims = tick(service, clock.now)

    assert claims == [Claim("u1", "2026-W48", late=True, resend=False, missed_weeks=())]
    assert reminder_of(repo, "u1")["next_due"] == (due + WEEK).isoformat()


def test_catch_up_after_three_days_down_records_a_missed_week(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1")
    clock.now = due + timedelta(days=3)
    service = open_service(repo, data_dir, clock)

    assert tick(service, clock.now) == []
    block = reminder_of(repo, "u1")
    assert (block["missed_weeks"], block["sent_weeks"], block["sending"]) == (
        ["2026-W48"],
        [],
        None,
    )
    assert block["next_due"] == (due + WEEK).isoformat()
    assert ScheduleIndex(data_dir).get("u1") == due + WEEK

    [claim] = claim_due(service, due + WEEK)
    assert claim == Claim("u1", "2026-W49", late=False, resend=False, missed_weeks=("2026-W48",))
    service.confirm(claim)
    block = reminder_of(repo, "u1")
    assert (block["missed_weeks"], block["sent_weeks"]) == ([], ["2026-W49"])


def test_weeks_of_downtime_send_the_latest_slot_within_grace(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1")
    clock.now = due + 2 * WEEK + timedelta(hours=1)
    service = open_service(repo, data_dir, clock)

    claims = tick(service, clock.now)

    assert claims == [
        Claim("u1", "2026-W50", late=True, resend=False, missed_weeks=("2026-W48", "2026-W49"))
    ]
    assert reminder_of(repo, "u1")["missed_weeks"] == []


# ---- DST -------------------------------------------------------------------------------------
def test_dst_nights_give_exactly_one_claim_per_week(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    start = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
    write_user(repo, "night-owl", weekday=SUN, at="02:30", after=start)
    # Answered every week: a lapse would hold the weekly check-in back for a comeback offer.
    document = repo.get("night-owl")
    assert document is not None
    document["checkins"] = [{"week": f"2026-W{n:02d}"} for n in range(1, 54)]
    repo.put("night-owl", document)
    service = open_service(repo, data_dir, clock)
    claimed_at: dict[str, list[datetime]] = {}
    sunday = date(2026, 3, 15)
    while sunday <= date(2026, 11, 8):
        # Every minute from Saturday 22:00 to Sunday 03:00 UTC: both passes of 02:30 in October.
        night = datetime.combine(sunday, time(0), tzinfo=UTC) - timedelta(hours=2)
        for minute in range(5 * 60):
            now = night + minute * MINUTE
            for claim in tick(service, now):
                claimed_at.setdefault(claim.week, []).append(now)
        sunday += timedelta(days=7)

    # Oracle without zoneinfo: 02:30 CET is 01:30 UTC; 02:30 CEST is 00:30 UTC; the skipped
    # 02:30 of 2026-03-29 fires at 03:30 CEST (01:30 UTC); the repeated one of 2026-10-25 once,
    # on summer time (00:30 UTC).
    def expected(day: date) -> datetime:
        summer = date(2026, 4, 5) <= day <= date(2026, 10, 25)
        return datetime.combine(day, time(0, 30) if summer else time(1, 30), tzinfo=UTC)

    sundays = [date(2026, 3, 15) + n * timedelta(days=7) for n in range(35)]
    assert claimed_at == {
        f"{day.isocalendar().year}-W{day.isocalendar().week:02d}": [expected(day)]
        for day in sundays
    }


# ---- crash in the middle of a fan-out --------------------------------------------------------
def test_crash_during_fan_out_confirms_each_user_exactly_once(
    data_dir: Path, clock: Clock, store_kind: str
) -> None:
    user_ids = [f"fan{n:02d}" for n in range(50)]
    first_repo = open_store(data_dir, store_kind)
    due = max(write_user(first_repo, user_id) for user_id in user_ids)
    confirmed: Counter[str] = Counter()

    first = open_service(first_repo, data_dir, clock)
    due_ids = first.due_users(due)
    assert sorted(due_ids) == user_ids
    claims = [first.claim(user_id, due) for user_id in due_ids[:35]]
    for claim in claims[:20]:
        assert claim is not None
        first.confirm(claim)
        confirmed[claim.user_id] += 1
    done = {claim.user_id for claim in claims[:20] if claim is not None}
    claimed_only = {claim.user_id for claim in claims[20:] if claim is not None}
    # Crash: no release, no confirm; the kernel drops the folder lock with the process.
    del first
    first_repo.close()

    with open_store(data_dir, store_kind) as repo:
        second = open_service(repo, data_dir, clock)
        now = due + 3 * MINUTE
        again = second.due_users(now)
        assert set(again) == set(user_ids) - done
        claims_after = [second.claim(user_id, now) for user_id in again]
        resends = {claim.user_id for claim in claims_after if claim is not None and claim.resend}
        assert resends == claimed_only
        for claim in claims_after:
            assert claim is not None
            assert claim.week == "2026-W48"
            second.confirm(claim)
            confirmed[claim.user_id] += 1
        assert second.due_users(now + timedelta(hours=1)) == []

        assert confirmed == Counter(dict.fromkeys(user_ids, 1))
        for user_id in user_ids:
            document = repo.get(user_id)
            assert document is not None
            assert document["reminder"]["sent_weeks"] == ["2026-W48"]
            assert document["reminder"]["sending"] is None


def test_a_claim_left_by_a_crash_longer_ago_than_grace_is_missed(
    data_dir: Path, clock: Clock, store_kind: str
) -> None:
    with open_store(data_dir, store_kind) as repo:
        due = write_user(repo, "u1")
        assert open_service(repo, data_dir, clock).claim("u1", due) is not None

    with open_store(data_dir, store_kind) as repo:
        second = open_service(repo, data_dir, clock)
        assert claim_due(second, due + timedelta(days=1)) == []
        block = reminder_of(repo, "u1")
        assert (block["sending"], block["missed_weeks"]) == (None, ["2026-W48"])
        assert second.due_users(due + WEEK) == ["u1"]


# ---- the index and bad data --------------------------------------------------------------
def test_a_damaged_index_shard_is_rebuilt_from_the_documents(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1")
    open_service(repo, data_dir, clock)
    (data_dir / "schedule" / f"{shard_of('u1')}.json").write_bytes(b'{"due": {"u1": "20')

    service = open_service(repo, data_dir, clock)

    assert ScheduleIndex(data_dir).is_complete() is True
    assert ScheduleIndex(data_dir).load_all() == {"u1": due}
    assert service.due_users(due) == ["u1"]


REBUILD_WARNING = "is missing or damaged: rebuilding it from the user documents"


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_first_start_on_a_fresh_folder_warns_of_nothing(
    repo: UserRepository, data_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        open_service(repo, data_dir, clock)

    assert warnings_of(caplog) == []
    assert f"starting a new schedule index in {data_dir / 'schedule'}" in caplog.text
    assert ScheduleIndex(data_dir).is_complete() is True
    caplog.clear()
    open_service(repo, data_dir, clock)  # and the second start has its index
    assert warnings_of(caplog) == []


def test_users_without_an_index_are_rebuilt_with_a_warning(
    repo: UserRepository, data_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    due = write_user(repo, "u1")  # stored by an older version, or the index folder was deleted

    service = open_service(repo, data_dir, clock)

    assert [REBUILD_WARNING in w for w in warnings_of(caplog)] == [True]
    assert service.due_users(due) == ["u1"]


def test_a_damaged_index_of_a_folder_without_users_still_warns(
    repo: UserRepository, data_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    open_service(repo, data_dir, clock)
    (data_dir / "schedule" / "00.json").write_bytes(b"{not json")
    caplog.clear()

    open_service(repo, data_dir, clock)

    assert any(REBUILD_WARNING in w for w in warnings_of(caplog))


def test_effective_due_of_a_pending_claim_is_its_claim_instant(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    due = write_user(repo, "u1")
    service = open_service(repo, data_dir, clock)
    service.claim("u1", due + MINUTE)

    assert effective_due(repo.get("u1")) == due + MINUTE


def test_a_malformed_block_is_logged_and_skipped(
    repo: UserRepository, data_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    due = write_user(repo, "u1")
    write_user(repo, "u2")
    service = open_service(repo, data_dir, clock)
    edit_reminder(repo, "u1", zone="Mars/Olympus_Mons")

    assert [claim.user_id for claim in tick(service, due)] == ["u2"]
    assert "malformed reminder block of u1" in caplog.text
