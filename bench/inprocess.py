"""Measurements inside this process: the dialogue step and the dispatcher tick.

The dialogue step is ``DialogueEngine.handle`` wired as in ``focus-coach run`` (the file
repository read through the journal of sent check-ins, the ReminderService as the engine's
reminder hooks and its claims composed by the engine), on the real files with fsync:
a sampled user starts the weekly check-in (``/checkin``), ticks a channel on its grid and cancels
(``/cancel``). Each of the three calls loads the user's document, changes it and writes it back
atomically (temp file, fsync, rename, fsync of the folder).

The tick is ``Dispatcher.tick`` over a ``ReminderService`` loaded from the schedule index, wired
the same way: each claim composes the reminder in its one document write, each confirm is a
journal record (one fsync per batch).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.core.callbacks import Action, decode
from bot.core.checker import load_content
from bot.core.checkin_claims import Claim, ReminderService
from bot.core.content import DEFAULT_PROMPTS_DIR, Content
from bot.core.engine import DialogueEngine
from bot.core.messages import ButtonPress, Command, Reply, ReplyKind
from bot.core.sent_records import SentRecords, journaled
from bot.dispatcher import Dispatcher, SendResult
from storage import ScheduleIndex, TinyDBUserRepository

__all__ = ["DueTick", "StepResult", "measure_due_tick", "measure_steps_and_idle_tick"]

_WARM_UP_USERS = 20
_IDLE_TICKS = 2_000


@dataclass(frozen=True)
class StepResult:
    """Dialogue steps and idle ticks at one folder size."""

    step_seconds: list[float]
    load_seconds: float
    """``ReminderService.load`` (the schedule index into memory)."""
    idle_tick_seconds: list[float]


@dataclass(frozen=True)
class DueTick:
    """One tick that found every user of a folder due in the same minute."""

    users: int
    select_seconds: float
    """``due_users`` alone: picking the due users from the in-memory heap."""
    tick_seconds: float
    """The whole tick: claim (durable), stubbed send, confirm (durable) for every user."""
    claimed: int
    confirmed_on_disk: int


def _grid_toggle(replies: list[Reply]) -> str:
    """Data of the first channel button of the check-in grid."""
    for reply in replies:
        if reply.kind is not ReplyKind.QUESTION:
            continue
        for row in reply.buttons:
            for button in row:
                token = decode(button.data)
                if token is not None and token.action is Action.TOGGLE:
                    return button.data
    raise RuntimeError("the check-in did not start with a channel grid")


@functools.cache
def _content() -> Content:
    """The shipped flows and templates, validated once per process (about a second)."""
    return load_content(DEFAULT_PROMPTS_DIR)


def measure_steps_and_idle_tick(
    data_dir: Path, user_ids: list[str], samples: int, *, seed: int = 7
) -> StepResult:
    """Time ``samples`` dialogue steps (three per sampled user) and idle dispatcher ticks."""
    content = _content()

    def clock() -> datetime:
        return datetime.now(UTC)

    stored = TinyDBUserRepository(data_dir)
    try:
        _, service, engine = _wired(stored, content, clock)
        started = time.perf_counter()
        service.load()
        load_seconds = time.perf_counter() - started
        rng = random.Random(seed)
        users = rng.sample(user_ids, min(len(user_ids), _WARM_UP_USERS + -(-samples // 3)))
        steps: list[float] = []
        gc.collect()
        for number, user_id in enumerate(users):
            timings = _one_checkin_round(engine, user_id)
            if number >= _WARM_UP_USERS:
                steps.extend(timings)
        idle = asyncio.run(_idle_ticks(service, clock))
        return StepResult(steps[:samples], load_seconds, idle)
    finally:
        stored.close()


def _wired(
    stored: TinyDBUserRepository, content: Content, clock: Callable[[], datetime]
) -> tuple[SentRecords, ReminderService, DialogueEngine]:
    """The store, service and engine as ``focus-coach run`` wires them: with the sent journal."""
    sent = journaled(stored)
    service = ReminderService(sent, ScheduleIndex(stored.data_dir), clock=clock, sent=sent)
    engine = DialogueEngine(content, sent, clock=clock, reminders=service)
    service.compose_with(engine.compose_reminder)
    return sent, service, engine


def _one_checkin_round(engine: DialogueEngine, user_id: str) -> list[float]:
    """/checkin, tick one channel, /cancel: three saved steps, each timed."""
    timings: list[float] = []
    started = time.perf_counter()
    replies = engine.handle(user_id, Command("checkin"))
    timings.append(time.perf_counter() - started)
    data = _grid_toggle(replies)
    started = time.perf_counter()
    engine.handle(user_id, ButtonPress(data))
    timings.append(time.perf_counter() - started)
    started = time.perf_counter()
    engine.handle(user_id, Command("cancel"))
    timings.append(time.perf_counter() - started)
    return timings


async def _never_send(claim: Claim) -> SendResult:
    raise AssertionError(f"nobody should be due, but {claim.user_id} was claimed")


async def _idle_ticks(service: ReminderService, clock: object) -> list[float]:
    dispatcher = Dispatcher(service, _never_send, clock=clock)  # type: ignore[arg-type]
    durations: list[float] = []
    for _ in range(_IDLE_TICKS):
        started = time.perf_counter()
        await dispatcher.tick()
        durations.append(time.perf_counter() - started)
    return durations


async def _sent(claim: Claim) -> SendResult:
    """A sender that succeeds at once: the tick's own cost, without the network."""
    return SendResult.SENT


def measure_due_tick(data_dir: Path, user_ids: list[str], now: datetime) -> DueTick:
    """One tick at ``now`` over a folder where every user is due; check each was recorded once."""

    def clock() -> datetime:
        return now

    stored = TinyDBUserRepository(data_dir)
    try:
        repository, service, _ = _wired(stored, _content(), clock)
        service.load()
        started = time.perf_counter()
        selected = service.due_users(now)
        select_seconds = time.perf_counter() - started
        for user_id in selected:
            service.abandon(user_id)
        claims: list[Claim] = []

        async def counting_sender(claim: Claim) -> SendResult:
            claims.append(claim)
            return await _sent(claim)

        async def one_tick() -> float:
            dispatcher = Dispatcher(service, counting_sender, clock=clock)
            begun = time.perf_counter()
            await dispatcher.tick()
            return time.perf_counter() - begun

        tick_seconds = asyncio.run(one_tick())
        week_of = {claim.user_id: claim.week for claim in claims}
        confirmed = 0
        for user_id in user_ids:
            document = repository.get(user_id) or {}
            reminder = document.get("reminder") or {}
            week = week_of.get(user_id)
            if reminder.get("sending") is None and week in (reminder.get("sent_weeks") or []):
                confirmed += 1
        # Untimed: the journal written through, so the cached folder holds whole documents.
        repository.compact(service.user_lock)
        return DueTick(len(user_ids), select_seconds, tick_seconds, len(claims), confirmed)
    finally:
        stored.close()
