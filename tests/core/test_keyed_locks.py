"""Per-key locks: one key's holders in order, other keys not held up, no locks left over."""

from __future__ import annotations

import asyncio
import threading

from bot.core.keyed_locks import AsyncKeyedLocks, ThreadKeyedLocks


async def test_same_key_runs_in_arrival_order_one_at_a_time() -> None:
    locks = AsyncKeyedLocks()
    log: list[str] = []
    gate = asyncio.Event()

    async def work(name: str) -> None:
        async with locks.hold("anna"):
            log.append(f"{name} in")
            await gate.wait()  # the first holder keeps everybody else waiting
            log.append(f"{name} out")

    tasks = [asyncio.create_task(work(name)) for name in ("one", "two", "three")]
    await asyncio.sleep(0)
    assert log == ["one in"]
    gate.set()
    await asyncio.gather(*tasks)

    assert log == ["one in", "one out", "two in", "two out", "three in", "three out"]
    assert len(locks) == 0


async def test_other_keys_are_not_blocked() -> None:
    locks = AsyncKeyedLocks()
    release = asyncio.Event()
    held = asyncio.Event()

    async def hold_anna() -> None:
        async with locks.hold("anna"):
            held.set()
            await release.wait()

    anna = asyncio.create_task(hold_anna())
    await held.wait()
    async with locks.hold("ben"):
        assert len(locks) == 2  # ben got in while anna still holds hers
    release.set()
    await anna

    assert len(locks) == 0


async def test_lock_is_released_when_the_work_fails() -> None:
    locks = AsyncKeyedLocks()

    try:
        async with locks.hold("anna"):
            raise ValueError("engine failed")
    except ValueError:
        pass

    async with locks.hold("anna"):
        assert len(locks) == 1
    assert len(locks) == 0


def test_thread_locks_are_reentrant_exclusive_and_dropped_after_use() -> None:
    locks = ThreadKeyedLocks()
    inside = threading.Event()
    release = threading.Event()
    log: list[str] = []

    def hold_anna() -> None:
        with locks.hold("anna"), locks.hold("anna"):  # the same thread may nest
            inside.set()
            release.wait(timeout=10)
            log.append("first out")

    def wait_for_anna() -> None:
        with locks.hold("anna"):
            log.append("second in")

    first = threading.Thread(target=hold_anna)
    first.start()
    assert inside.wait(timeout=10)
    second = threading.Thread(target=wait_for_anna)
    second.start()
    with locks.hold("ben"):  # another key is free meanwhile
        assert len(locks) == 2
    second.join(timeout=0.2)
    assert second.is_alive() and log == []
    release.set()
    first.join(timeout=10)
    second.join(timeout=10)

    assert log == ["first out", "second in"]
    assert len(locks) == 0
