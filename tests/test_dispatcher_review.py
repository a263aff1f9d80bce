"""The twelve-week review offer through the Dispatcher: injected clock, real zoneinfo and files.

It is one more kind of message under the check-in's claim/confirm protocol: offered once per
plan version, held back by quiet hours, caught up after downtime, and never twice across
restarts.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from test_dispatcher import Clock, FakeSender
from test_dispatcher_followup import (
    DAY,
    MINUTE,
    berlin,
    edit,
    kinds,
    make_service,
    run,
    write_user,
)

from bot.core.due_kinds import Kind
from bot.dispatcher import Dispatcher
from storage import TinyDBUserRepository

WEEK = timedelta(weeks=1)


def with_plan(store: TinyDBUserRepository, user_id: str, made_at: Any, version: int = 1) -> None:
    """Give the user a plan of ``version`` made at ``made_at`` (only what the offer reads)."""
    document = store.get(user_id)
    assert document is not None
    document["plan"] = {"kept": []}
    document["plan_info"] = {"version": version, "made_at": made_at.isoformat(), "reason": "first"}
    # Answered every week: no follow-ups in the way of what this test looks at.
    document["checkins"] = [{"week": f"2027-W{n:02d}"} for n in range(1, 53)] + [
        {"week": f"2026-W{n:02d}"} for n in range(1, 54)
    ]
    store.put(user_id, document)


def offers(sent: list[Any]) -> list[Any]:
    return [entry for entry in kinds(sent) if entry[1] is Kind.REVIEW]


async def test_the_review_is_offered_once_twelve_weeks_after_the_plan(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    made = berlin(2026, 9, 1, 10)  # a Tuesday, 10:00
    due = write_user(repo, "a", weekday=0, at="09:00", after=made)
    with_plan(repo, "a", made)
    clock = Clock(made + 12 * WEEK - DAY)
    send = FakeSender()
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    sent = await run(dispatcher, send, clock, made + 16 * WEEK, 30 * MINUTE)

    assert due < made + 12 * WEEK
    assert offers(sent) == [(made + 12 * WEEK, Kind.REVIEW, "2026-W48")]
    document = repo.get("a")
    assert document is not None and document["reminder"]["review_offered"] == 1


async def test_an_offer_due_at_night_waits_for_the_end_of_quiet_hours(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    made = berlin(2026, 9, 1, 22, 30)  # 22:30: inside the default quiet hours 21-08
    write_user(repo, "a", weekday=0, at="09:00", after=made)
    with_plan(repo, "a", made)
    clock = Clock(made + 12 * WEEK - DAY)
    send = FakeSender()
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    sent = await run(dispatcher, send, clock, made + 12 * WEEK + DAY, 15 * MINUTE)

    assert offers(sent) == [(berlin(2026, 11, 25, 8), Kind.REVIEW, "2026-W48")]


async def test_a_new_plan_version_moves_the_offer_twelve_weeks_on(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    made = berlin(2026, 9, 1, 10)
    write_user(repo, "a", weekday=0, at="09:00", after=made)
    with_plan(repo, "a", made)
    clock = Clock(made + 10 * WEEK)
    service = make_service(repo, data_dir, clock)
    send = FakeSender()
    dispatcher = Dispatcher(service, send, clock=clock)
    reviewed = made + 10 * WEEK  # the user ran /review early: version 2
    edit(repo, "a", plan_info={"version": 2, "made_at": reviewed.isoformat(), "reason": "review"})
    service.reschedule("a")

    sent = await run(dispatcher, send, clock, reviewed + 13 * WEEK, 60 * MINUTE)

    assert [at for at, _, _ in offers(sent)] == [reviewed + 12 * WEEK]


async def test_the_offer_is_sent_exactly_once_across_a_crash_and_restarts(data_dir: Path) -> None:
    made = berlin(2026, 9, 1, 10)
    with TinyDBUserRepository(data_dir) as first_repo:
        write_user(first_repo, "a", weekday=0, at="09:00", after=made)
        with_plan(first_repo, "a", made)
        offer_at = made + 12 * WEEK
        clock = Clock(offer_at)
        first = make_service(first_repo, data_dir, clock)
        due = list(first.due_users(offer_at))
        claim = first.claim(due[0], offer_at)
        assert claim is not None and claim.kind is Kind.REVIEW
        del first  # crash after the claim was written, before it was confirmed

    sent_total: list[Any] = []
    for restart in range(3):
        with TinyDBUserRepository(data_dir) as again:
            clock.now = offer_at + (restart + 1) * 5 * MINUTE
            send = FakeSender()
            dispatcher = Dispatcher(make_service(again, data_dir, clock), send, clock=clock)
            sent_total += offers(await run(dispatcher, send, clock, clock.now + DAY, 30 * MINUTE))
            document = again.get("a")
            assert document is not None
            assert document["reminder"]["sending"] is None
            assert document["reminder"]["review_offered"] == 1
    assert [(kind, resent) for _, kind, resent in sent_total] == [(Kind.REVIEW, "2026-W48")]
