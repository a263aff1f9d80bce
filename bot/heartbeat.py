"""The running bot's heartbeat: ``<data-dir>/heartbeat.json``, and how fresh it is.

The bot writes the file when it has started, after every finished dispatcher tick and when it
stops. ``focus-coach health`` and the webhook's ``GET /healthz`` read it; they take no lock (the
running bot holds the data folder's), so every write replaces the whole file atomically (temp
file in the same folder, fsync, ``os.replace``): a reader sees the old file or the new one.

The file is one JSON object::

    {"version": "0.1.0", "pid": 42, "mode": "polling", "tick_seconds": 60.0,
     "started_at": "2026-12-05T07:00:00+00:00", "last_tick_at": "2026-12-05T07:41:00+00:00",
     "stopped_at": null, "tick_started_at": null, "tick_settled": 0, "progress_at": null}

``last_tick_at`` is null until the first tick has finished; ``stopped_at`` is set by a clean
stop. While a tick runs longer than one interval (a fan-out to thousands of users at Telegram's
30 messages a second takes minutes), a pulse each interval adds ``tick_started_at``,
``tick_settled`` (check-ins settled so far) and ``progress_at`` (when the last one settled):
a bot that is still getting through a long tick is alive, one whose tick stopped moving is not.
Other fields (say a ``status`` object with figures) come from the writer's
``extra_fields``; readers ignore what they do not know.

No transport is imported here: the composition root wires it to the dispatcher.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from storage.atomic import TEMP_SUFFIX, read_regular_file, replace_atomically

__all__ = [
    "HEARTBEAT_FILE",
    "MIN_MAX_AGE",
    "MISSED_TICKS",
    "Health",
    "Heartbeat",
    "HeartbeatError",
    "HeartbeatWriter",
    "check_health",
    "default_max_age",
    "read_heartbeat",
]

logger = logging.getLogger(__name__)

HEARTBEAT_FILE: Final = "heartbeat.json"
# Fresh means: a tick finished within MISSED_TICKS intervals, and never less than MIN_MAX_AGE.
# The dispatcher's ticks come on a fixed grid, but one tick may run long (a busy minute sends
# to many users at Telegram's 30 messages a second, and the next tick waits for it), so one
# late tick must not count as a dead bot; three missed ticks in a row do. The floor keeps a
# short tick (a few seconds, as in tests) from flapping on a slow disk or a pause of the
# machine, and matches how often container health checks look (every 30 s or so).
MISSED_TICKS: Final = 3
MIN_MAX_AGE: Final = timedelta(seconds=180)
# The keys the writer owns; extra fields cannot replace them.
_OWN_KEYS: Final = frozenset(
    {
        "version",
        "pid",
        "mode",
        "tick_seconds",
        "started_at",
        "last_tick_at",
        "stopped_at",
        "tick_started_at",
        "tick_settled",
        "progress_at",
    }
)
_MAX_FILE_BYTES: Final = 1_000_000  # a heartbeat is a few hundred bytes; more is not ours


class HeartbeatError(Exception):
    """The heartbeat file exists but cannot be read or is not a heartbeat."""


class _FieldError(Exception):
    """One field of the file is missing or of the wrong kind."""


@dataclass(frozen=True)
class Heartbeat:
    """What the running bot last said about itself."""

    version: str
    pid: int
    mode: str
    tick_seconds: float
    started_at: datetime
    last_tick_at: datetime | None = None
    stopped_at: datetime | None = None
    # Set while a tick runs past an interval (see ``HeartbeatWriter.pulse``).
    tick_started_at: datetime | None = None
    tick_settled: int = 0
    progress_at: datetime | None = None
    # Top-level fields beyond the writer's own (a ``status`` object), as read; never written
    # from here (the writer's ``extra_fields`` are).
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The file's own fields, instants as ISO 8601 in UTC."""
        return {
            "version": self.version,
            "pid": self.pid,
            "mode": self.mode,
            "tick_seconds": self.tick_seconds,
            "started_at": _iso(self.started_at),
            "last_tick_at": _iso(self.last_tick_at),
            "stopped_at": _iso(self.stopped_at),
            "tick_started_at": _iso(self.tick_started_at),
            "tick_settled": self.tick_settled,
            "progress_at": _iso(self.progress_at),
        }


# What a finished tick leaves: no tick running.
_IDLE: Final[Mapping[str, Any]] = {"tick_started_at": None, "tick_settled": 0, "progress_at": None}


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(UTC).isoformat()


