"""Per-user locks: one user's updates in order, other users not held up, no locks left over."""

from __future__ import annotations

import asyncio

from bot.telegram.locks import KeyedLocks


async def test_same_key_runs_in_arrival_order_one_at_a_time() -> None:
    locks = KeyedLocks()
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
    locks = KeyedLocks()
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
    locks = KeyedLocks()

    try:
        async with locks.hold("anna"):
            raise ValueError("engine failed")
    except ValueError:
        pass

    async with locks.hold("anna"):
        assert len(locks) == 1
    assert len(locks) == 0
