"""The weekly fan-out: N users due in the same minute, sent by the real bot process.

The bot (``focus-coach run``, or ``bench.botproc`` with the rate limits lifted) runs on a fresh
folder where every user's check-in is due at the same whole minute, against the fake Bot API that
knows every user as someone who started the bot before. At the end the fake's request log is
counted per chat (none lost, none doubled) and every user's document is read back: the week
must be recorded as sent, with no claim left pending. With ``cpu="split"`` (limits lifted only)
the bot times its CPU per part and writes it at shutdown (``bench/cpu_split.py``); with
``cpu="total"`` only its total CPU, nothing wrapped (to see what the wrappers cost).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fakebotapi import FakeTelegram

from bench.cpu_split import CPU_FILE_VARIABLE, TOTAL_ONLY_VARIABLE, CpuSplit, read_cpu_split
from bench.datagen import due_folder, user_ids
from bench.process import BotRun
from bot.core.schedule import local_week_key
from bot.core.sent_records import journaled
from storage import TinyDBUserRepository

__all__ = ["FanoutResult", "run_fanout"]

_SETTLE_SECONDS = 3.0  # after the last send: room for a (wrong) second copy and the confirms


@dataclass(frozen=True)
class FanoutResult:
    """What the fake saw and what the bot recorded."""

    users: int
    lifted: bool
    latency: float
    due_to_first: float
    """Seconds from the due instant to the first check-in at the fake."""
    due_to_last: float
    """Seconds from the due instant to the last check-in at the fake."""
    rate: float
    """Check-ins per second from the first to the last."""
    max_per_second: int
    """Most check-ins arriving within any one-second window."""
    lost: int
    doubled: int
    refused: int
    """sendMessage requests the fake answered with an error (429 ...)."""
    recorded: int
    """Users whose document records the week as sent, with no claim pending."""
    peak_rss: int
    exit_code: int
    ready_seconds: float
    generated_seconds: float
    cpu: CpuSplit | None = None
    """The bot's CPU per part over the fan-out (with ``cpu_split``)."""


def _due_instant(mode: str, lead: float) -> datetime:
    now = datetime.now(UTC)
    if mode == "past-minute":
        return now.replace(second=0, microsecond=0)
    start = now + timedelta(seconds=lead)
    return start.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _max_in_window(times: list[float], window: float = 1.0) -> int:
    best = 0
    first = 0
    for last, instant in enumerate(times):
        while instant - times[first] >= window:
            first += 1
        best = max(best, last - first + 1)
    return best


def run_fanout(
    root: Path,
    users: int,
    *,
    lifted: bool,
    latency: float,
    due_mode: str = "next-minute",
    lead: float = 15.0,
    timeout: float = 900.0,
    cpu: str = "off",
    log: Callable[[str], None] = print,
) -> FanoutResult:
    """Generate the folder, run the bot until every user got the check-in, count.

    ``cpu``: "off", "split" (the bot's CPU per part) or "total" (its CPU, nothing wrapped).
    """
    say = log
    if cpu not in ("off", "split", "total"):
        raise ValueError(f"cpu is off, split or total, not {cpu!r}")
    if cpu != "off" and not lifted:
        raise ValueError("the bot's CPU is measured in bench.botproc: with the limits lifted")
    name = "bot-lifted" if lifted else "bot-limited"
    cpu_file = root / f"{name}-cpu.json"
    cpu_file.unlink(missing_ok=True)
    env: dict[str, str] | None = None
    if cpu != "off":
        env = {CPU_FILE_VARIABLE: str(cpu_file)}
        if cpu == "total":
            env[TOTAL_ONLY_VARIABLE] = "1"
    due = _due_instant(due_mode, lead)
    folder = due_folder(root / "data", users, due)
    ids = user_ids(users)
    with FakeTelegram() as tg:
        tg.latency = latency
        for number, user_id in enumerate(ids):
            person = tg.user(int(user_id), f"U{number}", "de" if number % 10 < 7 else "en")
            person.had_started_the_bot()
        run = BotRun(tg, folder.path, root, name, lifted_limits=lifted, env=env)
        # The due instant on this process's monotonic clock (the fake stamps requests with it).
        due_monotonic = time.monotonic() + (due - datetime.now(UTC)).total_seconds()
        run.start()
        say(f"  bot ready after {run.ready_seconds:.2f} s; check-ins due at {due:%H:%M:%S} UTC")
        try:
            _wait_for_all(tg, len(ids), timeout, run, say)
            time.sleep(_SETTLE_SECONDS)
            peak = run.peak_rss_bytes()
        finally:
            exit_code = run.stop()
        requests = tg.requests("sendMessage")
    ok = [r for r in requests if r.status == 200]
    per_chat = Counter(str(r.params.get("chat_id")) for r in ok)
    times = sorted(r.monotonic for r in ok)
    lost = sum(1 for user_id in ids if per_chat[user_id] == 0)
    doubled = sum(count - 1 for count in per_chat.values() if count > 1)
    recorded = _recorded(folder.path, ids, due)
    first, last = (times[0], times[-1]) if times else (due_monotonic, due_monotonic)
    return FanoutResult(
        users=users,
        lifted=lifted,
        latency=latency,
        due_to_first=first - due_monotonic,
        due_to_last=last - due_monotonic,
        rate=(len(times) - 1) / (last - first) if len(times) > 1 and last > first else 0.0,
        max_per_second=_max_in_window(times),
        lost=lost,
        doubled=doubled,
        refused=sum(1 for r in requests if r.status not in (200, None)),
        recorded=recorded,
        peak_rss=peak,
        exit_code=exit_code,
        ready_seconds=run.ready_seconds,
        generated_seconds=folder.generated_seconds,
        cpu=read_cpu_split(cpu_file) if cpu != "off" else None,
    )


def _wait_for_all(
    tg: FakeTelegram, users: int, timeout: float, run: BotRun, say: Callable[[str], None]
) -> int:
    """Wait until every user has a check-in (or ``timeout``); returns how many chats have one."""
    deadline = time.monotonic() + timeout
    chats: set[object] = set()
    seen = 0
    next_report = time.monotonic() + 30
    while time.monotonic() < deadline:
        with tg.world.lock:
            fresh = tg.world.requests[seen:]
        # Sends still in flight have no status yet: look at them again next time.
        unanswered = next(
            (i for i, r in enumerate(fresh) if r.status is None and r.method != "getUpdates"),
            len(fresh),
        )
        seen += unanswered
        chats.update(
            r.params.get("chat_id") for r in fresh if r.method == "sendMessage" and r.status == 200
        )
        if len(chats) >= users:
            return len(chats)
        if run.process is not None and run.process.poll() is not None:
            raise RuntimeError(f"the bot died during the fan-out:\n{run.output()}")
        if time.monotonic() >= next_report:
            say(f"  ... {len(chats):,} of {users:,} check-ins out")
            next_report += 30
        time.sleep(0.2)
    return len(chats)


def _recorded(data_dir: Path, ids: list[str], due: datetime) -> int:
    """Users whose document records the due week as sent and holds no pending claim."""
    recorded = 0
    with TinyDBUserRepository(data_dir) as stored:
        # Read through the journal of sent check-ins, as the bot reads them.
        repository = journaled(stored)
        repository.load()
        for user_id in ids:
            document = repository.get(user_id) or {}
            reminder = document.get("reminder") or {}
            week = local_week_key(due, reminder.get("zone", "UTC"))
            if reminder.get("sending") is None and week in (reminder.get("sent_weeks") or []):
                recorded += 1
    return recorded
