"""Locks per key (one per user or chat), created on demand and dropped when nobody needs them.

One bookkeeping mechanism for both worlds: ``ThreadKeyedLocks`` serialises worker threads that
touch one user's document (the engine and the check-in schedule), ``AsyncKeyedLocks`` serialises
one user's updates on the event loop (the Telegram handlers, the check-in sender, the rate
limiter's per-chat gap). Memory follows the keys in use, not every key ever seen.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Hashable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["AsyncKeyedLocks", "KeyedLocks", "ThreadKeyedLocks"]

_LockT = TypeVar("_LockT")


@dataclass
class _Entry(Generic[_LockT]):
    lock: _LockT
    users: int = 0  # holders and waiters


class KeyedLocks(Generic[_LockT]):
    """A lock per key from ``factory``; an entry lives while someone holds or waits for it."""

    def __init__(self, factory: Callable[[], _LockT]) -> None:
        """Start with no locks; ``factory`` makes the lock of a key the first time it is used."""
        self._factory = factory
        # Guards the table only (never held while waiting for a key's lock), so it is safe
        # from threads and costs an uncontended acquire on the event loop.
        self._guard = threading.Lock()
        self._entries: dict[Hashable, _Entry[_LockT]] = {}

    def __len__(self) -> int:
        """Number of keys with a holder or a waiter."""
        return len(self._entries)

    @contextmanager
    def checkout(self, key: Hashable) -> Iterator[_LockT]:
        """Give the lock of ``key`` (not acquired) and keep it alive for the ``with`` block."""
        with self._guard:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry(self._factory())
            entry.users += 1
        try:
            yield entry.lock
        finally:
            with self._guard:
                entry.users -= 1
                if entry.users == 0:
                    del self._entries[key]


class ThreadKeyedLocks(KeyedLocks[threading.RLock]):
    """Re-entrant per-key locks for worker threads."""

    def __init__(self) -> None:
        """Start with no locks."""
        super().__init__(threading.RLock)

    @contextmanager
    def hold(self, key: Hashable) -> Iterator[None]:
        """Hold the lock of ``key`` (the same thread may hold it again inside)."""
        with self.checkout(key) as lock, lock:
            yield


class AsyncKeyedLocks(KeyedLocks[asyncio.Lock]):
    """Per-key asyncio locks: one key's holders in the order they asked, other keys in parallel."""

    def __init__(self) -> None:
        """Start with no locks."""
        super().__init__(asyncio.Lock)

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        """Hold the lock of ``key``; waiters get it in the order they asked (asyncio is FIFO)."""
        # Nothing up to the acquire yields to the loop, so tasks created in update order queue
        # up in update order.
        with self.checkout(key) as lock:
            async with lock:
                yield
