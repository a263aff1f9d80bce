"""Which users blocked the bot and which paused their check-ins: the operator's user figures.

Reading every document for /status would cost about half a minute at 100,000 users, so the
figures are kept instead: ``StandingsRepository`` wraps the repository and notes each document
written (one dictionary lookup per put, whatever the number of users), and one scan at start-up
(``seed``, in a worker thread) reads what was stored before. Only the rare states are kept in
memory (blocked users and pauses); everyone else stored counts as active, and the number
stored comes from listing the user files when the figures are asked for.

A pause ends at local midnight of its ``paused_until`` day (``checkin_schedule.pause_end``)
without any write, so a pause is kept with its end and counted only while it lasts.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from re import Pattern
from typing import Any, Final, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.checkin_schedule import ACTIVE, REMINDER
from storage.repository import UserRepository, recent_reader

__all__ = [
    "STANDING_PATTERN",
    "StandingsRepository",
    "UserCounts",
    "UserStandings",
    "standing_of",
]

logger = logging.getLogger(__name__)

# Every file of a blocked or paused user matches (compact JSON or not); a few others may too,
# and are told apart by ``standing_of`` after parsing. Inside a JSON string a quote is always
# escaped, so a user's free text cannot make a match on its own.
STANDING_PATTERN: Final = re.compile(rb'"active"\s*:\s*false|"paused_until"\s*:\s*"')
_BLOCKED: Final = "blocked"


@runtime_checkable
class _Scannable(Protocol):
    def documents_matching(
        self, pattern: Pattern[bytes], *, stop: threading.Event | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]: ...


@dataclass(frozen=True)
class UserCounts:
    """Stored users by standing; every user is in exactly one."""

    active: int
    paused: int
    blocked: int

    @property
    def total(self) -> int:
        """Every stored user."""
        return self.active + self.paused + self.blocked


def standing_of(document: dict[str, Any] | None) -> str | datetime | None:
    """``"blocked"``, the instant a pause ends (UTC), or None (active, or no document).

    Read tolerantly: a malformed reminder block or zone counts as no pause.
    """
    if document is None:
        return None
    if document.get(ACTIVE, True) is False:
        return _BLOCKED
    block = document.get(REMINDER)
    if not isinstance(block, dict):
        return None
    paused, zone = block.get("paused_until"), block.get("zone")
    if not isinstance(paused, str) or not isinstance(zone, str):
        return None
    try:
        day = date.fromisoformat(paused)
        return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    except (ValueError, ZoneInfoNotFoundError):
        return None


class UserStandings:
    """The blocked users and the pauses, kept by ``note`` and filled once by ``seed``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._blocked: set[str] = set()
        self._paused: dict[str, datetime] = {}
        self._seeded = False
        self._noted_while_seeding: set[str] | None = None

    @property
    def seeded(self) -> bool:
        """Whether the start-up scan has finished (before it, the counts are unknown)."""
        return self._seeded

    def note(self, user_id: str, document: dict[str, Any] | None) -> None:
        """The user's document was stored as ``document`` (None: deleted)."""
        standing = standing_of(document)
        with self._lock:
            self._set(user_id, standing)
            if self._noted_while_seeding is not None:
                self._noted_while_seeding.add(user_id)

    def seed(self, repository: UserRepository, *, stop: threading.Event | None = None) -> None:
        """Read the standings of every stored user once (blocking: run it in a worker thread).

        A write noted meanwhile wins over what the scan read earlier of the same user. ``stop``
        ends the scan early (the bot is stopping); the counts stay unknown then.
        """
        with self._lock:
            self._noted_while_seeding = set()
        found: dict[str, str | datetime] = {}
        complete = False
        try:
            for user_id, document in _candidates(repository, stop):
                standing = standing_of(document)
                if standing is not None:
                    found[user_id] = standing
            complete = stop is None or not stop.is_set()
        finally:
            with self._lock:
                noted, self._noted_while_seeding = self._noted_while_seeding or set(), None
                for user_id, standing in found.items():
                    if user_id not in noted:
                        self._set(user_id, standing)
        self._seeded = complete

    def counts(self, stored: int, now: datetime) -> UserCounts | None:
        """Users by standing among ``stored`` users at ``now``; None until ``seed`` has run."""
        if not self._seeded:
            return None
        with self._lock:
            blocked = len(self._blocked)
            paused = sum(1 for ends in self._paused.values() if ends > now)
        return UserCounts(active=max(0, stored - blocked - paused), paused=paused, blocked=blocked)

    def _set(self, user_id: str, standing: str | datetime | None) -> None:
        """Record one user's standing (caller holds the lock)."""
        self._blocked.discard(user_id)
        self._paused.pop(user_id, None)
        if standing == _BLOCKED:
            self._blocked.add(user_id)
        elif isinstance(standing, datetime):
            self._paused[user_id] = standing


def _candidates(
    repository: UserRepository, stop: threading.Event | None
) -> Iterable[tuple[str, dict[str, Any]]]:
    """Documents that may be blocked or paused: pre-selected by the repository if it can."""
    if isinstance(repository, _Scannable):
        yield from repository.documents_matching(STANDING_PATTERN, stop=stop)
        return
    for user_id in repository.user_ids():
        if stop is not None and stop.is_set():
            return
        try:
            document = repository.get(user_id)
        except Exception:  # a count skips what it cannot read
            logger.debug("%s skipped in a scan", user_id, exc_info=True)
            continue
        if document is not None:
            yield user_id, document


class StandingsRepository:
    """A ``UserRepository`` that tells ``standings`` of every document written or deleted."""

    def __init__(self, inner: UserRepository, standings: UserStandings) -> None:
        self.inner = inner
        self.standings = standings
        self._inner_recent = recent_reader(inner)

    def get(self, user_id: str) -> dict[str, Any] | None:
        """The inner repository's ``get``."""
        return self.inner.get(user_id)

    def get_recent(self, user_id: str) -> dict[str, Any] | None:
        """The inner repository's ``get_recent`` (``get`` if it has none)."""
        return self._inner_recent(user_id)

    def put(self, user_id: str, document: dict[str, Any]) -> None:
        """Store, then note the new standing (a failed put changes nothing)."""
        self.inner.put(user_id, document)
        self.standings.note(user_id, document)

    def delete(self, user_id: str) -> bool:
        """Delete, then forget the standing."""
        deleted = self.inner.delete(user_id)
        self.standings.note(user_id, None)
        return deleted

    def user_ids(self) -> Iterator[str]:
        """The inner repository's ``user_ids``."""
        return self.inner.user_ids()

    def close(self) -> None:
        """Close the inner repository."""
        self.inner.close()

    def seed(self, stop: threading.Event | None = None) -> None:
        """Fill the standings from what is stored (blocking; ``stop`` ends it early)."""
        self.standings.seed(self.inner, stop=stop)

    def counts(self, now: datetime) -> UserCounts | None:
        """Users by standing now, listing the stored users (blocking); None before ``seed``."""
        if not self.standings.seeded:
            return None
        stored = sum(1 for _ in self.inner.user_ids())
        return self.standings.counts(stored, now)