class HeartbeatWriter:
    """Writes the heartbeat of this process; thread-safe, best called off the event loop.

    A write that fails (a full disk) is logged once, not raised: the bot goes on, and the
    heartbeat, no longer renewed, turns stale, which is what a health check should see.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        version: str,
        mode: str,
        tick_seconds: float,
        clock: Callable[[], datetime],
        pid: int | None = None,
        extra_fields: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        """Prepare; nothing is written before ``started``.

        ``extra_fields`` is asked at every write for more top-level fields (JSON values).
        """
        self.path = data_dir / HEARTBEAT_FILE
        self._clock = clock
        self._extra_fields = extra_fields
        self._lock = threading.Lock()
        self._failing = False
        self._beat = Heartbeat(
            version=version,
            pid=os.getpid() if pid is None else pid,
            mode=mode,
            tick_seconds=tick_seconds,
            started_at=clock(),
        )

    def report(self, extra_fields: Callable[[], Mapping[str, Any]]) -> None:
        """Ask ``extra_fields`` for more top-level fields at every write from now on."""
        with self._lock:
            self._extra_fields = extra_fields

    @property
    def heartbeat(self) -> Heartbeat:
        """The heartbeat as last written (or about to be)."""
        return self._beat

    def started(self) -> None:
        """Write the first heartbeat: the bot runs from now on."""
        with self._lock:
            # A temp file left by a crash mid-write (the data folder is ours alone now).
            for left in self.path.parent.glob(f".{HEARTBEAT_FILE}.*{TEMP_SUFFIX}"):
                with contextlib.suppress(OSError):
                    left.unlink()
            self._beat = Heartbeat(
                **{**self._fields(), "started_at": self._clock(), "stopped_at": None}
            )
            self._write()

    def ticked(self, at: datetime) -> None:
        """Write that a dispatcher tick finished at ``at`` (no tick is running then)."""
        with self._lock:
            self._beat = Heartbeat(**{**self._fields(), **_IDLE, "last_tick_at": at})
            self._write()

    def pulse(self, started_at: datetime, settled: int, progress_at: datetime | None) -> None:
        """Write that a tick begun at ``started_at`` is still running and how far it got.

        ``progress_at`` is when it last settled a check-in (None: none yet, its start counts).
        """
        with self._lock:
            self._beat = Heartbeat(
                **{
                    **self._fields(),
                    "tick_started_at": started_at,
                    "tick_settled": settled,
                    "progress_at": progress_at or started_at,
                }
            )
            self._write()

    def stopped(self) -> None:
        """Write that the bot stopped cleanly (health reports it as stopped, not stale)."""
        with self._lock:
            self._beat = Heartbeat(**{**self._fields(), "stopped_at": self._clock()})
            self._write()

    def _fields(self) -> dict[str, Any]:
        beat = self._beat
        return {
            "version": beat.version,
            "pid": beat.pid,
            "mode": beat.mode,
            "tick_seconds": beat.tick_seconds,
            "started_at": beat.started_at,
            "last_tick_at": beat.last_tick_at,
            "stopped_at": beat.stopped_at,
            "tick_started_at": beat.tick_started_at,
            "tick_settled": beat.tick_settled,
            "progress_at": beat.progress_at,
        }

    def _write(self) -> None:
        content: dict[str, Any] = {}
        if self._extra_fields is not None:
            try:
                extra = dict(self._extra_fields())
            except Exception:
                logger.exception("the extra heartbeat fields could not be gathered")
                extra = {}
            content.update((k, v) for k, v in extra.items() if k not in _OWN_KEYS)
        content.update(self._beat.to_json())
        try:
            payload = json.dumps(content, ensure_ascii=False, allow_nan=False) + "\n"
            # Readable by a health check running as another user (the file holds no secret).
            replace_atomically(self.path, payload.encode("utf-8"), mode=0o644)
        except (OSError, ValueError, TypeError) as error:
            if not self._failing:
                logger.warning("cannot write the heartbeat %s: %s", self.path, error)
            self._failing = True
            return
        if self._failing:
            logger.info("the heartbeat %s is written again", self.path)
        self._failing = False


def read_heartbeat(data_dir: Path) -> Heartbeat | None:
    """The heartbeat in ``data_dir``, or None if there is none (the bot never started there).

    Raises:
        HeartbeatError: the file cannot be read or does not hold a heartbeat.
    """
    path = data_dir / HEARTBEAT_FILE
    try:
        raw, status = read_regular_file(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise HeartbeatError(f"{path}: {error.strerror or error}") from None
    if status.st_size > _MAX_FILE_BYTES:
        raise HeartbeatError(f"{path}: {status.st_size} bytes, far too big for a heartbeat")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise HeartbeatError(f"{path}: not JSON") from None
    if not isinstance(data, dict):
        raise HeartbeatError(f"{path}: not a JSON object")
    try:
        return Heartbeat(
            version=_text(data, "version"),
            pid=_whole_number(data, "pid"),
            mode=_text(data, "mode"),
            tick_seconds=_positive_number(data, "tick_seconds"),
            started_at=_instant(data, "started_at"),
            last_tick_at=_instant_or_none(data, "last_tick_at"),
            stopped_at=_instant_or_none(data, "stopped_at"),
            # Files written before the pulse existed lack these three: no tick running.
            tick_started_at=_instant_or_none(data, "tick_started_at"),
            tick_settled=_whole_number(data, "tick_settled") if "tick_settled" in data else 0,
            progress_at=_instant_or_none(data, "progress_at"),
            extra={k: v for k, v in data.items() if k not in _OWN_KEYS},
        )
    except _FieldError as error:
        raise HeartbeatError(f"{path}: {error}") from None


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise _FieldError(f"{key} is missing or not text")
    return value


def _whole_number(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _FieldError(f"{key} is missing or not a whole number")
    return value


def _positive_number(data: Mapping[str, Any], key: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _FieldError(f"{key} is missing or not a number")
    if not math.isfinite(value) or value <= 0:
        raise _FieldError(f"{key} must be above 0")
    return float(value)


def _instant(data: Mapping[str, Any], key: str) -> datetime:
    value = _instant_or_none(data, key)
    if value is None:
        raise _FieldError(f"{key} is missing")
    return value


def _instant_or_none(data: Mapping[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        instant = None
    if instant is None:
        raise _FieldError(f"{key} is not an ISO 8601 instant")
    if instant.tzinfo is None:
        raise _FieldError(f"{key} has no UTC offset")
    return instant.astimezone(UTC)


def default_max_age(tick_seconds: float) -> timedelta:
    """How old the last tick may be: MISSED_TICKS intervals, at least MIN_MAX_AGE."""
    return max(MIN_MAX_AGE, timedelta(seconds=MISSED_TICKS * tick_seconds))


@dataclass(frozen=True)
class Health:
    """Whether the bot in a data folder is alive, and one line that says why."""

    healthy: bool
    line: str


def check_health(data_dir: Path, *, now: datetime, max_age: timedelta | None = None) -> Health:
    """Judge the heartbeat in ``data_dir`` at ``now``; ``max_age`` overrides the default.

    The process id is reported, not checked: the health check may run in another container
    or on another host that shares the folder, where the id means nothing.
    """
    try:
        beat = read_heartbeat(data_dir)
    except HeartbeatError as error:
        return Health(healthy=False, line=f"unreadable heartbeat: {error}")
    if beat is None:
        return Health(
            healthy=False, line=f"no heartbeat in {data_dir}: the bot has not started there"
        )
    limit = default_max_age(beat.tick_seconds) if max_age is None else max_age
    return _judge(beat, now, limit)


def _judge(beat: Heartbeat, now: datetime, limit: timedelta) -> Health:
    who = f"pid {beat.pid}, focus-coach {beat.version}"
    if beat.stopped_at is not None:
        return Health(
            healthy=False,
            line=f"stopped: the bot stopped {_age(now, beat.stopped_at)} ago ({who})",
        )
    running = _long_tick(beat, now, limit, who)
    if beat.last_tick_at is None:
        # Started, the first tick (the catch-up after downtime) not finished yet.
        since = _age(now, beat.started_at)
        if now - beat.started_at <= limit:
            return Health(
                healthy=True, line=f"ok: started {since} ago, first tick running ({who})"
            )
        return running or Health(
            healthy=False, line=f"stale: started {since} ago, no tick finished ({who})"
        )
    age = _age(now, beat.last_tick_at)
    if now - beat.last_tick_at <= limit:
        return Health(healthy=True, line=f"ok: last tick {age} ago ({who})")
    return running or Health(
        healthy=False,
        line=f"stale: last tick {age} ago, more than {_duration(limit)} ({who})",
    )


def _long_tick(beat: Heartbeat, now: datetime, limit: timedelta, who: str) -> Health | None:
    """The verdict on a tick that has run past ``limit``; None when no tick is running.

    Healthy while it keeps settling check-ins (the last within ``limit``): a long fan-out is
    work, not a hang. One that settled nothing for ``limit`` is stuck.
    """
    if beat.tick_started_at is None or beat.progress_at is None:
        return None
    running = _age(now, beat.tick_started_at)
    settled = f"{beat.tick_settled:,} check-ins settled"
    quiet = _age(now, beat.progress_at)
    if now - beat.progress_at <= limit:
        return Health(
            healthy=True,
            line=f"ok: a tick has been sending for {running}, {settled}, the last {quiet} ago "
            f"({who})",
        )
    return Health(
        healthy=False,
        line=f"stuck: a tick has run for {running} and settled nothing for {quiet}, more than "
        f"{_duration(limit)} ({settled}; {who})",
    )


def _age(now: datetime, then: datetime) -> str:
    # A clock set back a little makes an instant look future; that is "just now", not news.
    return _duration(max(timedelta(0), now - then))


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 120 * 60:
        return f"{seconds // 60} min"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
