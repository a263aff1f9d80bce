"""Where the bot process spends its CPU during a fan-out: storage, transport, engine, other.

Opt-in, for the benchmark only: ``bench.botproc`` installs it when ``FOKUS_BENCH_CPU_FILE`` names
a file, and the bot writes its figures there when it has shut down. Nothing of the shipped code
changes; the objects the composition root is given (the engine, the reminder service, the
repository and the schedule index they hold) and a few library classes (PTB's ``ExtBot``, the
renderer, aiohttp's response protocol) are wrapped from outside before the application starts.

Attribution (see bench/README.md, "The CPU of a check-in"):

* Every wrapped call is timed with its thread's CPU clock (``time.thread_time``: user and
  system time of that thread alone), *exclusively*: a storage call made inside an engine call
  is charged to storage and taken out of the engine's time. A per-thread stack does this.
* Coroutines (the Bot API methods, the renderer's ``show``) are timed step by step: only the
  CPU between two suspensions counts, never the time another task runs while one waits.
* The total is the process's CPU (``time.process_time``: all threads, user and system) from the
  moment the reminder service has loaded its index (just before the dispatcher starts) until the
  bot has shut down. "Other" is the total minus the three parts.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import os
import resource
import threading
import time
import types
from collections.abc import Callable, Coroutine, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CPU_FILE_VARIABLE",
    "PARTS",
    "TOTAL_ONLY_VARIABLE",
    "CpuLedger",
    "CpuSplit",
    "install",
    "read_cpu_split",
]

CPU_FILE_VARIABLE = "FOKUS_BENCH_CPU_FILE"
# Set to 1 with the file: the total CPU only, nothing wrapped (what the wrappers cost).
TOTAL_ONLY_VARIABLE = "FOKUS_BENCH_CPU_TOTAL_ONLY"
PARTS = ("storage", "transport", "engine", "other")
_CALIBRATION_PAIRS = 20_000


@dataclass
class _ThreadBook:
    """One thread's exclusive CPU per key; only that thread writes it."""

    seconds: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    stack: list[str] = field(default_factory=list)
    mark: float = 0.0
    pairs: int = 0
    """Clock readings in pairs (one per call or coroutine step): the measurement's own cost."""


