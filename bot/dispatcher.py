"""The asyncio side of weekly check-ins: one APScheduler job that ticks the ReminderService.

One interval job for all users, not one cron job per user (design.md, section 4: 100,000 cron
jobs cost 17-40 s and 350 MB, missed check-ins with the default misfire grace time and fired
twice on a DST night). Each tick asks the service who is due, claims them in worker threads, a
batch per call (each claim is one durable write that also composes the message), hands each
claim to ``send`` (at most ``max_in_flight`` at once, the real sender rate-limits) and records
the result: sent claims are confirmed together (with the journal of sent check-ins, one fsync per
batch), and after the tick, sent records an hour old are written into their documents in the
background. The service's in-flight set makes
overlapping ticks harmless; ``max_instances=1`` makes them rare. ``last_tick_at`` and the
``on_tick`` callback tell the composition root (the heartbeat) of each finished tick.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.checkin_claims import Claim, Delivered, ReminderService
from bot.core.operations import Event, OperationsRecorder

__all__ = [
    "JOB_ID",
    "Dispatcher",
    "SendResult",
    "Sender",
    "Sent",
    "TickListener",
    "TickProgress",
]

logger = logging.getLogger(__name__)

JOB_ID: Final = "weekly-check-ins"
DEFAULT_MAX_IN_FLIGHT: Final = 64
# Due users claimed per worker-thread call, and sent claims confirmed per call (one journal
# fsync): a thread hand-off costs about as much CPU as the claim's own bookkeeping.
CLAIM_BATCH: Final = 16
CONFIRM_BATCH: Final = 256
# Users whose sent records are written into their documents per worker-thread call.
COMPACT_BATCH: Final = 256


class SendResult(enum.Enum):
    """What happened to one check-in message."""

    SENT = "sent"
    BLOCKED = "blocked"  # Telegram 403: the user blocked the bot
    FAILED = "failed"  # gave up after the sender's own retries


@dataclass(frozen=True)
class Sent:
    """The message went out, and the buttons live since are on ``live_message``."""

    live_message: int | None


Sender = Callable[[Claim], Awaitable[SendResult | Sent]]


@dataclass(frozen=True)
class TickProgress:
    """A tick still running: since when, and how many check-ins it has settled (last when)."""

    started_at: datetime
    settled: int
    last_settled_at: datetime | None


TickListener = Callable[[datetime], Awaitable[None]]


class Dispatcher:
    """Ticks ``service`` every ``interval`` seconds and sends what it claims through ``send``."""

    def __init__(
        self,
        service: ReminderService,
        send: Sender,
        *,
        clock: Callable[[], datetime],
        interval: float = 60.0,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        on_tick: TickListener | None = None,
        recorder: OperationsRecorder | None = None,
    ) -> None:
        """Prepare; nothing runs before ``start``.

        ``on_tick`` is awaited with the end (UTC) of every tick that finished without an error;
        what it raises is logged, never passed on to the tick. ``recorder`` counts delivered
        check-ins.
        """
        if interval <= 0 or max_in_flight < 1:
            raise ValueError("interval must be positive and max_in_flight at least 1")
        self._service = service
        self._send = send
        self._clock = clock
        self._interval = interval
        self._slots = asyncio.Semaphore(max_in_flight)
        self._ticks: set[asyncio.Task[object]] = set()
        self._sends: set[asyncio.Task[None]] = set()
        # Sent claims waiting for their journal record, and the task writing them in batches.
        self._confirms: list[tuple[Delivered, asyncio.Future[None]]] = []
        self._confirming: asyncio.Task[None] | None = None
        self._compacting: asyncio.Task[None] | None = None
        self._stopping = False
        self._scheduler: AsyncIOScheduler | None = None
        self._on_tick = on_tick
        self._recorder = recorder
        self._last_tick_at: datetime | None = None
        # A tick in progress and what it has settled so far (for the heartbeat's pulse).
        self._running_ticks = 0
        self._tick_started_at: datetime | None = None
        self._settled_in_tick = 0
        self._last_settled_at: datetime | None = None

    @property
    def last_tick_at(self) -> datetime | None:
        """The end (UTC) of the last tick that finished without an error; None before."""
        return self._last_tick_at

    @property
    def progress(self) -> TickProgress | None:
        """The tick running now and what it has settled so far; None between ticks."""
        if self._tick_started_at is None:
            return None
        return TickProgress(
            started_at=self._tick_started_at,
            settled=self._settled_in_tick,
            last_settled_at=self._last_settled_at,
        )

    @property
    def scheduler(self) -> AsyncIOScheduler | None:
        """The running APScheduler, if started."""
        return self._scheduler

    @property
    def in_flight(self) -> int:
        """Check-ins being claimed, sent or recorded right now (at most ``max_in_flight``)."""
        return len(self._sends)

    def start(self) -> None:
        """Tick at once (catch-up after downtime), then every interval; needs a running loop.

        The interval ticks fall on a fixed grid (whole minutes for the default 60 s), because
        check-ins are due at whole minutes: a tick at 09:00:00 finds the 09:00 check-ins at
        once, where a grid set by the start time would find them up to an interval late.
        """
        if self._scheduler is not None or self._stopping:
            raise RuntimeError("the dispatcher can be started only once")
        # APScheduler times its jobs by the real clock, whatever the injected one says.
        now = datetime.now(UTC)
        grid = datetime.fromtimestamp(
            math.floor(now.timestamp() / self._interval) * self._interval, UTC
        )
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self._interval, start_date=grid, timezone=UTC),
            id=JOB_ID,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,  # a late tick still runs: nothing is ever skipped
        )
        scheduler.start()
        self._scheduler = scheduler
        # The catch-up runs off the grid (a job's first run would move its grid to now).
        catch_up = asyncio.get_running_loop().create_task(self.tick())
        self._ticks.add(catch_up)
        catch_up.add_done_callback(self._ticks.discard)

    async def shutdown(self) -> None:
        """Stop ticking and wait for the sends in flight (claims not yet made are given back)."""
        self._stopping = True
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.pause()
        while pending := self._ticks | self._sends | self._helpers():
            await asyncio.wait(pending)
        if scheduler is not None:
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # its shutdown runs as a loop callback: let it happen

    async def tick(self) -> None:
        """Claim and send every due check-in; returns when they are all settled."""
        task = asyncio.current_task()
        if task is not None:
            self._ticks.add(task)
        self._begin_tick()
        try:
            await self._run_tick()
        finally:
            self._end_tick()
            if task is not None:
                self._ticks.discard(task)

    def _begin_tick(self) -> None:
        self._running_ticks += 1
        if self._tick_started_at is None:
            self._tick_started_at = self._clock().astimezone(UTC)
            self._settled_in_tick = 0
            self._last_settled_at = None

    def _end_tick(self) -> None:
        self._running_ticks -= 1
        if self._running_ticks == 0:
            self._tick_started_at = None

    async def _run_tick(self) -> None:
        """Hand every due check-in to ``_deliver`` and wait until they are all settled."""
        user_ids = self._service.due_users(self._clock())
        handed = 0
        mine: list[asyncio.Task[None]] = []
        if user_ids:
            # The confirms' later hints go to the index in one batch when the tick ends.
            self._service.hold_hints()
        try:
            while handed < len(user_ids) and not self._stopping:
                batch = await self._take_slots(user_ids[handed : handed + CLAIM_BATCH])
                if not batch:
                    break
                handed += len(batch)
                mine.extend(await self._claim_and_send(batch))
            if mine:
                # asyncio.wait, not gather: cancelling this tick must not cancel the sends.
                await asyncio.wait(mine)
        finally:
            for user_id in user_ids[handed:]:
                self._service.abandon(user_id)
            if user_ids:
                await asyncio.to_thread(self._service.release_hints)
        self._compact_in_background()
        # Still one of the ticks that shutdown waits for: the heartbeat is written first.
        await self._finished_tick()

    async def _take_slots(self, user_ids: list[str]) -> list[str]:
        """Wait for one of the ``max_in_flight`` slots, take the free ones too; their users.

        Never waits for a second slot: the batch is what is free now, so a small
        ``max_in_flight`` (or a busy moment) makes smaller batches, never a stall.
        """
        taken: list[str] = []
        for user_id in user_ids:
            if taken and self._slots.locked():
                break
            await self._slots.acquire()
            if self._stopping:
                self._slots.release()
                break
            taken.append(user_id)
        return taken

    async def _claim_and_send(self, user_ids: list[str]) -> list[asyncio.Task[None]]:
        """Claim ``user_ids`` in one worker-thread call; start a send for each claim made."""
        try:
            claims = await asyncio.to_thread(self._service.claim_many, user_ids, self._clock())
        except BaseException:
            for _ in user_ids:
                self._settled()
            raise
        sends: list[asyncio.Task[None]] = []
        for claim in claims:
            if claim is None:
                self._settled()
                continue
            send = asyncio.create_task(self._deliver(claim))
            self._sends.add(send)
            send.add_done_callback(self._sends.discard)
            sends.append(send)
        return sends

    async def _finished_tick(self) -> None:
        """Note the end of a tick and tell ``on_tick``."""
        finished = self._clock().astimezone(UTC)
        self._last_tick_at = finished
        if self._on_tick is None:
            return
        try:
            await self._on_tick(finished)
        except Exception:
            logger.exception("the listener of finished ticks failed")

    async def _deliver(self, claim: Claim) -> None:
        """Send and record one claimed check-in; holds one of the ``max_in_flight`` slots."""
        user_id = claim.user_id
        try:
            try:
                outcome = await self._send(claim)
            except Exception:
                logger.exception("sending the check-in of %s failed", user_id)
                outcome = SendResult.FAILED
            if isinstance(outcome, Sent):
                result, live = SendResult.SENT, outcome.live_message
            else:
                result, live = outcome, claim.live_message
            self._count(result)
            if result is SendResult.SENT:
                await self._confirm(Delivered(claim, live))
            elif result is SendResult.BLOCKED:
                logger.info("%s blocked the bot: no more check-ins", user_id)
                await asyncio.to_thread(self._service.mark_inactive, user_id)
            else:
                await asyncio.to_thread(self._service.release, claim)
        except Exception:
            logger.exception("the check-in of %s could not be recorded", user_id)
        finally:
            self._settled()

    def _settled(self) -> None:
        """One due user is done with: its slot is free, the tick's progress counts it."""
        self._slots.release()
        self._settled_in_tick += 1
        self._last_settled_at = self._clock().astimezone(UTC)

    async def _confirm(self, delivered: Delivered) -> None:
        """Confirm a sent claim together with the others sent meanwhile; returns when done."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._confirms.append((delivered, done))
        if self._confirming is None or self._confirming.done():
            self._confirming = asyncio.create_task(self._confirm_batches())
        await done

    async def _confirm_batches(self) -> None:
        """Confirm what is waiting, a batch per worker-thread call, until nothing waits."""
        while self._confirms:
            batch = self._confirms[:CONFIRM_BATCH]
            del self._confirms[:CONFIRM_BATCH]
            try:
                await asyncio.to_thread(self._service.confirm_many, [item for item, _ in batch])
            except Exception as error:
                for _, done in batch:
                    done.set_exception(error)
            else:
                for _, done in batch:
                    done.set_result(None)

    def _compact_in_background(self) -> None:
        """Write old sent records into their documents, off the tick (one task at a time)."""
        if self._stopping or not self._service.sent_waiting():
            return
        if self._compacting is not None and not self._compacting.done():
            return
        self._compacting = asyncio.get_running_loop().create_task(self._compact())

    async def _compact(self) -> None:
        """Batch after batch until nothing old waits; a stop waits for one batch at most."""
        try:
            while True:
                waiting = await asyncio.to_thread(
                    self._service.compact_sent, self._clock(), limit=COMPACT_BATCH
                )
                if waiting == 0 or self._stopping:
                    return
        except Exception:
            logger.exception("writing sent check-ins into their documents failed")

    def _helpers(self) -> set[asyncio.Task[None]]:
        """The confirming and compacting tasks still running (shutdown waits for them)."""
        return {
            task
            for task in (self._confirming, self._compacting)
            if task is not None and not task.done()
        }

    def _count(self, result: SendResult) -> None:
        """Count a delivered or failed check-in (a blocked user is counted among the users)."""
        if self._recorder is None or result is SendResult.BLOCKED:
            return
        sent = result is SendResult.SENT
        self._recorder.record(Event.CHECKIN_SENT if sent else Event.CHECKIN_FAILED)
