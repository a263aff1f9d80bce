"""The operator's view of the running bot: what /status shows and the metrics endpoint exports.

``OperatorView.figures`` gathers every figure at once (blocking, about 0.3 s at 100,000 users for
listing the user files: run it in a worker thread); ``status_context`` turns them into what the
template ``operator/status`` reads. Nothing here is computed on a dialogue step: the counters
are kept where their events happen (``operations``, ``user_standings``), the due figure comes
from the reminder service's hints in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from bot.core.checkin_claims import ReminderService
from bot.core.operations import Event, OperationsRecorder, OperationsSnapshot
from bot.core.user_standings import StandingsRepository, UserCounts

__all__ = [
    "DUE_AHEAD",
    "STATUS_COMMAND",
    "STATUS_TEMPLATE",
    "OperatorAccess",
    "OperatorView",
    "StatusFigures",
    "sample_status_context",
    "status_context",
]

STATUS_COMMAND: Final = "status"  # in no menu and no /help: only operators know it
STATUS_TEMPLATE: Final = "operator/status"
DUE_AHEAD: Final = timedelta(hours=1)


@dataclass(frozen=True)
class StatusFigures:
    """Every figure of the operator's view at ``operations.taken_at``."""

    version: str
    operations: OperationsSnapshot
    users: UserCounts | None  # None while the start-up count is still running
    due_next_hour: int | None  # None when this process sends no check-ins
    last_tick_at: datetime | None
    queue: int

    @property
    def taken_at(self) -> datetime:
        """When the figures were gathered."""
        return self.operations.taken_at


class OperatorView:
    """Gathers the figures from the parts the composition root hands in."""

    def __init__(
        self,
        *,
        version: str,
        recorder: OperationsRecorder,
        repository: StandingsRepository,
        reminders: ReminderService | None,
        last_tick: Callable[[], datetime | None],
        queue: Callable[[], int],
    ) -> None:
        self.version = version
        self.recorder = recorder
        self.repository = repository
        self.reminders = reminders
        self.last_tick = last_tick
        self.queue = queue

    def figures(self) -> StatusFigures:
        """Every figure now (blocking: lists the stored users)."""
        operations = self.recorder.snapshot()
        now = operations.taken_at
        due = None
        if self.reminders is not None:
            due = self.reminders.due_before(now + DUE_AHEAD)
        return StatusFigures(
            version=self.version,
            operations=operations,
            users=self.repository.counts(now),
            due_next_hour=due,
            last_tick_at=self.last_tick(),
            queue=self.queue(),
        )


@dataclass(frozen=True)
class OperatorAccess:
    """Who may see the operator's view (numeric user ids of the transport), and the view."""

    admins: frozenset[int]
    view: OperatorView

    def allows(self, user_id: int) -> bool:
        """Whether ``user_id`` is an operator; everyone else is told no such command exists."""
        return user_id in self.admins


def _duration(span: timedelta) -> dict[str, int]:
    """Whole days, hours, minutes and seconds of ``span`` (negative counts as zero)."""
    seconds = max(0, int(span.total_seconds()))
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    return {"days": days, "hours": hour, "minutes": minute, "seconds": second}


def status_context(figures: StatusFigures) -> dict[str, Any]:
    """What ``operator/status`` reads: plain numbers and durations, formatted by the template."""
    operations = figures.operations
    last = operations.last_24h
    users = figures.users
    tick = figures.last_tick_at
    return {
        "version": figures.version,
        "uptime": _duration(operations.uptime),
        "users": None
        if users is None
        else {
            "active": users.active,
            "paused": users.paused,
            "blocked": users.blocked,
            "total": users.total,
        },
        "due_next_hour": figures.due_next_hour,
        "last_tick": None if tick is None else _duration(figures.taken_at - tick),
        "sends": last[Event.SENT],
        "retries": last[Event.RETRIED],
        "rate_limited": last[Event.RATE_LIMITED],
        "failures": last[Event.FAILED],
        "checkins_sent": last[Event.CHECKIN_SENT],
        "checkins_failed": last[Event.CHECKIN_FAILED],
        "queue": figures.queue,
    }


def sample_status_context() -> dict[str, Any]:
    """A status with every part shown, for ``focus-coach check`` to render the templates."""
    started = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    now = started + timedelta(days=4, hours=3, minutes=7, seconds=9)
    counted = dict.fromkeys(Event, 1234)
    figures = StatusFigures(
        version="1.0.0",
        operations=OperationsSnapshot(started, now, counted, counted),
        users=UserCounts(active=98_000, paused=1_500, blocked=500),
        due_next_hour=1_666,
        last_tick_at=now - timedelta(seconds=12),
        queue=3,
    )
    return status_context(figures)
