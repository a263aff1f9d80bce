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
    "HEARTBEAT_STATUS_KEY",
    "STATUS_COMMAND",
    "STATUS_TEMPLATE",
    "OfflineStatus",
    "OperatorAccess",
    "OperatorView",
    "StatusFigures",
    "heartbeat_status",
    "read_offline_status",
    "sample_status_context",
    "status_context",
]

STATUS_COMMAND: Final = "status"  # in no menu and no /help: only operators know it
STATUS_TEMPLATE: Final = "operator/status"
DUE_AHEAD: Final = timedelta(hours=1)
HEARTBEAT_STATUS_KEY: Final = "status"  # the figures' key in heartbeat.json


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


def heartbeat_status(
    recorder: OperationsRecorder, reminders: ReminderService | None, queue: Callable[[], int]
) -> dict[str, Any]:
    """The figures that are cheap at any size, for ``heartbeat.json`` (JSON values only).

    ``focus-coach health --details`` reads them while the bot runs (it holds the folder's
    lock, so no offline command can open the store). The user counts are left out: they
    list the stored users (about 0.3 s at 100,000), too much for every tick.
    """
    operations = recorder.snapshot()
    due = None
    if reminders is not None:
        due = reminders.due_before(operations.taken_at + DUE_AHEAD)
    return {
        "taken_at": operations.taken_at.astimezone(UTC).isoformat(),
        "due_next_hour": due,
        "queue": queue(),
        "last_24h": {event.value: operations.last_24h[event] for event in Event},
    }


@dataclass(frozen=True)
class OfflineStatus:
    """The figures ``heartbeat_status`` wrote, read back; a figure the file lacks is None."""

    taken_at: datetime
    due_next_hour: int | None
    queue: int | None
    last_24h: dict[Event, int | None]


def read_offline_status(value: object) -> OfflineStatus | None:
    """The ``status`` object of a heartbeat file, or None if it is missing or not one.

    Tolerant: the file comes from another process, maybe another release; a figure of the
    wrong kind is left out rather than failing the health check.
    """
    if not isinstance(value, dict):
        return None
    try:
        taken_at = datetime.fromisoformat(value["taken_at"])
    except (KeyError, TypeError, ValueError):
        return None
    if taken_at.tzinfo is None:
        return None
    counts = value.get("last_24h")
    counts = counts if isinstance(counts, dict) else {}
    return OfflineStatus(
        taken_at=taken_at.astimezone(UTC),
        due_next_hour=_count(value.get("due_next_hour")),
        queue=_count(value.get("queue")),
        last_24h={event: _count(counts.get(event.value)) for event in Event},
    )


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value