class CpuLedger:
    """Exclusive thread CPU per key (``part:name``), summed over the threads that ran them."""

    def __init__(self, clock: Callable[[], float] = time.thread_time) -> None:
        """An empty ledger on ``clock`` (the calling thread's CPU time; a test passes its own).

        The window starts when ``start_window`` is called.
        """
        self._clock = clock
        self._local = threading.local()
        self._books: list[_ThreadBook] = []
        self._lock = threading.Lock()
        self._window_started = False
        self._start_seconds: dict[str, float] = {}
        self._start_calls: dict[str, int] = {}
        self._start_pairs = 0
        self._start_process = 0.0
        self._start_usage: resource.struct_rusage | None = None

    def _book(self) -> _ThreadBook:
        book: _ThreadBook | None = getattr(self._local, "book", None)
        if book is None:
            book = _ThreadBook()
            with self._lock:
                self._books.append(book)
            self._local.book = book
        return book

    def enter(self, key: str, *, call: bool = True) -> None:
        """Charge the time so far to the enclosing key, then start charging ``key``."""
        book = self._book()
        now = self._clock()
        if book.stack:
            outer = book.stack[-1]
            book.seconds[outer] = book.seconds.get(outer, 0.0) + (now - book.mark)
        book.stack.append(key)
        book.mark = now
        book.pairs += 1
        if call:
            book.calls[key] = book.calls.get(key, 0) + 1

    def leave(self) -> None:
        """Charge the time since ``enter`` (or the last nested call) to the innermost key."""
        book = self._book()
        now = self._clock()
        key = book.stack.pop()
        book.seconds[key] = book.seconds.get(key, 0.0) + (now - book.mark)
        book.mark = now

    def _sums(self) -> tuple[dict[str, float], dict[str, int], int]:
        with self._lock:
            books = list(self._books)
        seconds: dict[str, float] = {}
        calls: dict[str, int] = {}
        pairs = 0
        for book in books:
            for key, value in dict(book.seconds).items():  # dict() copies under the GIL
                seconds[key] = seconds.get(key, 0.0) + value
            for key, count in dict(book.calls).items():
                calls[key] = calls.get(key, 0) + count
            pairs += book.pairs
        return seconds, calls, pairs

    def start_window(self) -> None:
        """From now on: what the figures cover (the first call wins)."""
        if self._window_started:
            return
        self._window_started = True
        self._start_seconds, self._start_calls, self._start_pairs = self._sums()
        self._start_process = time.process_time()
        self._start_usage = resource.getrusage(resource.RUSAGE_SELF)

    def figures(self, pair_cost: float) -> dict[str, Any]:
        """The window's figures as written to the file (seconds; calls per key)."""
        if not self._window_started:
            self.start_window()
        seconds, calls, pairs = self._sums()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        start_usage = self._start_usage or usage
        total = time.process_time() - self._start_process
        per_key = {
            key: seconds.get(key, 0.0) - self._start_seconds.get(key, 0.0)
            for key in sorted(seconds)
        }
        parts = dict.fromkeys(PARTS, 0.0)
        for key, value in per_key.items():
            parts[key.split(":", 1)[0]] += value
        parts["other"] = total - parts["storage"] - parts["transport"] - parts["engine"]
        window_pairs = pairs - self._start_pairs
        return {
            "total_seconds": total,
            "user_seconds": usage.ru_utime - start_usage.ru_utime,
            "system_seconds": usage.ru_stime - start_usage.ru_stime,
            "parts_seconds": parts,
            "keys_seconds": {key: value for key, value in per_key.items() if value > 0.0},
            "keys_calls": {
                key: calls[key] - self._start_calls.get(key, 0)
                for key in sorted(calls)
                if calls[key] - self._start_calls.get(key, 0)
            },
            "clock_pairs": window_pairs,
            "overhead_seconds": window_pairs * pair_cost,
        }


