"""One asyncio lock per user: different users run concurrently, one user's updates in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

__all__ = ["KeyedLocks"]


@dataclass
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holders: int = 0  # tasks holding or waiting for the lock


class KeyedLocks:
    """Locks created on demand per key and dropped when nobody holds or waits for them."""

    def __init__(self) -> None:
        """Start with no locks."""
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        """Number of keys with a holder or a waiter."""
        return len(self._entries)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold the lock of ``key``; waiters get it in the order they asked (asyncio is FIFO)."""
        # Everything up to ``acquire`` runs without yielding to the loop, so tasks created in
        # update order queue up in update order.
        entry = self._entries.setdefault(key, _Entry())
        entry.holders += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.holders -= 1
            if entry.holders == 0:
                del self._entries[key]
