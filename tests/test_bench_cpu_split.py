"""The benchmark's CPU attribution (bench/cpu_split.py) and its spread helpers, on a fake clock.

No figure of this machine is looked at: the ledger is given a clock the test advances, so what
each part is charged is exact.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bench.cpu_split import CpuLedger, _rebind_kept_methods, wrap_instance
from bench.run import _rotated
from bench.stats import Spread


class FakeCpu:
    """A CPU clock that moves only when the code under test "works"."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def work(self, seconds: float) -> None:
        self.now += seconds


class Repository:
    def __init__(self, cpu: FakeCpu) -> None:
        self.cpu = cpu

    def get(self, user_id: str) -> dict[str, str]:
        self.cpu.work(5.0)
        return {"id": user_id}

    def ids(self) -> Iterator[str]:
        for user_id in ("1", "2"):
            self.cpu.work(0.5)
            yield user_id


class Engine:
    def __init__(self, cpu: FakeCpu, repository: Repository) -> None:
        self.cpu = cpu
        self.repository = repository

    def reminder(self, user_id: str) -> str:
        self.cpu.work(2.0)
        document = self.repository.get(user_id)
        self.cpu.work(1.0)
        return document["id"]

    async def send(self, text: str) -> str:
        self.cpu.work(1.0)
        await asyncio.sleep(0)  # another task runs here
        self.cpu.work(2.0)
        return text

    async def fail(self) -> None:
        await asyncio.sleep(0)
        raise ValueError("refused")


def wired() -> tuple[FakeCpu, CpuLedger, Engine]:
    cpu = FakeCpu()
    ledger = CpuLedger(clock=cpu)
    repository = Repository(cpu)
    engine = Engine(cpu, repository)
    wrap_instance(ledger, repository, "storage")
    wrap_instance(ledger, engine, "engine")
    ledger.start_window()
    return cpu, ledger, engine


def test_a_storage_call_inside_an_engine_call_is_charged_to_storage_alone() -> None:
    _, ledger, engine = wired()

    assert engine.reminder("7") == "7"
    assert engine.reminder("8") == "8"

    figures = ledger.figures(pair_cost=0.0)
    assert figures["keys_seconds"] == {
        "engine:Engine.reminder": 6.0,
        "storage:Repository.get": 10.0,
    }
    assert figures["keys_calls"] == {"engine:Engine.reminder": 2, "storage:Repository.get": 2}
    assert figures["parts_seconds"]["engine"] == 6.0
    assert figures["parts_seconds"]["storage"] == 10.0


class KeepingEngine:
    """Keeps the repository's method itself, made before anything is wrapped."""

    def __init__(self, cpu: FakeCpu, repository: Repository) -> None:
        self.cpu = cpu
        self.read = repository.get

    def reminder(self, user_id: str) -> str:
        self.cpu.work(2.0)
        return self.read(user_id)["id"]


def test_a_storage_method_an_engine_kept_from_before_the_wrapping_is_charged_to_storage() -> None:
    cpu = FakeCpu()
    ledger = CpuLedger(clock=cpu)
    repository = Repository(cpu)
    engine = KeepingEngine(cpu, repository)
    wrap_instance(ledger, repository, "storage")
    wrap_instance(ledger, engine, "engine")
    _rebind_kept_methods([engine, repository], {id(repository): repository})
    ledger.start_window()

    assert engine.reminder("7") == "7"

    figures = ledger.figures(pair_cost=0.0)
    assert figures["parts_seconds"]["storage"] == 5.0
    assert figures["parts_seconds"]["engine"] == 2.0


def test_a_coroutine_is_charged_its_steps_not_the_time_others_run_while_it_waits() -> None:
    cpu, ledger, engine = wired()

    async def other_task() -> None:
        cpu.work(10.0)  # runs while send() waits in asyncio.sleep(0)

    async def both() -> list[object]:
        return await asyncio.gather(engine.send("hello"), other_task())

    assert asyncio.run(both())[0] == "hello"

    figures = ledger.figures(pair_cost=0.0)
    assert figures["keys_seconds"] == {"engine:Engine.send": 3.0}
    assert figures["keys_calls"] == {"engine:Engine.send": 1}
    assert figures["clock_pairs"] == 2  # two steps, one call


def test_a_wrapped_coroutine_raises_what_it_raised_and_can_be_cancelled() -> None:
    _, _, engine = wired()

    with pytest.raises(ValueError, match="refused"):
        asyncio.run(engine.fail())

    async def cancel_while_waiting() -> None:
        task = asyncio.ensure_future(engine.send("never"))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_while_waiting())


def test_a_generator_is_charged_while_it_is_iterated() -> None:
    _, ledger, engine = wired()

    assert list(engine.repository.ids()) == ["1", "2"]

    figures = ledger.figures(pair_cost=0.0)
    assert figures["keys_seconds"] == {"storage:Repository.ids": 1.0}
    assert figures["keys_calls"] == {"storage:Repository.ids": 1}


def test_only_what_comes_after_the_window_starts_is_counted() -> None:
    cpu = FakeCpu()
    ledger = CpuLedger(clock=cpu)
    repository = Repository(cpu)
    wrap_instance(ledger, repository, "storage")
    repository.get("start-up")
    ledger.start_window()
    repository.get("fan-out")

    figures = ledger.figures(pair_cost=0.5)
    assert figures["keys_seconds"] == {"storage:Repository.get": 5.0}
    assert figures["overhead_seconds"] == 0.5  # one call in the window, 0.5 s per clock pair


def test_a_spread_gives_min_median_max_and_one_run_alone() -> None:
    assert Spread.of([3.0, 1.0, 2.0]) == Spread(1.0, 2.0, 3.0, 3)
    assert Spread.of([1.0, 4.0]).median == 2.5
    assert Spread.of([1.0, 2.0, 3.0]).format(lambda v: f"{v:.1f}") == "1.0 / 2.0 / 3.0"
    assert Spread.of([1.25]).format(lambda v: f"{v:.2f}") == "1.25"
    with pytest.raises(ValueError, match="no runs"):
        Spread.of([])


def test_each_run_starts_the_sizes_one_later() -> None:
    sizes = (1_000, 10_000, 100_000)

    orders = [[count for _, count in _rotated(sizes, run)] for run in range(4)]

    assert orders == [
        [1_000, 10_000, 100_000],
        [10_000, 100_000, 1_000],
        [100_000, 1_000, 10_000],
        [1_000, 10_000, 100_000],
    ]
    assert _rotated(sizes, 1)[0] == (1, 10_000)  # with its index in the sizes given