def _timed_call(ledger: CpuLedger, key: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        ledger.enter(key)
        try:
            return function(*args, **kwargs)
        finally:
            ledger.leave()

    return timed


@types.coroutine
def _stepped(
    ledger: CpuLedger, key: str, coroutine: Coroutine[Any, Any, Any]
) -> Generator[Any, Any, Any]:
    """Drive ``coroutine``, timing each step (from a resumption to the next suspension)."""
    value: Any = None
    error: BaseException | None = None
    first = True
    while True:
        ledger.enter(key, call=first)
        first = False
        try:
            yielded = coroutine.send(value) if error is None else coroutine.throw(error)
        except StopIteration as stop:
            return stop.value
        finally:
            ledger.leave()
        try:
            value = yield yielded
            error = None
        except GeneratorExit:
            coroutine.close()
            raise
        except BaseException as thrown:  # CancelledError too: the coroutine decides
            value, error = None, thrown


def _timed_coroutine(
    ledger: CpuLedger, key: str, function: Callable[..., Coroutine[Any, Any, Any]]
) -> Callable[..., Coroutine[Any, Any, Any]]:
    @functools.wraps(function)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        return await _stepped(ledger, key, function(*args, **kwargs))

    return timed


def _timed_generator(
    ledger: CpuLedger, key: str, function: Callable[..., Iterator[Any]]
) -> Callable[..., Iterator[Any]]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
        ledger.enter(key)
        try:
            iterator = iter(function(*args, **kwargs))
        finally:
            ledger.leave()
        while True:
            ledger.enter(key, call=False)
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                ledger.leave()
            yield item

    return timed


def _timed(ledger: CpuLedger, key: str, function: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(function):
        return _timed_coroutine(ledger, key, function)
    if inspect.isgeneratorfunction(function):
        return _timed_generator(ledger, key, function)
    return _timed_call(ledger, key, function)


def _public_methods(cls: type) -> list[str]:
    """Names of the plain functions ``cls`` (and its bases) define, not starting with ``_``."""
    names = []
    for name in dir(cls):
        if name.startswith("_"):
            continue
        attribute = inspect.getattr_static(cls, name)
        if inspect.isfunction(attribute):
            names.append(name)
    return names


def wrap_instance(ledger: CpuLedger, target: object, part: str) -> list[str]:
    """Time every public method of ``target`` (on the instance only) as ``part``."""
    names = _public_methods(type(target))
    prefix = type(target).__name__
    for name in names:
        bound = getattr(target, name)
        setattr(target, name, _timed(ledger, f"{part}:{prefix}.{name}", bound))
    return names


def wrap_class(ledger: CpuLedger, cls: type, part: str, names: list[str]) -> None:
    """Time the methods ``names`` of ``cls`` (every instance) as ``part``."""
    for name in names:
        function = inspect.getattr_static(cls, name)
        setattr(cls, name, _timed(ledger, f"{part}:{cls.__name__}.{name}", function))


def _wrap_transport(ledger: CpuLedger) -> None:
    """PTB's Bot API methods, the renderer's ``show``, the response protocols."""
    from aiohttp.client_proto import ResponseHandler
    from telegram.ext import ExtBot

    from bot.telegram import http11
    from bot.telegram.render import ReplyRenderer

    # Every public coroutine of the bot (send_message, edit_message_text, get_updates ...):
    # PTB's argument handling, the rate limiter, JSON, the aiohttp request, building the answer.
    api = [
        name
        for name, _ in inspect.getmembers(ExtBot, inspect.iscoroutinefunction)
        if not name.startswith("_")
    ]
    wrap_class(ledger, ExtBot, "transport", api)
    if inspect.iscoroutinefunction(getattr(ReplyRenderer, "show", None)):
        wrap_class(ledger, ReplyRenderer, "transport", ["show"])
    # The bytes of an answer are parsed in the protocol's callback, outside the coroutines.
    wrap_class(ledger, ResponseHandler, "transport", ["data_received"])
    # The same for calls on the direct way (http11.ConnectionPool, most of them).
    wrap_class(ledger, http11._Connection, "transport", ["data_received", "connection_lost"])


# Repository wrappers outside ``storage``: storage too, and what they wrap is looked into.
_WRAPPERS = ("SentRecords", "StandingsRepository")


def _storage_objects(holders: list[object]) -> list[object]:
    """The objects of ``storage`` (repository, schedule index, journal ...) the holders keep.

    A repository wrapper (the journal of sent check-ins, the operator's standings) counts as
    storage, and the objects it keeps are looked at in turn.
    """
    found: dict[int, object] = {}
    pending = [value for holder in holders for value in vars(holder).values()]
    while pending:
        value = pending.pop()
        module = type(value).__module__
        wrapper = type(value).__name__ in _WRAPPERS
        if id(value) in found or not (
            wrapper or module == "storage" or module.startswith("storage.")
        ):
            continue
        found[id(value)] = value
        if wrapper:
            pending.extend(vars(value).values())
    return list(found.values())


def _rebind_kept_methods(holders: list[object], targets: dict[int, object]) -> None:
    """Point methods of wrapped objects that holders kept as attributes to their timed ones.

    A holder may keep a bound method of a storage object from before the wrapping (the
    reminder service keeps ``recent_reader(repository)``, the repository's ``get_recent``):
    called that way it would bypass the wrapper and be charged to its caller.
    """
    for holder in holders:
        for name, value in list(vars(holder).items()):
            owner = value.__self__ if inspect.ismethod(value) else None
            if owner is None or id(owner) not in targets:
                continue
            timed = vars(owner).get(value.__func__.__name__)  # what wrap_instance set
            if timed is not None:
                setattr(holder, name, timed)


def _pair_cost() -> float:
    """Process CPU of one timed call's enter and leave, measured on a scratch ledger."""
    scratch = CpuLedger()
    started = time.process_time()
    for _ in range(_CALIBRATION_PAIRS):
        scratch.enter("calibration")
        scratch.leave()
    return (time.process_time() - started) / _CALIBRATION_PAIRS


def install(
    run_bot: Callable[..., None], path: Path, *, split: bool = True
) -> Callable[..., None]:
    """``run_bot`` that times its engine, storage and transport, and writes ``path`` at the end.

    Without ``split`` nothing is wrapped and only the window's total CPU is written: the same
    run without the measurement's own cost, to compare.
    """
    ledger = CpuLedger()
    pair_cost = _pair_cost()
    if split:
        _wrap_transport(ledger)

    @functools.wraps(run_bot)
    def measured(settings: Any, engine: Any, **kwargs: Any) -> None:
        reminders = kwargs.get("reminders")
        engine_side = [engine] if reminders is None else [engine, reminders]
        storage = _storage_objects(engine_side)
        wrapped: dict[str, list[str]] = {}
        for target in storage if split else []:
            wrapped[type(target).__name__] = wrap_instance(ledger, target, "storage")
        for target in engine_side if split else []:
            wrapped[type(target).__name__] = wrap_instance(ledger, target, "engine")
        if split:
            _rebind_kept_methods([*engine_side, *storage], {id(t): t for t in storage})
        if reminders is not None and hasattr(reminders, "load"):
            timed_load = reminders.load

            def load_then_start_window() -> None:
                timed_load()
                ledger.start_window()  # the dispatcher starts right after the index is loaded

            reminders.load = load_then_start_window
        else:
            ledger.start_window()  # no index to load: the window holds the start-up too
        try:
            run_bot(settings, engine, **kwargs)
        finally:
            figures = ledger.figures(pair_cost)
            figures["wrapped"] = wrapped
            figures["split"] = split
            figures["pair_cost_seconds"] = pair_cost
            temporary = path.with_name(path.name + ".tmp")
            temporary.write_text(json.dumps(figures, indent=2))
            os.replace(temporary, path)

    return measured


@dataclass(frozen=True)
class CpuSplit:
    """The bot's CPU over a fan-out, as written by ``install`` (seconds, whole window)."""

    total_seconds: float
    user_seconds: float
    system_seconds: float
    parts_seconds: dict[str, float]
    keys_seconds: dict[str, float]
    keys_calls: dict[str, int]
    overhead_seconds: float

    def per_checkin_ms(self, checkins: int) -> dict[str, float]:
        """Total and each part in ms of CPU per check-in."""
        scale = 1e3 / max(checkins, 1)
        figures = {"total": self.total_seconds * scale}
        figures.update({part: self.parts_seconds.get(part, 0.0) * scale for part in PARTS})
        figures["overhead"] = self.overhead_seconds * scale
        return figures


def read_cpu_split(path: Path) -> CpuSplit | None:
    """The figures the bot wrote at shutdown, or None if it wrote none."""
    with contextlib.suppress(FileNotFoundError):
        raw = json.loads(path.read_text())
        return CpuSplit(
            total_seconds=float(raw["total_seconds"]),
            user_seconds=float(raw["user_seconds"]),
            system_seconds=float(raw["system_seconds"]),
            parts_seconds={k: float(v) for k, v in raw["parts_seconds"].items()},
            keys_seconds={k: float(v) for k, v in raw["keys_seconds"].items()},
            keys_calls={k: int(v) for k, v in raw["keys_calls"].items()},
            overhead_seconds=float(raw["overhead_seconds"]),
        )
    return None
